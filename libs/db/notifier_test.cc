// NotifyAfterCommit over a real PostgreSQL: a wake-up reaches a listener
// once its transaction has committed, never when it rolled back, and a
// transaction opened inside another sends its own.

#include "libs/db/notifier.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/common/errors.h"
#include "libs/db/transaction.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"

namespace lienthong::db {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::PgCluster;

// A connection listening on `channel` that records each payload.
class Listener final : public pqxx::notification_receiver {
 public:
  Listener(pqxx::connection& c, const std::string& channel)
      : pqxx::notification_receiver(c, channel), conn_(c) {}
  void operator()(const std::string& payload, int) override {
    payloads.push_back(payload);
  }
  // Waits (up to 30 s: a wait for an event, not for time to pass) until
  // `payload` has arrived; false if it did not.
  bool AwaitPayload(const std::string& payload) {
    for (int i = 0; i < 30; ++i) {
      for (const auto& p : payloads) {
        if (p == payload) return true;
      }
      conn_.await_notification(1, 0);
    }
    return false;
  }
  std::vector<std::string> payloads;

 private:
  pqxx::connection& conn_;
};

class NotifierTest : public ::testing::Test {
 protected:
  NotifierTest() : dsn_(PgCluster::Get().NewDatabase()), listen_conn_(dsn_) {}
  std::string dsn_;
  pqxx::connection listen_conn_;
};

TEST_F(NotifierTest, AWakeUpIsSentOnceItsTransactionCommits) {
  Listener listener(listen_conn_, "lt_test");
  Pool pool({dsn_, 2});
  ASSERT_THAT(WithTransaction(pool,
                              [](pqxx::work& tx) {
                                tx.exec("SELECT 1");
                                NotifyAfterCommit("lt_test", "committed");
                                NotifyAfterCommit("lt_test", "committed");
                                return absl::OkStatus();
                              }),
              IsOk());
  ASSERT_TRUE(listener.AwaitPayload("committed"));
  listen_conn_.get_notifs();
  // The same wake-up twice in one transaction: sent once.
  EXPECT_EQ(listener.payloads, std::vector<std::string>{"committed"});
}

TEST_F(NotifierTest, ARolledBackTransactionSendsNothing) {
  Listener listener(listen_conn_, "lt_test");
  Pool pool({dsn_, 2});
  // Rolled back by its function, then by an error in PostgreSQL.
  EXPECT_FALSE(WithTransaction(pool, [](pqxx::work&) {
                 NotifyAfterCommit("lt_test", "a-returned-an-error");
                 return common::FailedPrecondition("NO", "rolled back");
               }).ok());
  EXPECT_FALSE(WithTransaction(pool, [](pqxx::work& tx) {
                 NotifyAfterCommit("lt_test", "a-statement-failed");
                 tx.exec("SELECT 1/0");
                 return absl::OkStatus();
               }).ok());
  // A committed one after them: whatever was sent before it has arrived
  // by the time it has (one sender, in order).
  ASSERT_THAT(WithTransaction(pool,
                              [](pqxx::work&) {
                                NotifyAfterCommit("lt_test", "b-committed");
                                return absl::OkStatus();
                              }),
              IsOk());
  ASSERT_TRUE(listener.AwaitPayload("b-committed"));
  listen_conn_.get_notifs();
  EXPECT_EQ(listener.payloads, std::vector<std::string>{"b-committed"});
}

TEST_F(NotifierTest, ATransactionInsideAnotherSendsItsOwn) {
  Listener listener(listen_conn_, "lt_test");
  Pool pool({dsn_, 2});
  ASSERT_THAT(WithTransaction(pool,
                              [&](pqxx::work&) {
                                NotifyAfterCommit("lt_test", "outer");
                                // Committed while the outer one is still open.
                                EXPECT_THAT(
                                    WithTransaction(pool,
                                                    [](pqxx::work&) {
                                                      NotifyAfterCommit(
                                                          "lt_test", "inner");
                                                      return absl::OkStatus();
                                                    }),
                                    IsOk());
                                EXPECT_TRUE(listener.AwaitPayload("inner"));
                                return absl::OkStatus();
                              }),
              IsOk());
  ASSERT_TRUE(listener.AwaitPayload("outer"));
  listen_conn_.get_notifs();
  EXPECT_EQ(listener.payloads, (std::vector<std::string>{"inner", "outer"}));
}

TEST_F(NotifierTest, AWakeUpAfterTheNotifiersSessionEndedStillArrives) {
  Listener listener(listen_conn_, "lt_test");
  Pool pool({dsn_, 2});
  const auto commit_with = [&](const std::string& payload) {
    return WithTransaction(pool, [&](pqxx::work&) {
      NotifyAfterCommit("lt_test", payload);
      return absl::OkStatus();
    });
  };
  ASSERT_THAT(commit_with("before"), IsOk());
  ASSERT_TRUE(listener.AwaitPayload("before"));
  // The notifier's session ends (as on a restart or an idle timeout); the
  // notifier learns it only from its next send.
  pqxx::connection admin(dsn_);
  const int ended =
      pqxx::nontransaction(admin)
          .exec(
              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
              "WHERE datname = current_database() AND pid <> pg_backend_pid() "
              "AND query LIKE '%pg_notify(c, p)%'")[0][0]
          .as<int>();
  ASSERT_EQ(ended, 1);
  ASSERT_THAT(commit_with("after"), IsOk());
  EXPECT_TRUE(listener.AwaitPayload("after"));
}

}  // namespace
}  // namespace lienthong::db
