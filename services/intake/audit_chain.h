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

// `entries` in sequence order from 1.
ChainCheck VerifyChain(const std::vector<v1::AuditEntry>& entries);

}  // namespace lienthong::intake
