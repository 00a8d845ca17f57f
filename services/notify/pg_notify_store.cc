// Deliveries and attempts in PostgreSQL (see notify_store.h).

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/uuid.h"
#include "libs/db/transaction.h"
#include "services/notify/notify_store.h"

namespace lienthong::notify {

absl::string_view StateName(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kSending:
      return "sending";
    case DeliveryState::kSent:
      return "sent";
    case DeliveryState::kFailed:
      return "failed";
    case DeliveryState::kDeadLetter:
      return "dead_letter";
  }
  return "pending";
}

absl::StatusOr<DeliveryState> ParseState(absl::string_view name) {
  for (DeliveryState s :
       {DeliveryState::kPending, DeliveryState::kSending, DeliveryState::kSent,
        DeliveryState::kFailed, DeliveryState::kDeadLetter}) {
    if (StateName(s) == name) return s;
  }
  return common::Internal("BAD_STATE", "unknown delivery state in storage");
}

namespace pg {

std::string Ts(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6S+00:00", t, absl::UTCTimeZone());
}

absl::Time FromUs(const pqxx::field& f) {
  return absl::FromUnixMicros(f.as<int64_t>());
}

std::string EncodeToken(absl::string_view raw) {
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::string> DecodeToken(absl::string_view token) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) {
    return common::InvalidArgument(
        "INVALID_PAGE_TOKEN", {{"page_token", "is not a token we issued"}});
  }
  return raw;
}

int ClampPageSize(int page_size) {
  if (page_size <= 0) return 50;
  return page_size > 500 ? 500 : page_size;
}

}  // namespace pg

