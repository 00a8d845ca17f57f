#pragma once

// THE conversion between absl::Status (with libs/common/errors.h details)
// and grpc::Status. The gRPC side carries a google.rpc.Status in the binary
// error details with exactly one google.rpc.ErrorInfo, a BadRequest when
// there are field violations, and a LocalizedMessage (vi-VN) when the
// domain code attached one.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"

namespace lienthong::grpc_util {

// `domain` (e.g. "lienthong.intake") is used unless the status names its own.
grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view domain);

// The same as a google.rpc.Status message, for a status carried inside a
// response (one item of a batch); OK is code 0 and nothing else.
google::rpc::Status ToRpcStatus(const absl::Status& status,
                                absl::string_view domain);
absl::Status FromRpcStatus(const google::rpc::Status& status);

// Reads a grpc::Status (from a client call) back into an absl::Status with
// its details.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace lienthong::grpc_util
