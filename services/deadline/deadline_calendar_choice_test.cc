// Which calendar a clock counts in (a province's, a procedure's, the
// national one) and what deadline tells intake when the receipt's
// appointment was counted in another: the service over the in-memory store.

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/calendar/calendar_json.h"
#include "libs/calendar/default_calendar.h"
#include "libs/calendar/test_calendars.h"
#include "services/deadline/deadline_service_fixture.h"

namespace lienthong::deadline {
namespace {

using calendar::testing::Vn;

TEST_F(DeadlineServiceTest, AReceiptTimedByAnotherCalendarIsMoved) {
  std::vector<std::pair<CalendarVersion, std::vector<MovedAppointment>>> told;
  service_.SetMovedEncoder([&](const CalendarVersion& v,
                               const std::vector<MovedAppointment>& moved,
                               absl::Time, MoveCause cause) {
    EXPECT_EQ(cause, MoveCause::kReceiptCorrection);
    told.emplace_back(v, moved);
    return OutgoingEvent{"moved-" + v.calendar_id, "moved", "", {"intake"}};
  });
  // 5 working days from Mon 9/3 10:00 under vn: Mon 16/3 10:00.
  InboundEvent agreed = Received("D1", kWardA, Vn(2026, 3, 9, 10, 0));
  agreed.receipt_appointment = Vn(2026, 3, 16, 10, 0);
  ASSERT_TRUE(service_.HandleEvent(agreed).ok());
  // Seconds apart: rounding, left alone.
  InboundEvent rounded = Received("D2", kWardA, Vn(2026, 3, 9, 10, 0));
  rounded.receipt_appointment = Vn(2026, 3, 16, 10, 0) + absl::Seconds(30);
  ASSERT_TRUE(service_.HandleEvent(rounded).ok());
  // An event from an intake that printed no appointment: nothing to move.
  ASSERT_TRUE(
      service_.HandleEvent(Received("D3", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  EXPECT_TRUE(told.empty());

  // Printed with a copy that did not know of a day off: moved to the due
  // time, naming the calendar version the clock counts in.
  InboundEvent stale = Received("D4", kWardA, Vn(2026, 3, 9, 10, 0));
  stale.receipt_appointment = Vn(2026, 3, 13, 10, 0);
  ASSERT_TRUE(service_.HandleEvent(stale).ok());
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].first.calendar_id, "vn");
  EXPECT_EQ(told[0].first.version, 1);
  ASSERT_EQ(told[0].second.size(), 1u);
  const MovedAppointment& m = told[0].second[0];
  EXPECT_EQ(m.dossier_code, "D4");
  EXPECT_EQ(m.kind, ClockKind::kDossier);
  EXPECT_EQ(m.old_due, Vn(2026, 3, 13, 10, 0));
  EXPECT_EQ(m.new_due, Vn(2026, 3, 16, 10, 0));
  EXPECT_EQ(m.new_due, service_.GetClock("dossiers/D4")->due_at);
  EXPECT_EQ(store_.Snapshot().outbox.back().event_id, "moved-vn");

  // A leg's dispatch carries no receipt: never moved.
  InboundEvent leg = Received("D4", kWardA, Vn(2026, 3, 9, 11, 0), 2);
  leg.event_id = common::Version8Uuid("leg-D4");
  leg.kind = InboundKind::kLegDispatched;
  leg.leg_id = "ho-tich";
  leg.receipt_appointment = Vn(2026, 3, 1, 0, 0);
  ASSERT_TRUE(service_.HandleEvent(leg).ok());
  EXPECT_EQ(told.size(), 1u);
}

TEST_F(DeadlineServiceTest, AReceiptNewerThanTheCachedCalendarIsNotMoved) {
  std::vector<MovedAppointment> told;
  service_.SetMovedEncoder([&](const CalendarVersion&,
                               const std::vector<MovedAppointment>& moved,
                               absl::Time, MoveCause) {
    told.insert(told.end(), moved.begin(), moved.end());
    return OutgoingEvent{"moved", "moved", "", {"intake"}};
  });
  // This replica has looked up Hà Nội's calendar (none yet) and caches
  // that for calendar_cache_ttl.
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  // Another replica stores vn-H26, in force now, with 10/3 off; intake
  // fetched it and printed the receipt with it.
  ASSERT_TRUE(store_
                  .InTransaction([&](DeadlineTx& tx) {
                    CalendarVersion v;
                    v.calendar_id = "vn-H26";
                    v.version = 1;
                    v.effective_from = Vn(2026, 1, 1, 0, 0);
                    v.json = calendar::testing::VnJsonWithDaysOff(
                        "vn-H26", {absl::CivilDay(2026, 3, 10)},
                        "Nghỉ địa phương");
                    v.created_at = Vn(2026, 3, 9, 10, 0);
                    v.applied = true;
                    return tx.InsertCalendar(v);
                  })
                  .ok());
  InboundEvent e = Received("D2", kWardA, Vn(2026, 3, 9, 10, 0), 1);
  e.receipt_appointment = Vn(2026, 3, 11, 10, 0);  // 10/3 skipped
  ASSERT_TRUE(service_.HandleEvent(e).ok());
  // The disagreement made it read the calendars again: it counts in
  // vn-H26 too, and the receipt stays.
  const Clock c = *service_.GetClock("dossiers/D2");
  EXPECT_EQ(c.calendar_id, "vn-H26");
  EXPECT_EQ(c.due_at, Vn(2026, 3, 11, 10, 0));
  EXPECT_TRUE(told.empty());
}

TEST_F(DeadlineServiceTest, ProvinceCalendarOverridesTheNationalOne) {
  AddCalendar("vn-H26", {absl::CivilDay(2026, 3, 10)}, "Nghỉ địa phương");
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0), 1))
          .ok());
  const Clock c = *service_.GetClock("dossiers/D1");
  EXPECT_EQ(c.calendar_id, "vn-H26");
  EXPECT_EQ(c.due_at, Vn(2026, 3, 11, 10, 0));
  absl::StatusOr<calendar::Explanation> e =
      service_.ExplainDueTime("dossiers/D1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->due, c.due_at);
  EXPECT_THAT(e->skipped,
              ::testing::Contains(::testing::Field(
                  &calendar::SkippedSpan::detail, "Nghỉ địa phương")));
}