namespace {

constexpr char kDeliveryColumns[] =
    "d.id::text, d.event_id, d.event_type, d.dossier, d.channel, d.recipient, "
    "d.masked_recipient, d.citizen, coalesce(d.webhook_id::text, ''), "
    "d.subject, d.body, d.preview, d.sms_segments, d.state, d.attempts, "
    "notify.us(d.create_time), notify.us(d.next_attempt_time), "
    "notify.us(d.sent_time), coalesce(d.claim_token::text, '')";

absl::StatusOr<DeliveryRecord> FromRow(const pqxx::row& r) {
  DeliveryRecord d;
  d.id = r[0].as<std::string>();
  d.event_id = r[1].as<std::string>();
  d.event_type = r[2].as<std::string>();
  d.dossier = r[3].as<std::string>();
  absl::StatusOr<Channel> ch = ParseChannel(r[4].as<std::string>());
  if (!ch.ok()) return ch.status();
  d.channel = *ch;
  d.recipient = r[5].as<std::string>();
  d.masked_recipient = r[6].as<std::string>();
  d.citizen = r[7].as<bool>();
  d.webhook_id = r[8].as<std::string>();
  d.subject = r[9].as<std::string>();
  d.body = r[10].as<std::string>();
  d.preview = r[11].as<std::string>();
  d.sms_segments = r[12].as<int>();
  absl::StatusOr<DeliveryState> st = ParseState(r[13].as<std::string>());
  if (!st.ok()) return st.status();
  d.state = *st;
  d.attempts = r[14].as<int>();
  d.create_time = pg::FromUs(r[15]);
  d.next_attempt_time = pg::FromUs(r[16]);
  if (!r[17].is_null()) d.sent_time = pg::FromUs(r[17]);
  d.claim_token = r[18].as<std::string>();
  return d;
}

absl::Status LoadAttempts(pqxx::work& tx, std::vector<DeliveryRecord>& ds) {
  for (DeliveryRecord& d : ds) {
    pqxx::result rows = tx.exec_params(
        "SELECT notify.us(attempt_time), response_code, latency_us, error, "
        "success FROM notify.attempts WHERE delivery_id = $1::uuid ORDER BY n",
        d.id);
    for (const pqxx::row& r : rows) {
      d.attempt_log.push_back({pg::FromUs(r[0]), r[1].as<int>(),
                               absl::Microseconds(r[2].as<int64_t>()),
                               r[3].as<std::string>(), r[4].as<bool>()});
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> PgNotifyStore::Enqueue(pqxx::work& tx,
                                                   const NewDelivery& d,
                                                   absl::Time now) {
  pqxx::result r = tx.exec_params(
      "INSERT INTO notify.deliveries (id, event_id, event_type, dossier, "
      "channel, recipient, masked_recipient, citizen, webhook_id, subject, "
      "body, preview, sms_segments, state, next_attempt_time, create_time, "
      "request_id, request_hash) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, "
      "$8, NULLIF($9, '')::uuid, $10, $11, $12, $13, 'pending', "
      "$14::timestamptz, $15::timestamptz, NULLIF($16, ''), $17) "
      "ON CONFLICT (event_id, recipient, channel) DO NOTHING RETURNING "
      "id::text",
      d.id.empty() ? common::NewUuid() : d.id, d.event_id, d.event_type,
      d.dossier, std::string(ChannelName(d.channel)), d.recipient,
      d.masked_recipient, d.citizen, d.webhook_id, d.subject, d.body, d.preview,
      d.sms_segments, pg::Ts(d.next_attempt_time), pg::Ts(now), d.request_id,
      d.request_hash);
  if (!r.empty()) return r[0][0].as<std::string>();
  pqxx::result existing = tx.exec_params(
      "SELECT id::text FROM notify.deliveries WHERE event_id = $1 AND "
      "recipient = $2 AND channel = $3",
      d.event_id, d.recipient, std::string(ChannelName(d.channel)));
  if (existing.empty()) {
    return common::Aborted("ENQUEUE_RACE", "delivery vanished; retry");
  }
  return existing[0][0].as<std::string>();
}

absl::StatusOr<std::optional<DeliveryRecord>> PgNotifyStore::ByRequestId(
    pqxx::work& tx, absl::string_view request_id) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kDeliveryColumns,
                   ", d.request_hash FROM notify.deliveries d WHERE "
                   "d.request_id = $1"),
      std::string(request_id));
  if (r.empty()) return std::optional<DeliveryRecord>();
  absl::StatusOr<DeliveryRecord> d = FromRow(r[0]);
  if (!d.ok()) return d.status();
  d->request_hash = r[0][19].as<std::string>();
  std::vector<DeliveryRecord> v = {*std::move(d)};
  LT_RETURN_IF_ERROR(LoadAttempts(tx, v));
  return std::optional<DeliveryRecord>(std::move(v[0]));
}

absl::StatusOr<std::vector<DeliveryRecord>> PgNotifyStore::Claim(
    absl::Time now, absl::Duration lease, int limit,
    std::optional<Channel> channel) {
  return db::WithTransaction(
      pool_,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<DeliveryRecord>> {
        pqxx::result rows = tx.exec_params(
            absl::StrCat(
                "WITH due AS (SELECT id FROM notify.deliveries WHERE "
                "($4 = '' OR channel = $4) AND "
                "((state IN ('pending', 'failed') AND next_attempt_time <= "
                "$1::timestamptz) OR (state = 'sending' AND lease_until <= "
                "$1::timestamptz)) ORDER BY next_attempt_time LIMIT $3 "
                "FOR UPDATE SKIP LOCKED) "
                "UPDATE notify.deliveries d SET state = 'sending', "
                "lease_until = $2::timestamptz, claim_token = "
                "gen_random_uuid() FROM due WHERE d.id = due.id RETURNING ",
                kDeliveryColumns,
                // A webhook deleted since the delivery was queued gives
                // no URL: the sender dead-letters it (permanent refusal).
                ", (SELECT w.secret FROM notify.webhooks w WHERE w.id = "
                "d.webhook_id AND w.delete_time IS NULL), (SELECT w.url FROM "
                "notify.webhooks w WHERE w.id = d.webhook_id AND "
                "w.delete_time IS NULL), (SELECT w.previous_secret FROM "
                "notify.webhooks w WHERE w.id = d.webhook_id AND "
                "w.delete_time IS NULL AND w.previous_secret_expire_time > "
                "$1::timestamptz)"),
            pg::Ts(now), pg::Ts(now + lease), limit,
            channel.has_value() ? std::string(ChannelName(*channel))
                                : std::string());
        std::vector<DeliveryRecord> out;
        for (const pqxx::row& r : rows) {
          absl::StatusOr<DeliveryRecord> d = FromRow(r);
          if (!d.ok()) return d.status();
          if (!r[19].is_null()) d->webhook_secret = r[19].as<std::string>();
          if (!r[20].is_null()) d->webhook_url = r[20].as<std::string>();
          if (!r[21].is_null()) {
            d->webhook_previous_secret = r[21].as<std::string>();
          }
          out.push_back(*std::move(d));
        }
        return out;
      });
}

absl::Status PgNotifyStore::Finish(const DeliveryRecord& claimed,
                                   const AttemptOutcome& o) {
  return db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_params(
        "UPDATE notify.deliveries SET state = $3, attempts = attempts + 1, "
        "lease_until = NULL, claim_token = NULL, "
        "next_attempt_time = $4::timestamptz, "
        "sent_time = CASE WHEN $3 = 'sent' THEN $5::timestamptz END, "
        "dead_letter_time = CASE WHEN $3 = 'dead_letter' THEN "
        "$5::timestamptz END "
        "WHERE id = $1::uuid AND state = 'sending' AND claim_token = $2::uuid "
        "RETURNING (SELECT coalesce(max(n), 0) + 1 FROM notify.attempts "
        "WHERE delivery_id = $1::uuid)",
        claimed.id, claimed.claim_token, std::string(StateName(o.new_state)),
        pg::Ts(o.next_attempt_time), pg::Ts(o.attempt.time));
    if (r.empty()) {
      return common::NotFound("LEASE_LOST",
                              "the delivery was claimed by another sender");
    }
    tx.exec_params(
        "INSERT INTO notify.attempts (delivery_id, n, attempt_time, "
        "response_code, latency_us, error, success) VALUES ($1::uuid, $2, "
        "$3::timestamptz, $4, $5, $6, $7)",
        claimed.id, r[0][0].as<int>(), pg::Ts(o.attempt.time),
        o.attempt.response_code, absl::ToInt64Microseconds(o.attempt.latency),
        o.attempt.error, o.attempt.success);
    return absl::OkStatus();
  });
}

