// The built `lienthong` binary's `report` command against a deadline service
// (in memory, in process, on loopback): CSV, JSON and the CLI's deadline.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "libs/testing/in_process_server.h"
#include "nlohmann/json.hpp"
#include "services/deadline/deadline_events.h"
#include "services/deadline/deadline_server.h"
#include "services/deadline/hooked_deadline_store.h"
#include "services/deadline/memory_deadline_store.h"
#include "tools/cli/cli_runner.h"

namespace lienthong::intake {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using cli_testing::Cli;
using cli_testing::CliRun;
using cli_testing::Lines;

// `report` against a deadline service (in memory) on loopback.
class CliReportTest : public ::testing::Test {
 protected:
  CliReportTest()
      : clock_(absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0),
                               absl::FixedTimeZone(7 * 3600))),
        service_(hooked_, clock_, deadline::EncodeNotice),
        server_(service_, clock_, /*insecure_dev_auth=*/true),
        grpc_({&server_}) {
    EXPECT_TRUE(service_.EnsureDefaultCalendar().ok());
  }

  CliRun Report(std::vector<std::string> extra) {
    std::vector<std::string> args = {
        absl::StrCat("--deadline_address=", grpc_.address()),
        "--dev_role=supervisor", "--dev_agency=000.00.19.H26",
        "--from=2026-11-01", "--to=2026-11-30"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("report");
    args.push_back("000.00.19.H26");
    return Cli(args);
  }

  common::FakeClock clock_;
  deadline::MemoryDeadlineStore store_;
  // Lets a test hold the report's read until the CLI's deadline has passed.
  deadline::test::HookedDeadlineStore hooked_{store_};
  deadline::DeadlineService service_;
  deadline::DeadlineServer server_;
  testing::InProcessServer grpc_;
};

TEST_F(CliReportTest, ReportIsCsvOrWithJsonTheResponse) {
  const CliRun csv = Report({});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(Lines(csv.out).front(),
            "nhom,ten,tiep_nhan,som_han,dung_han,tre_han,"
            "dang_xu_ly_trong_han,dang_xu_ly_qua_han,ty_le_dung_han");
  EXPECT_TRUE(absl::StartsWith(Lines(csv.out).back(), "\"TONG\","));

  // The report's read waits until the CLI has given up: DEADLINE_EXCEEDED
  // every time, not only when the answer loses the race with the timer.
  absl::Notification cli_done;
  hooked_.BeforeNextReport(
      [&] { cli_done.WaitForNotificationWithTimeout(absl::Seconds(30)); });
  const CliRun late = Report({"--timeout=1ms"});
  cli_done.Notify();
  EXPECT_EQ(late.exit_code, 1);
  EXPECT_THAT(late.err, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_THAT(late.err, HasSubstr("--timeout=1ms"));
  EXPECT_THAT(late.err, Not(HasSubstr("--deadline_address")));

  const CliRun json = Report({"--json", "--group_by=tier"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  ASSERT_EQ(Lines(json.out).size(), 1u) << json.out;
  EXPECT_EQ(nlohmann::json::parse(json.out)["total"]["group"],
            "agencies/000.00.19.H26");
}

}  // namespace
}  // namespace lienthong::intake
