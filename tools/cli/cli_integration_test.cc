// The built `lienthong` binary against a real intake server (in process, on
// loopback) over a real PostgreSQL: what an officer sees when re-running a
// command.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "libs/common/uuid.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/proto_time.h"
#include "lienthong/routing/v1/events.pb.h"
#include "nlohmann/json.hpp"
#include "services/intake/intake_test_fixture.h"
#include "tools/cli/cli_flags.h"
#include "tools/cli/cli_test_support.h"

namespace lienthong::intake {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::IntakeIntegrationTest;
using testing_support::kTayMo;
using testing_support::ReadSource;

using cli_testing::Cli;
using cli_testing::CliRun;
using cli_testing::CliTest;
using cli_testing::Lines;
using cli_testing::Scratch;
using cli_testing::Slurp;

TEST_F(CliTest, SubmittingTheSameFileTwiceGivesTheSameDossier) {
  const std::string file = WriteBirthFile("birth.json");
  const CliRun first = SubmitAsOfficer(file, {"--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // A retry, e.g. after DEADLINE_EXCEEDED on the first run.
  const CliRun again = SubmitAsOfficer(file, {"--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;

  const auto a = nlohmann::json::parse(first.out);
  const auto b = nlohmann::json::parse(again.out);
  EXPECT_EQ(a["dossier"]["code"], b["dossier"]["code"]);
  EXPECT_EQ(a["request_id"], b["request_id"]);
  EXPECT_TRUE(common::IsUuid(a["request_id"].get<std::string>()));
  EXPECT_EQ(Count("SELECT count(*) FROM intake.dossiers"), 1);

  // The text output names the request id and the state in Vietnamese.
  const CliRun text = SubmitAsOfficer(file);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(
      text.out,
      HasSubstr(absl::StrCat(
          "Mã yêu cầu:    ", a["request_id"].get<std::string>(), "\n")));
  EXPECT_THAT(text.out, HasSubstr("Trạng thái:    Đã tiếp nhận"));
  EXPECT_THAT(text.out, Not(HasSubstr("DOSSIER_STATE")));
  EXPECT_EQ(Count("SELECT count(*) FROM intake.dossiers"), 1);

  // A new request id on purpose is a second dossier.
  const CliRun second = SubmitAsOfficer(
      file, {"--json", "--request_id=3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(nlohmann::json::parse(second.out)["dossier"]["code"],
            a["dossier"]["code"]);
  EXPECT_EQ(Count("SELECT count(*) FROM intake.dossiers"), 2);
}

// A refused request is refused again: rerunning it is no help.
TEST_F(CliTest, RefusedSubmitIsNotOfferedARetry) {
  v1::SubmitDossierRequest req = Birth(kTayMo);
  req.clear_request_id();
  req.mutable_dossier()->set_procedure("procedures/KHONG.CO");
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(req, &json).ok());
  const std::string file = absl::StrCat(Scratch(), "/unknown.json");
  std::ofstream(file) << json;
  const CliRun r = SubmitAsOfficer(file);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("error: "));
  EXPECT_THAT(r.err, Not(HasSubstr("retry safely")));
}

TEST_F(CliTest, ChangedRequestUnderAUsedIdIsToldToChangeTheId) {
  const std::string id = "--request_id=3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8";
  ASSERT_EQ(SubmitAsOfficer(WriteBirthFile("birth.json"), {id}).exit_code, 0);
  // The officer corrected the file and kept the id.
  v1::SubmitDossierRequest req = Birth(kTayMo);
  req.clear_request_id();
  req.mutable_dossier()->mutable_applicant()->set_full_name("Lê Văn Bình");
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(req, &json).ok());
  const std::string file = absl::StrCat(Scratch(), "/corrected.json");
  std::ofstream(file) << json;
  const CliRun r = SubmitAsOfficer(file, {id});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("reason: REQUEST_ID_REUSED"));
  EXPECT_THAT(r.err, HasSubstr("Remove or change the request_id (the file's "
                               "request_id or --request_id)"));
  EXPECT_THAT(r.err, Not(HasSubstr("retry safely")));
  EXPECT_EQ(Count("SELECT count(*) FROM intake.dossiers"), 1);
}

// --timeout is every call's deadline; running out of it is not the
// address's fault. (1ns: the deadline has passed before the call is sent.)
TEST_F(CliTest, AuditVerifyTakesItsDeadlineFromTimeout) {
  const CliRun r =
      Cli({Address(), "--dev_role=admin", "--timeout=1ns", "audit-verify"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_THAT(r.err, HasSubstr("--timeout=1ns"));
  EXPECT_THAT(r.err, Not(HasSubstr(a_->grpc.address())));

  const CliRun ok =
      Cli({Address(), "--dev_role=admin", "--timeout=1m", "audit-verify"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// The YAML example in docs/api.md, as an officer would save it.
TEST_F(CliTest, TheDocsYamlBirthRegistrationIsReceived) {
  const std::string doc = ReadSource("docs/api.md");
  const size_t start = doc.find("```yaml\n");
  ASSERT_NE(start, std::string::npos);
  const size_t end = doc.find("```\n", start + 8);
  const std::string path = absl::StrCat(Scratch(), "/birth.yaml");
  std::ofstream(path) << doc.substr(start + 8, end - start - 8);

  const CliRun r = SubmitAsOfficer(path, {"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string name =
      nlohmann::json::parse(r.out)["dossier"]["name"].get<std::string>();
  const v1::Dossier d = GetAsAdmin(*a_, name);
  // Unquoted digits in a string field stay text, leading zero included.
  EXPECT_EQ(d.applicant().personal_id(), "001088012345");
  EXPECT_EQ(d.applicant().contact().phone(), "0912345678");
}

TEST_F(CliTest, BadFileIsRefusedWithoutEchoingIt) {
  const std::string path = absl::StrCat(Scratch(), "/typo.yaml");
  std::ofstream(path) << "parent: agencies/001.08.19.H26\n"
                         "dossier:\n  applicant:\n"
                         "    full_name: Nguyễn Văn An\n"
                         "    adress: Phường Tây Mỗ\n";
  const CliRun r = SubmitAsOfficer(path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, absl::StrCat("error: ", path,
                                " is not a valid SubmitDossierRequest: "
                                "(dossier.applicant.adress): unknown field; "
                                "did you mean address? (the file's content is "
                                "not shown: it holds personal data)\n"));
  EXPECT_EQ(Count("SELECT count(*) FROM intake.dossiers"), 0);

  const CliRun dir = SubmitAsOfficer(Scratch());
  EXPECT_EQ(dir.exit_code, 2);
  EXPECT_THAT(dir.err, HasSubstr("is a directory, not a file"));
}

TEST_F(CliTest, SeedingTwiceWritesNoAgencyAuditRows) {
  // The fixture loaded the seed files; one agency was renamed since.
  auto agencies = testing_support::FromJson<v1::ListAgenciesResponse>(
      ReadSource("data/seed/agencies.json"));
  v1::Agency tay_mo;
  for (const v1::Agency& a : agencies.agencies()) {
    if (a.code() == kTayMo) tay_mo = a;
  }
  ASSERT_EQ(tay_mo.code(), kTayMo);
  ASSERT_TRUE(UpsertAgencyAsAdmin(
                  kTayMo, tay_mo.tier(), tay_mo.kind(),
                  std::string(absl::StripPrefix(tay_mo.parent(), "agencies/")))
                  .ok());
  const int64_t agency_rows = AuditRows("UpsertAgency");
  const int64_t procedure_rows = AuditRows("UpsertProcedure");

  const CliRun first = SeedAsAdmin();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto counts = nlohmann::json::parse(first.out);
  EXPECT_EQ(counts["agencies"], agencies.agencies_size());
  EXPECT_EQ(counts["agencies_upserted"], 1);  // the renamed one, back
  EXPECT_EQ(counts["procedure_versions_added"], 0);
  EXPECT_EQ(AuditRows("UpsertAgency"), agency_rows + 1);

  const CliRun again = SeedAsAdmin();
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["agencies_upserted"], 0);
  EXPECT_EQ(AuditRows("UpsertAgency"), agency_rows + 1);
  EXPECT_EQ(AuditRows("UpsertProcedure"), procedure_rows);
}

TEST_F(CliTest, SeedFilesMayBeYaml) {
  // JSON is YAML too; the `_` notes are skipped there as well.
  const std::string dir = absl::StrCat(Scratch(), "/seed-yaml");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/agencies.yml") << ReadSource("data/seed/agencies.json");
  std::ofstream(dir + "/procedures.yaml")
      << ReadSource("data/seed/procedures.json");
  const int64_t agency_rows = AuditRows("UpsertAgency");
  const CliRun r = Cli({Address(), "--dev_role=admin", "--json", "seed",
                        absl::StrCat("--dir=", dir)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["agencies_upserted"], 0);
  EXPECT_EQ(AuditRows("UpsertAgency"), agency_rows);

  // Two files for the same list: which one was meant?
  std::ofstream(dir + "/agencies.json")
      << ReadSource("data/seed/agencies.json");
  const CliRun both =
      Cli({Address(), "--dev_role=admin", "seed", absl::StrCat("--dir=", dir)});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_THAT(both.err, HasSubstr("keep one of them"));
}

TEST_F(CliTest, SeedWithoutDirReadsTheCheckoutsDataElseSaysWhereItLooked) {
  // In a checkout's root, as tools/stack and the docs run it: data/seed,
  // which the fixture loaded already.
  const std::string checkout = std::getenv("LIENTHONG_SOURCE_DIR");
  const CliRun r =
      Cli({Address(), "--dev_role=admin", "--json", "seed"}, checkout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto counts = nlohmann::json::parse(r.out);
  EXPECT_GT(counts["agencies"], 0);
  EXPECT_EQ(counts["agencies_upserted"], 0);
  // Elsewhere, on a machine without the image's copy: nothing is sent, and
  // the error names both places and --dir. (Where the image's copy exists,
  // cli_flags_test shows it is the one read.)
  if (std::filesystem::exists(cli::kInstalledSeedDir)) return;
  const int64_t upserts = AuditRows("UpsertAgency");
  const CliRun none = Cli({Address(), "--dev_role=admin", "seed"}, Scratch());
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("no data/seed in the working directory"));
  EXPECT_THAT(none.err, HasSubstr(cli::kInstalledSeedDir));
  EXPECT_THAT(none.err, HasSubstr("--dir"));
  EXPECT_EQ(AuditRows("UpsertAgency"), upserts);
}

TEST_F(CliTest, ListJsonIsJsonLinesAndReceiptHasAJsonForm) {
  const std::string file = WriteBirthFile("birth.json");
  ASSERT_EQ(SubmitAsOfficer(file).exit_code, 0);
  ASSERT_EQ(SubmitAsOfficer(
                file, {"--request_id=3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8"})
                .exit_code,
            0);
  const std::string as_officer = absl::StrCat("--dev_agency=", kTayMo);

  const CliRun list = Cli({Address(), as_officer, "--json", "list", kTayMo});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const std::vector<std::string> lines = Lines(list.out);
  ASSERT_EQ(lines.size(), 2u) << list.out;
  std::string code;
  for (const std::string& line : lines) {
    const auto d = nlohmann::json::parse(line);  // each line on its own
    EXPECT_TRUE(d.is_object());
    code = d["code"].get<std::string>();
  }

  const CliRun text = Cli({Address(), as_officer, "list", kTayMo});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("Đã tiếp nhận"));
  EXPECT_THAT(text.out, Not(HasSubstr("DOSSIER_STATE")));

  const CliRun receipt =
      Cli({Address(), as_officer, "--json", "receipt", code});
  ASSERT_EQ(receipt.exit_code, 0) << receipt.err;
  ASSERT_EQ(Lines(receipt.out).size(), 1u);
  EXPECT_THAT(nlohmann::json::parse(receipt.out)["html"].get<std::string>(),
              HasSubstr(code));
}

// The forms other than the receipt, each printed again as an officer would
// (text, then --json as receipt has it), and a form of a step the dossier
// never took: refused, exit 1, the reason and a Vietnamese line.
TEST_F(CliTest, SupplementRefusalAndApologyFormsPrintAgain) {
  const std::string as_officer = absl::StrCat("--dev_agency=", kTayMo);
  const auto form = [&](const std::string& cmd, const std::string& code,
                        std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {Address(), as_officer};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(cmd);
    args.push_back(code);
    return Cli(args);
  };
  const auto submit = [&] {
    v1::SubmitDossierResponse sub;
    EXPECT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
    return sub.dossier();
  };

  // A leg asked for a supplement.
  const v1::Dossier asked = submit();
  routing::v1::LegSupplementRequested supplement;
  supplement.set_dossier(asked.name());
  supplement.set_leg_id("residency");
  supplement.set_agency(absl::StrCat("agencies/", kTayMo));
  supplement.set_reason("Thiếu giấy tờ chỗ ở");
  supplement.add_missing_items("Giấy xác nhận chỗ ở hợp pháp");
  ASSERT_TRUE(a_->server
                  .HandleEvent(grpc_util::MakeEvent(supplement, "routing",
                                                    asked.name(), clock_.Now()))
                  .value_or(false));
  const CliRun text = form("supplement", asked.code());
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("PHIẾU YÊU CẦU BỔ SUNG"));
  EXPECT_THAT(text.out,
              HasSubstr("Thiếu giấy tờ chỗ ở; Giấy xác nhận chỗ ở hợp pháp"));
  const CliRun json = form("supplement", asked.code(), {"--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  ASSERT_EQ(Lines(json.out).size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(json.out)["html"].get<std::string>(),
            text.out);

  // Never refused, never apologised for.
  const CliRun not_refused = form("refusal", asked.code());
  EXPECT_EQ(not_refused.exit_code, 1);
  EXPECT_EQ(not_refused.out, "");
  EXPECT_THAT(not_refused.err, HasSubstr("error: FAILED_PRECONDITION: "));
  EXPECT_THAT(not_refused.err, HasSubstr("reason: NOT_REFUSED"));
  EXPECT_THAT(not_refused.err, HasSubstr("không có phiếu từ chối để in"));
  const CliRun no_apology = form("apology", asked.code(), {"--json"});
  EXPECT_EQ(no_apology.exit_code, 1);
  EXPECT_EQ(no_apology.out, "");
  EXPECT_THAT(no_apology.err, HasSubstr("reason: NO_APOLOGY"));
  EXPECT_THAT(no_apology.err, HasSubstr("phiếu xin lỗi"));
  // Nor the receipt's dossier a supplement request.
  const v1::Dossier received = submit();
  const CliRun never_asked = form("supplement", received.code());
  EXPECT_EQ(never_asked.exit_code, 1);
  EXPECT_THAT(never_asked.err, HasSubstr("reason: NO_SUPPLEMENT_REQUEST"));
  EXPECT_THAT(never_asked.err, HasSubstr("phiếu yêu cầu bổ sung"));

  // An apology with a new appointment.
  grpc::ClientContext ctx;
  testing_support::As(ctx, "counter_officer", kTayMo);
  v1::IssueApologyRequest apology;
  apology.set_name(received.name());
  apology.set_reason("Chờ xác minh");
  grpc_util::ToProto(absl::FromCivil(absl::CivilSecond(2026, 11, 30, 9, 0, 0),
                                     absl::FixedTimeZone(7 * 3600)),
                     apology.mutable_new_appointment_time());
  v1::IssueApologyResponse issued;
  ASSERT_TRUE(a_->stub->IssueApology(&ctx, apology, &issued).ok());
  const CliRun apologised = form("apology", received.code());
  ASSERT_EQ(apologised.exit_code, 0) << apologised.err;
  EXPECT_EQ(apologised.out, issued.apology_html());

  // A leg refused the dossier.
  const v1::Dossier refused = submit();
  routing::v1::LegRefused refusal;
  refusal.set_dossier(refused.name());
  refusal.set_leg_id("residency");
  refusal.set_agency(absl::StrCat("agencies/", kTayMo));
  refusal.set_reason("Không thuộc thẩm quyền");
  ASSERT_TRUE(a_->server
                  .HandleEvent(grpc_util::MakeEvent(
                      refusal, "routing", refused.name(), clock_.Now()))
                  .value_or(false));
  const CliRun refused_text = form("refusal", refused.code(), {"--json"});
  ASSERT_EQ(refused_text.exit_code, 0) << refused_text.err;
  const std::string html =
      nlohmann::json::parse(refused_text.out)["html"].get<std::string>();
  EXPECT_THAT(html, HasSubstr("PHIẾU TỪ CHỐI"));
  EXPECT_THAT(html, HasSubstr("Không thuộc thẩm quyền"));

  // receipt and slip print as they did.
  const CliRun receipt = form("receipt", refused.code());
  ASSERT_EQ(receipt.exit_code, 0) << receipt.err;
  EXPECT_THAT(receipt.out, HasSubstr("GIẤY TIẾP NHẬN HỒ SƠ"));
  const CliRun slip = form("slip", refused.code());
  ASSERT_EQ(slip.exit_code, 0) << slip.err;
  EXPECT_THAT(slip.out, HasSubstr("Không thuộc thẩm quyền"));
}

// No server needed: the command line is checked before anything is sent.
TEST(CliCommandLineTest, HelpListsTheCliFlags) {
  const CliRun r = Cli({"--help"});
  EXPECT_THAT(r.out, Not(HasSubstr("No flags matched")));
  // The flags library's own listing (not the usage text, which names some
  // flags by hand), and its exit status, as the usage text says.
  EXPECT_THAT(r.out, HasSubstr("Flags from tools/cli/"));
  for (const char* flag : {"    --address", "    --request_id", "    --json",
                           "    --group_by", "    --dir", "    --timeout"}) {
    EXPECT_THAT(r.out, HasSubstr(flag));
  }
  EXPECT_THAT(r.out, HasSubstr("--deadline_address"));
  EXPECT_EQ(r.exit_code, 1);
}

TEST(CliCommandLineTest, MistakesExitTwoWithAMessage) {
  const CliRun group_by = Cli({"--group_by=agnecy", "--from=2026-01-01",
                               "--to=2026-01-31", "report", "000.00.19.H26"});
  EXPECT_EQ(group_by.exit_code, 2);
  EXPECT_THAT(group_by.err,
              HasSubstr("--group_by must be agency, procedure or tier"));
  const CliRun cert = Cli({"--cert=admin.crt", "--key=admin.key", "get", "X"});
  EXPECT_EQ(cert.exit_code, 2);
  EXPECT_THAT(cert.err, HasSubstr("--cert needs --ca"));
  const CliRun timeout = Cli({"--timeout=0s", "get", "X"});
  EXPECT_EQ(timeout.exit_code, 2);
  EXPECT_THAT(timeout.err, HasSubstr("--timeout must be positive"));
  for (const char* form :
       {"receipt", "slip", "supplement", "refusal", "apology"}) {
    const CliRun no_code = Cli({form});
    EXPECT_EQ(no_code.exit_code, 2) << form;
    EXPECT_THAT(no_code.err,
                HasSubstr(absl::StrCat("wrong arguments for ", form)));
  }
  const CliRun unknown = Cli({"phieu", "X"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command phieu"));
}

// They come with the channel code (libs/grpc_util/flags.cc) and used to be
// accepted and ignored: this one went to 127.0.0.1:7001.
TEST(CliCommandLineTest, ServicesFlagsAreRefusedNamingTheCliFlag) {
  const CliRun address =
      Cli({"--intake_address=intake:7001", "list", "001.08.19.H26"});
  EXPECT_EQ(address.exit_code, 2);
  EXPECT_THAT(address.err,
              HasSubstr("error: --intake_address is a service's flag, not "
                        "the CLI's; use --address"));
  // After the command, as a bool, and from a flag file alike.
  const CliRun key = Cli({"list", "001.08.19.H26", "--tls_key=admin.key"});
  EXPECT_EQ(key.exit_code, 2);
  EXPECT_THAT(key.err, HasSubstr("--tls_key is a service's flag"));
  EXPECT_THAT(key.err, HasSubstr("use --key"));
  const CliRun dev = Cli({"--noinsecure_dev_auth", "list", "001.08.19.H26"});
  EXPECT_EQ(dev.exit_code, 2);
  EXPECT_THAT(dev.err, HasSubstr("--insecure_dev_auth is a service's flag"));
  const std::string flagfile = absl::StrCat(Scratch(), "/flags");
  std::ofstream(flagfile) << "--peer_deadline=1m\n";
  const CliRun file = Cli({absl::StrCat("--flagfile=", flagfile), "list", "X"});
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_THAT(file.err, HasSubstr("use --timeout"));
}

TEST(CliCommandLineTest, AMistypedTlsFileIsBlamedOnItsFlag) {
  const std::string pem = absl::StrCat(Scratch(), "/admin.crt");
  std::ofstream(pem) << "-----BEGIN CERTIFICATE-----\n";
  const std::string typo = absl::StrCat(Scratch(), "/admin.ky");
  const CliRun r = Cli({"--address=intake:7001", absl::StrCat("--ca=", pem),
                        absl::StrCat("--cert=", pem),
                        absl::StrCat("--key=", typo), "list", "001.08.19.H26"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, absl::StrCat("error: --key=", typo,
                                ": cannot read: No such file or directory\n"));
}

TEST(CliCommandLineTest, SubmitThatMayHaveLostItsAnswerSaysHowToRetrySafely) {
  const std::string file = absl::StrCat(Scratch(), "/lost.json");
  std::ofstream(file) << R"({"parent": "agencies/001.08.19.H26",
      "request_id": "3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8"})";
  // Port 1 on loopback: nothing listens there.
  const CliRun r = Cli({"--address=127.0.0.1:1", "submit", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(r.err,
              HasSubstr("request_id 3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8: "
                        "rerun with the same file (or --request_id="));
  EXPECT_THAT(r.err, HasSubstr("to retry safely"));
}

TEST(CliCommandLineTest, UnreachableDeadlineServiceNamesItsFlag) {
  // Port 1 on loopback: nothing listens there.
  const CliRun r = Cli({"--deadline_address=127.0.0.1:1", "--from=2026-01-01",
                        "--to=2026-01-31", "report", "000.00.19.H26"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(r.err, HasSubstr("--deadline_address"));
}

}  // namespace
}  // namespace lienthong::intake
