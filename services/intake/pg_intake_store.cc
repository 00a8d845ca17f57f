#include "services/intake/pg_intake_store.h"

#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/db/prepared.h"
#include "services/intake/dossier_state.h"

namespace lienthong::intake::pg {
namespace {

template <typename M>
M Parse(const pqxx::field& f) {
  M m;
  const pqxx::binarystring b(f);
  m.ParseFromArray(b.data(), static_cast<int>(b.size()));
  return m;
}

// A stored dossier, with its national status code from today's table
// (dossier_state.cc): refusals stored before it said 8 carry 6.
v1::Dossier ParseDossier(const pqxx::field& f) {
  v1::Dossier d = Parse<v1::Dossier>(f);
  d.set_national_status_code(NationalStatusCode(d.state()));
  return d;
}

template <typename M>
pqxx::binarystring Bytes(const M& m, std::string* keep) {
  *keep = m.SerializeAsString();
  return pqxx::binarystring(keep->data(), keep->size());
}

absl::Time FromTs(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

}  // namespace

absl::optional<v1::Agency> GetAgency(pqxx::work& tx, const std::string& code) {
  pqxx::result r = db::ExecPrepared(
      tx, "SELECT body FROM intake.agencies WHERE code = $1", code);
  if (r.empty()) return absl::nullopt;
  return Parse<v1::Agency>(r[0][0]);
}

std::string PathOf(pqxx::work& tx, const std::string& code) {
  pqxx::result r = db::ExecPrepared(
      tx, "SELECT path FROM intake.agencies WHERE code = $1", code);
  return r.empty() ? "" : r[0][0].as<std::string>();
}

AgencyForCaller GetAgencyForCaller(pqxx::work& tx, const std::string& code,
                                   const std::string& caller_code) {
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT code, path, CASE WHEN code = $1 THEN body END FROM "
      "intake.agencies WHERE code = $1 OR code = $2",
      code, caller_code);
  AgencyForCaller out;
  for (const auto& row : r) {
    const std::string c = row[0].as<std::string>();
    const std::string path = row[1].as<std::string>();
    if (c == code) {
      out.agency = Parse<v1::Agency>(row[2]);
      out.path = path;
    }
    if (c == caller_code) out.caller_path = path;
  }
  return out;
}

void PutAgency(pqxx::work& tx, const v1::Agency& a, const std::string& path,
               absl::Time now) {
  std::string keep;
  db::ExecPrepared(
      tx,
      "INSERT INTO intake.agencies (code, parent_code, path, tier, kind, body, "
      "updated_at) VALUES ($1, NULLIF($2, ''), $3, $4, $5, $6, $7) "
      "ON CONFLICT (code) DO UPDATE SET parent_code = EXCLUDED.parent_code, "
      "path = EXCLUDED.path, tier = EXCLUDED.tier, kind = EXCLUDED.kind, "
      "body = EXCLUDED.body, updated_at = EXCLUDED.updated_at",
      a.code(), a.parent().empty() ? "" : a.parent().substr(9), path,
      static_cast<int>(a.tier()), static_cast<int>(a.kind()), Bytes(a, &keep),
      PgTime(now));
}

std::vector<v1::Agency> ListAgencies(pqxx::work& tx, const std::string& parent,
                                     const std::string& subtree_path, int kind,
                                     int tier, const std::string& after_code,
                                     int limit) {
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT body FROM intake.agencies WHERE "
      "(CASE WHEN $1 <> '' THEN path LIKE $1 || '%' AND path <> $1 "
      "      WHEN $2 <> '' THEN parent_code = $2 "
      "      ELSE parent_code IS NULL END) "
      "AND ($3 = 0 OR kind = $3) AND ($4 = 0 OR tier = $4) AND code > $5 "
      "ORDER BY code LIMIT $6",
      subtree_path, parent, kind, tier, after_code, limit);
  std::vector<v1::Agency> out;
  for (const auto& row : r) out.push_back(Parse<v1::Agency>(row[0]));
  return out;
}

