// DeadlineService over real PostgreSQL: the same rules as the in-memory
// tests, plus what only a database shows (SKIP LOCKED between replicas,
// optimistic versions, the report tables).

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/calendar/calendar_json.h"
#include "libs/calendar/default_calendar.h"
#include "libs/calendar/test_calendars.h"
#include "libs/common/uuid.h"
#include "libs/db/wake_listener.h"
#include "services/deadline/deadline_service.h"
#include "services/deadline/pg_deadline_store.h"
#include "services/deadline/pg_test_db.h"

namespace lienthong::deadline {
namespace {

using calendar::testing::Vn;

const AgencyRef kCity{"000.00.00.H26", Tier::kProvince, {}};
const AgencyRef kDistrict{"000.00.01.H26", Tier::kDistrict, {"000.00.00.H26"}};
const AgencyRef kWardA{
    "000.01.01.H26", Tier::kCommune, {"000.00.00.H26", "000.00.01.H26"}};
const AgencyRef kWardB{
    "000.02.01.H26", Tier::kCommune, {"000.00.00.H26", "000.00.01.H26"}};

OutgoingEvent Encode(const ClockNotice& n) {
  return OutgoingEvent{
      common::NewUuid(), UrgencyName(n.urgency), n.clock.name, {"notify"}};
}

class PgDeadlineServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = test::FreshPool();
    store_ = std::make_unique<PgDeadlineStore>(*pool_, clock_);
    service_ = NewReplica(*store_);
    ASSERT_TRUE(service_->EnsureDefaultCalendar().ok());
  }
  std::unique_ptr<DeadlineService> NewReplica(DeadlineStore& store) {
    return std::make_unique<DeadlineService>(store, clock_, Encode);
  }
  InboundEvent Received(const std::string& code, const AgencyRef& agency,
                        absl::Time at, int days = 5) {
    InboundEvent e;
    e.event_id = test::Uuid(absl::StrCat("recv-", code));
    e.kind = InboundKind::kDossierReceived;
    e.occurred_at = at;
    e.dossier_code = code;
    e.agency = agency;
    e.procedure_code = "1.001193";
    e.limit = absl::Hours(8 * days);
    return e;
  }
  InboundEvent Simple(const std::string& id, InboundKind kind,
                      const std::string& code, absl::Time at) {
    InboundEvent e;
    e.event_id = test::Uuid(id);
    e.kind = kind;
    e.dossier_code = code;
    e.occurred_at = at;
    return e;
  }
  int64_t Count(const std::string& sql) { return test::Count(*pool_, sql); }

  common::FakeClock clock_{Vn(2026, 3, 9, 10, 0)};
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<PgDeadlineStore> store_;
  std::unique_ptr<DeadlineService> service_;
};

TEST_F(PgDeadlineServiceTest, ClockRoundTripsThroughTheDatabase) {
  ASSERT_TRUE(
      service_->HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0)))
          .ok());
  ASSERT_TRUE(
      service_->HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0)))
          .ok());  // redelivered
  absl::StatusOr<Clock> c = service_->GetClock("dossiers/D1");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->agency.code, kWardA.code);
  EXPECT_EQ(c->agency.ancestors, kWardA.ancestors);
  EXPECT_EQ(c->agency.tier, Tier::kCommune);
  EXPECT_EQ(c->limit, absl::Hours(40));
  EXPECT_EQ(c->due_at, Vn(2026, 3, 16, 10, 0));
  EXPECT_EQ(c->paused_at, absl::InfinitePast());
  EXPECT_EQ(c->next_fire_at, c->due_soon_at);
  EXPECT_EQ(c->version, 1);
  EXPECT_EQ(c->calendar_version, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM deadline.clocks"), 1);
}

