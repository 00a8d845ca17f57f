// The SubmitDossier hot path in as few round trips as its rules allow: one
// statement claims the request id and reads the agency, the caller's path
// and the procedure; one statement writes the dossier, its first transition,
// its audit entry and the idempotent response. (The counter and the outbox
// rows are their own statements.)

#include "absl/strings/str_cat.h"
#include "libs/db/prepared.h"
#include "services/intake/pg_intake_store.h"

namespace lienthong::intake::pg {
namespace {

template <typename M>
M ParseBytes(const pqxx::field& f) {
  M m;
  const pqxx::binarystring b(f);
  m.ParseFromArray(b.data(), static_cast<int>(b.size()));
  return m;
}

}  // namespace

SubmitStart StartSubmit(pqxx::work& tx, const std::string& request_id,
                        absl::Time now, const std::string& agency_code,
                        const std::string& caller_code,
                        const std::string& procedure_code) {
  // Only a lookup: the record is written once, with the response, by
  // WriteReceived. A concurrent twin is caught there (the day's counter
  // row, which both take, orders them).
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT 'claim', (CASE WHEN $1 <> '' AND EXISTS (SELECT 1 FROM "
      "intake.idempotency WHERE request_id = $1) THEN 0 ELSE 1 END)::text, "
      "NULL::bytea "
      "UNION ALL SELECT 'agency:' || code, path, CASE WHEN code = $2 THEN "
      "body END FROM intake.agencies WHERE code = $2 OR code = $3 "
      "UNION ALL (SELECT 'procedure', NULL, body FROM intake.procedures WHERE "
      "code = $4 AND effective_at <= $5::timestamptz ORDER BY version DESC "
      "LIMIT 1)",
      request_id, agency_code, caller_code, procedure_code, PgTime(now));
  SubmitStart s;
  for (const auto& row : r) {
    const std::string kind = row[0].as<std::string>();
    if (kind == "claim") {
      s.claimed = request_id.empty() || row[1].as<std::string>() == "1";
    } else if (kind == "procedure") {
      s.procedure = ParseBytes<v1::Procedure>(row[2]);
    } else {
      const std::string code = kind.substr(7);  // after "agency:"
      if (code == agency_code) {
        s.agency.agency = ParseBytes<v1::Agency>(row[2]);
        s.agency.path = row[1].as<std::string>();
      }
      if (code == caller_code) s.agency.caller_path = row[1].as<std::string>();
    }
  }
  return s;
}

bool WriteReceived(pqxx::work& tx, const v1::Dossier& d,
                   const std::string& agency_code,
                   const std::string& procedure_code,
                   const std::string& agency_path, const v1::Transition& t,
                   const v1::AuditEntry& e, const std::string& request_id,
                   const std::string& request_hash, const std::string& response,
                   absl::Time now) {
  const std::string body = d.SerializeAsString();
  const std::string& phone = d.applicant().contact().phone();
  // A twin that committed first has its record: DO NOTHING, and 0 rows.
  pqxx::result r = db::ExecPrepared(
      tx,
      "WITH d AS (INSERT INTO intake.dossiers (code, agency_code, agency_path, "
      "procedure_code, state, receive_time, phone_last4, body, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)), "
      "t AS (INSERT INTO intake.transitions (dossier_code, at, from_state, "
      "to_state, actor_agency, actor_subject, peer, reason) VALUES ($1, $6, 0, "
      "$5, $10, $11, $12, $13)), "
      "a AS (INSERT INTO intake.audit (at, at_nanos, actor_agency, "
      "actor_subject, actor_role, peer, action, resource, outcome, "
      "request_id) VALUES (to_timestamp($14), $15, $10, $11, $16, $12, $17, "
      "$18, 'OK', $19)) "
      "INSERT INTO intake.idempotency (request_id, method, request_hash, "
      "response, created_at) SELECT $19, 'SubmitDossier', $21, $20, "
      "$6::timestamptz WHERE $19 <> '' ON CONFLICT DO NOTHING RETURNING 1",
      d.code(), agency_code, agency_path, procedure_code,
      static_cast<int>(d.state()), PgTime(now),
      phone.size() >= 4 ? phone.substr(phone.size() - 4) : "",
      pqxx::binarystring(body.data(), body.size()), PgTime(now),
      t.actor_agency(), t.actor_subject(), t.peer(), t.reason(),
      e.time().seconds(), e.time().nanos(), e.actor_role(), e.action(),
      e.resource(), request_id,
      pqxx::binarystring(response.data(), response.size()), request_hash);
  return request_id.empty() || r.size() == 1;
}

}  // namespace lienthong::intake::pg
