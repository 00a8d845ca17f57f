// `lienthong issue-apology`, the built binary against a real intake server
// over a real PostgreSQL: an officer moves a late dossier's appointment once,
// however often the command is rerun, and gets the apology slip.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/grpc_util/proto_time.h"
#include "nlohmann/json.hpp"
#include "tools/cli/cli_test_support.h"

namespace lienthong::intake {
namespace {

using cli_testing::Cli;
using cli_testing::CliRun;
using cli_testing::CliTest;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::kTayMo;

constexpr char kReason[] = "--reason=Chờ xác minh nơi cư trú của người mẹ";

class CliApologyTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    v1::SubmitDossierResponse sub;
    ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
    received_ = sub.dossier();
    // 16:00 Hà Nội time two days after the receipt's appointment: later
    // than it, and on the minute as an officer types it.
    const absl::TimeZone hanoi = absl::FixedTimeZone(7 * 3600);
    const absl::Time two_days_on =
        grpc_util::FromProto(received_.appointment_time()) + absl::Hours(48);
    typed_ = absl::FormatTime("%Y-%m-%d 16:00", two_days_on, hanoi);
    const absl::CivilDay day = absl::ToCivilDay(two_days_on, hanoi);
    new_appointment_ = absl::FromCivil(absl::CivilMinute(day) + 16 * 60, hanoi);
    printed_ = absl::FormatTime("16:00 ngày %d/%m/%Y", two_days_on, hanoi);
  }

  CliRun Apologise(std::vector<std::string> flags) {
    std::vector<std::string> args = {Address(),
                                     absl::StrCat("--dev_agency=", kTayMo)};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("issue-apology");
    args.push_back(received_.code());
    return Cli(args);
  }

  int64_t ApologyTransitions() {
    return Count(absl::StrCat(
        "SELECT count(*) FROM intake.transitions WHERE dossier_code = '",
        received_.code(), "' AND previous_appointment IS NOT NULL"));
  }

  v1::Dossier received_;
  std::string typed_;    // "YYYY-MM-DD 16:00", local
  std::string printed_;  // as the slip prints it
  absl::Time new_appointment_;
};

TEST_F(CliApologyTest, MovesTheAppointmentOnceAndPrintsTheSlip) {
  const std::string at = absl::StrCat("--new_appointment=", typed_);
  const CliRun first = Apologise({"--json", at, kReason});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto resp = nlohmann::json::parse(first.out);
  EXPECT_EQ(resp["dossier"]["appointment_time"],
            absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", new_appointment_,
                             absl::UTCTimeZone()));
  EXPECT_EQ(resp["dossier"]["late"], true);
  const std::string html = resp["apology_html"];
  EXPECT_THAT(html, HasSubstr("PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"));
  EXPECT_THAT(html, HasSubstr("Chờ xác minh nơi cư trú của người mẹ"));
  EXPECT_THAT(html, HasSubstr(printed_));

  // Rerun after a lost answer: the first slip again, the appointment moved
  // once, one transition and one audit entry.
  const CliRun again = Apologise({at, kReason});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, html);
  EXPECT_EQ(ApologyTransitions(), 1);
  EXPECT_EQ(AuditRows("IssueApology"), 1);

  // The slip prints again with `apology`, and the dossier shows the move.
  const CliRun reprint = Cli({Address(), absl::StrCat("--dev_agency=", kTayMo),
                              "apology", received_.code()});
  ASSERT_EQ(reprint.exit_code, 0) << reprint.err;
  EXPECT_EQ(reprint.out, html);

  // Another reason is another request, for the same appointment: refused,
  // and not offered as a retry.
  const CliRun other = Apologise({at, "--reason=Chờ kết quả giám định"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.err, HasSubstr("error: INVALID_ARGUMENT"));
  EXPECT_THAT(other.err, HasSubstr("reason: BAD_APPOINTMENT"));
  EXPECT_THAT(other.err, Not(HasSubstr("retry safely")));
  EXPECT_EQ(ApologyTransitions(), 1);
}

TEST_F(CliApologyTest, BadFlagsAreRefusedBeforeAnythingIsSent) {
  const std::string at = absl::StrCat("--new_appointment=", typed_);
  const struct {
    std::vector<std::string> flags;
    const char* error;
  } cases[] = {
      {{at}, "issue-apology needs --reason"},
      {{kReason}, "--new_appointment must be a local time YYYY-MM-DD HH:MM"},
      {{"--new_appointment=30/11/2026 16:00", kReason},
       "--new_appointment must be a local time YYYY-MM-DD HH:MM"},
      {{at, kReason, "--request_id=42"},
       "--request_id must be a UUID (8-4-4-4-12 hex digits)"},
  };
  for (const auto& c : cases) {
    const CliRun r = Apologise(c.flags);
    EXPECT_EQ(r.exit_code, 2) << c.error;
    EXPECT_THAT(r.err, HasSubstr(c.error));
    EXPECT_EQ(r.out, "");
  }
  const CliRun no_code = Cli({Address(), at, kReason, "issue-apology"});
  EXPECT_EQ(no_code.exit_code, 2);
  EXPECT_THAT(no_code.err, HasSubstr("wrong arguments for issue-apology"));
  EXPECT_EQ(AuditRows("IssueApology"), 0);
  EXPECT_EQ(ApologyTransitions(), 0);
}

}  // namespace
}  // namespace lienthong::intake
