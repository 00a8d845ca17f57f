#include "libs/common/errors.h"

#include "gtest/gtest.h"

namespace lienthong::common {
namespace {

TEST(ErrorsTest, InvalidArgumentCarriesEveryViolation) {
  const absl::Status s = InvalidArgument(
      "MISSING_FIELD", {{"dossier.applicant.phone", "required"},
                        {"dossier.fields[child_name]", "must not be empty"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  const ErrorDetails d = GetErrorDetails(s);
  EXPECT_EQ(d.reason, "MISSING_FIELD");
  ASSERT_EQ(d.field_violations.size(), 2u);
  EXPECT_EQ(d.field_violations[1].field, "dossier.fields[child_name]");
  EXPECT_NE(s.message().find("dossier.applicant.phone: required"),
            std::string::npos);
}

TEST(ErrorsTest, MetadataAndLocalizedMessageRoundTrip) {
  absl::Status s = FailedPrecondition(
      "ILLEGAL_TRANSITION", "dossier is RETURNED",
      {{"state", "RETURNED"}, {"note", "có dấu: 5:3 colon"}});
  s = WithLocalizedMessage(s, "Hồ sơ đã trả kết quả, không thể rút.");
  const ErrorDetails d = GetErrorDetails(s);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(d.metadata.at("state"), "RETURNED");
  EXPECT_EQ(d.metadata.at("note"), "có dấu: 5:3 colon");
  EXPECT_EQ(d.localized_message, "Hồ sơ đã trả kết quả, không thể rút.");
}

TEST(ErrorsTest, OkStatusHasNoDetails) {
  EXPECT_EQ(GetErrorDetails(absl::OkStatus()), ErrorDetails{});
  EXPECT_TRUE(MakeError(absl::StatusCode::kOk, "", {{"R"}}).ok());
}

TEST(ErrorsTest, EachHelperUsesItsCanonicalCode) {
  EXPECT_EQ(NotFound("X", "m").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(AlreadyExists("X", "m").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(PermissionDenied("X", "m").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Unavailable("X", "m").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ResourceExhausted("X", "m").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Aborted("X", "m").code(), absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace lienthong::common
