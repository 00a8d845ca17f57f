#include "tools/cli/cli_flags.h"

#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lienthong::cli {
namespace {

using ::testing::HasSubstr;

TEST(CliFlagsTest, GroupByTakesOnlyItsThreeValues) {
  EXPECT_EQ(*ParseGroupBy("agency"), deadline::v1::REPORT_GROUPING_AGENCY);
  EXPECT_EQ(*ParseGroupBy("procedure"),
            deadline::v1::REPORT_GROUPING_PROCEDURE);
  EXPECT_EQ(*ParseGroupBy("tier"), deadline::v1::REPORT_GROUPING_TIER);
  for (const char* typo : {"agnecy", "procedures", "Tier", ""}) {
    EXPECT_EQ(ParseGroupBy(typo).status().message(),
              "--group_by must be agency, procedure or tier")
        << typo;
  }
}

TEST(CliFlagsTest, ANewAppointmentIsAHaNoiMinute) {
  const absl::TimeZone hanoi = absl::FixedTimeZone(7 * 3600);
  // 16:00 in Hà Nội is 09:00 UTC.
  const absl::Time want = absl::FromCivil(absl::CivilMinute(2026, 12, 10, 9, 0),
                                          absl::UTCTimeZone());
  EXPECT_EQ(*ParseNewAppointment("2026-12-10 16:00", hanoi), want);
  EXPECT_EQ(*ParseNewAppointment("2026-12-10T16:00", hanoi), want);
  for (const char* bad :
       {"", "2026-12-10", "2026-12-10 16:00:00", "10/12/2026 16:00",
        "2026-12-10 4pm", "2026-13-10 16:00", "2026-12-10  16:00"}) {
    EXPECT_THAT(ParseNewAppointment(bad, hanoi).status().message(),
                HasSubstr("--new_appointment must be a local time"))
        << bad;
  }
}

TEST(CliFlagsTest, ClientCertificateNeedsTlsAndItsKey) {
  EXPECT_TRUE(CheckTlsFlags("", "", "").ok());
  EXPECT_TRUE(CheckTlsFlags("ca.crt", "", "").ok());
  EXPECT_TRUE(CheckTlsFlags("ca.crt", "a.crt", "a.key").ok());
  EXPECT_EQ(CheckTlsFlags("", "a.crt", "a.key").message(), "--cert needs --ca");
  EXPECT_EQ(CheckTlsFlags("", "", "a.key").message(), "--key needs --ca");
  EXPECT_EQ(CheckTlsFlags("ca.crt", "a.crt", "").message(),
            "--cert needs --key");
  EXPECT_EQ(CheckTlsFlags("ca.crt", "", "a.key").message(),
            "--key needs --cert");
}

TEST(CliFlagsTest, UnreadableTlsFilesAreBlamedOnTheirFlag) {
  const std::string dir = ::testing::TempDir();
  const std::string pem = dir + "/cli_flags_test.pem";
  const std::string empty = dir + "/cli_flags_test_empty.pem";
  std::ofstream(pem) << "-----BEGIN CERTIFICATE-----\n";
  std::ofstream(empty).flush();
  EXPECT_TRUE(CheckTlsFiles("", "", "").ok());
  EXPECT_TRUE(CheckTlsFiles(pem, pem, pem).ok());
  const std::string missing = dir + "/admin.ky";
  EXPECT_EQ(CheckTlsFiles(pem, pem, missing).message(),
            "--key=" + missing + ": cannot read: No such file or directory");
  EXPECT_EQ(CheckTlsFiles(missing, "", "").message(),
            "--ca=" + missing + ": cannot read: No such file or directory");
  EXPECT_EQ(CheckTlsFiles(pem, dir, pem).message(),
            "--cert=" + dir + ": cannot read: Is a directory");
  EXPECT_EQ(CheckTlsFiles(empty, "", "").message(),
            "--ca=" + empty + ": is empty, not PEM");
}

TEST(CliFlagsTest, ReportPeriodIsTwoOrderedDays) {
  absl::CivilDay from, to;
  ASSERT_TRUE(ParseReportPeriod("2026-01-01", "2026-12-31", &from, &to).ok());
  EXPECT_EQ(from, absl::CivilDay(2026, 1, 1));
  EXPECT_EQ(to, absl::CivilDay(2026, 12, 31));
  EXPECT_FALSE(ParseReportPeriod("", "2026-12-31", &from, &to).ok());
  EXPECT_FALSE(ParseReportPeriod("2026-12-31", "2026-01-01", &from, &to).ok());
}

TEST(CliFlagsTest, TimeoutMustLeaveTimeForTheCall) {
  EXPECT_TRUE(CheckTimeout(absl::Seconds(30)).ok());
  EXPECT_TRUE(CheckTimeout(absl::Milliseconds(1)).ok());
  EXPECT_EQ(CheckTimeout(absl::ZeroDuration()).message(),
            "--timeout must be positive, e.g. 30s or 2m");
  EXPECT_FALSE(CheckTimeout(-absl::Seconds(1)).ok());
}

TEST(CliFlagsTest, ServicesFlagsAreRefusedNamingTheCliFlagToUse) {
  const std::string lib = "/src/lienthong/libs/grpc_util/flags.cc";
  struct Case {
    const char* flag;
    const char* instead;
  };
  const Case cases[] = {{"intake_address", "use --address"},
                        {"tls_cert", "use --cert"},
                        {"peer_tls_cert", "use --cert"},
                        {"tls_key", "use --key"},
                        {"peer_tls_key", "use --key"},
                        {"tls_client_ca", "use --ca"},
                        {"peer_tls_ca", "use --ca"},
                        {"peer_deadline", "use --timeout"},
                        {"insecure_dev_auth", "use --dev_role"},
                        {"routing_address", "no such setting"},
                        {"listen_address", "no such setting"}};
  for (const Case& c : cases) {
    const absl::Status st = CheckNotServiceFlag(c.flag, lib);
    EXPECT_THAT(st.message(), HasSubstr(absl::StrCat("--", c.flag,
                                                     " is a "
                                                     "service's flag")))
        << c.flag;
    EXPECT_THAT(st.message(), HasSubstr(c.instead)) << c.flag;
  }
  // A library flag added later is refused too, relative path or not.
  EXPECT_FALSE(CheckNotServiceFlag("new_flag", "libs/runtime/x.cc").ok());
  // report reads --deadline_address; the CLI's own and absl's flags pass.
  EXPECT_TRUE(CheckNotServiceFlag("deadline_address", lib).ok());
  EXPECT_TRUE(CheckNotServiceFlag("address", "tools/cli/cli_main.cc").ok());
  EXPECT_TRUE(
      CheckNotServiceFlag("timeout", "/src/lienthong/tools/cli/cli_main.cc")
          .ok());
  EXPECT_TRUE(CheckNotServiceFlag("flagfile", "./absl/flags/parse.cc").ok());
}

TEST(CliFlagsTest, ReportUsesTheLocalDeadlineServiceByDefault) {
  EXPECT_EQ(DeadlineAddress(""), "127.0.0.1:7003");
  EXPECT_EQ(DeadlineAddress("deadline:7003"), "deadline:7003");
}

TEST(CliFlagsTest, SeedReadsACheckoutsDataElseTheImagesElseAsksForDir) {
  struct Case {
    const char* flag;
    std::set<std::string> dirs;  // what exists
    const char* want;            // "" for the error
  };
  const Case cases[] = {
      {"", {"data/seed", "/usr/share/lienthong/seed"}, "data/seed"},
      {"", {"data/seed"}, "data/seed"},
      {"", {"/usr/share/lienthong/seed"}, "/usr/share/lienthong/seed"},
      {"", {}, ""},
      // --dir as given, even when it does not exist (its error names it).
      {"/srv/seed", {"data/seed", "/usr/share/lienthong/seed"}, "/srv/seed"},
      {"seed-2027", {}, "seed-2027"}};
  for (const Case& c : cases) {
    const absl::StatusOr<std::string> dir = SeedDir(
        c.flag,
        [&](const std::string& path) { return c.dirs.count(path) > 0; });
    const std::string where =
        absl::StrCat("--dir=", c.flag, " with ", absl::StrJoin(c.dirs, ","));
    if (absl::string_view(c.want).empty()) {
      EXPECT_EQ(dir.status().message(),
                "seed: no data/seed in the working directory and no "
                "/usr/share/lienthong/seed; name the directory with --dir")
          << where;
    } else {
      EXPECT_EQ(dir.value_or("(error)"), c.want) << where;
    }
  }
  // The help says which directory is read.
  EXPECT_THAT(ProgramUsage(), HasSubstr(kInstalledSeedDir));
}

TEST(CliFlagsTest, HelpListsTheCliFlagsAndNamesTheSharedOnes) {
  EXPECT_TRUE(IsCliFlagFile("/src/lienthong/tools/cli/cli_main.cc"));
  EXPECT_FALSE(IsCliFlagFile("/src/lienthong/libs/grpc_util/flags.cc"));
  const std::string usage = ProgramUsage();
  EXPECT_THAT(usage, HasSubstr("--deadline_address"));
  EXPECT_THAT(usage, HasSubstr("127.0.0.1:7003"));
  EXPECT_THAT(usage, HasSubstr("submit FILE [--request_id=UUID]"));
  EXPECT_THAT(usage, HasSubstr("JSON Lines"));
  EXPECT_THAT(usage, HasSubstr("--timeout"));
  EXPECT_THAT(usage, HasSubstr("int64 values are JSON strings"));
  EXPECT_THAT(usage, HasSubstr("[--group_by=agency|procedure|tier]"));
  for (const char* form : {"receipt CODE", "slip CODE", "supplement CODE",
                           "refusal CODE", "apology CODE"}) {
    EXPECT_THAT(usage, HasSubstr(form));
  }
}

TEST(CliFlagsTest, EachFormHasItsCommand) {
  EXPECT_EQ(FormCommand("receipt"), intake::v1::FORM_KIND_RECEIPT);
  EXPECT_EQ(FormCommand("slip"), intake::v1::FORM_KIND_CONTROL_SLIP);
  EXPECT_EQ(FormCommand("supplement"),
            intake::v1::FORM_KIND_SUPPLEMENT_REQUEST);
  EXPECT_EQ(FormCommand("refusal"), intake::v1::FORM_KIND_REFUSAL);
  EXPECT_EQ(FormCommand("apology"), intake::v1::FORM_KIND_APOLOGY);
  // Every kind but UNSPECIFIED, so a new FormKind fails here until the CLI
  // can print it.
  for (int k = intake::v1::FormKind_MIN; k <= intake::v1::FormKind_MAX; ++k) {
    if (!intake::v1::FormKind_IsValid(k) ||
        k == intake::v1::FORM_KIND_UNSPECIFIED) {
      continue;
    }
    bool found = false;
    for (const char* cmd :
         {"receipt", "slip", "supplement", "refusal", "apology"}) {
      found = found || FormCommand(cmd) == k;
    }
    EXPECT_TRUE(found) << intake::v1::FormKind_Name(k);
  }
  for (const char* other :
       {"form", "get", "Receipt", "supplement-request", ""}) {
    EXPECT_FALSE(FormCommand(other).has_value()) << other;
  }
}

}  // namespace
}  // namespace lienthong::cli
