// A calendar change and the clocks counted beside it, over real PostgreSQL
// with two replicas: a clock is never left counted with the version a
// change replaced (DeadlineTx::ShareCalendar / LockCalendar).

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/calendar/default_calendar.h"
#include "libs/calendar/test_calendars.h"
#include "libs/common/errors.h"
#include "libs/common/uuid.h"
#include "services/deadline/deadline_service.h"
#include "services/deadline/hooked_deadline_store.h"
#include "services/deadline/pg_deadline_store.h"
#include "services/deadline/pg_test_db.h"

namespace lienthong::deadline {
namespace {

using calendar::testing::Vn;

const AgencyRef kWard{
    "000.01.01.H26", Tier::kCommune, {"000.00.00.H26", "000.00.01.H26"}};

// What the service's advisory locks are keyed on for calendar "vn".
constexpr char kVnLock[] = "hashtext('lienthong.deadline.calendar.vn')";

OutgoingEvent Encode(const ClockNotice& n) {
  return OutgoingEvent{
      common::NewUuid(), UrgencyName(n.urgency), n.clock.name, {"notify"}};
}

class PgCalendarChangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = test::FreshPool();
    store_ = std::make_unique<PgDeadlineStore>(*pool_, clock_);
    a_ = std::make_unique<DeadlineService>(*store_, clock_, Encode);
    b_ = std::make_unique<DeadlineService>(*store_, clock_, Encode);
    ASSERT_TRUE(a_->EnsureDefaultCalendar().ok());
  }
  // Received Monday 9/3 10:00 with one working day: due Tuesday 10/3
  // 10:00 in version 1, Wednesday 11/3 once 10/3 is a day off.
  InboundEvent Received(const std::string& code) {
    InboundEvent e;
    e.event_id = test::Uuid(absl::StrCat("recv-", code));
    e.kind = InboundKind::kDossierReceived;
    e.occurred_at = Vn(2026, 3, 9, 10, 0);
    e.dossier_code = code;
    e.agency = kWard;
    e.procedure_code = "1.001193";
    e.limit = absl::Hours(8);
    return e;
  }
  absl::StatusOr<CalendarUpdate> TakeTuesdayOff(DeadlineService& replica) {
    return TakeDayOff(replica, absl::CivilDay(2026, 3, 10), "");
  }
  absl::StatusOr<CalendarUpdate> TakeDayOff(DeadlineService& replica,
                                            absl::CivilDay day,
                                            const std::string& request_id) {
    return replica.UpdateCalendar(
        "vn",
        calendar::testing::VnJsonWithDaysOff("vn", {day}, "Nghỉ đột xuất"),
        Vn(2026, 3, 1, 0, 0), "admin", "", request_id);
  }

  common::FakeClock clock_{Vn(2026, 3, 9, 10, 0)};
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<PgDeadlineStore> store_;
  std::unique_ptr<DeadlineService> a_, b_;
};

TEST_F(PgCalendarChangeTest, AClockCountsWithAChangeItsReplicaHasNotHeardOf) {
  // Replica A has vn version 1 cached (for calendar_cache_ttl, 30 s on a
  // clock that does not move here).
  ASSERT_TRUE(a_->HandleEvent(Received("D1")).ok());
  // Replica B changes vn; A's wake-up has not come.
  absl::StatusOr<CalendarUpdate> u = TakeTuesdayOff(*b_);
  ASSERT_TRUE(u.ok()) << u.status();
  ASSERT_EQ(u->version.version, 2);
  ASSERT_TRUE(a_->HandleEvent(Received("D2")).ok());
  const absl::StatusOr<Clock> c = a_->GetClock("dossiers/D2");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->calendar_version, 2);
  EXPECT_EQ(c->due_at, Vn(2026, 3, 11, 10, 0));
}

TEST_F(PgCalendarChangeTest, NoClockStartsWhileItsCalendarIsBeingChanged) {
  // A change of vn is being applied (its transaction holds the lock).
  pqxx::connection changing(pool_->dsn());
  pqxx::work change(changing);
  change.exec(absl::StrCat("SELECT pg_advisory_xact_lock(", kVnLock, ")"));
  // The event is not applied and comes again (ABORTED is transient for the
  // sender's relay); nothing waited, nothing was written.
  absl::StatusOr<bool> applied = a_->HandleEvent(Received("D1"));
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kAborted)
      << applied.status();
  EXPECT_EQ(test::Count(*pool_, "SELECT count(*) FROM deadline.clocks"), 0);
  change.commit();
  applied = a_->HandleEvent(Received("D1"));
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(*applied);
  EXPECT_EQ(a_->GetClock("dossiers/D1")->calendar_version, 1);
}

