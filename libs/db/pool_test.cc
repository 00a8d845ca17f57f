#include "libs/db/pool.h"

#include <atomic>
#include <thread>
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

TEST(PoolTest, AFullyWarmedPoolRecoversOnTheFirstQueryAfterARestart) {
  // Every idle connection is stale after a restart; the first one found
  // broken must not cost the caller one retry per idle connection.
  PoolOptions opts{PgCluster::Get().NewDatabase(), 8};
  Pool pool(opts);
  {
    std::vector<Pool::Lease> leases;
    for (int i = 0; i < 8; ++i) {
      auto lease = pool.Acquire();
      ASSERT_THAT(lease, IsOk());
      pqxx::nontransaction(lease->conn()).exec("SELECT 1");
      leases.push_back(std::move(*lease));
    }
  }
  ASSERT_THAT(PgCluster::Get().Stop(), IsOk());
  ASSERT_THAT(PgCluster::Get().Start(), IsOk());
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

TEST(TransactionTest, ErrorsNeverQuoteTheRowsData) {
  Pool pool({PgCluster::Get().NewDatabase(), 2});
  // PostgreSQL's message would quote the key: a citizen's ID number.
  const std::string cccd = "001099012345";
  ASSERT_THAT(WithTransaction(pool,
                              [&](pqxx::work& tx) {
                                tx.exec(
                                    "CREATE TABLE p (cccd text PRIMARY KEY, "
                                    "age int CHECK (age >= 0))");
                                tx.exec_params("INSERT INTO p VALUES ($1, 1)",
                                               cccd);
                                return absl::OkStatus();
                              }),
              IsOk());
  absl::Status dup = WithTransaction(pool, [&](pqxx::work& tx) {
    tx.exec_params("INSERT INTO p VALUES ($1, 2)", cccd);
    return absl::OkStatus();
  });
  EXPECT_THAT(dup, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(common::GetErrorDetails(dup).metadata["sqlstate"], "23505");
  EXPECT_EQ(dup.ToString().find(cccd), std::string::npos) << dup;

  absl::Status check = WithTransaction(pool, [&](pqxx::work& tx) {
    tx.exec_params("INSERT INTO p VALUES ($1, -1)", cccd + "9");
    return absl::OkStatus();
  });
  EXPECT_THAT(check, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(check.ToString().find(cccd), std::string::npos) << check;

  absl::Status other = WithTransaction(pool, [&](pqxx::work& tx) {
    tx.exec_params("SELECT $1::int", cccd + "x");
    return absl::OkStatus();
  });
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(common::GetErrorDetails(other).metadata["sqlstate"], "22P02");
  EXPECT_EQ(other.ToString().find(cccd), std::string::npos) << other;
}

TEST(TransactionTest, RetriesARealSerializationConflict) {
  Pool pool({PgCluster::Get().NewDatabase(), 4});
  ASSERT_THAT(WithTransaction(pool,
                              [](pqxx::work& tx) {
                                tx.exec(
                                    "CREATE TABLE acc (id int PRIMARY KEY, "
                                    "n int)");
                                tx.exec("INSERT INTO acc VALUES (1, 0)");
                                return absl::OkStatus();
                              }),
              IsOk());
  // A REPEATABLE READ transaction reads, then a concurrent commit changes
  // the row before it writes: PostgreSQL raises 40001 on the update.
  auto other = pool.Acquire();
  ASSERT_THAT(other, IsOk());
  int attempts = 0;
  absl::Status s = WithTransaction(pool, [&](pqxx::work& tx) {
    ++attempts;
    tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    tx.exec("SELECT n FROM acc WHERE id = 1");
    if (attempts == 1) {
      pqxx::work concurrent(other->conn());
      concurrent.exec("UPDATE acc SET n = n + 10 WHERE id = 1");
      concurrent.commit();
    }
    tx.exec("UPDATE acc SET n = n + 1 WHERE id = 1");
    return absl::OkStatus();
  });
  EXPECT_THAT(s, IsOk());
  EXPECT_EQ(attempts, 2);
  absl::StatusOr<int> n =
      WithTransaction(pool, [](pqxx::work& tx) -> absl::StatusOr<int> {
        return tx.exec("SELECT n FROM acc")[0][0].as<int>();
      });
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 11);
}

TEST(TransactionTest, ReadOnlyTransactionsReadAndRefuseWrites) {
  Pool pool({PgCluster::Get().NewDatabase(), 2});
  ASSERT_THAT(WithTransaction(pool,
                              [](pqxx::work& tx) {
                                tx.exec("CREATE TABLE r (v text)");
                                tx.exec("INSERT INTO r VALUES ('Đà Nẵng')");
                                return absl::OkStatus();
                              }),
              IsOk());
  absl::StatusOr<std::string> v = WithReadOnlyTransaction(
      pool, [](pqxx::read_transaction& tx) -> absl::StatusOr<std::string> {
        return tx.exec("SELECT v FROM r")[0][0].as<std::string>();
      });
  ASSERT_THAT(v, IsOk());
  EXPECT_EQ(*v, "Đà Nẵng");
  absl::Status write =
      WithReadOnlyTransaction(pool, [](pqxx::read_transaction& tx) {
        tx.exec("INSERT INTO r VALUES ('Huế')");
        return absl::OkStatus();
      });
  EXPECT_THAT(write, StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(common::GetErrorDetails(write).metadata["sqlstate"], "25006");
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
