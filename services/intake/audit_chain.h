#pragma once

// The append-only audit trail is hash-chained: each entry carries the
// SHA-256 of the previous entry and its own hash over its fields and that
// link. Altering or deleting any row breaks the chain from there on. Pure.

#include <vector>

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

// `entries` in sequence order from 1. With `end_seq` > 0 (the end the
// sealer recorded, read before the entries), the chain must also reach
// `end_seq` and have `end_hash` there: entries cut off its tail leave no gap.
ChainCheck VerifyChain(const std::vector<v1::AuditEntry>& entries,
                       int64_t end_seq = 0, const std::string& end_hash = "");

}  // namespace lienthong::intake