absl::Status PgNotifyStore::Release(const DeliveryRecord& claimed,
                                    absl::Time next) {
  return db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "UPDATE notify.deliveries SET state = CASE WHEN attempts = 0 THEN "
        "'pending' ELSE 'failed' END, lease_until = NULL, claim_token = NULL, "
        "next_attempt_time = $3::timestamptz WHERE id = $1::uuid AND "
        "state = 'sending' AND claim_token = $2::uuid",
        claimed.id, claimed.claim_token, pg::Ts(next));
    return absl::OkStatus();
  });
}

absl::StatusOr<DeliveryRecord> PgNotifyStore::Get(absl::string_view id) {
  if (!common::IsUuid(id)) {
    return common::NotFound("DELIVERY_NOT_FOUND", "no such delivery");
  }
  return db::WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<DeliveryRecord> {
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", kDeliveryColumns,
                         " FROM notify.deliveries d WHERE d.id = $1::uuid"),
            std::string(id));
        if (r.empty()) {
          return common::NotFound("DELIVERY_NOT_FOUND", "no such delivery");
        }
        absl::StatusOr<DeliveryRecord> d = FromRow(r[0]);
        if (!d.ok()) return d.status();
        std::vector<DeliveryRecord> v = {*std::move(d)};
        LT_RETURN_IF_ERROR(LoadAttempts(tx, v));
        return std::move(v[0]);
      });
}

