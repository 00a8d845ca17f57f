#include "libs/db/migrations.h"

#include <thread>

#include "embed_test_migrations.h"
#include "gtest/gtest.h"
#include "libs/db/transaction.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"

namespace lienthong::db {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::PgCluster;
using ::lienthong::testing::StatusHasReason;

const std::vector<Migration> kMigrations = {
    {1, "init",
     "CREATE TABLE svc.things (id bigserial PRIMARY KEY, name text);"},
    {2, "counter",
     "CREATE TABLE svc.applied (n int); INSERT INTO svc.applied VALUES (1);"},
};

int64_t Count(Pool& pool, const std::string& sql) {
  absl::StatusOr<int64_t> n =
      WithTransaction(pool, [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        return tx.exec(sql)[0][0].as<int64_t>();
      });
  EXPECT_TRUE(n.ok()) << n.status();
  return n.value_or(-1);
}

TEST(MigrationsTest, ApplyingTwiceIsANoOp) {
  Pool pool({PgCluster::Get().NewDatabase(), 2});
  ASSERT_THAT(Migrate(pool, "svc", kMigrations), IsOk());
  ASSERT_THAT(Migrate(pool, "svc", kMigrations), IsOk());
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM svc.applied"), 1);
  // The service's two files and the library's four for the event tables.
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM svc.schema_migrations"), 6);
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM svc.outbox"), 0);
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM svc.inbox"), 0);
}

TEST(MigrationsTest, OutboxPayloadsAreCompressedWithLz4) {
  Pool pool({PgCluster::Get().NewDatabase(), 1});
  ASSERT_THAT(Migrate(pool, "svc", kMigrations), IsOk());
  EXPECT_EQ(Count(pool,
                  "SELECT count(*) FROM pg_attribute WHERE attrelid IN "
                  "('svc.outbox'::regclass, 'svc.outbox_payloads'::regclass) "
                  "AND attname = 'payload' AND attcompression = 'l'"),
            2);
}

TEST(MigrationsTest, RacingRunnersApplyEachFileOnce) {
  const std::string dsn = PgCluster::Get().NewDatabase();
  std::vector<std::thread> runners;
  std::vector<absl::Status> results(4);
  for (int i = 0; i < 4; ++i) {
    runners.emplace_back([&, i] {
      Pool pool({dsn, 1});
      results[i] = Migrate(pool, "svc", kMigrations);
    });
  }
  for (auto& t : runners) t.join();
  for (const absl::Status& s : results) EXPECT_THAT(s, IsOk());
  Pool pool({dsn, 1});
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM svc.applied"), 1);
}

TEST(MigrationsTest, EditedMigrationStopsStartUp) {
  Pool pool({PgCluster::Get().NewDatabase(), 1});
  ASSERT_THAT(Migrate(pool, "svc", kMigrations), IsOk());
  std::vector<Migration> edited = kMigrations;
  edited[0].sql += " -- edited";
  EXPECT_THAT(Migrate(pool, "svc", edited),
              StatusHasReason(absl::StatusCode::kFailedPrecondition,
                              "MIGRATION_CHECKSUM_MISMATCH"));
}

TEST(MigrationsTest, NewFilesAreAppliedInOrderLater) {
  Pool pool({PgCluster::Get().NewDatabase(), 1});
  ASSERT_THAT(Migrate(pool, "svc", {kMigrations[0]}), IsOk());
  ASSERT_THAT(Migrate(pool, "svc", kMigrations), IsOk());
  EXPECT_EQ(Count(pool, "SELECT max(version) FROM svc.schema_migrations"), 2);
}

TEST(MigrationsTest, EmbeddedFilesApplyAndRecordTheFilesChecksums) {
  Pool pool({PgCluster::Get().NewDatabase(), 1});
  const std::vector<Migration> embedded = embed_test::Migrations();
  ASSERT_THAT(Migrate(pool, "embed", embedded), IsOk());
  for (const Migration& m : embedded) {
    EXPECT_EQ(Count(pool,
                    "SELECT count(*) FROM embed.schema_migrations "
                    "WHERE version = " +
                        std::to_string(m.version) + " AND checksum = '" +
                        Sha256Hex(m.sql) + "'"),
              1)
        << m.name;
  }
  // The CRLF file's default made it through intact.
  EXPECT_EQ(Count(pool,
                  "SELECT count(*) FROM information_schema.columns "
                  "WHERE table_schema = 'embed' AND table_name = 'c'"),
            1);
}

TEST(MigrationsTest, BrokenSqlFailsNamingTheFile) {
  Pool pool({PgCluster::Get().NewDatabase(), 1});
  absl::Status s = Migrate(pool, "svc", {{1, "broken", "CREATE TABLE ;"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("migration 1 (broken)"), std::string::npos);
}

}  // namespace
}  // namespace lienthong::db
