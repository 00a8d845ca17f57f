#include "services/deadline/deadline_service.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/calendar/calendar_json.h"
#include "libs/calendar/default_calendar.h"
#include "libs/calendar/test_calendars.h"
#include "libs/common/errors.h"
#include "services/deadline/deadline_service_fixture.h"
#include "services/deadline/memory_deadline_store.h"
#include "services/deadline/unreadable_calendar_testing.h"

namespace lienthong::deadline {
namespace {

using calendar::testing::Vn;

TEST_F(DeadlineServiceTest, ReceivedStartsAClockOnceEvenIfRedelivered) {
  const InboundEvent e = Received("D1", kWardA, Vn(2026, 3, 9, 10, 0));
  EXPECT_TRUE(*service_.HandleEvent(e));
  EXPECT_FALSE(*service_.HandleEvent(e));  // redelivered: applied once
  absl::StatusOr<Clock> c = service_.GetClock("dossiers/D1");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->calendar_id, "vn");
  EXPECT_EQ(c->due_at, Vn(2026, 3, 16, 10, 0));
  absl::StatusOr<std::vector<ReportRow>> r = service_.Report(
      {kCity.code, absl::CivilDay(2026, 3, 1), absl::CivilDay(2026, 3, 31)});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].received, 1);
  EXPECT_EQ((*r)[0].open_on_time, 1);
  EXPECT_EQ(service_.GetClock("dossiers/nope").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(DeadlineServiceTest, ScannerFiresDueSoonThenOverdueWithFakeClock) {
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  absl::StatusOr<ScanResult> s = service_.RunScanOnce();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->claimed, 0);

  clock_.Set(Vn(2026, 3, 13, 10, 0, 3));  // 8 working hours left
  s = service_.RunScanOnce();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->due_soon, 1);
  ASSERT_EQ(s->lags.size(), 1u);
  EXPECT_EQ(s->lags[0], absl::Seconds(3));
  EXPECT_EQ(service_.RunScanOnce()->claimed, 0);

  clock_.Set(Vn(2026, 3, 16, 10, 0, 1));  // past the due time
  s = service_.RunScanOnce();
  EXPECT_EQ(s->overdue, 1);
  clock_.Advance(absl::Hours(48));
  EXPECT_EQ(service_.RunScanOnce()->claimed, 0);

  const auto outbox = store_.Snapshot().outbox;
  ASSERT_EQ(outbox.size(), 2u);
  EXPECT_EQ(outbox[0].type, "due_soon");
  EXPECT_EQ(outbox[1].type, "overdue");
  EXPECT_THAT(outbox[1].destinations,
              ::testing::ElementsAre("notify", "intake"));

  ClockQuery q;
  q.agency_subtree = kDistrict.code;
  q.urgency = Urgency::kOverdue;
  absl::StatusOr<std::vector<Clock>> overdue = service_.ListClocks(q);
  ASSERT_TRUE(overdue.ok());
  ASSERT_EQ(overdue->size(), 1u);
  q.agency_subtree = kWardB.code;
  EXPECT_TRUE(service_.ListClocks(q)->empty());
  absl::StatusOr<std::vector<ReportRow>> r = service_.Report(
      {kCity.code, absl::CivilDay(2026, 3, 1), absl::CivilDay(2026, 3, 31)});
  EXPECT_EQ((*r)[0].open_overdue, 1);
  EXPECT_EQ((*r)[0].open_on_time, 0);
}

