#include "tools/cli/message_file.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libs/common/utf8.h"
#include "lienthong/intake/v1/intake_service.pb.h"

namespace lienthong::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = intake::v1;

absl::Status ParseJson(const std::string& text, google::protobuf::Message* m,
                       bool seed = false) {
  ParseOptions o;
  o.skip_underscore_keys = seed;
  return ParseMessage(text, FileFormat::kJson, o, m);
}

absl::Status ParseYaml(const std::string& text, google::protobuf::Message* m,
                       bool seed = false) {
  ParseOptions o;
  o.skip_underscore_keys = seed;
  return ParseMessage(text, FileFormat::kYaml, o, m);
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// Personal data in the test documents; no error may repeat any of it.
const char* const kPersonal[] = {"001088012345", "Nguyễn", "0912345678",
                                 "1088012345", "Trần"};

void ExpectNoPersonalData(const std::string& text) {
  for (const char* p : kPersonal) {
    EXPECT_THAT(text, Not(HasSubstr(p))) << text;
  }
}

// --- strict parsing (JSON)

TEST(MessageFileTest, UnknownJsonFieldIsAnErrorNamingItsPath) {
  v1::SubmitDossierRequest req;
  const absl::Status s = ParseJson(
      R"({"dossier": {"applicant": {"full_name": "Nguyễn Văn An",
          "adress": "Phường Tây Mỗ"}}})",
      &req);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(s),
            "not a valid SubmitDossierRequest: (dossier.applicant.adress): "
            "unknown field; did you mean address?");
}

TEST(MessageFileTest, TypoInNestedFieldSuggestsTheField) {
  v1::SubmitDossierRequest req;
  const absl::Status s = ParseJson(
      R"({"dossier": {"applicant": {"contact": {"phone": "0912345678",
          "prefered_channel": "CONTACT_CHANNEL_SMS"}}}})",
      &req);
  EXPECT_THAT(Message(s), HasSubstr("(dossier.applicant.contact.prefered_"
                                    "channel): unknown field; did you mean "
                                    "preferred_channel?"));
}

TEST(MessageFileTest, UnknownTopLevelFieldHasNoHintWhenNothingIsClose) {
  v1::SubmitDossierRequest req;
  EXPECT_EQ(Message(ParseJson(R"({"dossierx2y": {}})", &req)),
            "not a valid SubmitDossierRequest: (dossierx2y): unknown field");
}

TEST(MessageFileTest, JsonNamesAreAcceptedAsProtobufDoes) {
  v1::SubmitDossierRequest req;
  ASSERT_TRUE(ParseJson(R"({"requestId": "r", "dossier": {"applicant":
                           {"personalId": "001088012345"}}})",
                        &req)
                  .ok());
  EXPECT_EQ(req.dossier().applicant().personal_id(), "001088012345");
}

TEST(MessageFileTest, FieldGivenTwiceUnderTwoNamesIsAnError) {
  v1::SubmitDossierRequest req;
  EXPECT_THAT(
      Message(ParseJson(R"({"request_id": "a", "requestId": "b"})", &req)),
      HasSubstr("(request_id): given twice"));
}

TEST(MessageFileTest, UnderscoreKeysAreAnErrorOutsideSeedFiles) {
  v1::SubmitDossierRequest req;
  EXPECT_THAT(Message(ParseJson(R"({"_notes": "x"})", &req)),
              HasSubstr("(_notes): unknown field"));
}

TEST(MessageFileTest, SeedFilesSkipUnderscoreKeysAtAnyDepth) {
  v1::ListAgenciesResponse agencies;
  ASSERT_TRUE(ParseJson(R"({"_note": "Hà Nội", "agencies": [
      {"code": "000.00.00.H26", "display_name": "UBND", "_invented_code": true,
       "tier": "TIER_PROVINCE"}]})",
                        &agencies, /*seed=*/true)
                  .ok());
  ASSERT_EQ(agencies.agencies_size(), 1);
  EXPECT_EQ(agencies.agencies(0).code(), "000.00.00.H26");
}

TEST(MessageFileTest, SeedFilesRejectOtherUnknownKeys) {
  v1::ListAgenciesResponse agencies;
  EXPECT_EQ(Message(ParseJson(R"({"agencies": [{"code": "x", "parnet": "y"}]})",
                              &agencies, /*seed=*/true)),
            "not a valid ListAgenciesResponse: (agencies[0].parnet): unknown "
            "field; did you mean parent?");
}

