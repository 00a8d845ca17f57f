#include "services/intake/audit_chain.h"

#include <utility>

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

ChainVerifier::ChainVerifier(int64_t end_seq, std::string end_hash)
    : end_seq_(end_seq), end_hash_(std::move(end_hash)) {}

void ChainVerifier::Break(int64_t sequence, std::string problem) {
  check_.intact = false;
  check_.first_bad_sequence = sequence;
  check_.problem = std::move(problem);
}

void ChainVerifier::Feed(absl::Span<const v1::AuditEntry> entries) {
  if (!check_.intact) return;
  for (const v1::AuditEntry& e : entries) {
    ++check_.checked;  // the entry that breaks the chain counts too
    if (e.sequence() != want_seq_) {
      Break(want_seq_, absl::StrCat("entry ", want_seq_, " is missing"));
    } else if (e.prev_hash() != prev_) {
      Break(e.sequence(), "link to the previous entry does not match");
    } else if (AuditHash(e) != e.hash()) {
      Break(e.sequence(), "hash does not match the entry's content");
    } else if (e.sequence() == end_seq_ && e.hash() != end_hash_) {
      Break(e.sequence(), "the chain's recorded end does not match this entry");
    }
    if (!check_.intact) return;
    prev_ = e.hash();
    ++want_seq_;
  }
}

ChainCheck ChainVerifier::Finish() const {
  ChainCheck c = check_;
  if (c.intact && want_seq_ <= end_seq_) {
    c.intact = false;
    c.first_bad_sequence = want_seq_;
    c.problem =
        absl::StrCat("entries ", want_seq_, " to ", end_seq_, " are missing");
  }
  return c;
}

ChainCheck VerifyChain(const std::vector<v1::AuditEntry>& entries,
                       int64_t end_seq, const std::string& end_hash) {
  ChainVerifier v(end_seq, end_hash);
  v.Feed(entries);
  return v.Finish();
}

}  // namespace lienthong::intake