TEST_F(DeadlineServiceTest, SupplementPausesAndRestartsDossierAndLeg) {
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  InboundEvent leg = Received("D1", kWardA, Vn(2026, 3, 9, 11, 0), 2);
  leg.event_id = common::Version8Uuid("disp-1");
  leg.kind = InboundKind::kLegDispatched;
  leg.leg_id = "ho-tich";
  ASSERT_TRUE(service_.HandleEvent(leg).ok());
  ASSERT_TRUE(
      service_
          .HandleEvent(Simple("sup-1", InboundKind::kSupplementRequested, "D1",
                              Vn(2026, 3, 10, 10, 0), "ho-tich"))
          .ok());
  EXPECT_EQ(service_.GetClock("dossiers/D1")->state, ClockState::kPaused);
  EXPECT_EQ(service_.GetClock("dossiers/D1/legs/ho-tich")->state,
            ClockState::kPaused);
  clock_.Set(Vn(2026, 4, 30, 0, 0));  // long after: paused clocks never fire
  EXPECT_EQ(service_.RunScanOnce()->claimed, 0);

  std::vector<MovedAppointment> told;
  bool after_supplement = false;
  int64_t told_version = -1;
  service_.SetMovedEncoder([&](const CalendarVersion& v,
                               const std::vector<MovedAppointment>& moved,
                               absl::Time, MoveCause cause) {
    told = moved;
    after_supplement = cause == MoveCause::kSupplement;
    told_version = v.version;
    return OutgoingEvent{"moved-" + v.calendar_id, "moved", "", {"intake"}};
  });
  ASSERT_TRUE(service_
                  .HandleEvent(Simple("sup-2", InboundKind::kSupplemented, "D1",
                                      Vn(2026, 3, 12, 9, 0)))
                  .ok());
  const Clock d = *service_.GetClock("dossiers/D1");
  EXPECT_EQ(d.state, ClockState::kRunning);
  // Restart (default policy): 5 days from Thu 12/3 09:00.
  EXPECT_EQ(d.due_at, Vn(2026, 3, 19, 9, 0));
  EXPECT_EQ(d.original_due_at, Vn(2026, 3, 16, 10, 0));
  // Intake hears of the dossier's new due time (its appointment), not of
  // the leg's, in the same transaction.
  EXPECT_TRUE(after_supplement);
  EXPECT_EQ(told_version, 1);  // the version the clock now counts with
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].dossier_code, "D1");
  EXPECT_EQ(told[0].kind, ClockKind::kDossier);
  EXPECT_EQ(told[0].old_due, Vn(2026, 3, 16, 10, 0));
  EXPECT_EQ(told[0].new_due, Vn(2026, 3, 19, 9, 0));
  EXPECT_EQ(store_.Snapshot().outbox.back().event_id, "moved-vn");
  EXPECT_EQ(service_.GetClock("dossiers/D1/legs/ho-tich")->state,
            ClockState::kRunning);
}

// Routing's LegSupplementRequested and intake's supplement events come by
// separate lines: the request can arrive after the supplement answering it.
TEST_F(DeadlineServiceTest, ARequestArrivingAfterItsSupplementPausesNothing) {
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  ASSERT_TRUE(
      service_
          .HandleEvent(Simple("sup-req", InboundKind::kSupplementRequested,
                              "D1", Vn(2026, 3, 10, 10, 0)))
          .ok());
  ASSERT_TRUE(service_
                  .HandleEvent(Simple("sup-done", InboundKind::kSupplemented,
                                      "D1", Vn(2026, 3, 11, 9, 0)))
                  .ok());
  // The leg's request of 10/3, delivered now.
  ASSERT_TRUE(
      service_
          .HandleEvent(Simple("leg-req", InboundKind::kSupplementRequested,
                              "D1", Vn(2026, 3, 10, 10, 0)))
          .ok());
  const Clock d = *service_.GetClock("dossiers/D1");
  EXPECT_EQ(d.state, ClockState::kRunning);
  EXPECT_EQ(d.due_at, Vn(2026, 3, 18, 9, 0));  // 5 days from 11/3 09:00
  // A request made after the supplement still pauses it.
  ASSERT_TRUE(
      service_
          .HandleEvent(Simple("sup-req-2", InboundKind::kSupplementRequested,
                              "D1", Vn(2026, 3, 12, 9, 0)))
          .ok());
  EXPECT_EQ(service_.GetClock("dossiers/D1")->state, ClockState::kPaused);
}

TEST_F(DeadlineServiceTest, DossierEndsStopAllItsClocks) {
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  InboundEvent leg = Received("D1", kWardA, Vn(2026, 3, 9, 11, 0), 2);
  leg.event_id = common::Version8Uuid("disp-1");
  leg.kind = InboundKind::kLegDispatched;
  leg.leg_id = "cong-an";
  ASSERT_TRUE(service_.HandleEvent(leg).ok());
  ASSERT_TRUE(service_
                  .HandleEvent(Simple("done", InboundKind::kDossierCompleted,
                                      "D1", Vn(2026, 3, 11, 10, 0)))
                  .ok());
  const Clock d = *service_.GetClock("dossiers/D1");
  EXPECT_EQ(d.state, ClockState::kStopped);
  EXPECT_EQ(d.outcome, Outcome::kEarly);
  EXPECT_EQ(service_.GetClock("dossiers/D1/legs/cong-an")->stop_reason,
            StopReason::kCancelled);
  absl::StatusOr<std::vector<ReportRow>> r = service_.Report(
      {kCity.code, absl::CivilDay(2026, 3, 1), absl::CivilDay(2026, 3, 31)});
  EXPECT_EQ((*r)[0].finished_early, 1);
  EXPECT_EQ((*r)[0].open_on_time, 0);
}

