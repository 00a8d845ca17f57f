// WakeListener over a real PostgreSQL: a committed wake-up ends a wait,
// one on another channel does not, and a listener that cannot connect
// only times out.

#include "libs/db/wake_listener.h"

#include <string>

#include "gtest/gtest.h"
#include "libs/db/notifier.h"
#include "libs/db/transaction.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"

namespace lienthong::db {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::PgCluster;

// Long enough for any wake-up to arrive on a loaded machine; a passing
// test never waits it out.
constexpr absl::Duration kPatience = absl::Seconds(30);

class WakeListenerTest : public ::testing::Test {
 protected:
  WakeListenerTest() : dsn_(PgCluster::Get().NewDatabase()), pool_({dsn_, 2}) {}

  void Wake(const std::string& channel, const std::string& payload = "") {
    ASSERT_THAT(WithTransaction(pool_,
                                [&](pqxx::work& tx) {
                                  tx.exec("SELECT 1");
                                  NotifyAfterCommit(channel, payload);
                                  return absl::OkStatus();
                                }),
                IsOk());
  }

  std::string dsn_;
  Pool pool_;
};

TEST_F(WakeListenerTest, ACommittedWakeUpEndsTheWait) {
  WakeListener wake(dsn_, "lt_wake");
  // Nothing sent yet: no wait at all. This also opens the connection.
  EXPECT_FALSE(wake.Wait(absl::ZeroDuration()));
  EXPECT_TRUE(wake.listening());
  Wake("lt_wake");
  const absl::Time start = absl::Now();
  EXPECT_TRUE(wake.Wait(kPatience));
  EXPECT_LT(absl::Now() - start, kPatience);
  // Taken: the next wait finds nothing.
  EXPECT_FALSE(wake.Wait(absl::ZeroDuration()));
}

TEST_F(WakeListenerTest, AWakeUpOnAnotherChannelIsNotSeen) {
  WakeListener wake(dsn_, "lt_wake");
  WakeListener other(dsn_, "lt_other");
  ASSERT_FALSE(wake.Wait(absl::ZeroDuration()));
  ASSERT_FALSE(other.Wait(absl::ZeroDuration()));
  // One sender, one connection: "lt_other" reaches both listeners' server
  // sessions before "lt_wake" does.
  Wake("lt_other");
  Wake("lt_wake");
  EXPECT_TRUE(other.Wait(kPatience));
  EXPECT_TRUE(wake.Wait(kPatience));
  EXPECT_FALSE(other.Wait(absl::ZeroDuration())) << "lt_wake is not its";
}

TEST_F(WakeListenerTest, AfterItsConnectionIsLostItSaysWakeUpsMayBeMissed) {
  WakeListener wake(dsn_, "lt_wake");
  ASSERT_TRUE(wake.Listen());
  ASSERT_FALSE(wake.Wait(absl::ZeroDuration()));
  // The listening session ends (a failover, an idle connection killed);
  // what is sent meanwhile reaches no one.
  ASSERT_THAT(WithTransaction(pool_,
                              [](pqxx::work& tx) {
                                tx.exec(
                                    "SELECT pg_terminate_backend(pid) FROM "
                                    "pg_stat_activity WHERE datname = "
                                    "current_database() AND query ILIKE "
                                    "'LISTEN%'");
                                return absl::OkStatus();
                              }),
              IsOk());
  Wake("lt_wake");
  // Listening again (libpqxx's own reconnection, or a later Wait's), it
  // answers true once: the loop runs and catches up.
  bool woken = false;
  for (int i = 0; i < 30 && !woken; ++i) woken = wake.Wait(absl::Seconds(1));
  EXPECT_TRUE(woken);
  EXPECT_TRUE(wake.listening());
  EXPECT_FALSE(wake.Wait(absl::ZeroDuration()));
  // And it hears the next one.
  Wake("lt_wake");
  EXPECT_TRUE(wake.Wait(kPatience));
}

TEST_F(WakeListenerTest, WithoutADatabaseItOnlyTimesOut) {
  WakeListener wake("host=/nonexistent port=1 dbname=none connect_timeout=1",
                    "lt_wake");
  EXPECT_FALSE(wake.Listen());
  EXPECT_FALSE(wake.listening());
  // It waits its time out (a loop on it does not spin while the database
  // is away), whether or not a new attempt to connect falls inside it,
  // and reports no wake-up, nor a catch-up, since nothing was heard.
  for (const absl::Duration timeout :
       {absl::Milliseconds(50), WakeListener::kFirstRetry}) {
    const absl::Time start = absl::Now();
    EXPECT_FALSE(wake.Wait(timeout));
    EXPECT_GE(absl::Now() - start, timeout);
    EXPECT_FALSE(wake.listening());
  }
}

}  // namespace
}  // namespace lienthong::db