TEST_F(PgDeadlineServiceTest, PauseResumeAndRestartOnSupplement) {
  InboundEvent resume = Received("R", kWardA, Vn(2026, 3, 9, 10, 0));
  resume.supplement_policy = SupplementPolicy::kResume;
  ASSERT_TRUE(service_->HandleEvent(resume).ok());
  ASSERT_TRUE(
      service_->HandleEvent(Received("S", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  for (const char* code : {"R", "S"}) {
    ASSERT_TRUE(service_
                    ->HandleEvent(Simple(absl::StrCat("p-", code),
                                         InboundKind::kSupplementRequested,
                                         code, Vn(2026, 3, 11, 10, 0)))
                    .ok());
  }
  EXPECT_EQ(service_->GetClock("dossiers/R")->state, ClockState::kPaused);
  clock_.Set(Vn(2026, 3, 30, 0, 0));
  EXPECT_EQ(service_->RunScanOnce()->claimed, 0);
  for (const char* code : {"R", "S"}) {
    ASSERT_TRUE(service_
                    ->HandleEvent(Simple(absl::StrCat("s-", code),
                                         InboundKind::kSupplemented, code,
                                         Vn(2026, 3, 16, 10, 0)))
                    .ok());
  }
  // Resume: 24 h were left; restart: the whole 40 h again.
  EXPECT_EQ(service_->GetClock("dossiers/R")->due_at, Vn(2026, 3, 19, 10, 0));
  EXPECT_EQ(service_->GetClock("dossiers/S")->due_at, Vn(2026, 3, 23, 10, 0));
}

TEST_F(PgDeadlineServiceTest, OverdueDetectedWithFakeClockAndSentOnce) {
  ASSERT_TRUE(
      service_->HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0), 1))
          .ok());
  clock_.Set(Vn(2026, 3, 10, 9, 59));
  EXPECT_EQ(service_->RunScanOnce()->due_soon, 1);
  clock_.Set(Vn(2026, 3, 10, 10, 0));  // due now: not overdue yet
  EXPECT_EQ(service_->RunScanOnce()->overdue, 0);
  clock_.Set(Vn(2026, 3, 10, 10, 0, 1));
  EXPECT_EQ(service_->RunScanOnce()->overdue, 1);
  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(service_->RunScanOnce()->claimed, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM deadline.outbox"), 2);
  ClockQuery q;
  q.agency_subtree = kCity.code;
  q.urgency = Urgency::kOverdue;
  absl::StatusOr<std::vector<Clock>> overdue = service_->ListClocks(q);
  ASSERT_TRUE(overdue.ok()) << overdue.status();
  ASSERT_EQ(overdue->size(), 1u);
  q.agency_subtree = kWardB.code;
  EXPECT_TRUE(service_->ListClocks(q)->empty());
}

// A supplement request whose event arrives after the overdue notice it
// precedes: at the pause the clock was not overdue, so it is not listed as
// overdue, neither paused nor once resumed with time left; and a clock
// paused for the citizen is not on the office's lists.
TEST_F(PgDeadlineServiceTest, ALatePauseWithdrawsAPrematureOverdue) {
  InboundEvent e = Received("L", kWardA, Vn(2026, 3, 9, 10, 0), 1);
  e.supplement_policy = SupplementPolicy::kResume;
  ASSERT_TRUE(service_->HandleEvent(e).ok());
  ASSERT_TRUE(
      service_->HandleEvent(Received("P", kWardA, Vn(2026, 3, 9, 10, 0), 1))
          .ok());
  clock_.Set(Vn(2026, 3, 10, 10, 5));  // both 5 minutes overdue
  EXPECT_EQ(service_->RunScanOnce()->overdue, 2);
  // L: asked at 09:30, 30 minutes before its due time. P: asked at 10:02,
  // when it was already overdue.
  ASSERT_TRUE(service_
                  ->HandleEvent(Simple("p-L", InboundKind::kSupplementRequested,
                                       "L", Vn(2026, 3, 10, 9, 30)))
                  .ok());
  ASSERT_TRUE(service_
                  ->HandleEvent(Simple("p-P", InboundKind::kSupplementRequested,
                                       "P", Vn(2026, 3, 10, 10, 2)))
                  .ok());
  ClockQuery q;
  q.agency_subtree = kCity.code;
  q.urgency = Urgency::kOverdue;
  EXPECT_TRUE(service_->ListClocks(q)->empty());  // both paused
  EXPECT_FALSE(service_->GetClock("dossiers/L")->overdue_fired);
  EXPECT_TRUE(service_->GetClock("dossiers/P")->overdue_fired);
  ASSERT_TRUE(service_
                  ->HandleEvent(Simple("s-L", InboundKind::kSupplemented, "L",
                                       Vn(2026, 3, 10, 11, 0)))
                  .ok());
  const absl::StatusOr<Clock> l = service_->GetClock("dossiers/L");
  EXPECT_EQ(l->due_at, Vn(2026, 3, 10, 11, 30));  // 30 minutes were left
  EXPECT_FALSE(l->overdue_fired);
  // Due soon was told already (and still is: 30 minutes left); the scanner
  // waits for the new due time.
  EXPECT_TRUE(l->due_soon_fired);
  EXPECT_EQ(l->next_fire_at, l->due_at + absl::Microseconds(1));
  EXPECT_TRUE(service_->ListClocks(q)->empty());
}

TEST_F(PgDeadlineServiceTest, TwoScannerReplicasNeverFireOneClockTwice) {
  constexpr int kClocks = 300;
  for (int i = 0; i < kClocks; ++i) {
    ASSERT_TRUE(service_
                    ->HandleEvent(Received(absl::StrCat("D", i), kWardA,
                                           Vn(2026, 3, 9, 8, 0), 1))
                    .ok());
  }
  clock_.Set(Vn(2026, 3, 20, 0, 0));  // all overdue
  db::PoolOptions o2;
  o2.dsn = pool_->dsn();
  db::Pool pool2(o2);
  PgDeadlineStore store2(pool2, clock_);
  std::unique_ptr<DeadlineService> replica = NewReplica(store2);
  std::atomic<int> fired{0};
  auto scan = [&](DeadlineService* s) {
    for (int round = 0; round < 100; ++round) {
      absl::StatusOr<ScanResult> r = s->RunScanOnce();
      ASSERT_TRUE(r.ok()) << r.status();
      fired += r->overdue + r->due_soon;
      if (r->claimed == 0) break;
    }
  };
  std::thread a(scan, service_.get());
  std::thread b(scan, replica.get());
  a.join();
  b.join();
  EXPECT_EQ(fired.load(), kClocks);
  EXPECT_EQ(Count("SELECT count(*) FROM deadline.outbox"), kClocks);
  EXPECT_EQ(Count("SELECT count(DISTINCT event_id) FROM deadline.outbox"),
            kClocks);
  EXPECT_EQ(Count("SELECT count(*) FROM deadline.clocks WHERE overdue_fired"),
            kClocks);
}

TEST_F(PgDeadlineServiceTest, CalendarChangeMovesOpenAppointments) {
  ASSERT_TRUE(
      service_->HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0)))
          .ok());
  ASSERT_TRUE(
      service_->HandleEvent(Received("D2", kWardB, Vn(2026, 3, 9, 10, 0)))
          .ok());
  ASSERT_TRUE(service_
                  ->HandleEvent(Simple("done2", InboundKind::kDossierCompleted,
                                       "D2", Vn(2026, 3, 10, 10, 0)))
                  .ok());
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
  data->holidays.push_back({absl::CivilDay(2026, 3, 12),
                            absl::CivilDay(2026, 3, 12), "Nghỉ đột xuất", "",
                            false});
  absl::StatusOr<CalendarUpdate> u =
      service_->UpdateCalendar("vn", calendar::ToJson(*data),
                               Vn(2026, 3, 1, 0, 0), "admin-1", "QĐ 1/2026");
  ASSERT_TRUE(u.ok()) << u.status();
  ASSERT_EQ(u->moved.size(), 1u);  // D2 is finished: it does not move
  EXPECT_EQ(u->moved[0].clock_name, "dossiers/D1");
  EXPECT_EQ(u->moved[0].new_due, Vn(2026, 3, 17, 10, 0));
  EXPECT_EQ(service_->GetClock("dossiers/D1")->due_at, Vn(2026, 3, 17, 10, 0));
  // Stored with the version that moved it; D2 keeps the one that counted it.
  EXPECT_EQ(service_->GetClock("dossiers/D1")->calendar_version, 2);
  EXPECT_EQ(service_->GetClock("dossiers/D2")->calendar_version, 1);
  EXPECT_EQ(service_->GetCalendar("vn")->version, 2);
  EXPECT_EQ(Count("SELECT count(*) FROM deadline.audit_log"), 1);
  EXPECT_EQ(service_->ListCalendars()->size(), 2u);
}

