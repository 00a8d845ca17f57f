#pragma once

// The append-only audit trail is hash-chained: each entry carries the
// SHA-256 of the previous entry and its own hash over its fields and that
// link. Altering or deleting any row breaks the chain from there on. Pure.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "lienthong/intake/v1/resources.pb.h"

namespace lienthong::intake {

// The hash of `e` (its `hash` field ignored), chained to e.prev_hash().
std::string AuditHash(const v1::AuditEntry& e);

struct ChainCheck {
  bool intact = true;
  int64_t checked = 0;
  int64_t first_bad_sequence = 0;
  std::string problem;
};

// Verifies a chain fed in pieces, in sequence order from 1, holding only
// the last hash and the sequence it expects next: a city's trail has
// millions of entries, read page by page. How the entries are split into
// pieces does not change the result.
//
//   ChainVerifier v(end.seq, end.hash);
//   while (v.intact() && <another page>) v.Feed(page);
//   ChainCheck c = v.Finish();
class ChainVerifier {
 public:
  // With `end_seq` > 0 (the end the sealer recorded, read before the
  // entries), the chain must also reach `end_seq` and have `end_hash` there:
  // entries cut off its tail leave no gap. Entries past it (sealed after it
  // was read) are checked like the others.
  explicit ChainVerifier(int64_t end_seq = 0, std::string end_hash = "");

  // Checks the next entries. Once the chain is broken, the entries fed
  // after are ignored (the first break is the one reported).
  void Feed(absl::Span<const v1::AuditEntry> entries);

  // False from the first break on: the caller may stop reading.
  bool intact() const { return check_.intact; }

  // The result, once every entry was fed: a chain short of the recorded
  // end is broken there.
  ChainCheck Finish() const;

 private:
  void Break(int64_t sequence, std::string problem);

  const int64_t end_seq_;
  const std::string end_hash_;
  ChainCheck check_;
  std::string prev_;  // the hash of the last entry checked
  int64_t want_seq_ = 1;
};

// The whole chain at once: a ChainVerifier fed `entries` as one piece.
ChainCheck VerifyChain(const std::vector<v1::AuditEntry>& entries,
                       int64_t end_seq = 0, const std::string& end_hash = "");

}  // namespace lienthong::intake
