#include "tools/cli/seed_diff.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "tools/cli/request_id.h"

namespace lienthong::cli {
namespace {

using google::protobuf::util::MessageDifferencer;

intake::v1::Agency Comparable(intake::v1::Agency a) {
  a.clear_name();
  a.clear_administrative_unit();
  a.clear_ancestor_codes();
  return a;
}

absl::StatusOr<SeedStep> Decide(const absl::Status& got, bool same) {
  if (absl::IsNotFound(got)) return SeedStep::kUpsert;
  if (!got.ok()) return got;
  return same ? SeedStep::kSkip : SeedStep::kUpsert;
}

}  // namespace

bool SameAgency(const intake::v1::Agency& seed,
                const intake::v1::Agency& stored) {
  return MessageDifferencer::Equals(Comparable(seed), Comparable(stored));
}

bool SameProcedure(const intake::v1::Procedure& seed,
                   const intake::v1::Procedure& stored) {
  intake::v1::Procedure a = seed;
  intake::v1::Procedure b = stored;
  for (intake::v1::Procedure* p : {&a, &b}) {
    p->clear_name();
    p->clear_version();
  }
  if (!a.has_effective_time()) b.clear_effective_time();
  return MessageDifferencer::Equals(a, b);
}

absl::StatusOr<SeedStep> DecideAgency(const absl::Status& got,
                                      const intake::v1::Agency& stored,
                                      const intake::v1::Agency& seed) {
  return Decide(got, got.ok() && SameAgency(seed, stored));
}

absl::StatusOr<SeedStep> DecideProcedure(const absl::Status& got,
                                         const intake::v1::Procedure& stored,
                                         const intake::v1::Procedure& seed) {
  return Decide(got, got.ok() && SameProcedure(seed, stored));
}

std::string AgencyUpsertRequestId(const intake::v1::Agency& seed,
                                  const intake::v1::Agency* stored,
                                  absl::string_view run_id) {
  const std::string before =
      stored == nullptr ? "none" : DeterministicUuid(Comparable(*stored));
  return DeterministicUuid(
      Comparable(seed),
      absl::StrCat("seed run ", run_id, " replacing ", before));
}

std::string ProcedureUpsertRequestId(const intake::v1::Procedure& seed,
                                     int stored_version) {
  return DeterministicUuid(seed,
                           absl::StrCat("seed after version ", stored_version));
}

}  // namespace lienthong::cli
