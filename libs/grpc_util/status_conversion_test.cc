#include "libs/grpc_util/status_conversion.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "libs/common/errors.h"

namespace lienthong::grpc_util {
namespace {

TEST(StatusConversionTest, RoundTripsCodeMessageErrorInfoAndViolations) {
  absl::Status s = common::InvalidArgument(
      "MISSING_FIELD", {{"dossier.applicant.phone", "required"},
                        {"dossier.fields[child_name]", "must not be empty"}});
  s = common::WithLocalizedMessage(s, "Hồ sơ thiếu số điện thoại.");
  const grpc::Status g = ToGrpcStatus(s, "lienthong.intake");
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(g.error_message(), std::string(s.message()));

  // The wire form is a google.rpc.Status with one ErrorInfo.
  google::rpc::Status proto;
  ASSERT_TRUE(proto.ParseFromString(g.error_details()));
  int infos = 0;
  for (const auto& any : proto.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) {
      ++infos;
      EXPECT_EQ(info.reason(), "MISSING_FIELD");
      EXPECT_EQ(info.domain(), "lienthong.intake");
    }
  }
  EXPECT_EQ(infos, 1);

  const absl::Status back = FromGrpcStatus(g);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.message(), s.message());
  const common::ErrorDetails d = common::GetErrorDetails(back);
  EXPECT_EQ(d.reason, "MISSING_FIELD");
  EXPECT_EQ(d.domain, "lienthong.intake");
  ASSERT_EQ(d.field_violations.size(), 2u);
  EXPECT_EQ(d.field_violations[0].field, "dossier.applicant.phone");
  EXPECT_EQ(d.field_violations[1].description, "must not be empty");
  EXPECT_EQ(d.localized_message, "Hồ sơ thiếu số điện thoại.");
}

TEST(StatusConversionTest, MetadataSurvivesAndOwnDomainWins) {
  common::ErrorDetails details;
  details.reason = "ILLEGAL_TRANSITION";
  details.domain = "lienthong.routing";
  details.metadata = {{"state", "DONE"}, {"task", "tasks/7"}};
  const absl::Status s = common::MakeError(
      absl::StatusCode::kFailedPrecondition, "task is DONE", details);
  const absl::Status back = FromGrpcStatus(ToGrpcStatus(s, "lienthong.intake"));
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(common::GetErrorDetails(back), details);
}

TEST(StatusConversionTest, OkIsOkAndPlainErrorsGetAReason) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus(), "d").ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  const absl::Status back = FromGrpcStatus(
      ToGrpcStatus(absl::UnavailableError("db down"), "lienthong.notify"));
  EXPECT_EQ(back.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(common::GetErrorDetails(back).reason, "UNAVAILABLE");
  // A status from a server that sends no details still converts.
  EXPECT_EQ(
      FromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "x")).code(),
      absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace lienthong::grpc_util
