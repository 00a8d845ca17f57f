#include "tools/cli/request_id.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "libs/common/errors.h"
#include "libs/common/uuid.h"

namespace lienthong::cli {
namespace {

// Field order is fixed by field numbers, but map entries are not ordered
// unless asked: deterministic serialization orders them.
std::string DeterministicBytes(const google::protobuf::Message& m) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    m.SerializePartialToCodedStream(&out);
  }
  return bytes;
}

}  // namespace

std::string DeterministicUuid(const google::protobuf::Message& m,
                              absl::string_view context) {
  // NUL separators: no type name or context is a prefix of another's.
  return common::Version8Uuid(
      absl::StrCat(m.GetDescriptor()->full_name(), absl::string_view("\0", 1),
                   context, absl::string_view("\0", 1), DeterministicBytes(m)));
}

absl::StatusOr<std::string> SubmitRequestId(
    const intake::v1::SubmitDossierRequest& req, absl::string_view flag) {
  if (!flag.empty()) {
    if (!common::IsUuid(flag)) {
      return absl::InvalidArgumentError(
          "--request_id must be a UUID (8-4-4-4-12 hex digits)");
    }
    if (!req.request_id().empty() && req.request_id() != flag) {
      return absl::InvalidArgumentError(
          "--request_id differs from the file's request_id; give one of "
          "them");
    }
    return std::string(flag);
  }
  if (!req.request_id().empty()) return req.request_id();
  return DeterministicUuid(req);  // request_id is empty: not part of it
}

absl::StatusOr<std::string> CommandRequestId(
    const google::protobuf::Message& req, absl::string_view flag,
    absl::string_view context) {
  if (flag.empty()) return DeterministicUuid(req, context);
  if (!common::IsUuid(flag)) {
    return absl::InvalidArgumentError(
        "--request_id must be a UUID (8-4-4-4-12 hex digits)");
  }
  return std::string(flag);
}

std::string SubmitFailureHint(const absl::Status& status,
                              absl::string_view request_id) {
  return RetryHint(status, request_id, "the same file",
                   "the file's request_id or --request_id");
}

std::string RetryHint(const absl::Status& status, absl::string_view request_id,
                      absl::string_view rerun, absl::string_view id_source) {
  // Clients branch on the reason, never on the message (STYLE.md).
  if (absl::IsInvalidArgument(status) &&
      common::GetErrorDetails(status).reason == "REQUEST_ID_REUSED") {
    return absl::StrCat(
        "request_id ", request_id,
        " was already used for a different request: the request changed "
        "since. Remove or change the request_id (",
        id_source, ") to send it as a new request");
  }
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kResourceExhausted:
      // Whatever happened to the first try, the same id cannot make a
      // second dossier: the server answers a repeat with the first
      // response.
      return absl::StrCat("request_id ", request_id, ": rerun with ", rerun,
                          " (or --request_id=", request_id,
                          ") to retry safely");
    default:
      return "";
  }
}

}  // namespace lienthong::cli
