#pragma once

// intake's audit trail in PostgreSQL: entries written by the requests'
// transactions (intake.audit, insert-only) and the hash chain the sealer
// builds over them (intake.audit_chain, intake.audit_seal;
// migrations/0005_audit_chain_insert_only.sql). Every function runs inside
// the caller's transaction.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "lienthong/intake/v1/resources.pb.h"
#include "pqxx/pqxx"

namespace lienthong::intake::pg {

// Audit (append-only, hash-chained). AppendAudit writes an unsealed entry
// in the caller's transaction; SealAudit chains up to `limit` unsealed
// entries of finished transactions, in (transaction id, id) order, by
// inserting their places into intake.audit_chain (one sealer at a time: an
// advisory lock), and returns how many. Entries of a transaction still
// running wait for a later pass. ListAudit returns sealed entries only.
void AppendAudit(pqxx::work& tx, const v1::AuditEntry& e);
int SealAudit(pqxx::work& tx, int limit);
// The transaction id below which every transaction of this database is
// over, given `own`, the calling transaction's id (taken before the call).
std::string AuditSealHorizon(pqxx::work& tx, const std::string& own);
// Where the sealer recorded the chain's end (seq 0 and "" when empty).
struct SealedEnd {
  int64_t seq = 0;
  std::string hash;
};
SealedEnd AuditSealedEnd(pqxx::work& tx);
// Committed entries not sealed yet, and how long the oldest has waited
// (0 when none) at `now`.
struct AuditBacklog {
  int64_t entries = 0;
  double oldest_age_seconds = 0;
};
AuditBacklog UnsealedAudit(pqxx::work& tx, absl::Time now);
// With `subtree` (an agency path), only the entries made by an agency of
// it or about a dossier received in it.
std::vector<v1::AuditEntry> ListAudit(pqxx::work& tx,
                                      const std::string& resource,
                                      int64_t after_seq, int limit,
                                      const std::string& subtree = "");

}  // namespace lienthong::intake::pg
