// SubmitDossier's statements. A batch of submissions (submit_dossier.cc)
// takes three: one reads the batch's request records, agencies and
// procedures; one takes its day-counters; one writes every dossier with its
// first transition, audit entry, request record and events. A replay reads
// its record with StartSubmit.

#include "absl/strings/str_cat.h"
#include "libs/db/notifier.h"
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

namespace {

// `counts` as the two arrays of the counter statement, in code order: two
// batches needing the same counters take them in the same order (no
// deadlock between replicas or batches).
std::pair<std::string, std::string> CounterArrays(
    const std::map<std::string, int>& counts) {
  std::vector<std::string> codes;
  std::string ns = "{";
  for (const auto& [code, n] : counts) {
    codes.push_back(code);
    if (ns.size() > 1) ns += ',';
    absl::StrAppend(&ns, n);
  }
  ns += '}';
  return {db::TextArrayLiteral(codes), ns};
}

std::string PgDay(absl::CivilDay day) {
  return absl::StrCat(day.year(), "-", day.month(), "-", day.day());
}

// Takes the counters whose codes and counts are parameters $first and
// $first+1, for the day in $first+2.
std::string TakeCountersSql(int first) {
  return absl::StrCat(
      "INSERT INTO intake.dossier_sequences AS s (agency_code, day, "
      "last_value) SELECT a, $",
      first + 2, "::date, n FROM unnest($", first, "::text[], $", first + 1,
      "::int[]) AS x(a, n) ORDER BY a ON CONFLICT (agency_code, day) DO "
      "UPDATE SET last_value = s.last_value + excluded.last_value RETURNING "
      "agency_code, last_value");
}

}  // namespace

SubmitBatchRead ReadSubmitBatch(pqxx::work& tx,
                                const std::vector<std::string>& request_ids,
                                const std::vector<std::string>& agency_codes,
                                const std::vector<std::string>& procedures,
                                absl::Time now,
                                const std::map<std::string, int>& counts,
                                absl::CivilDay day) {
  const auto [codes, ns] = CounterArrays(counts);
  // The reads see the statement's snapshot; the counters, as any
  // INSERT ... ON CONFLICT DO UPDATE, the latest committed value (and stay
  // locked until commit).
  pqxx::result r = db::ExecPrepared(
      tx,
      absl::StrCat(
          "WITH s AS (", TakeCountersSql(4),
          ") SELECT 'r', request_id, NULL::text, NULL::bytea FROM "
          "intake.idempotency WHERE request_id = ANY($1::text[]) "
          "UNION ALL SELECT 'a', code, path, body FROM intake.agencies WHERE "
          "code = ANY($2::text[]) "
          "UNION ALL (SELECT DISTINCT ON (code) 'p', code, NULL, body FROM "
          "intake.procedures WHERE code = ANY($3::text[]) AND effective_at <= "
          "$7::timestamptz ORDER BY code, version DESC) "
          "UNION ALL SELECT 's', agency_code, last_value::text, NULL FROM s"),
      db::TextArrayLiteral(request_ids), db::TextArrayLiteral(agency_codes),
      db::TextArrayLiteral(procedures), codes, ns, PgDay(day), PgTime(now));
  SubmitBatchRead s;
  for (const auto& row : r) {
    const char kind = row[0].c_str()[0];
    std::string key = row[1].as<std::string>();
    if (kind == 'r') {
      s.committed_requests.insert(std::move(key));
    } else if (kind == 's') {
      s.last[std::move(key)] = row[2].as<int64_t>();
    } else {
      const pqxx::binarystring body(row[3]);
      SubmitBatchRead::Stored& st = kind == 'a' ? s.agencies[std::move(key)]
                                                : s.procedures[std::move(key)];
      if (kind == 'a') st.path = row[2].as<std::string>();
      st.bytes = body.str();
    }
  }
  return s;
}

std::map<std::string, int64_t> NextSequences(
    pqxx::work& tx, const std::map<std::string, int>& counts,
    absl::CivilDay day) {
  const auto [codes, ns] = CounterArrays(counts);
  pqxx::result r =
      db::ExecPrepared(tx, TakeCountersSql(1), codes, ns, PgDay(day));
  std::map<std::string, int64_t> last;
  for (const auto& row : r) {
    last[row[0].as<std::string>()] = row[1].as<int64_t>();
  }
  return last;
}

