#include "libs/db/prepared.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/db/pool.h"
#include "libs/db/transaction.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"

namespace lienthong::db {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::PgCluster;

TEST(PreparedNameTest, SameTextSameNameOtherTextOtherName) {
  EXPECT_EQ(PreparedName("SELECT 1"), PreparedName("SELECT 1"));
  EXPECT_NE(PreparedName("SELECT 1"), PreparedName("SELECT 2"));
  EXPECT_EQ(PreparedName("SELECT 1").size(), 3u + 16u);  // lt_ + 16 hex
}

TEST(TextArrayLiteralTest, QuotesEveryElementAndEscapes) {
  EXPECT_EQ(TextArrayLiteral({}), "{}");
  EXPECT_EQ(TextArrayLiteral({"routing", "a,b", "q\"x", "b\\s"}),
            R"({"routing","a,b","q\"x","b\\s"})");
}

TEST(ExecPreparedTest, RunsRepeatedlyAndRoundTripsArrays) {
  Pool pool({PgCluster::Get().NewDatabase(), 1});
  const std::vector<std::string> items = {"routing", "a,b", "q\"x",
                                          "b\\s",    "{}",  "Tây Mỗ"};
  for (int round = 0; round < 3; ++round) {  // prepared once, then reused
    absl::StatusOr<std::vector<std::string>> got = WithTransaction(
        pool, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
          std::vector<std::string> out;
          for (const auto& row :
               ExecPrepared(tx, "SELECT unnest($1::text[]) ORDER BY 1",
                            TextArrayLiteral(items))) {
            out.push_back(row[0].as<std::string>());
          }
          return out;
        });
    ASSERT_THAT(got.status(), IsOk());
    std::vector<std::string> want = items;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(*got, want) << "round " << round;
  }
}

TEST(ExecPreparedTest, SurvivesAFailedTransactionOnTheSameConnection) {
  Pool pool({PgCluster::Get().NewDatabase(), 1});
  const std::string sql = "SELECT 10 / $1::int";
  absl::Status failed = WithTransaction(pool, [&](pqxx::work& tx) {
    ExecPrepared(tx, sql, 0);  // division by zero: the transaction aborts
    return absl::OkStatus();
  });
  EXPECT_FALSE(failed.ok());
  absl::StatusOr<int> ok =
      WithTransaction(pool, [&](pqxx::work& tx) -> absl::StatusOr<int> {
        return ExecPrepared(tx, sql, 5)[0][0].as<int>();
      });
  ASSERT_THAT(ok.status(), IsOk());
  EXPECT_EQ(*ok, 2);
}

TEST(ValuesRowsTest, NumbersTextRowByRowThenBytes) {
  ValuesRows rows("({t}::bigint, {t}::text, {b}::bytea)");
  EXPECT_TRUE(rows.empty());
  rows.Add({"1", "a"}, "x");
  rows.Add({"2", "b"}, "y");
  EXPECT_EQ(rows.size(), 2);
  EXPECT_EQ(rows.sql(),
            "($1::bigint, $2::text, $5::bytea), ($3::bigint, $4::text, "
            "$6::bytea)");
  EXPECT_EQ(rows.next_param(), 7);
}

TEST(ValuesRowsTest, StartsAfterTheStatementsOwnAndWritesIndexesAsLiterals) {
  ValuesRows rows("(NULLIF({t}::text, '')::timestamptz, {i}, {b}::bytea)", 3);
  for (int i = 0; i < 3; ++i) rows.Add({""}, "z");
  EXPECT_EQ(rows.sql(),
            "(NULLIF($3::text, '')::timestamptz, 0, $6::bytea), "
            "(NULLIF($4::text, '')::timestamptz, 1, $7::bytea), "
            "(NULLIF($5::text, '')::timestamptz, 2, $8::bytea)");
  EXPECT_EQ(rows.next_param(), 9);
}

TEST(ValuesRowsTest, RowsWithoutBytes) {
  ValuesRows rows("({t}::text, {t}::integer)");
  rows.Add({"a", "1"});
  EXPECT_EQ(rows.sql(), "($1::text, $2::integer)");
  EXPECT_EQ(rows.next_param(), 3);
}

TEST(ValuesRowsDeathTest, MisuseAbortsNamingTheRowText) {
  EXPECT_DEATH(ValuesRows("({b}::bytea, {b}::bytea)"), "more than one");
  EXPECT_DEATH(
      {
        ValuesRows rows("({t}::text, {t}::text)");
        rows.Add({"only one"});
      },
      "another number of text values");
  EXPECT_DEATH(
      {
        ValuesRows rows("({t}::text)");
        rows.Add({"a"}, "bytes");
      },
      "bytes with no");
}

TEST(ValuesRowsTest, RoundTripsTextAndBytesThroughPostgres) {
  Pool pool({PgCluster::Get().NewDatabase(), 1});
  const std::string zeros("a\0b\0", 4);
  ValuesRows rows("({t}::bigint, {t}::text, {b}::bytea, {i})", 2);
  rows.Add({"7", "Tây Mỗ"}, zeros);
  rows.Add({"8", "it's \"q\""}, "\xff\x01");
  struct Row {
    int64_t id;
    std::string text, bytes;
    int index;
    std::string tail;
  };
  absl::StatusOr<std::vector<Row>> got = WithTransaction(
      pool, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Row>> {
        std::vector<Row> out;
        // $1 before the rows, next_param() after them.
        for (const auto& row : ExecPrepared(
                 tx,
                 absl::StrCat("SELECT v.id, v.t, v.b, v.i, $1::text || $",
                              rows.next_param(), "::text FROM (VALUES ",
                              rows.sql(), ") AS v(id, t, b, i) ORDER BY v.i"),
                 "be", rows.text_params(), rows.bytes_params(), "fore")) {
          const pqxx::binarystring b(row[2]);
          out.push_back({row[0].as<int64_t>(), row[1].as<std::string>(),
                         b.str(), row[3].as<int>(), row[4].as<std::string>()});
        }
        return out;
      });
  ASSERT_THAT(got.status(), IsOk());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].id, 7);
  EXPECT_EQ((*got)[0].text, "Tây Mỗ");
  EXPECT_EQ((*got)[0].bytes, zeros);
  EXPECT_EQ((*got)[0].index, 0);
  EXPECT_EQ((*got)[1].id, 8);
  EXPECT_EQ((*got)[1].text, "it's \"q\"");
  EXPECT_EQ((*got)[1].bytes, "\xff\x01");
  EXPECT_EQ((*got)[1].index, 1);
  EXPECT_EQ((*got)[1].tail, "before");
}

}  // namespace
}  // namespace lienthong::db
