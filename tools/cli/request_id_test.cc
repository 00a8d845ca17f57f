#include "tools/cli/request_id.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/errors.h"
#include "libs/common/uuid.h"
#include "tools/cli/message_file.h"

namespace lienthong::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = intake::v1;

v1::SubmitDossierRequest Birth() {
  v1::SubmitDossierRequest req;
  req.set_parent("agencies/001.08.19.H26");
  req.mutable_dossier()->set_procedure("procedures/LT.01");
  req.mutable_dossier()->mutable_applicant()->set_personal_id("001088012345");
  auto* f = req.mutable_dossier()->add_fields();
  f->set_key("child_full_name");
  f->set_value("Nguyễn Minh Khôi");
  return req;
}

TEST(RequestIdTest, DerivedIdsAreUuidsOfVersion8) {
  const std::string id = DeterministicUuid(Birth());
  EXPECT_TRUE(common::IsUuid(id)) << id;
  EXPECT_EQ(id[14], '8');
  EXPECT_THAT(std::string(1, id[19]), ::testing::AnyOf("8", "9", "a", "b"));
}

TEST(RequestIdTest, EqualRequestsGiveEqualIdsAndAnyChangeAnother) {
  EXPECT_EQ(DeterministicUuid(Birth()), DeterministicUuid(Birth()));
  v1::SubmitDossierRequest other = Birth();
  other.mutable_dossier()->mutable_fields(0)->set_value("Nguyễn Minh Khang");
  EXPECT_NE(DeterministicUuid(Birth()), DeterministicUuid(other));
  EXPECT_NE(DeterministicUuid(Birth()), DeterministicUuid(Birth(), "seed"));
  // Another type with the same bytes is another id.
  EXPECT_NE(DeterministicUuid(v1::Agency()), DeterministicUuid(v1::Dossier()));
}

TEST(RequestIdTest, SubmitWithoutIdsDerivesOneThatIsTheSameOnEveryRun) {
  const absl::StatusOr<std::string> first = SubmitRequestId(Birth(), "");
  const absl::StatusOr<std::string> again = SubmitRequestId(Birth(), "");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, *again);
  EXPECT_EQ(*first, DeterministicUuid(Birth()));
}

TEST(RequestIdTest, TheSameRequestWrittenAsJsonOrYamlGetsTheSameId) {
  v1::SubmitDossierRequest from_json, from_yaml;
  ASSERT_TRUE(ParseMessage(R"({"dossier": {"applicant":
      {"personal_id": "001088012345"}, "procedure": "procedures/LT.01"},
      "parent": "agencies/001.08.19.H26"})",
                           FileFormat::kJson, {}, &from_json)
                  .ok());
  ASSERT_TRUE(ParseMessage("parent: agencies/001.08.19.H26\n"
                           "dossier:\n  procedure: procedures/LT.01\n"
                           "  applicant: {personal_id: 001088012345}\n",
                           FileFormat::kYaml, {}, &from_yaml)
                  .ok());
  EXPECT_EQ(*SubmitRequestId(from_json, ""), *SubmitRequestId(from_yaml, ""));
}

TEST(RequestIdTest, TheFilesIdComesBeforeADerivedOne) {
  v1::SubmitDossierRequest req = Birth();
  req.set_request_id("0b5e9c1e-6d3a-4f8e-9a41-3c2d1e0f9a87");
  EXPECT_EQ(*SubmitRequestId(req, ""), req.request_id());
  EXPECT_EQ(*SubmitRequestId(req, req.request_id()), req.request_id());
}

