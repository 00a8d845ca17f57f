#pragma once

// Domain errors with the structure clients branch on. Domain code names a
// reason (UPPER_SNAKE) and, for bad input, the offending fields; the single
// conversion in grpc_util/status_conversion.cc turns these into a
// grpc::Status carrying google.rpc.ErrorInfo, BadRequest and LocalizedMessage.
// This file depends on abseil only: the details ride as absl::Status payloads.

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace lienthong::common {

struct FieldViolation {
  std::string field;        // e.g. "dossier.applicant.phone"
  std::string description;  // English, for the integrator
  bool operator==(const FieldViolation&) const = default;
};

struct ErrorDetails {
  std::string reason;  // UPPER_SNAKE, e.g. "ILLEGAL_TRANSITION"
  std::string domain;  // e.g. "lienthong.intake"; may be left to the server
  std::map<std::string, std::string> metadata;
  std::vector<FieldViolation> field_violations;
  std::string localized_message;  // Vietnamese, for officers (vi-VN)
  bool operator==(const ErrorDetails&) const = default;
};

using Metadata = std::map<std::string, std::string>;

// Builds a status with `code`, an English `message` and structured details.
absl::Status MakeError(absl::StatusCode code, absl::string_view message,
                       const ErrorDetails& details);

// Reads the details back; empty fields when the status carries none.
ErrorDetails GetErrorDetails(const absl::Status& status);

// Returns `status` with a Vietnamese message for officers attached.
absl::Status WithLocalizedMessage(absl::Status status, absl::string_view vi);

// INVALID_ARGUMENT listing every violation at once.
absl::Status InvalidArgument(absl::string_view reason,
                             std::vector<FieldViolation> violations,
                             absl::string_view message = "");
absl::Status FailedPrecondition(absl::string_view reason,
                                absl::string_view message, Metadata md = {});
absl::Status NotFound(absl::string_view reason, absl::string_view message,
                      Metadata md = {});
absl::Status AlreadyExists(absl::string_view reason, absl::string_view message,
                           Metadata md = {});
absl::Status PermissionDenied(absl::string_view reason,
                              absl::string_view message, Metadata md = {});
absl::Status Unauthenticated(absl::string_view reason,
                             absl::string_view message, Metadata md = {});
absl::Status ResourceExhausted(absl::string_view reason,
                               absl::string_view message, Metadata md = {});
absl::Status Unavailable(absl::string_view reason, absl::string_view message,
                         Metadata md = {});
absl::Status Aborted(absl::string_view reason, absl::string_view message,
                     Metadata md = {});
absl::Status Internal(absl::string_view reason, absl::string_view message,
                      Metadata md = {});

}  // namespace lienthong::common