void RewriteSubtreePaths(pqxx::work& tx, const std::string& old_path,
                         const std::string& new_path) {
  db::ExecPrepared(
      tx,
      "UPDATE intake.agencies SET path = $2 || substr(path, length($1) + 1) "
      "WHERE path LIKE $1 || '%' AND path <> $1",
      old_path, new_path);
}

void RewriteDossierPaths(pqxx::work& tx, const std::string& old_path,
                         const std::string& new_path) {
  db::ExecPrepared(
      tx,
      "UPDATE intake.dossiers SET agency_path = $2 || substr(agency_path, "
      "length($1) + 1) WHERE agency_path LIKE $1 || '%'",
      old_path, new_path);
}

std::vector<AgencyRow> Descendants(pqxx::work& tx, const std::string& path) {
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT path, body FROM intake.agencies WHERE path LIKE $1 || '%' AND "
      "path <> $1 ORDER BY length(path), path",
      path);
  std::vector<AgencyRow> out;
  for (const auto& row : r) {
    out.push_back({row[0].as<std::string>(), Parse<v1::Agency>(row[1])});
  }
  return out;
}

void SaveAgencyBody(pqxx::work& tx, const v1::Agency& a) {
  std::string keep;
  db::ExecPrepared(tx, "UPDATE intake.agencies SET body = $2 WHERE code = $1",
                   a.code(), Bytes(a, &keep));
}

absl::optional<v1::Procedure> GetProcedure(pqxx::work& tx,
                                           const std::string& code, int version,
                                           absl::Time at) {
  pqxx::result r =
      version > 0
          ? db::ExecPrepared(
                tx,
                "SELECT body FROM intake.procedures WHERE code = $1 "
                "AND version = $2",
                code, version)
          : db::ExecPrepared(
                tx,
                "SELECT body FROM intake.procedures WHERE code = $1 AND "
                "effective_at <= $2 ORDER BY version DESC LIMIT 1",
                code, PgTime(at));
  if (r.empty()) return absl::nullopt;
  return Parse<v1::Procedure>(r[0][0]);
}

int LatestProcedureVersion(pqxx::work& tx, const std::string& code) {
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT COALESCE(max(version), 0) FROM intake.procedures WHERE code = $1",
      code);
  return r[0][0].as<int>();
}

void PutProcedure(pqxx::work& tx, const v1::Procedure& p, absl::Time now) {
  std::string keep;
  db::ExecPrepared(
      tx,
      "INSERT INTO intake.procedures (code, version, effective_at, body, "
      "created_at) VALUES ($1, $2, $3, $4, $5)",
      p.code(), p.version(), PgTime(FromTs(p.effective_time())),
      Bytes(p, &keep), PgTime(now));
}

std::vector<v1::Procedure> ListProcedures(pqxx::work& tx, absl::Time at,
                                          const std::string& after_code,
                                          int limit) {
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT DISTINCT ON (code) body FROM intake.procedures WHERE "
      "effective_at <= $1 AND code > $2 ORDER BY code, version DESC LIMIT $3",
      PgTime(at), after_code, limit);
  std::vector<v1::Procedure> out;
  for (const auto& row : r) out.push_back(Parse<v1::Procedure>(row[0]));
  return out;
}

int64_t NextSequence(pqxx::work& tx, const std::string& agency_code,
                     absl::CivilDay day) {
  const std::string d =
      absl::StrCat(day.year(), "-", day.month(), "-", day.day());
  pqxx::result r = db::ExecPrepared(
      tx,
      "INSERT INTO intake.dossier_sequences (agency_code, day, last_value) "
      "VALUES ($1, $2, 1) ON CONFLICT (agency_code, day) DO UPDATE SET "
      "last_value = intake.dossier_sequences.last_value + 1 RETURNING "
      "last_value",
      agency_code, d);
  return r[0][0].as<int64_t>();
}