TEST_F(DeadlineServiceTest, CalendarChangeMovesOpenAppointments) {
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  ASSERT_TRUE(
      service_.HandleEvent(Received("D2", kWardB, Vn(2026, 3, 2, 10, 0), 1))
          .ok());
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
  ASSERT_TRUE(data.ok());
  data->holidays.push_back({absl::CivilDay(2026, 3, 12),
                            absl::CivilDay(2026, 3, 12), "Nghỉ đột xuất", "",
                            false});
  absl::StatusOr<CalendarUpdate> u =
      service_.UpdateCalendar("vn", calendar::ToJson(*data),
                              Vn(2026, 3, 1, 0, 0), "admin-1", "QĐ 12/2026");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->version.version, 2);
  ASSERT_EQ(u->moved.size(), 1u);  // D2 already due on 3/3
  EXPECT_EQ(u->moved[0].dossier_code, "D1");
  EXPECT_EQ(u->moved[0].old_due, Vn(2026, 3, 16, 10, 0));
  EXPECT_EQ(u->moved[0].new_due, Vn(2026, 3, 17, 10, 0));
  EXPECT_EQ(service_.GetClock("dossiers/D1")->due_at, Vn(2026, 3, 17, 10, 0));
  EXPECT_EQ(store_.Snapshot().audit.size(), 1u);
  EXPECT_EQ(service_.GetCalendar("vn")->version, 2);

  EXPECT_EQ(service_.UpdateCalendar("vn", "{", Vn(2026, 3, 1, 0, 0), "a", "")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(common::GetErrorDetails(
                service_
                    .UpdateCalendar("vn-H26", calendar::ToJson(*data),
                                    Vn(2026, 3, 1, 0, 0), "a", "")
                    .status())
                .reason,
            "CALENDAR_ID_MISMATCH");
}

TEST_F(DeadlineServiceTest, MovedAppointmentsSayWhetherADossierOrALegMoved) {
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  InboundEvent leg = Received("D1", kWardA, Vn(2026, 3, 9, 11, 0), 4);
  leg.event_id = common::Version8Uuid("disp-1");
  leg.kind = InboundKind::kLegDispatched;
  leg.leg_id = "ho-tich";
  ASSERT_TRUE(service_.HandleEvent(leg).ok());
  std::vector<MovedAppointment> encoded;
  service_.SetMovedEncoder([&](const CalendarVersion& v,
                               const std::vector<MovedAppointment>& moved,
                               absl::Time at, MoveCause) {
    encoded = moved;
    return OutgoingEvent{absl::StrCat("moved-", v.version),
                         "moved",
                         absl::FormatTime(at),
                         {"intake", "notify"}};
  });
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
  ASSERT_TRUE(data.ok());
  data->holidays.push_back({absl::CivilDay(2026, 3, 12),
                            absl::CivilDay(2026, 3, 12), "Nghỉ đột xuất", "",
                            false});
  absl::StatusOr<CalendarUpdate> u =
      service_.UpdateCalendar("vn", calendar::ToJson(*data),
                              Vn(2026, 3, 1, 0, 0), "admin-1", "QĐ 12/2026");
  ASSERT_TRUE(u.ok()) << u.status();
  ASSERT_EQ(u->moved.size(), 2u);
  for (const MovedAppointment& m : u->moved) {
    SCOPED_TRACE(m.clock_name);
    EXPECT_EQ(m.dossier_code, "D1");
    EXPECT_EQ(m.kind, m.clock_name == "dossiers/D1" ? ClockKind::kDossier
                                                    : ClockKind::kLeg);
  }
  // The event to intake and notify is built from the same list.
  ASSERT_EQ(encoded.size(), 2u);
  EXPECT_EQ(encoded[0].kind, u->moved[0].kind);
  EXPECT_EQ(encoded[1].kind, u->moved[1].kind);
}

