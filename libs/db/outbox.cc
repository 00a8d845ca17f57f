#include "libs/db/outbox.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "libs/db/notifier.h"
#include "libs/db/prepared.h"
#include "libs/db/transaction.h"
#include "libs/logging/logging.h"

namespace lienthong::db {
namespace {

// Failures that say the receiver (or the way to it) is in trouble, not
// that one event is wrong.
constexpr absl::StatusCode kTransient[] = {
    absl::StatusCode::kUnavailable, absl::StatusCode::kDeadlineExceeded,
    absl::StatusCode::kResourceExhausted, absl::StatusCode::kAborted};

bool IsTransient(absl::StatusCode c) {
  return std::find(std::begin(kTransient), std::end(kTransient), c) !=
         std::end(kTransient);
}

// kTransient as an SQL list of last_error_code values: "'UNAVAILABLE', …".
std::string TransientCodesSql() {
  std::string out;
  for (const absl::StatusCode c : kTransient) {
    if (!out.empty()) out += ", ";
    absl::StrAppend(&out, "'", absl::StatusCodeToString(c), "'");
  }
  return out;
}

// AppendOutbox and AppendOutboxBatch: one statement for any number of
// messages; the relays wake after commit.
absl::Status AppendMessages(pqxx::work& tx, absl::string_view schema,
                            absl::Span<const OutboxMessage> messages,
                            const std::vector<std::string>& destinations,
                            absl::Time now) {
  if (destinations.empty() || messages.empty()) return absl::OkStatus();
  const int n = static_cast<int>(messages.size());
  // Parameters: (event id, type) per message, then the payloads, then the
  // time and the destinations.
  std::vector<std::string> text;
  std::vector<pqxx::binarystring> payloads;
  text.reserve(2 * n);
  payloads.reserve(n);
  for (const OutboxMessage& m : messages) {
    text.push_back(m.event_id);
    text.push_back(m.event_type);
    payloads.emplace_back(m.payload.data(), m.payload.size());
  }
  const auto param = [n](int i, int k) {
    return k < 2 ? absl::StrCat("$", 2 * i + k + 1, "::text")
                 : absl::StrCat("$", 2 * n + i + 1, "::bytea");
  };
  ExecPrepared(tx,
               absl::StrCat("WITH ",
                            OutboxWithItems(
                                schema, n, param,
                                absl::StrCat("$", 3 * n + 1, "::timestamptz"),
                                absl::StrCat("$", 3 * n + 2, "::text[]")),
                            " SELECT 1"),
               pqxx::prepare::make_dynamic_params(text),
               pqxx::prepare::make_dynamic_params(payloads), PgTime(now),
               TextArrayLiteral(destinations));
  NotifyAfterCommit(OutboxChannel(schema));
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendOutbox(pqxx::work& tx, absl::string_view schema,
                          const OutboxMessage& message,
                          const std::vector<std::string>& destinations,
                          absl::Time now) {
  return AppendMessages(tx, schema, absl::MakeConstSpan(&message, 1),
                        destinations, now);
}

absl::Status AppendOutboxBatch(pqxx::work& tx, absl::string_view schema,
                               const std::vector<OutboxMessage>& messages,
                               const std::vector<std::string>& destinations,
                               absl::Time now) {
  return AppendMessages(tx, schema, messages, destinations, now);
}

absl::Status AppendOutboxEach(pqxx::work& tx, absl::string_view schema,
                              const std::vector<OutboxEntry>& entries,
                              absl::Time now) {
  // Parameters: (event id, type, destinations) per entry, then the
  // payloads, then the time.
  ValuesRows rows("({t}::text, {t}::text, {b}::bytea, {i}, {t}::text[])");
  for (const OutboxEntry& e : entries) {
    if (e.destinations.empty()) continue;
    rows.Add({e.message.event_id, e.message.event_type,
              TextArrayLiteral(e.destinations)},
             e.message.payload);
  }
  if (rows.empty()) return absl::OkStatus();
  const std::string at = absl::StrCat("$", rows.next_param(), "::timestamptz");
  ExecPrepared(
      tx,
      absl::StrCat(
          "WITH e(id, t, p, i, ds) AS (VALUES ", rows.sql(),
          "), outbox_payloads_in AS (INSERT INTO ", schema,
          ".outbox_payloads (event_id, payload, created_at) SELECT id::uuid, "
          "p, ",
          at, " FROM e ON CONFLICT (event_id) DO NOTHING) INSERT INTO ", schema,
          ".outbox (event_id, destination, event_type, created_at, "
          "next_attempt_at) SELECT e.id::uuid, d, e.t, ",
          at, ", ", at,
          " FROM e CROSS JOIN LATERAL unnest(e.ds) AS d ORDER BY d, e.i"),
      rows.text_params(), rows.bytes_params(), PgTime(now));
  NotifyAfterCommit(OutboxChannel(schema));
  return absl::OkStatus();
}

std::string OutboxWithItems(
    absl::string_view schema, int n,
    const std::function<std::string(int i, int k)>& param, absl::string_view at,
    absl::string_view destinations) {
  std::string payloads, rows;
  for (int i = 0; i < n; ++i) {
    const char* sep = i == 0 ? "" : ", ";
    absl::StrAppend(&payloads, sep, "(", param(i, 0), "::uuid, ", param(i, 2),
                    ", ", at, ")");
    absl::StrAppend(&rows, sep, "(", param(i, 0), ", ", param(i, 1), ", ", i,
                    ")");
  }
  // In the messages' order per destination (the relay delivers by seq).
  return absl::StrCat(
      "outbox_payloads_in AS (INSERT INTO ", schema,
      ".outbox_payloads (event_id, payload, created_at) VALUES ", payloads,
      " ON CONFLICT (event_id) DO NOTHING), outbox_rows_in AS (INSERT INTO ",
      schema,
      ".outbox (event_id, destination, event_type, created_at, "
      "next_attempt_at) SELECT e.id::uuid, d, e.t, ",
      at, ", ", at, " FROM (VALUES ", rows,
      ") AS e(id, t, i) CROSS JOIN unnest(", destinations,
      ") AS d ORDER BY d, e.i)");
}

std::string OutboxChannel(absl::string_view schema) {
  return absl::StrCat(schema, "_outbox");
}

absl::StatusOr<bool> RecordInbox(pqxx::work& tx, absl::string_view schema,
                                 absl::string_view event_id) {
  const std::string s(schema);
  pqxx::result r = ExecPrepared(
      tx,
      absl::StrCat("INSERT INTO ", s,
                   ".inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING"),
      std::string(event_id));
  return r.affected_rows() == 1;
}

namespace {

// Deletes the rows of `table` (as `t`) whose `column` is before `cutoff`
// (and that meet `also`, when given), `limit` per transaction; how many
// went.
absl::StatusOr<int64_t> PurgeBefore(Pool& pool, const std::string& table,
                                    absl::string_view column, absl::Time cutoff,
                                    int limit,
                                    const std::function<bool()>& stopping,
                                    absl::string_view also = "") {
  const std::string sql = absl::StrCat(
      "DELETE FROM ", table, " WHERE ctid = ANY(ARRAY(SELECT ctid FROM ", table,
      " t WHERE ", column, " < $1", also.empty() ? "" : " AND ", also,
      " LIMIT $2 FOR UPDATE SKIP LOCKED))");
  int64_t total = 0;
  for (;;) {
    absl::StatusOr<int64_t> n =
        WithTransaction(pool, [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
          return static_cast<int64_t>(
              ExecPrepared(tx, sql, PgTime(cutoff), limit).affected_rows());
        });
    if (!n.ok()) return n.status();
    total += *n;
    if (*n < limit || (stopping && stopping())) return total;
  }
}

}  // namespace

absl::StatusOr<PurgeCounts> PurgeEvents(Pool& pool, const PurgeOptions& o,
                                        absl::Time now) {
  PurgeCounts out;
  const int limit = std::max(1, o.batch);
  if (o.outbox_retention > absl::ZeroDuration()) {
    absl::StatusOr<int64_t> n =
        PurgeBefore(pool, absl::StrCat(o.schema, ".outbox"), "delivered_at",
                    now - o.outbox_retention, limit, o.stopping);
    if (!n.ok()) return n.status();
    out.outbox = *n;
  }
  if (o.outbox_retention > absl::ZeroDuration()) {
    // Payloads no row points to any more. Any row that pointed to one was
    // written with it and delivered later, so a payload younger than the
    // cutoff may still have rows coming in its (uncommitted) transaction.
    absl::StatusOr<int64_t> n =
        PurgeBefore(pool, absl::StrCat(o.schema, ".outbox_payloads"),
                    "created_at", now - o.outbox_retention, limit, o.stopping,
                    absl::StrCat("NOT EXISTS (SELECT 1 FROM ", o.schema,
                                 ".outbox r WHERE r.event_id = t.event_id)"));
    if (!n.ok()) return n.status();
    out.outbox_payloads = *n;
  }
  if (o.inbox_retention > absl::ZeroDuration()) {
    absl::StatusOr<int64_t> n =
        PurgeBefore(pool, absl::StrCat(o.schema, ".inbox"), "received_at",
                    now - o.inbox_retention, limit, o.stopping);
    if (!n.ok()) return n.status();
    out.inbox = *n;
  }
  return out;
}

absl::StatusOr<std::vector<bool>> RecordInboxBatch(
    pqxx::work& tx, absl::string_view schema,
    const std::vector<std::string>& event_ids) {
  std::vector<bool> first(event_ids.size(), false);
  if (event_ids.empty()) return first;
  pqxx::result r = ExecPrepared(
      tx,
      absl::StrCat("INSERT INTO ", schema,
                   ".inbox (event_id) SELECT DISTINCT unnest($1::uuid[]) ON "
                   "CONFLICT DO NOTHING RETURNING event_id::text"),
      TextArrayLiteral(event_ids));
  std::set<std::string> recorded;
  for (const auto& row : r) recorded.insert(row[0].as<std::string>());
  for (size_t i = 0; i < event_ids.size(); ++i) {
    // uuid::text is lower case; the first occurrence takes the record.
    first[i] = recorded.erase(absl::AsciiStrToLower(event_ids[i])) == 1;
  }
  return first;
}

OutboxRelay::OutboxRelay(Pool& pool, const common::Clock& clock,
                         RelayOptions options, Deliverer deliverer)
    : pool_(pool),
      clock_(clock),
      options_(std::move(options)),
      deliverer_(std::move(deliverer)) {}

OutboxRelay::~OutboxRelay() { Stop(); }

absl::Duration OutboxRelay::BackoffFor(int attempts) const {
  absl::Duration d = options_.min_backoff;
  for (int i = 1; i < attempts && d < options_.max_backoff; ++i) d *= 2;
  return std::min(d, options_.max_backoff);
}

absl::StatusOr<int> OutboxRelay::RunOnce() {
  const std::string s = options_.schema;
  const absl::Time now = clock_.Now();
  last_round_full_ = false;
  // Claim, deliver and mark inside one transaction: the row locks keep other
  // relays off these rows; if we die before commit, the locks vanish and
  // the rows are claimed again (at least once).
  static const std::string kTransientSql = TransientCodesSql();
  return WithTransaction(pool_, [&](pqxx::work& tx) -> absl::StatusOr<int> {
    // One relay at a time per destination, whichever replica it runs in:
    // two delivering side by side could each hand over part of the line
    // and the receiver apply a later event first. The others find the
    // lock taken and wait for their next round (they take over when the
    // holder dies: the lock goes with its transaction).
    if (!ExecPrepared(tx,
                      "SELECT pg_try_advisory_xact_lock(hashtext($1 || '.' || "
                      "$2))",
                      s, options_.destination)[0][0]
             .as<bool>()) {
      return 0;
    }
    // In the order they were written (seq), and only the due rows in front:
    // events waiting out a backoff because the receiver was away hold back
    // the ones written after them, so a receiver that comes back gets them
    // in order (a TaskCompleted never before its TaskDispatched). An event
    // the receiver rejected outright (not a transient code) backs off
    // alone: it is left out of the line until it is due again.
    pqxx::result rows = ExecPrepared(
        tx,
        absl::StrCat(
            "SELECT o.event_id, o.event_type, coalesce(o.payload, p.payload), "
            "o.attempts, o.next_attempt_at <= $2 FROM ",
            s, ".outbox o LEFT JOIN ", s,
            ".outbox_payloads p ON p.event_id = o.event_id WHERE "
            "o.destination = $1 AND o.delivered_at IS NULL AND "
            "(o.next_attempt_at <= $2 OR o.last_error_code IS NULL OR "
            "o.last_error_code IN (",
            kTransientSql, ")) ORDER BY o.seq LIMIT $3 FOR UPDATE OF o"),
        options_.destination, PgTime(now), options_.batch_size);
    size_t due = 0;
    while (due < rows.size() && rows[due][4].as<bool>()) ++due;
    if (due == 0) return 0;
    last_round_full_ = static_cast<int>(due) >= options_.batch_size;
    std::vector<OutboxRecord> records;
    size_t batch_bytes = 0;
    for (size_t i = 0; i < due; ++i) {
      const auto& row = rows[i];
      const pqxx::binarystring bytes(row[2]);
      if (!records.empty() &&
          batch_bytes + bytes.size() > options_.max_batch_bytes) {
        last_round_full_ = true;  // the rest go in the next round at once
        break;
      }
      batch_bytes += bytes.size();
      OutboxRecord rec;
      rec.event_id = row[0].as<std::string>();
      rec.event_type = row[1].as<std::string>();
      rec.payload = bytes.str();
      rec.attempts = row[3].as<int>();
      records.push_back(std::move(rec));
    }

    // The outcome per record: OK, or the code it failed with.
    std::vector<absl::StatusCode> outcome(records.size(),
                                          absl::StatusCode::kOk);
    // Too large for any request the receiver takes: not sent (the receiver
    // would refuse it with RESOURCE_EXHAUSTED, read as "in trouble", and it
    // would hold the line for good).
    const bool too_large = records.size() == 1 &&
                           records[0].payload.size() > options_.max_event_bytes;
    if (too_large) {
      logging::Event("outbox_event_too_large")
          .With("destination", options_.destination)
          .With("event_id", records[0].event_id)
          .With("bytes", static_cast<int64_t>(records[0].payload.size()))
          .Error();
    }
    const absl::Status sent =
        too_large ? absl::OutOfRangeError("event larger than a request")
                  : deliverer_(records);
    if (!sent.ok()) {
      std::fill(outcome.begin(), outcome.end(), sent.code());
      if (records.size() > 1 && !IsTransient(sent.code())) {
        // Find the record(s) the receiver rejects; stop at the first sign
        // that the receiver itself is in trouble.
        for (size_t i = 0; i < records.size(); ++i) {
          const absl::Status one = deliverer_({records[i]});
          outcome[i] = one.code();
          if (IsTransient(one.code())) {
            std::fill(outcome.begin() + i, outcome.end(), one.code());
            break;
          }
        }
      }
    }

    int delivered = 0;
    for (const absl::StatusCode c : outcome) {
      if (c == absl::StatusCode::kOk) ++delivered;
    }
    if (delivered > 0 && before_mark_ && !before_mark_()) {
      return absl::AbortedError("relay abandoned before marking");
    }
    // The delivered rows in one statement; failures each get their backoff.
    std::vector<std::string> delivered_ids;
    for (size_t i = 0; i < records.size(); ++i) {
      const OutboxRecord& rec = records[i];
      if (outcome[i] == absl::StatusCode::kOk) {
        delivered_ids.push_back(rec.event_id);
        continue;
      }
      absl::Duration backoff = BackoffFor(rec.attempts + 1);
      std::uniform_real_distribution<double> j(-options_.jitter,
                                               options_.jitter);
      backoff += backoff * j(rng_);
      ExecPrepared(
          tx,
          absl::StrCat("UPDATE ", s,
                       ".outbox SET attempts = attempts + 1, "
                       "last_error_code = $3, next_attempt_at = $4 WHERE "
                       "event_id = $1 AND destination = $2"),
          rec.event_id, options_.destination,
          std::string(absl::StatusCodeToString(outcome[i])),
          PgTime(now + backoff));
    }
    if (!delivered_ids.empty()) {
      ExecPrepared(
          tx,
          absl::StrCat("UPDATE ", s,
                       ".outbox SET delivered_at = $3, attempts = "
                       "attempts + 1, last_error_code = NULL WHERE "
                       "event_id = ANY($1::uuid[]) AND destination = $2"),
          TextArrayLiteral(delivered_ids), options_.destination, PgTime(now));
    }
    return delivered;
  });
}

absl::StatusOr<OutboxStats> OutboxRelay::Stats() {
  const absl::Time now = clock_.Now();
  return WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<OutboxStats> {
        pqxx::result r = tx.exec_params(
            absl::StrCat(
                "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM ($2::timestamptz "
                "- "
                "min(created_at))), 0) FROM ",
                options_.schema,
                ".outbox WHERE destination = $1 AND delivered_at IS NULL"),
            options_.destination, PgTime(now));
        OutboxStats st;
        st.pending = r[0][0].as<int64_t>();
        st.oldest_age = absl::Seconds(std::max(0.0, r[0][1].as<double>()));
        return st;
      });
}

void OutboxRelay::Start() {
  if (thread_ != nullptr) return;
  stop_ = false;
  thread_ = std::make_unique<std::thread>([this] { Loop(); });
}

void OutboxRelay::Stop() {
  stop_ = true;
  if (thread_ != nullptr) {
    // Wake the loop if it is waiting for a notification (best effort; it
    // also wakes on its poll interval).
    WithTransaction(pool_, [&](pqxx::work& tx) {
      tx.exec(absl::StrCat("NOTIFY ", options_.schema, "_outbox"));
      return absl::OkStatus();
    }).IgnoreError();
    thread_->join();
    thread_.reset();
  }
}

void OutboxRelay::Loop() {
  std::unique_ptr<pqxx::connection> listener;
  const std::string channel = absl::StrCat(options_.schema, "_outbox");
  auto listen = [&] {
    // LISTEN before each round that follows a (re)connect: a commit after it
    // wakes us; one before it is found by the round itself.
    if (listener != nullptr) return;
    try {
      listener = std::make_unique<pqxx::connection>(pool_.dsn());
      pqxx::nontransaction(*listener).exec(absl::StrCat("LISTEN ", channel));
    } catch (const std::exception&) {
      listener.reset();
    }
  };
  while (!stop_) {
    listen();
    absl::StatusOr<int> n = RunOnce();
    if (n.ok() && last_round_full_) continue;  // more may be waiting
    if (listener == nullptr) {
      absl::SleepFor(options_.poll_interval);
      continue;
    }
    try {
      const auto us = absl::ToInt64Microseconds(options_.poll_interval);
      listener->await_notification(us / 1000000, us % 1000000);
    } catch (const std::exception&) {
      listener.reset();
    }
  }
}

}  // namespace lienthong::db