void InsertDossier(pqxx::work& tx, const v1::Dossier& d,
                   const std::string& agency_path, absl::Time now) {
  std::string keep;
  const std::string& phone = d.applicant().contact().phone();
  db::ExecPrepared(
      tx,
      "INSERT INTO intake.dossiers (code, agency_code, agency_path, "
      "procedure_code, state, receive_time, phone_last4, body, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      d.code(), d.receiving_agency().substr(9), agency_path,
      d.procedure().substr(11), static_cast<int>(d.state()),
      PgTime(FromTs(d.receive_time())),
      phone.size() >= 4 ? phone.substr(phone.size() - 4) : "", Bytes(d, &keep),
      PgTime(now));
}

absl::optional<v1::Dossier> GetDossier(pqxx::work& tx, const std::string& code,
                                       bool for_update) {
  if (DossierBatch* b = DossierBatch::Current()) {
    if (auto it = b->dossiers_.find(code); it != b->dossiers_.end()) {
      return it->second;
    }
  }
  pqxx::result r = db::ExecPrepared(
      tx,
      for_update ? "SELECT body FROM intake.dossiers WHERE code = $1 FOR UPDATE"
                 : "SELECT body FROM intake.dossiers WHERE code = $1",
      code);
  if (r.empty()) return absl::nullopt;
  return ParseDossier(r[0][0]);
}

std::string DossierAgencyPath(pqxx::work& tx, const std::string& code) {
  pqxx::result r = db::ExecPrepared(
      tx, "SELECT agency_path FROM intake.dossiers WHERE code = $1", code);
  return r.empty() ? "" : r[0][0].as<std::string>();
}

void UpdateDossier(pqxx::work& tx, const v1::Dossier& d, absl::Time now) {
  if (DossierBatch* b = DossierBatch::Current()) {
    if (auto it = b->dossiers_.find(d.code()); it != b->dossiers_.end()) {
      it->second = d;
      b->updated_[d.code()] = now;
      return;
    }
  }
  std::string keep;
  db::ExecPrepared(
      tx,
      "UPDATE intake.dossiers SET state = $2, body = $3, updated_at = $4 "
      "WHERE code = $1",
      d.code(), static_cast<int>(d.state()), Bytes(d, &keep), PgTime(now));
}

std::vector<v1::Dossier> ListDossiers(pqxx::work& tx, const DossierQuery& q) {
  const std::string far_future = "9999-01-01 00:00:00+00";
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT body FROM intake.dossiers WHERE agency_path LIKE $1 || '%' "
      "AND ($2 = 0 OR state = $2) AND ($3 = '' OR procedure_code = $3) "
      "AND receive_time >= $4 AND receive_time < $5 "
      "AND (receive_time, code) < ($6::timestamptz, $7) "
      "ORDER BY receive_time DESC, code DESC LIMIT $8",
      q.subtree_path, q.state, q.procedure_code,
      q.from ? PgTime(*q.from) : "1970-01-01 00:00:00+00",
      q.to ? PgTime(*q.to) : far_future,
      q.before_time ? PgTime(*q.before_time) : far_future,
      q.before_time ? q.before_code : "", q.limit);
  std::vector<v1::Dossier> out;
  for (const auto& row : r) out.push_back(ParseDossier(row[0]));
  return out;
}

void AddTransition(pqxx::work& tx, const std::string& code,
                   const v1::Transition& t) {
  if (DossierBatch* b = DossierBatch::Current()) {
    if (t.has_previous_appointment_time()) {
      // Only IssueApology sets it, and it writes no batch.
      throw std::logic_error("a batch does not write apology transitions");
    }
    b->transitions_.emplace_back(code, t);
    return;
  }
  const std::string previous =
      t.has_previous_appointment_time()
          ? PgTime(FromTs(t.previous_appointment_time()))
          : "";
  // NULL (libpqxx 6 sends a null const char* as NULL) unless an apology.
  const char* previous_param = previous.empty() ? nullptr : previous.c_str();
  db::ExecPrepared(
      tx,
      "INSERT INTO intake.transitions (dossier_code, at, from_state, "
      "to_state, actor_agency, actor_subject, peer, reason, "
      "previous_appointment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
      "$9::timestamptz)",
      code, PgTime(FromTs(t.time())), static_cast<int>(t.from_state()),
      static_cast<int>(t.to_state()), t.actor_agency(), t.actor_subject(),
      t.peer(), t.reason(), previous_param);
}