TEST_F(PgDeadlineServiceTest, FutureCalendarVersionActivatesOnce) {
  ASSERT_TRUE(
      service_->HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0)))
          .ok());
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
  data->holidays.push_back({absl::CivilDay(2026, 3, 13),
                            absl::CivilDay(2026, 3, 13), "Nghỉ đột xuất", "",
                            false});
  // Every replica's calendar cache loop listens here.
  db::WakeListener replicas(pool_->dsn(), kCalendarsChangedChannel);
  ASSERT_TRUE(replicas.Listen());
  absl::StatusOr<CalendarUpdate> u =
      service_->UpdateCalendar("vn", calendar::ToJson(*data),
                               Vn(2026, 3, 11, 0, 0), "admin-1", "QĐ trước");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->moved.empty());
  EXPECT_TRUE(replicas.Wait(absl::Seconds(30))) << "stored: caches dropped";
  EXPECT_TRUE(service_->ActivateDueCalendars()->moved.empty());
  EXPECT_EQ(service_->GetCalendar("vn")->version, 1);  // not yet effective
  clock_.Set(Vn(2026, 3, 11, 0, 0));
  absl::StatusOr<CalendarActivation> activation =
      service_->ActivateDueCalendars();
  ASSERT_TRUE(activation.ok()) << activation.status();
  EXPECT_TRUE(activation->failed.empty());
  const std::vector<MovedAppointment>& moved = activation->moved;
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].new_due, Vn(2026, 3, 17, 10, 0));
  EXPECT_TRUE(replicas.Wait(absl::Seconds(30))) << "in force: dropped again";
  EXPECT_TRUE(service_->ActivateDueCalendars()->moved.empty());
  EXPECT_EQ(Count("SELECT count(*) FROM deadline.calendars WHERE applied_at "
                  "IS NULL"),
            0);
}

