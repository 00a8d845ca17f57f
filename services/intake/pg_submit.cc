// SubmitDossier's statements. A batch of submissions (submit_dossier.cc)
// takes four: one reads the batch's request records, agencies and
// procedures; one takes its day-counters; one writes every dossier with its
// first transition, audit entry and request record; the events are
// db::AppendOutboxBatch. A replay reads its record with StartSubmit.

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
  // Only a lookup, for a replay: whether the request's record exists, the
  // agency (for the receipt) and the procedure version.
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

SubmitBatchStart StartSubmitBatch(pqxx::work& tx,
                                  const std::vector<std::string>& request_ids,
                                  const std::vector<std::string>& agency_codes,
                                  const std::vector<std::string>& procedures,
                                  absl::Time now) {
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT 'r', request_id, NULL::text, NULL::bytea FROM intake.idempotency "
      "WHERE request_id = ANY($1::text[]) "
      "UNION ALL SELECT 'a', code, path, body FROM intake.agencies WHERE "
      "code = ANY($2::text[]) "
      "UNION ALL (SELECT DISTINCT ON (code) 'p', code, NULL, body FROM "
      "intake.procedures WHERE code = ANY($3::text[]) AND effective_at <= "
      "$4::timestamptz ORDER BY code, version DESC)",
      db::TextArrayLiteral(request_ids), db::TextArrayLiteral(agency_codes),
      db::TextArrayLiteral(procedures), PgTime(now));
  SubmitBatchStart s;
  for (const auto& row : r) {
    const std::string kind = row[0].as<std::string>();
    std::string key = row[1].as<std::string>();
    if (kind == "r") {
      s.committed_requests.insert(std::move(key));
    } else if (kind == "a") {
      AgencyRow& a = s.agencies[key];
      a.path = row[2].as<std::string>();
      a.agency = ParseBytes<v1::Agency>(row[3]);
    } else {
      s.procedures.emplace(std::move(key), ParseBytes<v1::Procedure>(row[3]));
    }
  }
  return s;
}

std::map<std::string, int64_t> NextSequences(
    pqxx::work& tx, const std::map<std::string, int>& counts,
    absl::CivilDay day) {
  std::vector<std::string> codes;
  std::string ns = "{";
  for (const auto& [code, n] : counts) {
    codes.push_back(code);
    if (ns.size() > 1) ns += ',';
    absl::StrAppend(&ns, n);
  }
  ns += '}';
  // In code order: two batches needing the same counters take them in the
  // same order (no deadlock between replicas or batches).
  pqxx::result r = db::ExecPrepared(
      tx,
      "INSERT INTO intake.dossier_sequences AS s (agency_code, day, "
      "last_value) SELECT a, $3::date, n FROM unnest($1::text[], $2::int[]) "
      "AS x(a, n) ORDER BY a ON CONFLICT (agency_code, day) DO UPDATE SET "
      "last_value = s.last_value + excluded.last_value RETURNING agency_code, "
      "last_value",
      db::TextArrayLiteral(codes), ns,
      absl::StrCat(day.year(), "-", day.month(), "-", day.day()));
  std::map<std::string, int64_t> last;
  for (const auto& row : r) {
    last[row[0].as<std::string>()] = row[1].as<int64_t>();
  }
  return last;
}