TEST(MessageFileTest, TheRepositorysSeedFilesParse) {
  const char* src = std::getenv("LIENTHONG_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  ParseOptions seed;
  seed.skip_underscore_keys = true;
  v1::ListAgenciesResponse agencies;
  ASSERT_TRUE(LoadMessageFile(absl::StrCat(src, "/data/seed/agencies.json"),
                              seed, &agencies)
                  .ok());
  EXPECT_GT(agencies.agencies_size(), 90);
  v1::ListProceduresResponse procedures;
  ASSERT_TRUE(LoadMessageFile(absl::StrCat(src, "/data/seed/procedures.json"),
                              seed, &procedures)
                  .ok());
  EXPECT_GT(procedures.procedures_size(), 0);
}

TEST(MessageFileTest, BoolsInJsonAreOnlyJsonBooleans) {
  v1::ListProceduresResponse p;
  EXPECT_EQ(Message(ParseJson(
                R"({"procedures": [{"fields": [{"required": "yes"}]}]})", &p)),
            "not a valid ListProceduresResponse: "
            "(procedures[0].fields[0].required): invalid value for type "
            "TYPE_BOOL (true or false)");
}

// --- errors never quote the file

TEST(MessageFileTest, WrongTypeNamesPathAndTypeButNotTheValue) {
  v1::SubmitDossierRequest req;
  const std::string m = Message(ParseJson(
      R"({"dossier": {"applicant": {"personal_id": 1088012345}}})", &req));
  EXPECT_EQ(m,
            "not a valid SubmitDossierRequest: "
            "(dossier.applicant.personal_id): invalid value for type "
            "TYPE_STRING");
  ExpectNoPersonalData(m);
}

TEST(MessageFileTest, SyntaxErrorGivesThePositionNotTheText) {
  v1::SubmitDossierRequest req;
  const std::string m = Message(ParseJson(
      "{\"dossier\": {\"applicant\": {\n"
      "  \"full_name\": \"Nguyễn Văn An\" \"personal_id\": \"001088012345\"}}}",
      &req));
  // Where the unexpected token ends, in characters ("ễ" and "ă" are one
  // each).
  EXPECT_EQ(m, "not valid JSON: syntax error at line 2, column 44");
  ExpectNoPersonalData(m);
}

TEST(MessageFileTest, InvalidUtf8IsRefusedWithItsPosition) {
  v1::SubmitDossierRequest req;
  EXPECT_EQ(Message(ParseJson("{\"request_id\":\n \"a\xff\"}", &req)),
            "not valid UTF-8 at line 2, column 4");
}

TEST(MessageFileTest, BadTimestampAndBase64DoNotEchoTheValue) {
  v1::SubmitDossierRequest req;
  std::string m = Message(
      ParseJson(R"({"dossier": {"receive_time": "1088012345-13-01"}})", &req));
  EXPECT_EQ(m,
            "not a valid SubmitDossierRequest: (dossier.receive_time): "
            "invalid value for type "
            "type.googleapis.com/google.protobuf.Timestamp");
  m = Message(ParseJson(
      R"({"dossier": {"documents": [{"content": "1088012345!"}]}})", &req));
  EXPECT_EQ(m,
            "not a valid SubmitDossierRequest: (dossier.documents[0].content): "
            "invalid value for type TYPE_BYTES");
}

TEST(MessageFileTest, UnknownEnumNameListsTheNamesNotTheValue) {
  v1::SubmitDossierRequest req;
  const std::string m =
      Message(ParseJson(R"({"dossier": {"channel": "Nguyễn"}})", &req));
  EXPECT_THAT(m, HasSubstr("(dossier.channel): invalid value for type "
                           "lienthong.common.v1.ReceiptChannel (one of "
                           "RECEIPT_CHANNEL_UNSPECIFIED, "));
  ExpectNoPersonalData(m);
}

TEST(MessageFileTest, LoadMessageFileNamesTheFileAndSaysWhyContentIsHidden) {
  // Its own directory: other runs may share /tmp.
  std::string dir = absl::StrCat(::testing::TempDir(), "lienthong-cli-XXXXXX");
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string path = absl::StrCat(dir, "/d.json");
  std::ofstream(path) << R"({"dossier": {"applicant": {"personal_id": 1}}})";
  v1::SubmitDossierRequest req;
  EXPECT_EQ(Message(LoadMessageFile(path, {}, &req)),
            absl::StrCat(path,
                         " is not a valid SubmitDossierRequest: "
                         "(dossier.applicant.personal_id): invalid value for "
                         "type TYPE_STRING (the file's content is not shown: "
                         "it holds personal data)"));
  std::filesystem::remove_all(dir);
}

TEST(MessageFileTest, DirectoryAndMissingFileSaySo) {
  const std::string dir = ::testing::TempDir();
  EXPECT_EQ(Message(ReadInputFile(dir).status()),
            absl::StrCat(dir, " is a directory, not a file"));
  const absl::Status missing =
      ReadInputFile(absl::StrCat(dir, "/no-such.json")).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(missing), HasSubstr("No such file or directory"));
}