TEST_F(PgDeadlineServiceTest, ReportRollUpEqualsTheSumOfItsParts) {
  int n = 0;
  for (const AgencyRef* a :
       {&kWardA, &kWardA, &kWardB, &kWardB, &kDistrict, &kCity}) {
    ASSERT_TRUE(service_
                    ->HandleEvent(Received(absl::StrCat("D", ++n), *a,
                                           Vn(2026, 3, 2, 9, 0), 1))
                    .ok());
  }
  ASSERT_TRUE(service_
                  ->HandleEvent(Simple("d1", InboundKind::kDossierCompleted,
                                       "D1", Vn(2026, 3, 3, 8, 30)))
                  .ok());
  clock_.Set(Vn(2026, 3, 4, 9, 0));
  while (service_->RunScanOnce()->claimed > 0) {
  }
  ASSERT_TRUE(service_
                  ->HandleEvent(Simple("d3", InboundKind::kDossierRefused, "D3",
                                       Vn(2026, 3, 4, 9, 30)))
                  .ok());
  const ReportQuery whole{kCity.code, absl::CivilDay(2026, 3, 1),
                          absl::CivilDay(2026, 3, 31)};
  absl::StatusOr<std::vector<ReportRow>> total = service_->Report(whole);
  ASSERT_TRUE(total.ok()) << total.status();
  ASSERT_EQ(total->size(), 1u);
  const ReportRow city = (*total)[0];
  EXPECT_EQ(city.received, 6);
  EXPECT_EQ(city.finished_on_time, 1);
  EXPECT_EQ(city.finished_late, 1);
  EXPECT_EQ(city.open_overdue, 4);

  for (ReportGroupBy g : {ReportGroupBy::kAgency, ReportGroupBy::kProcedure,
                          ReportGroupBy::kTier}) {
    ReportQuery q = whole;
    q.group_by = g;
    absl::StatusOr<std::vector<ReportRow>> rows = service_->Report(q);
    ASSERT_TRUE(rows.ok());
    ReportRow sum;
    for (const ReportRow& r : *rows) {
      sum.received += r.received;
      sum.finished_on_time += r.finished_on_time;
      sum.finished_late += r.finished_late;
      sum.open_overdue += r.open_overdue;
    }
    EXPECT_EQ(sum.received, city.received);
    EXPECT_EQ(sum.finished_on_time, city.finished_on_time);
    EXPECT_EQ(sum.finished_late, city.finished_late);
    EXPECT_EQ(sum.open_overdue, city.open_overdue);
  }
  // The district's subtree: itself plus both wards, each a part of it.
  ReportQuery district = whole;
  district.agency_subtree = kDistrict.code;
  district.group_by = ReportGroupBy::kAgency;
  absl::StatusOr<std::vector<ReportRow>> parts = service_->Report(district);
  ASSERT_EQ(parts->size(), 3u);
  int64_t received = 0;
  for (const ReportRow& r : *parts) {
    received += r.received;
    if (r.key == kDistrict.code) {
      EXPECT_EQ(r.received, 1);  // received at the district itself
      continue;
    }
    ReportQuery ward = whole;  // a ward's row is the ward's whole subtree
    ward.agency_subtree = r.key;
    EXPECT_EQ((*service_->Report(ward))[0].received, r.received) << r.key;
  }
  EXPECT_EQ(received, 5);
  ReportQuery tiers = whole;
  tiers.group_by = ReportGroupBy::kTier;
  EXPECT_THAT(
      *service_->Report(tiers),
      ::testing::ElementsAre(::testing::Field(&ReportRow::key, "province"),
                             ::testing::Field(&ReportRow::key, "district"),
                             ::testing::Field(&ReportRow::key, "commune")));
}

