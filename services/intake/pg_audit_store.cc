#include "services/intake/pg_audit_store.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/db/prepared.h"
#include "services/intake/audit_chain.h"
#include "services/intake/pg_intake_store.h"

namespace lienthong::intake::pg {

void AppendAudit(pqxx::work& tx, const v1::AuditEntry& e) {
  // No lock, no read: SealAudit chains it after the commit.
  db::ExecPrepared(
      tx,
      "INSERT INTO intake.audit (at, at_nanos, actor_agency, actor_subject, "
      "actor_role, peer, action, resource, outcome, request_id) VALUES "
      "(to_timestamp($1), $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      e.time().seconds(), e.time().nanos(), e.actor_agency(), e.actor_subject(),
      e.actor_role(), e.peer(), e.action(), e.resource(), e.outcome(),
      e.request_id());
}

namespace {

constexpr char kAuditColumns[] =
    "EXTRACT(EPOCH FROM date_trunc('second', at))::bigint, at_nanos, "
    "actor_agency, actor_subject, actor_role, peer, action, resource, "
    "outcome, request_id";

// Reads kAuditColumns starting at column `i`.
v1::AuditEntry AuditFromRow(const pqxx::row& row, int i) {
  v1::AuditEntry e;
  e.mutable_time()->set_seconds(row[i].as<int64_t>());
  e.mutable_time()->set_nanos(row[i + 1].as<int>());
  e.set_actor_agency(row[i + 2].as<std::string>());
  e.set_actor_subject(row[i + 3].as<std::string>());
  e.set_actor_role(row[i + 4].as<std::string>());
  e.set_peer(row[i + 5].as<std::string>());
  e.set_action(row[i + 6].as<std::string>());
  e.set_resource(row[i + 7].as<std::string>());
  e.set_outcome(row[i + 8].as<std::string>());
  e.set_request_id(row[i + 9].as<std::string>());
  return e;
}

// intake.audit_seal: the last sealed entry's (xid, id) and the chain's end.
struct SealState {
  std::string xid;
  int64_t id = 0;
  SealedEnd end;
};

SealState ReadSealState(pqxx::work& tx) {
  pqxx::result r =
      tx.exec("SELECT xid::text, id, seq, hash FROM intake.audit_seal");
  if (r.size() != 1) {
    throw std::runtime_error("intake.audit_seal must hold exactly one row");
  }
  SealState s;
  s.xid = r[0][0].as<std::string>();
  s.id = r[0][1].as<int64_t>();
  s.end.seq = r[0][2].as<int64_t>();
  s.end.hash = r[0][3].as<std::string>();
  return s;
}

}  // namespace

std::string AuditSealHorizon(pqxx::work& tx, const std::string& own) {
  // Every transaction id below the horizon is over. Taking our own id
  // first, then reading this database's running (and prepared)
  // transactions, is what makes it safe: an id below ours was handed out
  // before ours, so its transaction is either listed by the later read or
  // over. Ids above ours, handed out meanwhile, are above the horizon
  // anyway and are left out (their distance below ours, modulo 2^32, is
  // over 2^31). Other databases' transactions on the same server do not
  // hold it back, as the cluster-wide pg_snapshot_xmin would.
  const std::string horizon =
      db::ExecPrepared(
          tx,
          "SELECT least($1::bigint, min($1::bigint - d))::text FROM (SELECT "
          "($1::bigint % 4294967296 - x::text::bigint + 4294967296) % "
          "4294967296 AS d FROM (SELECT backend_xid AS x FROM "
          "pg_stat_activity WHERE datname = current_database() AND "
          "backend_xid IS NOT NULL AND pid <> pg_backend_pid() UNION ALL "
          "SELECT transaction FROM pg_prepared_xacts WHERE database = "
          "current_database()) r) o WHERE d < 2147483648",
          own)[0][0]
          .as<std::string>();
  // Whatever the arithmetic, never past our own id: a horizon too low only
  // delays sealing, one too high would skip entries for good.
  if (std::stoull(horizon) > std::stoull(own)) return own;
  return horizon;
}

int SealAudit(pqxx::work& tx, int limit) {
  // One sealer at a time extends the chain; the lock ends with the
  // transaction. Entries are taken in (xid, id) order after the last sealed
  // one, only from transactions that are over, so that the order is final
  // (migrations/0005_audit_chain_insert_only.sql).
  tx.exec("SELECT pg_advisory_xact_lock(hashtext('lienthong.intake.audit'))");
  const SealState state = ReadSealState(tx);
  const std::string own =
      tx.exec1("SELECT pg_current_xact_id()::text")[0].as<std::string>();
  std::string after_xid = state.xid;
  int64_t after_id = state.id;
  if (std::stoull(own) < std::stoull(after_xid)) {
    // Transaction ids went back: the database was restored from a logical
    // dump into a new server. The ids stored belong to the old server, so
    // renumber every entry this statement sees as migration 0005 did:
    // sealed ones to 0, at or before the position; unsealed ones to 1,
    // after it in id order and before every entry this server writes.
    // (Entries of transactions still running are not seen; they keep their
    // ids, which are above 1.)
    tx.exec(
        "UPDATE intake.audit a SET xid = CASE WHEN EXISTS (SELECT 1 FROM "
        "intake.audit_chain c WHERE c.audit_id = a.id) THEN '0'::xid8 ELSE "
        "'1'::xid8 END");
    after_xid = std::string(1, '0');  // not = "0": GCC 12 -Wrestrict
    after_id = std::numeric_limits<int64_t>::max();
    db::ExecPrepared(tx, "UPDATE intake.audit_seal SET xid = '0', id = $1",
                     after_id);
  }
  const std::string horizon = AuditSealHorizon(tx, own);
  pqxx::result pending = db::ExecPrepared(
      tx,
      // Not `xid::text` bare: ORDER BY xid would then sort that text column.
      absl::StrCat("SELECT id, xid::text AS xid_text, ", kAuditColumns,
                   " FROM intake.audit WHERE (xid, id) > ($1::xid8, $2) AND "
                   "xid < $3::xid8 ORDER BY xid, id LIMIT $4"),
      after_xid, after_id, horizon, limit);
  if (pending.empty()) return 0;
  int64_t seq = state.end.seq;
  std::string prev = state.end.hash;
  std::vector<std::string> ids, seqs, prevs, hashes;
  for (const auto& row : pending) {
    v1::AuditEntry e = AuditFromRow(row, 2);
    e.set_sequence(++seq);
    e.set_prev_hash(prev);
    e.set_hash(AuditHash(e));
    ids.push_back(row[0].as<std::string>());
    seqs.push_back(absl::StrCat(seq));
    prevs.push_back(prev.empty() ? "\"\"" : prev);
    hashes.push_back(e.hash());
    prev = e.hash();
  }
  auto array = [](const std::vector<std::string>& v) {
    return absl::StrCat("{", absl::StrJoin(v, ","), "}");
  };
  db::ExecPrepared(
      tx,
      "INSERT INTO intake.audit_chain (seq, audit_id, prev_hash, hash) "
      "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], "
      "$4::text[])",
      array(seqs), array(ids), array(prevs), array(hashes));
  const pqxx::row& last = pending[pending.size() - 1];
  db::ExecPrepared(tx,
                   "UPDATE intake.audit_seal SET xid = $1::xid8, id = $2, seq "
                   "= $3, hash = $4",
                   last[1].as<std::string>(), last[0].as<int64_t>(), seq, prev);
  return static_cast<int>(pending.size());
}

SealedEnd AuditSealedEnd(pqxx::work& tx) { return ReadSealState(tx).end; }

AuditBacklog UnsealedAudit(pqxx::work& tx, absl::Time now) {
  // The seal's position goes in as values, not joined: the planner then
  // sizes the scan from the index's statistics (the few entries after it).
  // Joined, it guessed a third of the table: past about three million
  // entries that estimate crossed jit_above_cost, and every call (every
  // --audit_seal_interval) was compiled by PostgreSQL's JIT first.
  const SealState state = ReadSealState(tx);
  pqxx::row r = db::ExecPrepared(
      tx,
      "SELECT count(*), coalesce(EXTRACT(EPOCH FROM ($1::timestamptz - "
      "min(at)))::float8, 0) FROM intake.audit WHERE (xid, id) > "
      "($2::xid8, $3)",
      PgTime(now), state.xid, state.id)[0];
  AuditBacklog b;
  b.entries = r[0].as<int64_t>();
  b.oldest_age_seconds = std::max(0.0, r[1].as<double>());
  return b;
}

std::vector<v1::AuditEntry> ListAudit(pqxx::work& tx,
                                      const std::string& resource,
                                      int64_t after_seq, int limit,
                                      const std::string& subtree) {
  // An entry whose audit row was deleted drops out of the join, so the
  // chain shows a gap at its seq; a deleted chain row does the same.
  pqxx::result r = db::ExecPrepared(
      tx,
      absl::StrCat(
          "SELECT c.seq, c.prev_hash, c.hash, ", kAuditColumns,
          " FROM intake.audit_chain c JOIN intake.audit a ON a.id = "
          "c.audit_id WHERE ($1 = '' OR a.resource = $1) AND c.seq > $2 AND "
          "($4 = '' OR EXISTS (SELECT 1 FROM intake.agencies g WHERE g.code = "
          "a.actor_agency AND starts_with(g.path, $4)) OR (a.resource LIKE "
          "'dossiers/%' AND EXISTS (SELECT 1 FROM intake.dossiers d WHERE "
          "d.code = substr(a.resource, 10) AND starts_with(d.agency_path, "
          "$4)))) ORDER BY c.seq LIMIT $3"),
      resource, after_seq, limit, subtree);
  std::vector<v1::AuditEntry> out;
  for (const auto& row : r) {
    v1::AuditEntry e = AuditFromRow(row, 3);
    e.set_sequence(row[0].as<int64_t>());
    e.set_prev_hash(row[1].as<std::string>());
    e.set_hash(row[2].as<std::string>());
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace lienthong::intake::pg