// --- YAML

constexpr char kBirthYaml[] = R"yaml(
parent: agencies/001.08.19.H26
request_id: 0b5e9c1e-6d3a-4f8e-9a41-3c2d1e0f9a87
dossier:
  procedure: procedures/LT.01
  channel: RECEIPT_CHANNEL_COUNTER
  applicant:
    full_name: Nguyễn Văn An
    personal_id: 001088012345
    date_of_birth: 1988-03-14
    contact:
      phone: 0912345678
      preferred_channel: CONTACT_CHANNEL_SMS
  fields:
    - key: child_date_of_birth
      value: 2026-11-20
    - key: mother_personal_id
      value: 001192054321
  documents:
    - code: giay_chung_sinh
      sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
      size_bytes: 1024
      originals: 1
  receive_time: 2026-11-23T09:00:00+07:00
)yaml";

constexpr char kBirthJson[] = R"json({
  "parent": "agencies/001.08.19.H26",
  "request_id": "0b5e9c1e-6d3a-4f8e-9a41-3c2d1e0f9a87",
  "dossier": {
    "procedure": "procedures/LT.01",
    "channel": "RECEIPT_CHANNEL_COUNTER",
    "applicant": {"full_name": "Nguyễn Văn An", "personal_id": "001088012345",
      "date_of_birth": "1988-03-14",
      "contact": {"phone": "0912345678", "preferred_channel": "CONTACT_CHANNEL_SMS"}},
    "fields": [{"key": "child_date_of_birth", "value": "2026-11-20"},
               {"key": "mother_personal_id", "value": "001192054321"}],
    "documents": [{"code": "giay_chung_sinh",
      "sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "size_bytes": "1024", "originals": 1}],
    "receive_time": "2026-11-23T02:00:00Z"}})json";

TEST(MessageFileTest, YamlScalarsTakeTheirFieldsTypes) {
  v1::SubmitDossierRequest req;
  ASSERT_TRUE(ParseYaml(kBirthYaml, &req).ok()) << ParseYaml(kBirthYaml, &req);
  const v1::Applicant& a = req.dossier().applicant();
  EXPECT_EQ(a.personal_id(), "001088012345");  // text, leading zero kept
  EXPECT_EQ(a.date_of_birth(), "1988-03-14");
  EXPECT_EQ(a.contact().phone(), "0912345678");
  EXPECT_EQ(a.contact().preferred_channel(), common::v1::CONTACT_CHANNEL_SMS);
  EXPECT_EQ(req.dossier().fields(1).value(), "001192054321");
  EXPECT_EQ(req.dossier().documents(0).size_bytes(), 1024);
  EXPECT_EQ(req.dossier().receive_time().seconds(), 1795399200);
}

TEST(MessageFileTest, YamlAndJsonOfTheSameRequestAreEqual) {
  v1::SubmitDossierRequest from_yaml, from_json;
  ASSERT_TRUE(ParseYaml(kBirthYaml, &from_yaml).ok());
  ASSERT_TRUE(ParseJson(kBirthJson, &from_json).ok());
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(from_yaml, from_json))
      << from_yaml.ShortDebugString() << "\n"
      << from_json.ShortDebugString();
}