TEST(RequestIdTest, TheFlagMustBeAUuidAndAgreeWithTheFile) {
  const std::string flag = "3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8";
  EXPECT_EQ(*SubmitRequestId(Birth(), flag), flag);
  EXPECT_EQ(SubmitRequestId(Birth(), "retry-1").status().message(),
            "--request_id must be a UUID (8-4-4-4-12 hex digits)");
  v1::SubmitDossierRequest req = Birth();
  req.set_request_id("0b5e9c1e-6d3a-4f8e-9a41-3c2d1e0f9a87");
  EXPECT_EQ(SubmitRequestId(req, flag).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RequestIdTest, OnlyAFailureThatMayHaveLostTheAnswerIsWorthARetry) {
  const std::string id = "3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8";
  for (const absl::Status& lost :
       {absl::UnavailableError("x"), absl::DeadlineExceededError("x"),
        absl::AbortedError("x"), absl::InternalError("x"),
        absl::ResourceExhaustedError("x")}) {
    EXPECT_EQ(SubmitFailureHint(lost, id),
              absl::StrCat("request_id ", id,
                           ": rerun with the same file (or --request_id=", id,
                           ") to retry safely"))
        << lost;
  }
  for (const absl::Status& refused :
       {absl::NotFoundError("x"), absl::PermissionDeniedError("x"),
        absl::FailedPreconditionError("x"), absl::UnauthenticatedError("x"),
        common::InvalidArgument("MISSING_DOCUMENT",
                                {{"dossier.documents", "missing"}})}) {
    EXPECT_EQ(SubmitFailureHint(refused, id), "") << refused;
  }
}

TEST(RequestIdTest, AReusedIdMustGoOrChangeRatherThanBeRetried) {
  const std::string id = "3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8";
  const std::string hint = SubmitFailureHint(
      common::InvalidArgument(
          "REQUEST_ID_REUSED",
          {{"request_id",
            "was already used for a different request; use a new UUID"}}),
      id);
  EXPECT_THAT(hint, HasSubstr(id));
  EXPECT_THAT(hint, HasSubstr("Remove or change the request_id (the file's "
                              "request_id or --request_id)"));
  EXPECT_THAT(hint, Not(HasSubstr("retry safely")));
}

TEST(RequestIdTest, AnApologyRerunSendsTheSameIdAndADifferentOneAnother) {
  intake::v1::IssueApologyRequest req;
  req.set_name("dossiers/001.08.19.H26-261207-0001");
  req.mutable_new_appointment_time()->set_seconds(1796634000);
  req.set_reason("Chờ xác minh nơi cư trú");
  const std::string first = *CommandRequestId(req, "", "issue-apology");
  EXPECT_TRUE(common::IsUuid(first)) << first;
  EXPECT_EQ(*CommandRequestId(req, "", "issue-apology"), first);
  // Another reason, or the same request for another purpose: another id.
  intake::v1::IssueApologyRequest later = req;
  later.set_reason("Chờ kết quả giám định");
  EXPECT_NE(*CommandRequestId(later, "", "issue-apology"), first);
  EXPECT_NE(*CommandRequestId(req, "", "other"), first);
  const std::string flag = "3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8";
  EXPECT_EQ(*CommandRequestId(req, flag, "issue-apology"), flag);
  EXPECT_EQ(
      CommandRequestId(req, "not-a-uuid", "issue-apology").status().message(),
      "--request_id must be a UUID (8-4-4-4-12 hex digits)");
}

TEST(RequestIdTest, ARetryHintNamesWhatToRerunAndWhereTheIdCameFrom) {
  const std::string id = "3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8";
  EXPECT_EQ(RetryHint(absl::UnavailableError("x"), id, "the same command",
                      "--request_id"),
            absl::StrCat("request_id ", id,
                         ": rerun with the same command (or --request_id=", id,
                         ") to retry safely"));
  EXPECT_THAT(
      RetryHint(common::InvalidArgument("REQUEST_ID_REUSED",
                                        {{"request_id", "already used"}}),
                id, "the same command", "--request_id"),
      HasSubstr("Remove or change the request_id (--request_id)"));
  EXPECT_EQ(RetryHint(absl::FailedPreconditionError("x"), id,
                      "the same command", "--request_id"),
            "");
}

}  // namespace
}  // namespace lienthong::cli
