#include "libs/db/prepared.h"

#include <algorithm>
#include <string>
#include <vector>

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
  const std::vector<std::string> items = {"routing", "a,b", "q\"x", "b\\s",
                                          "{}", "Tây Mỗ"};
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

}  // namespace
}  // namespace lienthong::db