TEST(MessageFileTest, YamlBoolsAreOnlyTrueOrFalse) {
  v1::ListProceduresResponse p;
  ASSERT_TRUE(
      ParseYaml("procedures:\n- fields:\n  - required: true\n", &p).ok());
  EXPECT_TRUE(p.procedures(0).fields(0).required());
  for (const char* v : {"yes", "on", "1", "True", "y"}) {
    EXPECT_EQ(
        Message(ParseYaml(
            absl::StrCat("procedures:\n- fields:\n  - required: ", v), &p)),
        "not a valid ListProceduresResponse: "
        "(procedures[0].fields[0].required): invalid value for type "
        "TYPE_BOOL (true or false)")
        << v;
  }
}

TEST(MessageFileTest, YamlEnumsAreNames) {
  v1::SubmitDossierRequest req;
  EXPECT_THAT(Message(ParseYaml("dossier:\n  channel: 1\n", &req)),
              HasSubstr("(dossier.channel): invalid value for type "
                        "lienthong.common.v1.ReceiptChannel"));
}

TEST(MessageFileTest, YamlUnknownKeysAreErrorsNamingThePath) {
  v1::SubmitDossierRequest req;
  EXPECT_EQ(
      Message(ParseYaml("dossier:\n  applicant:\n    adress: Tây Mỗ\n", &req)),
      "not a valid SubmitDossierRequest: (dossier.applicant.adress): "
      "unknown field; did you mean address?");
  EXPECT_THAT(Message(ParseYaml("_notes: x\n", &req)),
              HasSubstr("(_notes): unknown field"));
  v1::ListAgenciesResponse agencies;
  ASSERT_TRUE(ParseYaml("_note: Hà Nội\nagencies:\n- code: x\n  "
                        "_invented_code: true\n",
                        &agencies, /*seed=*/true)
                  .ok());
  EXPECT_EQ(agencies.agencies(0).code(), "x");
}

TEST(MessageFileTest, YamlStructureMistakesNameThePath) {
  v1::SubmitDossierRequest req;
  EXPECT_EQ(Message(ParseYaml("dossier:\n  fields: child\n", &req)),
            "not a valid SubmitDossierRequest: (dossier.fields): expected a "
            "list");
  EXPECT_EQ(Message(ParseYaml("dossier:\n  applicant: Nguyễn\n", &req)),
            "not a valid SubmitDossierRequest: (dossier.applicant): expected "
            "a mapping of field names to values");
  EXPECT_EQ(Message(ParseYaml("dossier:\n  procedure: [a, b]\n", &req)),
            "not a valid SubmitDossierRequest: (dossier.procedure): expected "
            "a single value, not a list or a mapping");
  EXPECT_EQ(Message(ParseYaml("parent: a\nparent: b\n", &req)),
            "not a valid SubmitDossierRequest: (parent): given twice");
  EXPECT_EQ(Message(ParseYaml("- a\n", &req)),
            "not a valid SubmitDossierRequest: expected a mapping of field "
            "names to values");
}

TEST(MessageFileTest, YamlNullsLeaveFieldsUnset) {
  v1::SubmitDossierRequest req;
  ASSERT_TRUE(
      ParseYaml("parent: ~\ndossier:\n  applicant:\n  procedure: null\n", &req)
          .ok());
  EXPECT_EQ(req.parent(), "");
  EXPECT_FALSE(req.dossier().has_applicant());
}

TEST(MessageFileTest, YamlSyntaxErrorsGiveThePositionNotTheText) {
  v1::SubmitDossierRequest req;
  const std::string m = Message(
      ParseYaml("dossier:\n  applicant:\n    full_name: [Nguyễn\n", &req));
  EXPECT_THAT(m, HasSubstr("not valid YAML: end of sequence flow not found at "
                           "line 4, column 1"));
  ExpectNoPersonalData(m);
  // yaml-cpp appends what it could not read to some messages.
  const std::string escape =
      Message(ParseYaml("parent: \"0912345678\\q\"\n", &req));
  EXPECT_THAT(escape, HasSubstr("not valid YAML: unknown escape character at"));
  ExpectNoPersonalData(escape);
}

TEST(MessageFileTest, YamlFileWithSeveralDocumentsOrNoneIsRefused) {
  v1::SubmitDossierRequest req;
  EXPECT_EQ(Message(ParseYaml("parent: a\n---\nparent: b\n", &req)),
            "not a valid SubmitDossierRequest: the file holds 2 YAML "
            "documents; one is expected");
  EXPECT_EQ(Message(ParseYaml("# nothing\n", &req)),
            "not a valid SubmitDossierRequest: the file is empty");
}