namespace {

constexpr int kTextColumns = 12;
constexpr int kBinaryColumns = 2;

// The batch statement for n dossiers: parameters are n rows of text
// columns, then n rows of binary columns, then the batch's common values.
std::string ReceivedBatchSql(int n) {
  auto t = [n](int row, int col) {
    (void)n;
    return absl::StrCat("$", row * kTextColumns + col + 1);
  };
  auto b = [n](int row, int col) {
    return absl::StrCat("$", n * kTextColumns + row * kBinaryColumns + col + 1);
  };
  const int c = n * (kTextColumns + kBinaryColumns);
  const std::string state = absl::StrCat("$", c + 1, "::int");
  const std::string at = absl::StrCat("$", c + 2, "::timestamptz");
  const std::string reason = absl::StrCat("$", c + 3, "::text");
  const std::string action = absl::StrCat("$", c + 4, "::text");
  const std::string secs = absl::StrCat("$", c + 5, "::float8");
  const std::string nanos = absl::StrCat("$", c + 6, "::int");
  std::string d, tr, a, idem;
  for (int i = 0; i < n; ++i) {
    const char* sep = i == 0 ? "" : ", ";
    // Text columns: 0 code, 1 agency, 2 path, 3 procedure, 4 phone last 4,
    // 5 actor agency, 6 actor subject, 7 peer, 8 role, 9 resource,
    // 10 request id, 11 request hash. Binary: 0 body, 1 response.
    absl::StrAppend(&d, sep, "(", t(i, 0), ", ", t(i, 1), ", ", t(i, 2), ", ",
                    t(i, 3), ", ", state, ", ", at, ", ", t(i, 4), ", ",
                    b(i, 0), "::bytea, ", at, ")");
    absl::StrAppend(&tr, sep, "(", t(i, 0), ", ", at, ", 0, ", state, ", ",
                    t(i, 5), ", ", t(i, 6), ", ", t(i, 7), ", ", reason, ")");
    absl::StrAppend(&a, sep, "(to_timestamp(", secs, "), ", nanos, ", ",
                    t(i, 5), ", ", t(i, 6), ", ", t(i, 8), ", ", t(i, 7), ", ",
                    action, ", ", t(i, 9), ", 'OK', ", t(i, 10), ")");
    absl::StrAppend(&idem, sep, "(", t(i, 10), "::text, ", t(i, 11),
                    "::text, ", b(i, 1), "::bytea)");
  }
  return absl::StrCat(
      "WITH d AS (INSERT INTO intake.dossiers (code, agency_code, "
      "agency_path, procedure_code, state, receive_time, phone_last4, body, "
      "updated_at) VALUES ",
      d,
      "), t AS (INSERT INTO intake.transitions (dossier_code, at, from_state, "
      "to_state, actor_agency, actor_subject, peer, reason) VALUES ",
      tr,
      "), a AS (INSERT INTO intake.audit (at, at_nanos, actor_agency, "
      "actor_subject, actor_role, peer, action, resource, outcome, "
      "request_id) VALUES ",
      a,
      ") INSERT INTO intake.idempotency (request_id, method, request_hash, "
      "response, created_at) SELECT r, 'SubmitDossier', h, p, ",
      at, " FROM (VALUES ", idem,
      ") AS v(r, h, p) WHERE r <> '' ON CONFLICT DO NOTHING RETURNING 1");
}

}  // namespace

bool WriteReceivedBatch(pqxx::work& tx, const std::vector<ReceivedRow>& rows,
                        int state, const std::string& reason,
                        const std::string& action, absl::Time now) {
  if (rows.empty()) return true;
  const int n = static_cast<int>(rows.size());
  std::vector<std::string> text;
  text.reserve(n * kTextColumns);
  std::vector<pqxx::binarystring> bin;
  bin.reserve(n * kBinaryColumns);
  int with_request_id = 0;
  for (const ReceivedRow& r : rows) {
    const v1::Dossier& d = *r.dossier;
    const std::string& phone = d.applicant().contact().phone();
    text.push_back(d.code());
    text.push_back(r.agency_code);
    text.push_back(r.agency_path);
    text.push_back(r.procedure_code);
    text.push_back(phone.size() >= 4 ? phone.substr(phone.size() - 4) : "");
    text.push_back(r.actor_agency);
    text.push_back(r.actor_subject);
    text.push_back(r.peer);
    text.push_back(r.role);
    text.push_back(d.name());
    text.push_back(r.request_id);
    text.push_back(r.request_hash);
    bin.emplace_back(r.body.data(), r.body.size());
    bin.emplace_back(r.response.data(), r.response.size());
    if (!r.request_id.empty()) ++with_request_id;
  }
  const absl::Duration since_epoch = now - absl::UnixEpoch();
  const int64_t secs = absl::ToInt64Seconds(since_epoch);
  const int64_t nanos =
      absl::ToInt64Nanoseconds(since_epoch - absl::Seconds(secs));
  pqxx::result res = db::ExecPrepared(
      tx, ReceivedBatchSql(n), pqxx::prepare::make_dynamic_params(text),
      pqxx::prepare::make_dynamic_params(bin), state, PgTime(now), reason,
      action, secs, nanos);
  // A twin (same request id) committed by another batch or replica: fewer
  // records written than asked; the caller rolls back.
  return static_cast<int>(res.size()) == with_request_id;
}

}  // namespace lienthong::intake::pg