TEST_F(PgCalendarChangeTest, AChangeWaitsForTheClocksBeingCountedWithIt) {
  // A clock is being started with vn (its transaction shares the lock).
  pqxx::connection counting(pool_->dsn());
  pqxx::work start(counting);
  start.exec(
      absl::StrCat("SELECT pg_advisory_xact_lock_shared(", kVnLock, ")"));
  std::atomic<bool> changed{false};
  absl::StatusOr<CalendarUpdate> u;
  std::thread admin([&] {
    u = TakeTuesdayOff(*b_);
    changed = true;
  });
  // The change waits on the lock (seen in pg_locks), not before it.
  bool waiting = false;
  for (int i = 0; i < 1000 && !waiting && !changed; ++i) {
    waiting = test::Count(*pool_,
                          "SELECT count(*) FROM pg_locks WHERE locktype = "
                          "'advisory' AND NOT granted") == 1;
    if (!waiting) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(waiting);
  EXPECT_FALSE(changed);
  start.commit();
  admin.join();
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->version.version, 2);
}

TEST_F(PgCalendarChangeTest, ClocksStartedDuringAChangeAllCountWithIt) {
  // Open clocks for the change to count again (several batches of its
  // walk), and replica A starting more while B changes the calendar.
  for (int i = 0; i < 1200; ++i) {
    ASSERT_TRUE(a_->HandleEvent(Received(absl::StrCat("O", 10000 + i))).ok());
  }
  std::atomic<bool> done{false};
  std::atomic<int> started{0};
  absl::Status failed;  // the counter's first failure other than ABORTED
  std::thread counter([&] {
    for (int i = 0; !done; ++i) {
      const InboundEvent e = Received(absl::StrCat("N", 10000 + i));
      absl::StatusOr<bool> r = a_->HandleEvent(e);
      // As the sender's relay does: again after ABORTED.
      while (!r.ok() && r.status().code() == absl::StatusCode::kAborted) {
        r = a_->HandleEvent(e);
      }
      if (!r.ok()) {
        failed = r.status();
        done = true;
      }
      ++started;
    }
  });
  // Some clocks start before the change, some during, some after.
  while (started < 20 && !done) std::this_thread::yield();
  absl::StatusOr<CalendarUpdate> u = TakeTuesdayOff(*b_);
  const int at_change = started;
  while (started < at_change + 20 && !done) std::this_thread::yield();
  done = true;
  counter.join();
  ASSERT_TRUE(failed.ok()) << failed;
  ASSERT_TRUE(u.ok()) << u.status();
  // Every open clock is due as version 2 counts it.
  EXPECT_EQ(test::Count(*pool_,
                        "SELECT count(*) FROM deadline.clocks WHERE state = 1 "
                        "AND due_at <> '2026-03-11 03:00:00+00'"),
            0);
  EXPECT_EQ(test::Count(*pool_,
                        "SELECT count(*) FROM deadline.clocks WHERE state = 1 "
                        "AND calendar_version <> 2"),
            0);
}

TEST_F(PgCalendarChangeTest, TwoFirstAttemptsOfOneChangeGetTheSameAnswer) {
  ASSERT_TRUE(a_->HandleEvent(Received("D1")).ok());
  test::HookedDeadlineStore hooked(*store_);
  DeadlineService first(hooked, clock_, Encode);
  // The client's retry reaches replica B while the first attempt is past
  // its request_id check: B stores the change first.
  absl::StatusOr<CalendarUpdate> retry;
  hooked.AfterNextRequestIdRead(
      [&] { retry = TakeDayOff(*b_, absl::CivilDay(2026, 3, 10), "req-1"); });
  const absl::StatusOr<CalendarUpdate> u =
      TakeDayOff(first, absl::CivilDay(2026, 3, 10), "req-1");
  ASSERT_TRUE(retry.ok()) << retry.status();
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->version.version, 2);
  EXPECT_EQ(u->version.version, retry->version.version);
  EXPECT_EQ(u->version.created_at, retry->version.created_at);
  ASSERT_EQ(u->moved.size(), 1u);
  EXPECT_EQ(u->moved[0].clock_name, "dossiers/D1");
  EXPECT_EQ(u->moved[0].new_due, retry->moved[0].new_due);
  EXPECT_EQ(test::Count(*pool_, "SELECT count(*) FROM deadline.calendars"), 2);
}

TEST_F(PgCalendarChangeTest,
       AnotherChangeRacingUnderTheSameRequestIdIsRefused) {
  test::HookedDeadlineStore hooked(*store_);
  DeadlineService first(hooked, clock_, Encode);
  absl::StatusOr<CalendarUpdate> other;
  hooked.AfterNextRequestIdRead(
      [&] { other = TakeDayOff(*b_, absl::CivilDay(2026, 3, 10), "req-1"); });
  const absl::StatusOr<CalendarUpdate> u =
      TakeDayOff(first, absl::CivilDay(2026, 3, 11), "req-1");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument)
      << u.status();
  EXPECT_EQ(common::GetErrorDetails(u.status()).reason, "REQUEST_ID_REUSED");
  EXPECT_EQ(test::Count(*pool_, "SELECT count(*) FROM deadline.calendars"), 2);
}

