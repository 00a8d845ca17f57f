#include "libs/db/pool.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "libs/db/transaction.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"

namespace lienthong::db {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::PgCluster;
using ::lienthong::testing::StatusIs;

absl::StatusOr<int> SelectOne(Pool& pool) {
  return WithTransaction(pool, [](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec("SELECT 1")[0][0].as<int>();
  });
}

TEST(PoolTest, SurvivesAPostgresRestartWithoutRestartingTheProcess) {
  std::atomic<int> connection_errors{0};
  PoolOptions opts{PgCluster::Get().NewDatabase(), 2};
  opts.acquire_timeout = absl::Seconds(2);
  opts.on_error = [&](const char* kind) {
    if (std::string(kind) == "connection") ++connection_errors;
  };
  Pool pool(opts);
  ASSERT_THAT(SelectOne(pool), IsOk());

  ASSERT_THAT(PgCluster::Get().Stop(), IsOk());
  // While it is away: UNAVAILABLE, no crash.
  EXPECT_THAT(SelectOne(pool), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(pool.Ping(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_GT(connection_errors.load(), 0);

  ASSERT_THAT(PgCluster::Get().Start(), IsOk());
  // The very next query succeeds on the same Pool.
  absl::StatusOr<int> one = SelectOne(pool);
  ASSERT_THAT(one, IsOk());
  EXPECT_EQ(*one, 1);
  EXPECT_THAT(pool.Ping(), IsOk());
}

TEST(PoolTest, BoundedSizeTimesOutWithUnavailable) {
  PoolOptions opts{PgCluster::Get().NewDatabase(), 1};
  opts.acquire_timeout = absl::Milliseconds(100);
  Pool pool(opts);
  auto held = pool.Acquire();
  ASSERT_TRUE(held.ok());
  EXPECT_THAT(pool.Acquire(), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(TransactionTest, MapsUniqueViolationAndRollsBackOnError) {
  Pool pool({PgCluster::Get().NewDatabase(), 2});
  ASSERT_THAT(WithTransaction(pool,
                              [](pqxx::work& tx) {
                                tx.exec("CREATE TABLE t (id int PRIMARY KEY)");
                                tx.exec("INSERT INTO t VALUES (1)");
                                return absl::OkStatus();
                              }),
              IsOk());
  EXPECT_THAT(WithTransaction(pool,
                              [](pqxx::work& tx) {
                                tx.exec("INSERT INTO t VALUES (1)");
                                return absl::OkStatus();
                              }),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // A function returning an error rolls its writes back.
  EXPECT_THAT(WithTransaction(pool,
                              [](pqxx::work& tx) {
                                tx.exec("INSERT INTO t VALUES (2)");
                                return absl::FailedPreconditionError("no");
                              }),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  absl::StatusOr<int64_t> n =
      WithTransaction(pool, [](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        return tx.exec("SELECT count(*) FROM t")[0][0].as<int64_t>();
      });
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 1);
}

TEST(TransactionTest, RetriesSerializationFailures) {
  Pool pool({PgCluster::Get().NewDatabase(), 2});
  ASSERT_THAT(WithTransaction(pool,
                              [](pqxx::work& tx) {
                                tx.exec("CREATE TABLE c (n int)");
                                tx.exec("INSERT INTO c VALUES (0)");
                                return absl::OkStatus();
                              }),
              IsOk());
  // The first attempt raises a serialization failure (SQLSTATE 40001) the
  // way PostgreSQL does; the helper must run the function again.
  int attempts = 0;
  absl::Status s = WithTransaction(pool, [&](pqxx::work& tx) {
    ++attempts;
    if (attempts == 1) {
      tx.exec(
          "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = "
          "'40001'; END $$");
    }
    tx.exec("UPDATE c SET n = n + 1");
    return absl::OkStatus();
  });
  EXPECT_THAT(s, IsOk());
  EXPECT_EQ(attempts, 2);
}

}  // namespace
}  // namespace lienthong::db