TEST(MessageFileTest, FormatComesFromTheExtensionThenTheContent) {
  EXPECT_EQ(FormatOf("d.json", "a: b"), FileFormat::kJson);
  EXPECT_EQ(FormatOf("d.YAML", "{}"), FileFormat::kYaml);
  EXPECT_EQ(FormatOf("dir.v2/d.yml", "{}"), FileFormat::kYaml);
  EXPECT_EQ(FormatOf("d.txt", "\xEF\xBB\xBF \n {\"a\": 1}"), FileFormat::kJson);
  EXPECT_EQ(FormatOf("d", "parent: x"), FileFormat::kYaml);
}

// The birth registration example in docs/api.md is a valid request.
TEST(MessageFileTest, TheDocsYamlExampleParses) {
  const char* src = std::getenv("LIENTHONG_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  std::ifstream in(absl::StrCat(src, "/docs/api.md"));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const size_t start = doc.find("```yaml\n");
  ASSERT_NE(start, std::string::npos);
  const size_t end = doc.find("```\n", start + 8);
  const std::string yaml = doc.substr(start + 8, end - start - 8);
  v1::SubmitDossierRequest req;
  ASSERT_TRUE(ParseYaml(yaml, &req).ok()) << ParseYaml(yaml, &req);
  EXPECT_EQ(req.dossier().procedure(), "procedures/LT.01");
  EXPECT_EQ(req.dossier().applicant().personal_id(), "001088012345");
  EXPECT_TRUE(req.request_id().empty());
}

// --- hostile or mistaken input: refused, never quoted, never a crash

TEST(MessageFileTest, HostileJsonIsRefusedWithoutQuotingIt) {
  v1::SubmitDossierRequest req;
  // A number no double holds (nlohmann's message quotes it).
  absl::Status s = ParseJson(
      R"({"dossier": {"applicant": {"personal_id": 1088012345e999}}})", &req);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  ExpectNoPersonalData(Message(s));
  // Nesting that would make every walk recurse 100,000 times.
  s = ParseJson(absl::StrCat(R"({"request_id": )", std::string(100000, '['),
                             std::string(100000, ']'), "}"),
                &req);
  EXPECT_THAT(Message(s), HasSubstr("nested more than"));
  // A key twice in one object: the last would silently win.
  s = ParseJson(R"({"parent": "agencies/a", "parent": "agencies/b"})", &req);
  EXPECT_THAT(Message(s), HasSubstr("given twice"));
}

TEST(MessageFileTest, JsonShapesAreCheckedAsYamlsAre) {
  v1::SubmitDossierRequest req;
  // One item where a list belongs.
  EXPECT_THAT(
      Message(ParseJson(
          R"({"dossier": {"fields": {"key": "k", "value": "v"}}})", &req)),
      HasSubstr("(dossier.fields): expected a list"));
  // An enum by number (this one has no value).
  EXPECT_THAT(
      Message(ParseJson(R"({"dossier": {"channel": 1088012345}})", &req)),
      HasSubstr("(dossier.channel): expected a value's name"));
  // A list where one value belongs.
  EXPECT_THAT(Message(ParseJson(R"({"request_id": [["x"]]})", &req)),
              HasSubstr("(request_id): expected a single value"));
  // A scalar where a message belongs.
  EXPECT_THAT(Message(ParseJson(R"({"dossier": 5})", &req)),
              HasSubstr("(dossier): expected an object"));
}

TEST(MessageFileTest, YamlAliasesQuotedBoolsAndEmptyDocumentsAreRefused) {
  v1::SubmitDossierRequest req;
  // Aliases of aliases expand exponentially when walked.
  EXPECT_THAT(Message(ParseYaml("a: &a x\nparent: *a\n", &req)),
              HasSubstr("aliases"));
  v1::Dossier d;
  EXPECT_THAT(Message(ParseYaml("late: \"true\"\n", &d)), HasSubstr("(late)"));
  EXPECT_TRUE(ParseYaml("late: true\n", &d).ok());
  EXPECT_THAT(Message(ParseYaml("---\n", &req)), HasSubstr("empty"));
}

}  // namespace
}  // namespace lienthong::cli
