#pragma once

// Request ids the CLI sends when the officer gives none. They are derived
// from the request itself, so re-running the same command after a lost
// answer (DEADLINE_EXCEEDED, a dropped connection) is a retry that the
// server answers with the first response, never a second dossier.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "lienthong/intake/v1/intake_service.pb.h"

namespace lienthong::cli {

// common::Version8Uuid of m's type name, `context` and m's deterministic
// serialization: equal messages (however their files were written, JSON or
// YAML, keys in any order) give equal ids; the context keeps ids of
// different purposes apart.
std::string DeterministicUuid(const google::protobuf::Message& m,
                              absl::string_view context = "");

// The request id a submit sends: --request_id when given (a UUID), else the
// file's `request_id`, else DeterministicUuid of the request. A flag that
// contradicts the file is an error: one of them would be ignored silently.
absl::StatusOr<std::string> SubmitRequestId(
    const intake::v1::SubmitDossierRequest& req, absl::string_view flag);

// The request id issue-apology sends: --request_id when given (a UUID),
// else DeterministicUuid of `req` (whose request_id is empty) with
// `context`, so rerunning the same command is a retry of the first.
absl::StatusOr<std::string> CommandRequestId(
    const google::protobuf::Message& req, absl::string_view flag,
    absl::string_view context);

// What a failed call sent with `request_id` should print after the error,
// or "" for nothing: `rerun` names what to run again ("the same file"),
// `id_source` where the id came from ("the file's request_id or
// --request_id"). Only a failure that may have lost the answer
// (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, INTERNAL, RESOURCE_EXHAUSTED)
// is worth rerunning; REQUEST_ID_REUSED asks for another id.
std::string RetryHint(const absl::Status& status, absl::string_view request_id,
                      absl::string_view rerun, absl::string_view id_source);

// What a failed submit sent with `request_id` should print after the
// error, or "" for nothing. Only a failure that may have lost the answer
// (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, INTERNAL, RESOURCE_EXHAUSTED)
// is worth rerunning: a refused request is refused again. REQUEST_ID_REUSED
// means the request changed under an id already used, so a rerun with the
// same id can never succeed: the id has to go or change.
std::string SubmitFailureHint(const absl::Status& status,
                              absl::string_view request_id);

}  // namespace lienthong::cli
