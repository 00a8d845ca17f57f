#include "services/intake/audit_chain.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/db/migrations.h"

namespace lienthong::intake {

namespace {

// A field as it goes between the unit separators: a separator (or the
// escape itself) inside it is escaped, so no bytes can move from one field
// to the next without changing the hash (a caller chooses its request_id
// and the names it asks for). A field with neither, which is every one
// written before this, reads as it did.
std::string Field(const std::string& f) {
  if (f.find_first_of("\x1e\x1f") == std::string::npos) return f;
  std::string out;
  for (const char c : f) {
    if (c == '\x1e' || c == '\x1f') out += '\x1e';
    out += c;
  }
  return out;
}

}  // namespace

std::string AuditHash(const v1::AuditEntry& e) {
  // Unit separators keep field boundaries unambiguous.
  const std::string canonical = absl::StrJoin(
      {absl::StrCat(e.sequence()),
       absl::StrCat(e.time().seconds(), ".", e.time().nanos()),
       Field(e.actor_agency()), Field(e.actor_subject()), Field(e.actor_role()),
       Field(e.peer()), Field(e.action()), Field(e.resource()),
       Field(e.outcome()), Field(e.request_id()), Field(e.prev_hash())},
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
    c.problem =
        absl::StrCat("entries ", want_seq, " to ", end_seq, " are missing");
  }
  return c;
}

}  // namespace lienthong::intake
