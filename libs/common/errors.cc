#include "libs/common/errors.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace lienthong::common {
namespace {

constexpr absl::string_view kReasonUrl = "lienthong.dev/error/reason";
constexpr absl::string_view kDomainUrl = "lienthong.dev/error/domain";
constexpr absl::string_view kMetadataUrl = "lienthong.dev/error/metadata";
constexpr absl::string_view kViolationsUrl = "lienthong.dev/error/violations";
constexpr absl::string_view kLocalizedUrl = "lienthong.dev/error/localized";

// Pairs are encoded as <len>:<bytes><len>:<bytes>...; no separator can
// collide with Vietnamese text or field paths.
void AppendField(std::string& out, absl::string_view s) {
  absl::StrAppend(&out, s.size(), ":", s);
}

std::string EncodePairs(
    const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  for (const auto& [k, v] : pairs) {
    AppendField(out, k);
    AppendField(out, v);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> DecodePairs(
    absl::string_view in) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> fields;
  while (!in.empty()) {
    const size_t colon = in.find(':');
    if (colon == absl::string_view::npos) break;
    size_t len = 0;
    for (size_t i = 0; i < colon; ++i) {
      if (in[i] < '0' || in[i] > '9') return out;
      len = len * 10 + static_cast<size_t>(in[i] - '0');
    }
    if (in.size() < colon + 1 + len) break;
    fields.emplace_back(in.substr(colon + 1, len));
    in.remove_prefix(colon + 1 + len);
  }
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    out.emplace_back(fields[i], fields[i + 1]);
  }
  return out;
}

std::optional<std::string> Payload(const absl::Status& s,
                                   absl::string_view url) {
  absl::optional<absl::Cord> c = s.GetPayload(url);
  if (!c.has_value()) return std::nullopt;
  return std::string(*c);
}

absl::Status Simple(absl::StatusCode code, absl::string_view reason,
                    absl::string_view message, Metadata md) {
  ErrorDetails d;
  d.reason = std::string(reason);
  d.metadata = std::move(md);
  return MakeError(code, message, d);
}

}  // namespace

absl::Status MakeError(absl::StatusCode code, absl::string_view message,
                       const ErrorDetails& details) {
  absl::Status s(code, message);
  if (s.ok()) return s;
  if (!details.reason.empty()) {
    s.SetPayload(kReasonUrl, absl::Cord(details.reason));
  }
  if (!details.domain.empty()) {
    s.SetPayload(kDomainUrl, absl::Cord(details.domain));
  }
  if (!details.metadata.empty()) {
    std::vector<std::pair<std::string, std::string>> pairs(
        details.metadata.begin(), details.metadata.end());
    s.SetPayload(kMetadataUrl, absl::Cord(EncodePairs(pairs)));
  }
  if (!details.field_violations.empty()) {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const FieldViolation& v : details.field_violations) {
      pairs.emplace_back(v.field, v.description);
    }
    s.SetPayload(kViolationsUrl, absl::Cord(EncodePairs(pairs)));
  }
  if (!details.localized_message.empty()) {
    s.SetPayload(kLocalizedUrl, absl::Cord(details.localized_message));
  }
  return s;
}

ErrorDetails GetErrorDetails(const absl::Status& status) {
  ErrorDetails d;
  if (auto r = Payload(status, kReasonUrl)) d.reason = *r;
  if (auto r = Payload(status, kDomainUrl)) d.domain = *r;
  if (auto r = Payload(status, kMetadataUrl)) {
    for (auto& [k, v] : DecodePairs(*r)) d.metadata[k] = v;
  }
  if (auto r = Payload(status, kViolationsUrl)) {
    for (auto& [k, v] : DecodePairs(*r)) {
      d.field_violations.push_back({k, v});
    }
  }
  if (auto r = Payload(status, kLocalizedUrl)) d.localized_message = *r;
  return d;
}

absl::Status WithLocalizedMessage(absl::Status status, absl::string_view vi) {
  if (!status.ok()) status.SetPayload(kLocalizedUrl, absl::Cord(vi));
  return status;
}

absl::Status InvalidArgument(absl::string_view reason,
                             std::vector<FieldViolation> violations,
                             absl::string_view message) {
  ErrorDetails d;
  d.reason = std::string(reason);
  std::string msg(message);
  if (msg.empty()) {
    std::vector<std::string> parts;
    for (const FieldViolation& v : violations) {
      parts.push_back(absl::StrCat(v.field, ": ", v.description));
    }
    msg = absl::StrCat("invalid request: ", absl::StrJoin(parts, "; "));
  }
  d.field_violations = std::move(violations);
  return MakeError(absl::StatusCode::kInvalidArgument, msg, d);
}

#define LT_DEFINE_ERROR(Name, Code)                                        \
  absl::Status Name(absl::string_view reason, absl::string_view message,   \
                    Metadata md) {                                         \
    return Simple(absl::StatusCode::Code, reason, message, std::move(md)); \
  }
LT_DEFINE_ERROR(FailedPrecondition, kFailedPrecondition)
LT_DEFINE_ERROR(NotFound, kNotFound)
LT_DEFINE_ERROR(AlreadyExists, kAlreadyExists)
LT_DEFINE_ERROR(PermissionDenied, kPermissionDenied)
LT_DEFINE_ERROR(Unauthenticated, kUnauthenticated)
LT_DEFINE_ERROR(ResourceExhausted, kResourceExhausted)
LT_DEFINE_ERROR(Unavailable, kUnavailable)
LT_DEFINE_ERROR(Aborted, kAborted)
LT_DEFINE_ERROR(Internal, kInternal)
#undef LT_DEFINE_ERROR

}  // namespace lienthong::common