// While paused (and once stopped during a pause) the explanation still
// explains the due time the clock shows.
TEST_F(DeadlineServiceTest, APausedClocksExplanationMatchesItsDueTime) {
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  ASSERT_TRUE(
      service_
          .HandleEvent(Simple("sup-1", InboundKind::kSupplementRequested, "D1",
                              Vn(2026, 3, 11, 10, 0)))
          .ok());
  Clock c = *service_.GetClock("dossiers/D1");
  ASSERT_EQ(c.state, ClockState::kPaused);
  absl::StatusOr<calendar::Explanation> e =
      service_.ExplainDueTime("dossiers/D1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->due, c.due_at);
  ASSERT_TRUE(
      service_
          .HandleEvent(Simple("withdrawn", InboundKind::kDossierWithdrawn, "D1",
                              Vn(2026, 3, 12, 10, 0)))
          .ok());
  c = *service_.GetClock("dossiers/D1");
  ASSERT_EQ(c.state, ClockState::kStopped);
  e = service_.ExplainDueTime("dossiers/D1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->due, c.due_at);
}

TEST_F(DeadlineServiceTest, AProceduresCalendarFirstAndAGoneOneFallsBack) {
  // vn-H26 takes 10/3 off; the procedure's vn-ho-tich takes 10/3 and 11/3.
  AddCalendar("vn-H26", {absl::CivilDay(2026, 3, 10)}, "Nghỉ vn-H26");
  AddCalendar("vn-ho-tich",
              {absl::CivilDay(2026, 3, 10), absl::CivilDay(2026, 3, 11)},
              "Nghỉ vn-ho-tich");

  InboundEvent named = Received("D1", kWardA, Vn(2026, 3, 9, 10, 0), 1);
  named.calendar_id = "vn-ho-tich";
  ASSERT_TRUE(service_.HandleEvent(named).ok());
  const Clock c1 = *service_.GetClock("dossiers/D1");
  EXPECT_EQ(c1.calendar_id, "vn-ho-tich");
  EXPECT_EQ(c1.due_at, Vn(2026, 3, 12, 10, 0));

  // A procedure naming a calendar deadline does not have: the agency's
  // province calendar, as intake chooses (before, the event failed and was
  // retried for ever).
  InboundEvent gone = Received("D2", kWardA, Vn(2026, 3, 9, 10, 0), 1);
  gone.calendar_id = "vn-khong-co";
  ASSERT_TRUE(service_.HandleEvent(gone).ok());
  const Clock c2 = *service_.GetClock("dossiers/D2");
  EXPECT_EQ(c2.calendar_id, "vn-H26");
  EXPECT_EQ(c2.due_at, Vn(2026, 3, 11, 10, 0));
}

TEST_F(DeadlineServiceTest, ClocksNameTheCalendarVersionTheirDueTimeCameFrom) {
  const auto version = [&](const std::string& name) {
    absl::StatusOr<Clock> c = service_.GetClock(name);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->calendar_version : -1;
  };
  const auto update = [&](absl::CivilDay day_off) {
    ASSERT_TRUE(service_
                    .UpdateCalendar("vn",
                                    calendar::testing::VnJsonWithDaysOff(
                                        "vn", {day_off}, "Nghỉ đột xuất"),
                                    Vn(2026, 3, 1, 0, 0), "admin", "")
                    .ok());
  };
  // Mon 9/3 10:00 + 5 days: 16/3; Mon 2/3 10:00 + 1 day: 3/3; D3 is
  // waiting for a supplement.
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  ASSERT_TRUE(
      service_.HandleEvent(Received("D2", kWardA, Vn(2026, 3, 2, 10, 0), 1))
          .ok());
  ASSERT_TRUE(
      service_.HandleEvent(Received("D3", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  ASSERT_TRUE(
      service_
          .HandleEvent(Simple("sup-3", InboundKind::kSupplementRequested, "D3",
                              Vn(2026, 3, 10, 10, 0)))
          .ok());
  EXPECT_EQ(version("dossiers/D1"), 1);

  // Version 2 takes a day off at the end of the year: no due time moves,
  // and no clock claims to have been counted with it.
  update(absl::CivilDay(2026, 12, 31));
  EXPECT_EQ(version("dossiers/D1"), 1);
  EXPECT_EQ(version("dossiers/D3"), 1);
  // D3's supplement arrives: its due time is counted again, with version 2.
  ASSERT_TRUE(service_
                  .HandleEvent(Simple("sup-3b", InboundKind::kSupplemented,
                                      "D3", Vn(2026, 3, 12, 9, 0)))
                  .ok());
  EXPECT_EQ(service_.GetClock("dossiers/D3")->due_at, Vn(2026, 3, 19, 9, 0));
  EXPECT_EQ(version("dossiers/D3"), 2);

  // Version 3 takes Thursday 12/3 off: D1 and D3 move and say so; D2, due
  // long before, stays as version 1 counted it.
  update(absl::CivilDay(2026, 3, 12));
  EXPECT_EQ(service_.GetClock("dossiers/D1")->due_at, Vn(2026, 3, 17, 10, 0));
  EXPECT_EQ(version("dossiers/D1"), 3);
  EXPECT_EQ(version("dossiers/D3"), 3);
  EXPECT_EQ(version("dossiers/D2"), 1);
}

TEST_F(DeadlineServiceTest, ACalendarReadBeforeAWakeUpIsNotCachedAfterIt) {
  // While this replica reads vn (version 1), another stores version 2,
  // taking Tuesday 10/3 off, and its wake-up (CalendarsChanged) makes this
  // one forget its cached calendars.
  store_.AfterNextLatestCalendarRead("vn", [&] {
    ASSERT_TRUE(store_
                    .InTransaction([&](DeadlineTx& tx) {
                      CalendarVersion v;
                      v.calendar_id = "vn";
                      v.version = 2;
                      v.effective_from = Vn(2026, 1, 1, 0, 0);
                      v.json = calendar::testing::VnJsonWithDaysOff(
                          "vn", {absl::CivilDay(2026, 3, 10)}, "Nghỉ đột xuất");
                      v.created_at = Vn(2026, 3, 9, 10, 0);
                      v.applied = true;
                      return tx.InsertCalendar(v);
                    })
                    .ok());
    service_.ForgetCachedCalendars();
  });
  absl::StatusOr<calendar::WorkingCalendar> read = service_.Calendar("vn");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->IsWorkingDay(absl::CivilDay(2026, 3, 10)));  // version 1
  // The next look, on the same (frozen) clock, well inside the cache's
  // lifetime: version 2, not what the read before the wake-up left.
  read = service_.Calendar("vn");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(read->IsWorkingDay(absl::CivilDay(2026, 3, 10)));
}

// A calendar's default cut-off counts a clock whose procedure names none
// (Calendar.default_cutoff_local_time); a procedure's own cut-off wins.
TEST_F(DeadlineServiceTest,
       TheCalendarsDefaultCutoffCountsWhenTheProcedureHasNone) {
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
  ASSERT_TRUE(data.ok());
  data->id = "vn-H26";
  data->default_cutoff_minute = 15 * 60;
  ASSERT_TRUE(service_
                  .UpdateCalendar("vn-H26", calendar::ToJson(*data),
                                  Vn(2026, 1, 1, 0, 0), "admin", "")
                  .ok());
  // Received Monday 15:30, one working day.
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 15, 30), 1))
          .ok());
  InboundEvent own = Received("D2", kWardA, Vn(2026, 3, 9, 15, 30), 1);
  own.cutoff_minute = 16 * 60;
  ASSERT_TRUE(service_.HandleEvent(own).ok());
  const Clock d1 = *service_.GetClock("dossiers/D1");
  EXPECT_EQ(d1.calendar_id, "vn-H26");
  EXPECT_EQ(d1.counting_starts, Vn(2026, 3, 10, 8, 0));
  EXPECT_EQ(d1.due_at, Vn(2026, 3, 10, 17, 0));
  EXPECT_EQ(service_.GetClock("dossiers/D2")->due_at, Vn(2026, 3, 10, 15, 30));
  absl::StatusOr<calendar::Explanation> e =
      service_.ExplainDueTime("dossiers/D1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->due, d1.due_at);
  EXPECT_THAT(e->skipped, ::testing::Contains(::testing::Field(
                              &calendar::SkippedSpan::reason,
                              calendar::SkipReason::kAfterCutoff)));
}

}  // namespace
}  // namespace lienthong::deadline