namespace {
thread_local DossierBatch* current_batch = nullptr;
}  // namespace

DossierBatch::DossierBatch() : outer_(current_batch) { current_batch = this; }

DossierBatch::~DossierBatch() { current_batch = outer_; }

DossierBatch* DossierBatch::Current() { return current_batch; }

void DossierBatch::Load(pqxx::work& tx, std::vector<std::string> codes) {
  if (codes.empty()) return;
  for (const auto& row :
       db::ExecPrepared(tx,
                        "SELECT code, body FROM intake.dossiers WHERE code = "
                        "ANY($1::text[]) ORDER BY code FOR UPDATE",
                        db::TextArrayLiteral(codes))) {
    dossiers_[row[0].as<std::string>()] = ParseDossier(row[1]);
  }
}

void DossierBatch::Flush(pqxx::work& tx, absl::Time now) {
  if (!updated_.empty()) {
    db::ValuesRows rows(
        "({t}::text, {t}::integer, {t}::timestamptz, {b}::bytea)");
    for (const auto& [code, at] : updated_) {
      const v1::Dossier& d = dossiers_.at(code);
      rows.Add({code, absl::StrCat(static_cast<int>(d.state())), PgTime(at)},
               d.SerializeAsString());
    }
    db::ExecPrepared(
        tx,
        absl::StrCat("UPDATE intake.dossiers d SET state = v.state, body = "
                     "v.body, updated_at = v.at FROM (VALUES ",
                     rows.sql(),
                     ") AS v(code, state, at, body) WHERE d.code = "
                     "v.code"),
        rows.text_params(), rows.bytes_params());
  }
  if (!transitions_.empty()) {
    // In the order they happened: the control slip reads them by id.
    std::vector<std::string> code, at, from, to, agency, subject, peer, reason;
    for (const auto& [c, t] : transitions_) {
      code.push_back(c);
      at.push_back(PgTime(FromTs(t.time())));
      from.push_back(absl::StrCat(static_cast<int>(t.from_state())));
      to.push_back(absl::StrCat(static_cast<int>(t.to_state())));
      agency.push_back(t.actor_agency());
      subject.push_back(t.actor_subject());
      peer.push_back(t.peer());
      reason.push_back(t.reason());
    }
    db::ExecPrepared(
        tx,
        "INSERT INTO intake.transitions (dossier_code, at, from_state, "
        "to_state, actor_agency, actor_subject, peer, reason) SELECT c, a, "
        "f, t, g, s, p, r FROM unnest($1::text[], $2::timestamptz[], "
        "$3::integer[], $4::integer[], $5::text[], $6::text[], $7::text[], "
        "$8::text[]) WITH ORDINALITY AS x(c, a, f, t, g, s, p, r, i) ORDER BY "
        "i",
        db::TextArrayLiteral(code), db::TextArrayLiteral(at),
        db::TextArrayLiteral(from), db::TextArrayLiteral(to),
        db::TextArrayLiteral(agency), db::TextArrayLiteral(subject),
        db::TextArrayLiteral(peer), db::TextArrayLiteral(reason));
  }
  if (!events_.empty()) {
    db::AppendOutboxEach(tx, "intake", events_, now).IgnoreError();
  }
  updated_.clear();
  transitions_.clear();
  events_.clear();
}

