#include "services/deadline/deadline_service.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/calendar/calendar_json.h"
#include "libs/calendar/default_calendar.h"
#include "libs/calendar/test_calendars.h"
#include "libs/common/errors.h"
#include "services/deadline/memory_deadline_store.h"

namespace lienthong::deadline {
namespace {

using calendar::testing::Vn;

const AgencyRef kCity{"000.00.00.H26", Tier::kProvince, {}};
const AgencyRef kDistrict{"000.00.01.H26", Tier::kDistrict, {"000.00.00.H26"}};
const AgencyRef kWardA{
    "000.01.01.H26", Tier::kCommune, {"000.00.00.H26", "000.00.01.H26"}};
const AgencyRef kWardB{
    "000.02.01.H26", Tier::kCommune, {"000.00.00.H26", "000.00.01.H26"}};

class DeadlineServiceTest : public ::testing::Test {
 protected:
  DeadlineServiceTest()
      : clock_(Vn(2026, 3, 9, 10, 0)),
        service_(store_, clock_, [](const ClockNotice& n) {
          return OutgoingEvent{
              absl::StrCat("ev-", n.clock.name, "-", UrgencyName(n.urgency)),
              UrgencyName(n.urgency),
              n.clock.name,
              {"notify", "intake"}};
        }) {}

  void SetUp() override { ASSERT_TRUE(service_.EnsureDefaultCalendar().ok()); }

  InboundEvent Received(const std::string& code, const AgencyRef& agency,
                        absl::Time at, int days = 5) {
    InboundEvent e;
    e.event_id = absl::StrCat("recv-", code);
    e.kind = InboundKind::kDossierReceived;
    e.occurred_at = at;
    e.dossier_code = code;
    e.agency = agency;
    e.procedure_code = "1.001193";
    e.limit = absl::Hours(8 * days);
    return e;
  }
  InboundEvent Simple(const std::string& id, InboundKind kind,
                      const std::string& code, absl::Time at,
                      const std::string& leg = "") {
    InboundEvent e;
    e.event_id = id;
    e.kind = kind;
    e.dossier_code = code;
    e.occurred_at = at;
    e.leg_id = leg;
    return e;
  }

  MemoryDeadlineStore store_;
  common::FakeClock clock_;
  DeadlineService service_;
};

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

  clock_.Set(Vn(2026, 3, 16, 10, 0));
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
  leg.event_id = "disp-1";
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
  service_.SetMovedEncoder([&](const CalendarVersion& v,
                               const std::vector<MovedAppointment>& moved,
                               absl::Time, bool supplement) {
    told = moved;
    after_supplement = supplement;
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
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].dossier_code, "D1");
  EXPECT_EQ(told[0].kind, ClockKind::kDossier);
  EXPECT_EQ(told[0].old_due, Vn(2026, 3, 16, 10, 0));
  EXPECT_EQ(told[0].new_due, Vn(2026, 3, 19, 9, 0));
  EXPECT_EQ(store_.Snapshot().outbox.back().event_id, "moved-vn");
  EXPECT_EQ(service_.GetClock("dossiers/D1/legs/ho-tich")->state,
            ClockState::kRunning);
}

TEST_F(DeadlineServiceTest, AReceiptTimedByAnotherCalendarIsMoved) {
  std::vector<std::pair<CalendarVersion, std::vector<MovedAppointment>>> told;
  service_.SetMovedEncoder([&](const CalendarVersion& v,
                               const std::vector<MovedAppointment>& moved,
                               absl::Time, bool supplement) {
    EXPECT_FALSE(supplement);
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
  leg.event_id = "leg-D4";
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
                               absl::Time, bool) {
    told.insert(told.end(), moved.begin(), moved.end());
    return OutgoingEvent{"moved", "moved", "", {"intake"}};
  });
  // This replica has looked up Hà Nội's calendar (none yet) and caches
  // that for calendar_cache_ttl.
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  // Another replica stores vn-H26, in force now, with 10/3 off; intake
  // fetched it and printed the receipt with it.
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
  ASSERT_TRUE(data.ok());
  data->id = "vn-H26";
  data->holidays.push_back({absl::CivilDay(2026, 3, 10),
                            absl::CivilDay(2026, 3, 10), "Nghỉ địa phương", "",
                            false});
  ASSERT_TRUE(store_
                  .InTransaction([&](DeadlineTx& tx) {
                    CalendarVersion v;
                    v.calendar_id = "vn-H26";
                    v.version = 1;
                    v.effective_from = Vn(2026, 1, 1, 0, 0);
                    v.json = calendar::ToJson(*data);
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

TEST_F(DeadlineServiceTest, DossierEndsStopAllItsClocks) {
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  InboundEvent leg = Received("D1", kWardA, Vn(2026, 3, 9, 11, 0), 2);
  leg.event_id = "disp-1";
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
  leg.event_id = "disp-1";
  leg.kind = InboundKind::kLegDispatched;
  leg.leg_id = "ho-tich";
  ASSERT_TRUE(service_.HandleEvent(leg).ok());
  std::vector<MovedAppointment> encoded;
  service_.SetMovedEncoder([&](const CalendarVersion& v,
                               const std::vector<MovedAppointment>& moved,
                               absl::Time at, bool) {
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

TEST_F(DeadlineServiceTest, ProvinceCalendarOverridesTheNationalOne) {
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
  data->id = "vn-H26";
  data->holidays.push_back({absl::CivilDay(2026, 3, 10),
                            absl::CivilDay(2026, 3, 10), "Nghỉ địa phương", "",
                            false});
  ASSERT_TRUE(service_
                  .UpdateCalendar("vn-H26", calendar::ToJson(*data),
                                  Vn(2026, 1, 1, 0, 0), "admin", "")
                  .ok());
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

TEST_F(DeadlineServiceTest, AProceduresCalendarFirstAndAGoneOneFallsBack) {
  // vn-H26 takes 10/3 off; the procedure's vn-ho-tich takes 10/3 and 11/3.
  const auto add = [&](const std::string& id, std::vector<absl::CivilDay> off) {
    absl::StatusOr<calendar::CalendarData> data =
        calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
    ASSERT_TRUE(data.ok());
    data->id = id;
    for (absl::CivilDay d : off) {
      data->holidays.push_back({d, d, "Nghỉ " + id, "", false});
    }
    ASSERT_TRUE(service_
                    .UpdateCalendar(id, calendar::ToJson(*data),
                                    Vn(2026, 1, 1, 0, 0), "admin", "")
                    .ok());
  };
  add("vn-H26", {absl::CivilDay(2026, 3, 10)});
  add("vn-ho-tich", {absl::CivilDay(2026, 3, 10), absl::CivilDay(2026, 3, 11)});

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
  const std::string json = std::string(calendar::DefaultCalendarJson());
  absl::StatusOr<CalendarUpdate> a = service_.UpdateCalendar(
      "vn", json, Vn(2026, 1, 1, 0, 0), "admin", "", "req-1");
  absl::StatusOr<CalendarUpdate> b = service_.UpdateCalendar(
      "vn", json, Vn(2026, 1, 1, 0, 0), "admin", "", "req-1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->version.version, 2);
  EXPECT_EQ(b->version.version, 2);
  EXPECT_EQ(service_.ListCalendars()->size(), 2u);
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