TEST_F(PgDeadlineServiceTest, AgencyAncestorsAndCalendarRequestIds) {
  ASSERT_TRUE(
      service_->HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0)))
          .ok());
  EXPECT_TRUE(*service_->IsWithin(kWardA.code, kCity.code));
  EXPECT_TRUE(*service_->IsWithin(kDistrict.code, kCity.code));
  EXPECT_FALSE(*service_->IsWithin(kCity.code, kDistrict.code));
  EXPECT_TRUE(service_->WithinIfKnown(kWardA.code, kCity.code)->has_value());
  EXPECT_FALSE(
      service_->WithinIfKnown("000.99.99.H26", kCity.code)->has_value());
  // Ward A moves to another district: the next clock naming it says so.
  const AgencyRef other{"000.00.02.H26", Tier::kDistrict, {kCity.code}};
  const AgencyRef moved{kWardA.code, Tier::kCommune, {kCity.code, other.code}};
  ASSERT_TRUE(
      service_->HandleEvent(Received("D2", moved, Vn(2026, 3, 9, 10, 0))).ok());
  EXPECT_TRUE(*service_->IsWithin(kWardA.code, other.code));
  EXPECT_FALSE(*service_->IsWithin(kWardA.code, kDistrict.code));
  const std::string json = std::string(calendar::DefaultCalendarJson());
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<CalendarUpdate> u = service_->UpdateCalendar(
        "vn", json, Vn(2026, 1, 1, 0, 0), "admin", "", "req-1");
    ASSERT_TRUE(u.ok()) << u.status();
    EXPECT_EQ(u->version.version, 2);
    EXPECT_EQ(u->version.request_id, "req-1");
  }
}

// The database keeps microseconds; a retry of a request whose effective
// time has nanoseconds (a protobuf Timestamp may) is the same request.
TEST_F(PgDeadlineServiceTest, CalendarRetryWithNanosecondsIsAReplay) {
  const std::string json = std::string(calendar::DefaultCalendarJson());
  const absl::Time effective = Vn(2026, 4, 1, 0, 0) + absl::Nanoseconds(1500);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<CalendarUpdate> u =
        service_->UpdateCalendar("vn", json, effective, "admin", "", "req-ns");
    ASSERT_TRUE(u.ok()) << u.status();
    EXPECT_EQ(u->version.version, 2);
    EXPECT_EQ(u->version.effective_from,
              Vn(2026, 4, 1, 0, 0) + absl::Microseconds(1));
  }
}

}  // namespace
}  // namespace lienthong::deadline