TEST_F(DeadlineServiceTest, ReportRollUpEqualsTheSumOfItsParts) {
  int n = 0;
  for (const AgencyRef* a : {&kWardA, &kWardA, &kWardB, &kDistrict, &kCity}) {
    ASSERT_TRUE(service_
                    .HandleEvent(Received(absl::StrCat("D", ++n), *a,
                                          Vn(2026, 3, 2, 9, 0), 1))
                    .ok());
  }
  ASSERT_TRUE(service_
                  .HandleEvent(Simple("done1", InboundKind::kDossierCompleted,
                                      "D1", Vn(2026, 3, 3, 8, 30)))
                  .ok());
  clock_.Set(Vn(2026, 3, 4, 9, 0));
  ASSERT_TRUE(service_.RunScanOnce().ok());  // the rest are overdue
  ASSERT_TRUE(service_
                  .HandleEvent(Simple("done3", InboundKind::kDossierCompleted,
                                      "D3", Vn(2026, 3, 4, 9, 30)))
                  .ok());
  const ReportQuery base{kCity.code, absl::CivilDay(2026, 3, 1),
                         absl::CivilDay(2026, 3, 31)};
  const ReportRow city = (*service_.Report(base))[0];
  EXPECT_EQ(city.received, 5);
  EXPECT_EQ(city.finished_on_time, 1);
  EXPECT_EQ(city.finished_late, 1);
  EXPECT_EQ(city.open_overdue, 3);

  ReportQuery by_agency = base;
  by_agency.group_by = ReportGroupBy::kAgency;
  absl::StatusOr<std::vector<ReportRow>> rows = service_.Report(by_agency);
  ASSERT_EQ(rows->size(), 2u);  // the city itself and its district
  ReportRow sum;
  for (const ReportRow& r : *rows) {
    sum.received += r.received;
    sum.finished_late += r.finished_late;
    sum.open_overdue += r.open_overdue;
  }
  EXPECT_EQ(sum.received, city.received);
  EXPECT_EQ(sum.finished_late, city.finished_late);
  EXPECT_EQ(sum.open_overdue, city.open_overdue);

  ReportQuery district = base;
  district.agency_subtree = kDistrict.code;
  district.group_by = ReportGroupBy::kAgency;
  rows = service_.Report(district);
  ASSERT_EQ(rows->size(), 3u);  // district itself, ward A, ward B
  EXPECT_EQ((*rows)[1].key, kWardA.code);
  EXPECT_EQ((*rows)[1].received, 2);

  ReportQuery by_tier = base;
  by_tier.group_by = ReportGroupBy::kTier;
  rows = service_.Report(by_tier);
  ASSERT_EQ(rows->size(), 3u);
}

TEST_F(DeadlineServiceTest, UpdateCalendarRetryWithRequestIdStoresOnce) {
  std::vector<std::string> published;
  service_.SetPublishedEncoder([&](const CalendarVersion& v, absl::Time) {
    published.push_back(absl::StrCat(v.calendar_id, "@", v.version));
    return OutgoingEvent{
        absl::StrCat("published-", v.version), "published", "", {"intake"}};
  });
  const std::string json = std::string(calendar::DefaultCalendarJson());
  absl::StatusOr<CalendarUpdate> a = service_.UpdateCalendar(
      "vn", json, Vn(2026, 1, 1, 0, 0), "admin", "", "req-1");
  absl::StatusOr<CalendarUpdate> b = service_.UpdateCalendar(
      "vn", json, Vn(2026, 1, 1, 0, 0), "admin", "", "req-1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->version.version, 2);
  EXPECT_EQ(b->version.version, 2);
  EXPECT_EQ(service_.ListCalendars()->size(), 2u);
  // Intake hears of the version once, in the transaction that stored it.
  EXPECT_THAT(published, ::testing::ElementsAre("vn@2"));
  int in_outbox = 0;
  for (const OutgoingEvent& o : store_.Snapshot().outbox) {
    if (o.event_id == "published-2") ++in_outbox;
  }
  EXPECT_EQ(in_outbox, 1);
}

// A stored calendar that no longer parses is our fault, not the event's:
// INTERNAL, so the event handler leaves the event for redelivery instead of
// acknowledging it as invalid.
TEST_F(DeadlineServiceTest, AnUnreadableStoredCalendarIsNotTheEventsFault) {
  ASSERT_TRUE(test::StoreUnreadableVnV2(store_, service_).ok());
  const absl::Status s =
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0)))
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_EQ(common::GetErrorDetails(s).reason, "STORED_CALENDAR_INVALID");
  EXPECT_FALSE(service_.GetClock("dossiers/D1").ok());
}