namespace {

constexpr int kTextColumns = 15;
constexpr int kBinaryColumns = 3;

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
  const std::string destinations = absl::StrCat("$", c + 7, "::text[]");
  std::string d, tr, a, idem;
  for (int i = 0; i < n; ++i) {
    const char* sep = i == 0 ? "" : ", ";
    // Text columns: 0 code, 1 agency, 2 path, 3 procedure, 4 phone last 4,
    // 5 actor agency, 6 actor subject, 7 peer, 8 role, 9 resource,
    // 10 request id, 11 request hash, 12 event id, 13 event type,
    // 14 receive time.
    // Binary: 0 body, 1 response, 2 event.
    const std::string received = absl::StrCat(t(i, 14), "::timestamptz");
    // The agency's path as it is when the row is written (the one read
    // for the batch if it is gone): an agency move waits for the batches
    // writing dossiers, and those writing after it see its new path.
    const std::string path =
        absl::StrCat("coalesce((SELECT g.path FROM intake.agencies g WHERE ",
                     "g.code = ", t(i, 1), "), ", t(i, 2), ")");
    absl::StrAppend(&d, sep, "(", t(i, 0), ", ", t(i, 1), ", ", path, ", ",
                    t(i, 3), ", ", state, ", ", received, ", ", t(i, 4), ", ",
                    b(i, 0), "::bytea, ", received, ")");
    absl::StrAppend(&tr, sep, "(", t(i, 0), ", ", received, ", 0, ", state,
                    ", ", t(i, 5), ", ", t(i, 6), ", ", t(i, 7), ", ", reason,
                    ")");
    absl::StrAppend(&a, sep, "(to_timestamp(", secs, "), ", nanos, ", ",
                    t(i, 5), ", ", t(i, 6), ", ", t(i, 8), ", ", t(i, 7), ", ",
                    action, ", ", t(i, 9), ", 'OK', ", t(i, 10), ")");
    absl::StrAppend(&idem, sep, "(", t(i, 10), "::text, ", t(i, 11), "::text, ",
                    b(i, 1), "::bytea)");
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
      "), i AS (INSERT INTO intake.idempotency (request_id, method, "
      "request_hash, "
      "response, created_at) SELECT r, 'SubmitDossier', h, p, ",
      at, " FROM (VALUES ", idem,
      ") AS v(r, h, p) WHERE r <> '' ON CONFLICT DO NOTHING RETURNING 1), ",
      db::OutboxWithItems(
          "intake", n,
          [&](int i, int k) {
            return k == 0   ? absl::StrCat(t(i, 12), "::text")
                   : k == 1 ? absl::StrCat(t(i, 13), "::text")
                            : absl::StrCat(b(i, 2), "::bytea");
          },
          at, destinations),
      " SELECT count(*)::int FROM i");
}

}  // namespace

bool WriteReceivedBatch(pqxx::work& tx, const std::vector<ReceivedRow>& rows,
                        int state, const std::string& reason,
                        const std::string& action,
                        const std::vector<std::string>& destinations,
                        absl::Time now) {
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
    text.push_back(r.event.event_id);
    text.push_back(r.event.event_type);
    text.push_back(PgTime(r.received_at));
    bin.emplace_back(r.body.data(), r.body.size());
    bin.emplace_back(r.response.data(), r.response.size());
    bin.emplace_back(r.event.payload.data(), r.event.payload.size());
    if (!r.request_id.empty()) ++with_request_id;
  }
  const absl::Duration since_epoch = now - absl::UnixEpoch();
  const int64_t secs = absl::ToInt64Seconds(since_epoch);
  const int64_t nanos =
      absl::ToInt64Nanoseconds(since_epoch - absl::Seconds(secs));
  pqxx::result res = db::ExecPrepared(
      tx, ReceivedBatchSql(n), pqxx::prepare::make_dynamic_params(text),
      pqxx::prepare::make_dynamic_params(bin), state, PgTime(now), reason,
      action, secs, nanos, db::TextArrayLiteral(destinations));
  db::NotifyAfterCommit(db::OutboxChannel("intake"));
  // A twin (same request id) committed by another batch or replica: fewer
  // records written than asked; the caller rolls back.
  return res[0][0].as<int>() == with_request_id;
}

}  // namespace lienthong::intake::pg
