#pragma once

// The agency simulator's rules that need no server: when a dossier is a
// home birth, which errors are worth a retry, and how long to back off.

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"

namespace lienthong::agency_sim {

// `s` lower-cased and without diacritics, "đ" as "d", runs of spaces as
// one: "Tại nhà", "TẠI NHÀ", the same typed with combining marks, and
// "Tai nha" all fold to "tai nha". Other text passes through unchanged.
std::string FoldVietnamese(absl::string_view s);

// Whether a place of birth says the child was born at home ("Tại nhà, ...",
// however it is cased or accented). A maternity home ("nhà hộ sinh") is a
// health facility, not a home.
bool IsHomeBirth(absl::string_view place_of_birth);

// Worth retrying with the same request_id: the server may not have seen
// the call (UNAVAILABLE), may have applied it without answering in time
// (DEADLINE_EXCEEDED; the retry returns the first response), or hit a
// serialization conflict (ABORTED).
bool IsTransient(grpc::StatusCode code);

// The wait before retry number `attempt` (0 for the first retry):
// `initial` doubled each time, capped at `max`.
absl::Duration Backoff(int attempt, absl::Duration initial, absl::Duration max);

}  // namespace lienthong::agency_sim
