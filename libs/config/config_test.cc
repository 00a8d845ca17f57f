#include "libs/config/config.h"

#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, test_dsn, "host=default", "test flag");
ABSL_FLAG(int, test_pool_size, 4, "test flag");
ABSL_FLAG(absl::Duration, test_grace, absl::Seconds(5), "test flag");

namespace lienthong::config {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv("LIENTHONG_TEST_DSN");
    unsetenv("LIENTHONG_TEST_POOL_SIZE");
    unsetenv("LIENTHONG_TEST_GRACE");
    absl::SetFlag(&FLAGS_test_dsn, "host=default");
    absl::SetFlag(&FLAGS_test_pool_size, 4);
  }
};

TEST_F(ConfigTest, EnvNameIsPrefixedUpperCase) {
  EXPECT_EQ(EnvNameFor("db_dsn"), "LIENTHONG_DB_DSN");
}

TEST_F(ConfigTest, EnvironmentOverridesDefault) {
  setenv("LIENTHONG_TEST_DSN", "host=/tmp dbname=lienthong", 1);
  setenv("LIENTHONG_TEST_GRACE", "250ms", 1);
  ASSERT_TRUE(ApplyEnvOverrides({}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_test_dsn), "host=/tmp dbname=lienthong");
  EXPECT_EQ(absl::GetFlag(FLAGS_test_grace), absl::Milliseconds(250));
}

TEST_F(ConfigTest, CommandLineWinsOverEnvironment) {
  absl::SetFlag(&FLAGS_test_dsn, "host=cli");
  setenv("LIENTHONG_TEST_DSN", "host=env", 1);
  ASSERT_TRUE(ApplyEnvOverrides({"--test_dsn=host=cli"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_test_dsn), "host=cli");
  ASSERT_TRUE(ApplyEnvOverrides({"--test_dsn", "host=cli"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_test_dsn), "host=cli");
}

TEST_F(ConfigTest, BadValueNamesTheFlagAndTheVariable) {
  setenv("LIENTHONG_TEST_POOL_SIZE", "many", 1);
  const absl::Status s = ApplyEnvOverrides({});
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--test_pool_size"), std::string::npos);
  EXPECT_NE(s.message().find("LIENTHONG_TEST_POOL_SIZE"), std::string::npos);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_pool_size), 4);
}

TEST_F(ConfigTest, BadValueStopsStartUpWithOneClearLine) {
  setenv("LIENTHONG_TEST_POOL_SIZE", "many", 1);
  char arg0[] = "prog";
  char* argv[] = {arg0, nullptr};
  EXPECT_EXIT(ParseFlags(1, argv, "test"), ::testing::ExitedWithCode(2),
              "config: bad value for --test_pool_size from "
              "LIENTHONG_TEST_POOL_SIZE");
}

TEST_F(ConfigTest, RequirePositiveStopsAtAZeroDuration) {
  absl::SetFlag(&FLAGS_test_grace, absl::Seconds(1));
  RequirePositive(FLAGS_test_grace);  // returns
  absl::SetFlag(&FLAGS_test_grace, absl::ZeroDuration());
  EXPECT_EXIT(RequirePositive(FLAGS_test_grace), ::testing::ExitedWithCode(2),
              "config: --test_grace must be positive \\(it is 0\\)");
  absl::SetFlag(&FLAGS_test_grace, absl::Seconds(-5));
  EXPECT_EXIT(RequirePositive(FLAGS_test_grace), ::testing::ExitedWithCode(2),
              "config: --test_grace must be positive \\(it is -5s\\)");
  absl::SetFlag(&FLAGS_test_grace, absl::Seconds(5));
}

TEST_F(ConfigTest, RequireExitsNamingTheSetting) {
  EXPECT_EXIT(Require(false, "--db_dsn must be set"),
              ::testing::ExitedWithCode(2), "config: --db_dsn must be set");
}

}  // namespace
}  // namespace lienthong::config