TEST(PgDeadlineStartupTest, TwoReplicasStartingOnAnEmptyDatabaseBothStart) {
  common::FakeClock clock(Vn(2026, 3, 9, 10, 0));
  std::unique_ptr<db::Pool> pool = test::FreshPool();
  PgDeadlineStore store(*pool, clock);
  test::HookedDeadlineStore hooked(store);
  DeadlineService a(hooked, clock, Encode);
  DeadlineService b(store, clock, Encode);
  // A has found no calendar vn; B starts and seeds it before A's insert.
  absl::Status b_started = absl::UnknownError("B did not start");
  hooked.AfterNextLatestReadInTransaction(
      [&] { b_started = b.EnsureDefaultCalendar(); });
  const absl::Status a_started = a.EnsureDefaultCalendar();
  EXPECT_TRUE(b_started.ok()) << b_started;
  EXPECT_TRUE(a_started.ok()) << a_started;
  EXPECT_EQ(test::Count(*pool,
                        "SELECT count(*) FROM deadline.calendars WHERE "
                        "calendar_id = 'vn' AND version = 1"),
            1);
  EXPECT_EQ(test::Count(*pool, "SELECT count(*) FROM deadline.calendars"), 1);
}

// An administrator creating `vn` on a new database while a replica starts
// and seeds it: the seed takes version 1 (it takes no calendar lock) after
// the change read that there was none. The change is stored on top of it,
// as version 2, not refused ALREADY_EXISTS.
TEST(PgDeadlineStartupTest, AChangeRacingTheSeedOfVnIsStoredOnTopOfIt) {
  common::FakeClock clock(Vn(2026, 3, 9, 10, 0));
  std::unique_ptr<db::Pool> pool = test::FreshPool();
  PgDeadlineStore store(*pool, clock);
  test::HookedDeadlineStore hooked(store);
  DeadlineService admin(hooked, clock, Encode);
  DeadlineService starting(store, clock, Encode);
  absl::Status seeded = absl::UnknownError("the replica did not start");
  hooked.AfterNextLatestReadInTransaction(
      [&] { seeded = starting.EnsureDefaultCalendar(); });
  const absl::StatusOr<CalendarUpdate> u = admin.UpdateCalendar(
      "vn",
      calendar::testing::VnJsonWithDaysOff("vn", {absl::CivilDay(2026, 3, 10)},
                                           "Nghỉ đột xuất"),
      Vn(2026, 3, 1, 0, 0), "admin", "", common::NewUuid());
  ASSERT_TRUE(seeded.ok()) << seeded;
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->version.version, 2);
  EXPECT_EQ(test::Count(*pool, "SELECT count(*) FROM deadline.calendars"), 2);
  EXPECT_EQ(test::Count(*pool,
                        "SELECT count(*) FROM deadline.calendars WHERE "
                        "version = 2 AND data LIKE '%Nghỉ đột xuất%'"),
            1);
  // In force, for the clocks that start now.
  const absl::StatusOr<CalendarVersion> in_force = admin.GetCalendar("vn");
  ASSERT_TRUE(in_force.ok()) << in_force.status();
  EXPECT_EQ(in_force->version, 2);
}

// A writer that keeps taking the next number first (each attempt of the
// change finds it taken): the change gives up with ABORTED, which callers
// retry, and stores nothing.
TEST(PgDeadlineStartupTest, AChangeThatKeepsLosingItsNumberIsAborted) {
  common::FakeClock clock(Vn(2026, 3, 9, 10, 0));
  std::unique_ptr<db::Pool> pool = test::FreshPool();
  PgDeadlineStore store(*pool, clock);
  test::HookedDeadlineStore hooked(store);
  DeadlineService admin(hooked, clock, Encode);
  int64_t next = 1;
  std::function<void()> rival = [&] {
    CalendarVersion v;
    v.calendar_id = "vn";
    v.version = next++;
    v.effective_from = absl::UnixEpoch();
    v.json = std::string(calendar::DefaultCalendarJson());
    v.created_at = clock.Now();
    v.applied = true;
    EXPECT_TRUE(
        store
            .InTransaction([&](DeadlineTx& tx) { return tx.InsertCalendar(v); })
            .ok());
    hooked.AfterNextLatestReadInTransaction(rival);
  };
  hooked.AfterNextLatestReadInTransaction(rival);
  const absl::StatusOr<CalendarUpdate> u = admin.UpdateCalendar(
      "vn",
      calendar::testing::VnJsonWithDaysOff("vn", {absl::CivilDay(2026, 3, 10)},
                                           "Nghỉ đột xuất"),
      Vn(2026, 3, 1, 0, 0), "admin", "");
  hooked.AfterNextLatestReadInTransaction(nullptr);
  EXPECT_EQ(u.status().code(), absl::StatusCode::kAborted) << u.status();
  EXPECT_EQ(common::GetErrorDetails(u.status()).reason, "CALENDAR_CHANGED");
  EXPECT_EQ(test::Count(*pool,
                        "SELECT count(*) FROM deadline.calendars WHERE data "
                        "LIKE '%Nghỉ đột xuất%'"),
            0);
}

}  // namespace
}  // namespace lienthong::deadline