absl::StatusOr<Page<DeliveryRecord>> PgNotifyStore::List(
    const DeliveryFilter& f, int page_size, absl::string_view token) {
  const int limit = pg::ClampPageSize(page_size);
  // Token: "<create_us>,<id>" of the last item, newest first.
  int64_t after_us = std::numeric_limits<int64_t>::max();
  std::string after_id = "ffffffff-ffff-ffff-ffff-ffffffffffff";
  if (!token.empty()) {
    absl::StatusOr<std::string> raw = pg::DecodeToken(token);
    if (!raw.ok()) return raw.status();
    std::pair<std::string, std::string> parts =
        absl::StrSplit(*raw, absl::MaxSplits(',', 1));
    if (!absl::SimpleAtoi(parts.first, &after_us) ||
        !common::IsUuid(parts.second)) {
      return common::InvalidArgument(
          "INVALID_PAGE_TOKEN", {{"page_token", "is not a token we issued"}});
    }
    after_id = parts.second;
  }
  const std::string state =
      f.state.has_value() ? std::string(StateName(*f.state)) : "";
  return db::WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<Page<DeliveryRecord>> {
        pqxx::result rows = tx.exec_params(
            absl::StrCat(
                "SELECT ", kDeliveryColumns,
                " FROM notify.deliveries d WHERE ($1 = '' OR d.dossier = $1) "
                "AND ($2 = '' OR d.recipient = $2) AND ($3 = '' OR d.state = "
                "$3) AND (notify.us(d.create_time), d.id) < ($4::bigint, "
                "$5::uuid) AND ($7 = '' OR regexp_replace(substr(d.dossier, "
                "10), '-[^-]*-[^-]*$', '') IN (SELECT $7 UNION ALL SELECT "
                "agency_code FROM notify.agency_ancestors WHERE $7 = "
                "ANY(ancestors))) ORDER BY d.create_time DESC, d.id DESC "
                "LIMIT $6"),
            f.dossier, f.recipient, state, after_us, after_id, limit + 1,
            f.subtree_of);
        Page<DeliveryRecord> page;
        for (const pqxx::row& r : rows) {
          if (static_cast<int>(page.items.size()) == limit) {
            const DeliveryRecord& last = page.items.back();
            page.next_page_token = pg::EncodeToken(absl::StrCat(
                absl::ToUnixMicros(last.create_time), ",", last.id));
            break;
          }
          absl::StatusOr<DeliveryRecord> d = FromRow(r);
          if (!d.ok()) return d.status();
          page.items.push_back(*std::move(d));
        }
        LT_RETURN_IF_ERROR(LoadAttempts(tx, page.items));
        return page;
      });
}

absl::StatusOr<DeliveryRecord> PgNotifyStore::Replay(
    absl::string_view id, absl::string_view request_id, absl::Time now,
    const AuditEntry& audit) {
  if (!common::IsUuid(id)) {
    return common::NotFound("DELIVERY_NOT_FOUND", "no such delivery");
  }
  absl::Status s =
      db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
        pqxx::result r = tx.exec_params(
            "SELECT state, coalesce(replay_request_id, '') FROM "
            "notify.deliveries WHERE id = $1::uuid FOR UPDATE",
            std::string(id));
        if (r.empty()) {
          return common::NotFound("DELIVERY_NOT_FOUND", "no such delivery");
        }
        const std::string state = r[0][0].as<std::string>();
        if (!request_id.empty() && r[0][1].as<std::string>() == request_id) {
          return absl::OkStatus();  // a retry of the replay that happened
        }
        if (!request_id.empty()) {
          // The same id on another delivery is another request: refused,
          // as everywhere (two at once take turns on the id's lock).
          tx.exec_params(
              "SELECT pg_advisory_xact_lock(hashtext('lienthong.notify."
              "replay.' || $1))",
              std::string(request_id));
          if (!tx.exec_params("SELECT 1 FROM notify.deliveries WHERE "
                              "replay_request_id = $1 AND id <> $2::uuid",
                              std::string(request_id), std::string(id))
                   .empty()) {
            return common::InvalidArgument(
                "REQUEST_ID_REUSED",
                {{"request_id",
                  "was already used to replay another delivery; use a new "
                  "UUID"}});
          }
        }
        if (state != "dead_letter") {
          return common::FailedPrecondition(
              "NOT_DEAD_LETTER",
              "only dead-lettered deliveries can be replayed",
              {{"state", state}});
        }
        tx.exec_params(
            "UPDATE notify.deliveries SET state = 'pending', attempts = 0, "
            "next_attempt_time = $2::timestamptz, dead_letter_time = NULL, "
            "replay_request_id = NULLIF($3, '') WHERE id = $1::uuid",
            std::string(id), pg::Ts(now), std::string(request_id));
        AuditEntry a = audit;
        a.resource = absl::StrCat("deliveries/", id);
        Audit(tx, a, now);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return Get(id);
}

