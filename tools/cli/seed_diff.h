#pragma once

// Seeding decisions: what a re-run of `lienthong seed` may skip, and the
// request ids of the upserts it does send. Every upsert writes an audit row
// (and, for procedures, a new version), so an unchanged entry must cost
// nothing.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lienthong/intake/v1/resources.pb.h"

namespace lienthong::cli {

enum class SeedStep { kSkip, kUpsert };

// Whether the seed file's agency equals the stored one in what a seed file
// sets. Output-only fields (name, administrative_unit, ancestor_codes) are
// the server's and never make them differ.
bool SameAgency(const intake::v1::Agency& seed,
                const intake::v1::Agency& stored);

// Whether the seed file's procedure equals the version in force, ignoring
// the server's name and version (and the effective time it fills in when
// the file gives none).
bool SameProcedure(const intake::v1::Procedure& seed,
                   const intake::v1::Procedure& stored);

// From what GetAgency / GetProcedure answered (`got`, and `stored` when it
// is OK): NOT_FOUND -> upsert; equal -> skip; different -> upsert. Any other
// error is returned: an upsert after UNAVAILABLE or PERMISSION_DENIED would
// be blind, and for procedures add a version identical to the one in force.
absl::StatusOr<SeedStep> DecideAgency(const absl::Status& got,
                                      const intake::v1::Agency& stored,
                                      const intake::v1::Agency& seed);
absl::StatusOr<SeedStep> DecideProcedure(const absl::Status& got,
                                         const intake::v1::Procedure& stored,
                                         const intake::v1::Procedure& seed);

// Request ids for the upserts, from the seed entry and what it replaces
// (the stored agency, the version in force; empty/0 when none). A retry of
// the same change reuses the id. An agency has no version that only grows,
// so its id also carries the seed run (`run_id`, one per `seed` command):
// the same stray rename undone again in a later run is a new request, not
// a replay of the first undoing (which the server would answer without
// writing). Reruns write nothing anyway when the stored agency is equal.
std::string AgencyUpsertRequestId(const intake::v1::Agency& seed,
                                  const intake::v1::Agency* stored,
                                  absl::string_view run_id);
std::string ProcedureUpsertRequestId(const intake::v1::Procedure& seed,
                                     int stored_version);

}  // namespace lienthong::cli