std::vector<v1::Transition> Transitions(pqxx::work& tx,
                                        const std::string& code) {
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT (EXTRACT(EPOCH FROM at) * 1000000)::int8, from_state, to_state, "
      "actor_agency, actor_subject, peer, reason, EXTRACT(EPOCH FROM "
      "previous_appointment)::int8 FROM intake.transitions WHERE "
      "dossier_code = $1 ORDER BY id",
      code);
  std::vector<v1::Transition> out;
  for (const auto& row : r) {
    v1::Transition t;
    // Microseconds, as PostgreSQL stores them: the control slip orders
    // transitions against the agencies' steps within the same second.
    const int64_t micros = row[0].as<int64_t>();
    t.mutable_time()->set_seconds(micros / 1000000);
    t.mutable_time()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
    t.set_from_state(static_cast<v1::DossierState>(row[1].as<int>()));
    t.set_to_state(static_cast<v1::DossierState>(row[2].as<int>()));
    t.set_actor_agency(row[3].as<std::string>());
    t.set_actor_subject(row[4].as<std::string>());
    t.set_peer(row[5].as<std::string>());
    t.set_reason(row[6].as<std::string>());
    if (!row[7].is_null()) {
      t.mutable_previous_appointment_time()->set_seconds(row[7].as<int64_t>());
    }
    out.push_back(std::move(t));
  }
  return out;
}

absl::optional<StoredRequest> ClaimRequest(pqxx::work& tx,
                                           const std::string& request_id,
                                           const std::string& method,
                                           const std::string& request_hash,
                                           absl::Time now) {
  // A concurrent twin blocks here until the first commits, then sees it.
  pqxx::result ins = db::ExecPrepared(
      tx,
      "INSERT INTO intake.idempotency (request_id, method, request_hash, "
      "response, created_at) VALUES ($1, $2, $3, ''::bytea, $4) ON CONFLICT "
      "DO NOTHING",
      request_id, method, request_hash, PgTime(now));
  if (ins.affected_rows() == 1) return absl::nullopt;
  return LoadRequest(tx, request_id);
}

StoredRequest LoadRequest(pqxx::work& tx, const std::string& request_id) {
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT method, request_hash, response FROM intake.idempotency WHERE "
      "request_id = $1",
      request_id);
  StoredRequest s;
  s.method = r[0][0].as<std::string>();
  s.request_hash = r[0][1].as<std::string>();
  s.response = pqxx::binarystring(r[0][2]).str();
  return s;
}

void SaveResponse(pqxx::work& tx, const std::string& request_id,
                  const std::string& response) {
  db::ExecPrepared(
      tx, "UPDATE intake.idempotency SET response = $2 WHERE request_id = $1",
      request_id, pqxx::binarystring(response.data(), response.size()));
}

int LookupFailures(pqxx::work& tx, const std::string& code, absl::Time now,
                   absl::Duration window) {
  // Lookups of one code take turns until their transactions end, so each
  // counts the failures before it (concurrent guesses cannot all pass the
  // check before any is recorded).
  db::ExecPrepared(tx,
                   "SELECT pg_advisory_xact_lock(hashtext("
                   "'lienthong.intake.lookup.' || $1))",
                   code);
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT failures FROM intake.lookup_failures WHERE code = $1 AND "
      "window_start > $2",
      code, PgTime(now - window));
  return r.empty() ? 0 : r[0][0].as<int>();
}

void RecordLookupFailure(pqxx::work& tx, const std::string& code,
                         absl::Time now, absl::Duration window) {
  db::ExecPrepared(
      tx,
      "INSERT INTO intake.lookup_failures (code, failures, window_start) "
      "VALUES ($1, 1, $2) ON CONFLICT (code) DO UPDATE SET failures = CASE "
      "WHEN intake.lookup_failures.window_start > $3 THEN "
      "intake.lookup_failures.failures + 1 ELSE 1 END, window_start = CASE "
      "WHEN intake.lookup_failures.window_start > $3 THEN "
      "intake.lookup_failures.window_start ELSE $2 END",
      code, PgTime(now), PgTime(now - window));
  // Codes whose window has passed count nothing any more: a few go with
  // each new failure, so the table holds about the last window's codes.
  db::ExecPrepared(tx,
                   "DELETE FROM intake.lookup_failures WHERE code IN (SELECT "
                   "code FROM intake.lookup_failures WHERE window_start <= $1 "
                   "LIMIT 20 FOR UPDATE SKIP LOCKED)",
                   PgTime(now - window));
}

}  // namespace lienthong::intake::pg