absl::StatusOr<std::vector<ChannelStats>> PgNotifyStore::Stats(absl::Time now) {
  // Runs every 15 s on every replica, so it reads only what it reports:
  // per channel, dead letters (deliveries_dead_letter) and the oldest due
  // unsent row, pending or failed (deliveries_due_by_channel, its first
  // entry) or sending (deliveries_leased: a batch or two). The sent rows,
  // nearly all of the table, are never read.
  return db::WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<ChannelStats>> {
        pqxx::result rows = tx.exec_params(
            "SELECT c.channel, (SELECT count(*) FROM notify.deliveries d "
            "WHERE d.state = 'dead_letter' AND d.channel = c.channel), "
            "coalesce(notify.us(least((SELECT min(d.next_attempt_time) FROM "
            "notify.deliveries d WHERE d.state IN ('pending', 'failed') AND "
            "d.channel = c.channel AND d.next_attempt_time <= "
            "$1::timestamptz), (SELECT min(d.next_attempt_time) FROM "
            "notify.deliveries d WHERE d.state = 'sending' AND d.channel = "
            "c.channel AND d.next_attempt_time <= $1::timestamptz))), 0) "
            "FROM unnest(ARRAY['sms', 'email', 'webhook']) AS c(channel)",
            pg::Ts(now));
        std::vector<ChannelStats> out;
        for (Channel c : kAllChannels) {
          ChannelStats s{c, 0, absl::ZeroDuration()};
          for (const pqxx::row& r : rows) {
            if (r[0].as<std::string>() != ChannelName(c)) continue;
            s.dead_letters = r[1].as<int64_t>();
            const int64_t oldest = r[2].as<int64_t>();
            if (oldest > 0)
              s.oldest_due_age = now - absl::FromUnixMicros(oldest);
          }
          out.push_back(s);
        }
        return out;
      });
}

absl::StatusOr<DeliveryPurgeCounts> PgNotifyStore::PurgeFinished(
    absl::Time cutoff, int batch, const std::function<bool()>& stopping) {
  const int limit = std::max(1, batch);
  DeliveryPurgeCounts total;
  // Each final state by the time it was reached (deliveries_sent_time,
  // deliveries_dead_letter): a dead letter replayed and sent yesterday is
  // kept its full retention from yesterday. Rows a replay or a sender has
  // locked are skipped, and a replayed one is no longer in a final state.
  for (const auto& [state, column] :
       {std::pair<const char*, const char*>{"sent", "sent_time"},
        {"dead_letter", "dead_letter_time"}}) {
    const std::string pick = absl::StrCat(
        "SELECT array_agg(id)::text FROM (SELECT id FROM notify.deliveries "
        "WHERE state = '",
        state, "' AND ", column,
        " < $1::timestamptz LIMIT $2 FOR UPDATE SKIP LOCKED) s");
    for (;;) {
      absl::StatusOr<DeliveryPurgeCounts> n = db::WithTransaction(
          pool_, [&](pqxx::work& tx) -> absl::StatusOr<DeliveryPurgeCounts> {
            DeliveryPurgeCounts c;
            pqxx::result ids = tx.exec_params(pick, pg::Ts(cutoff), limit);
            if (ids.empty() || ids[0][0].is_null()) return c;
            const std::string array = ids[0][0].as<std::string>();
            // Attempts first: they reference their delivery.
            c.attempts = tx.exec_params(
                               "DELETE FROM notify.attempts WHERE "
                               "delivery_id = ANY($1::uuid[])",
                               array)
                             .affected_rows();
            c.deliveries = tx.exec_params(
                                 "DELETE FROM notify.deliveries WHERE id = "
                                 "ANY($1::uuid[])",
                                 array)
                               .affected_rows();
            return c;
          });
      if (!n.ok()) return n.status();
      total.deliveries += n->deliveries;
      total.attempts += n->attempts;
      if (n->deliveries < limit || (stopping && stopping())) break;
    }
    if (stopping && stopping()) break;
  }
  return total;
}

}  // namespace lienthong::notify
