// RunLoop over a real PostgreSQL: a loop whose timer is an hour away runs
// again as soon as a wake-up arrives on its channel, and stops when told,
// in the middle of a wait.

#include "libs/runtime/loop.h"

#include <functional>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "libs/db/notifier.h"
#include "libs/db/pool.h"
#include "libs/db/transaction.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"

namespace lienthong::runtime {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::PgCluster;

// Long enough for anything to happen on a loaded machine; a passing test
// never waits it out.
constexpr absl::Duration kPatience = absl::Seconds(30);

class RunLoopTest : public ::testing::Test {
 protected:
  RunLoopTest() : dsn_(PgCluster::Get().NewDatabase()), pool_({dsn_, 2}) {}

  // Blocks until the loop has run `n` times; false if it did not within
  // `timeout`.
  bool AwaitRuns(int n, absl::Duration timeout = kPatience) {
    struct Want {
      const int* runs;
      int n;
    } want{&runs_, n};
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](Want* w) { return *w->runs >= w->n; }, &want),
        timeout);
  }
  // A run that counts itself and succeeds.
  std::function<bool()> RunOk() {
    return [this] {
      Run();
      return true;
    };
  }
  void Run() {
    absl::MutexLock lock(&mu_);
    ++runs_;
  }
  void Wake() {
    ASSERT_THAT(db::WithTransaction(pool_,
                                    [](pqxx::work& tx) {
                                      tx.exec("SELECT 1");
                                      db::NotifyAfterCommit("lt_loop");
                                      return absl::OkStatus();
                                    }),
                IsOk());
  }

  std::string dsn_;
  db::Pool pool_;
  absl::Mutex mu_;
  int runs_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_F(RunLoopTest, AWakeUpRunsTheLoopBeforeItsTimer) {
  db::WakeListener wake(dsn_, "lt_loop");
  absl::Notification stop;
  std::thread loop(
      [&] { RunLoop(RunOk(), absl::Hours(1), absl::Hours(1), &wake, stop); });
  ASSERT_TRUE(AwaitRuns(1));
  Wake();
  EXPECT_TRUE(AwaitRuns(2)) << "an hour's timer, and no run after a wake-up";
  const absl::Time asked = absl::Now();
  stop.Notify();
  loop.join();
  EXPECT_LT(absl::Now() - asked, kPatience);
}

TEST_F(RunLoopTest, AWakeUpSentDuringTheFirstRunIsHeardAfterIt) {
  db::WakeListener wake(dsn_, "lt_loop");
  // Another listener, to know when the wake-up has gone out (the pool's
  // notifier sends it from its own thread after the commit).
  db::WakeListener probe(dsn_, "lt_loop");
  ASSERT_TRUE(probe.Listen());
  absl::Notification stop;
  bool first = true;
  std::thread loop([&] {
    RunLoop(
        [&] {
          Run();
          if (!std::exchange(first, false)) return true;
          // The first run is still going when the wake-up goes out.
          Wake();
          EXPECT_TRUE(probe.Wait(kPatience));
          return true;
        },
        absl::Hours(1), absl::Hours(1), &wake, stop);
  });
  EXPECT_TRUE(AwaitRuns(2)) << "the wake-up sent during the first run";
  stop.Notify();
  loop.join();
}

TEST_F(RunLoopTest, WithoutAWakeListenerTheTimerAloneRunsIt) {
  absl::Notification stop;
  std::thread loop(
      [&] { RunLoop(RunOk(), absl::Hours(1), absl::Hours(1), nullptr, stop); });
  ASSERT_TRUE(AwaitRuns(1));
  stop.Notify();
  loop.join();
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(runs_, 1);
}

TEST_F(RunLoopTest, AFailedRunIsTriedAgainSoonerThanItsInterval) {
  absl::Notification stop;
  std::thread loop([&] {
    RunLoop(
        [&] {
          Run();
          absl::MutexLock lock(&mu_);
          return runs_ >= 3;  // the first two fail (a peer not up yet)
        },
        absl::Hours(1), absl::Milliseconds(1), nullptr, stop);
  });
  // Retried after 1 ms, then 2 ms; an hour's interval would never get
  // here in time.
  EXPECT_TRUE(AwaitRuns(3));
  stop.Notify();
  loop.join();
  // The third run succeeded: the next is an hour away.
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(runs_, 3);
}

}  // namespace
}  // namespace lienthong::runtime
