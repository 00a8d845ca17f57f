#pragma once

// gMock matchers for statuses:
//   EXPECT_THAT(Withdraw(returned),
//   StatusIs(absl::StatusCode::kFailedPrecondition)); EXPECT_THAT(Submit(d),
//   IsOk()); EXPECT_THAT(stub->Call(...),
//   GrpcStatusIs(grpc::StatusCode::NOT_FOUND));

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "grpcpp/support/status.h"
#include "libs/common/errors.h"

namespace lienthong::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER_P(StatusIs, code,
          std::string("has status code ") +
              absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher, "has status code and message") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::Matches(message_matcher)(std::string(s.message()));
}

MATCHER_P2(StatusHasReason, code, reason,
           "has status code and ErrorInfo reason") {
  const absl::Status& s = GetStatus(arg);
  const std::string got = common::GetErrorDetails(s).reason;
  *result_listener << "status is " << s << " reason " << got;
  return s.code() == code && got == reason;
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(GrpcStatusIs, code, "has gRPC status code") {
  *result_listener << "status is " << static_cast<int>(arg.error_code()) << " "
                   << arg.error_message();
  return arg.error_code() == code;
}

}  // namespace lienthong::testing
