#include "services/intake/audit_chain.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/db/migrations.h"

namespace lienthong::intake {

std::string AuditHash(const v1::AuditEntry& e) {
  // Unit separators keep field boundaries unambiguous.
  const std::string canonical = absl::StrJoin(
      {absl::StrCat(e.sequence()),
       absl::StrCat(e.time().seconds(), ".", e.time().nanos()),
       e.actor_agency(), e.actor_subject(), e.actor_role(), e.peer(),
       e.action(), e.resource(), e.outcome(), e.request_id(), e.prev_hash()},
      "\x1f");
  return db::Sha256Hex(canonical);
}

ChainCheck VerifyChain(const std::vector<v1::AuditEntry>& entries,
                       int64_t end_seq, const std::string& end_hash) {
  ChainCheck c;
  std::string prev;
  int64_t want_seq = 1;
  for (const v1::AuditEntry& e : entries) {
    ++c.checked;
    if (e.sequence() != want_seq) {
      c.intact = false;
      c.first_bad_sequence = want_seq;
      c.problem = absl::StrCat("entry ", want_seq, " is missing");
      return c;
    }
    if (e.prev_hash() != prev) {
      c.intact = false;
      c.first_bad_sequence = e.sequence();
      c.problem = "link to the previous entry does not match";
      return c;
    }
    if (AuditHash(e) != e.hash()) {
      c.intact = false;
      c.first_bad_sequence = e.sequence();
      c.problem = "hash does not match the entry's content";
      return c;
    }
    if (e.sequence() == end_seq && e.hash() != end_hash) {
      c.intact = false;
      c.first_bad_sequence = e.sequence();
      c.problem = "the chain's recorded end does not match this entry";
      return c;
    }
    prev = e.hash();
    ++want_seq;
  }
  if (want_seq <= end_seq) {
    c.intact = false;
    c.first_bad_sequence = want_seq;
    c.problem = absl::StrCat("entries ", want_seq, " to ", end_seq,
                             " are missing");
  }
  return c;
}

}  // namespace lienthong::intake