// An event time in year 20000 (a sender's bug, or an unvalidated
// timestamp) is INVALID_ARGUMENT: no clock starts at it, and a pause at it
// is not measured day by day for millennia.
TEST_F(DeadlineServiceTest, EventTimesOutsideTheCalendarsYearsAreRefused) {
  const absl::Time year_20000 = absl::FromCivil(
      absl::CivilSecond(20000, 1, 3, 10, 0, 0), absl::FixedTimeZone(7 * 3600));
  EXPECT_EQ(
      service_.HandleEvent(Received("D0", kWardA, year_20000)).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(service_.GetClock("dossiers/D0").ok());

  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  EXPECT_EQ(service_
                .HandleEvent(Simple("sup-1", InboundKind::kSupplementRequested,
                                    "D1", year_20000))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Clock> d1 = service_.GetClock("dossiers/D1");
  ASSERT_TRUE(d1.ok());
  EXPECT_EQ(d1->state, ClockState::kRunning);
  EXPECT_EQ(d1->consumed_before_run, absl::ZeroDuration());
}

// A running clock stored before such times were refused (started in year
// 20000) cannot be counted again; it must not block calendar changes.
TEST_F(DeadlineServiceTest, AClockCountedFromAnAbsurdTimeDoesNotBlockUpdates) {
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  Clock poisoned = *service_.GetClock("dossiers/D1");
  poisoned.name = "dossiers/D9";
  poisoned.dossier_code = "D9";
  poisoned.received_at = poisoned.run_started_at = absl::FromCivil(
      absl::CivilSecond(20000, 1, 3, 10, 0, 0), absl::FixedTimeZone(7 * 3600));
  ASSERT_TRUE(store_
                  .InTransaction(
                      [&](DeadlineTx& tx) { return tx.InsertClock(poisoned); })
                  .ok());
  // Thursday 12/3 off: D1 moves, D9 stays as it was.
  AddCalendar("vn", {absl::CivilDay(2026, 3, 12)}, "Nghỉ đột xuất");
  EXPECT_EQ(service_.GetClock("dossiers/D1")->due_at, Vn(2026, 3, 17, 10, 0));
  EXPECT_EQ(service_.GetClock("dossiers/D9")->due_at, poisoned.due_at);
}

// vn.json's holidays end with 2027: a clock due in 2028 was counted as if
// 2028 had none. Said once per calendar version, not per clock.
TEST_F(DeadlineServiceTest,
       ADueTimePastTheHolidayDataIsReportedOncePerVersion) {
  std::vector<calendar::CoverageExceeded> reports;
  service_.SetCoverageReport(
      [&](const calendar::CoverageExceeded& e) { reports.push_back(e); });
  // Due in 2027: covered.
  ASSERT_TRUE(
      service_.HandleEvent(Received("D0", kWardA, Vn(2027, 12, 1, 10, 0), 15))
          .ok());
  EXPECT_TRUE(reports.empty());
  // Mon 20/12/2027 10:00 + 15 working days runs into January 2028.
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2027, 12, 20, 10, 0), 15))
          .ok());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].calendar_id, "vn");
  EXPECT_EQ(reports[0].calendar_version, "vn@1");
  EXPECT_EQ(reports[0].covered_through, absl::CivilDay(2027, 12, 31));
  EXPECT_EQ(reports[0].due, service_.GetClock("dossiers/D1")->due_at);
  ASSERT_TRUE(
      service_.HandleEvent(Received("D2", kWardA, Vn(2027, 12, 21, 10, 0), 15))
          .ok());
  EXPECT_EQ(reports.size(), 1u);

  // Version 2 moves D1 and D2 (a day off in December): reported again, once.
  AddCalendar("vn", {absl::CivilDay(2027, 12, 22)}, "Nghỉ đột xuất");
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].calendar_version, "vn@2");
}

TEST_F(DeadlineServiceTest, SubtreeMembershipComesFromTheEvents) {
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  EXPECT_TRUE(*service_.IsWithin(kWardA.code, kCity.code));
  EXPECT_TRUE(*service_.IsWithin(kWardA.code, kDistrict.code));
  EXPECT_TRUE(*service_.IsWithin(kDistrict.code, kCity.code));
  EXPECT_TRUE(*service_.IsWithin(kWardA.code, kWardA.code));
  EXPECT_FALSE(*service_.IsWithin(kCity.code, kWardA.code));
  EXPECT_FALSE(*service_.IsWithin(kWardB.code, kCity.code));  // unknown
}

}  // namespace
}  // namespace lienthong::deadline
