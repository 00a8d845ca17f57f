// Templates and webhooks in PostgreSQL (see notify_store.h).

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/uuid.h"
#include "libs/db/transaction.h"
#include "services/notify/notify_store.h"

namespace lienthong::notify {
namespace {

constexpr char kTemplateColumns[] =
    "event_type, channel, version, subject, body, notify.us(create_time)";

absl::StatusOr<StoredTemplate> TemplateFromRow(const pqxx::row& r) {
  StoredTemplate t;
  t.text.event_type = r[0].as<std::string>();
  absl::StatusOr<Channel> c = ParseChannel(r[1].as<std::string>());
  if (!c.ok()) return c.status();
  t.text.channel = *c;
  t.version = r[2].as<int>();
  t.text.subject = r[3].as<std::string>();
  t.text.body = r[4].as<std::string>();
  t.create_time = pg::FromUs(r[5]);
  return t;
}

// A PostgreSQL text[] literal.
std::string TextArray(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& s : items) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') q.push_back('\\');
      q.push_back(c);
    }
    quoted.push_back(q + "\"");
  }
  return absl::StrCat("{", absl::StrJoin(quoted, ","), "}");
}

constexpr char kWebhookColumns[] =
    "id::text, agency_code, url, secret, array_to_string(event_types, ','), "
    "notify.us(create_time)";

Webhook WebhookFromRow(const pqxx::row& r) {
  Webhook w;
  w.id = r[0].as<std::string>();
  w.agency_code = r[1].as<std::string>();
  w.url = r[2].as<std::string>();
  w.secret = r[3].as<std::string>();
  w.event_types =
      absl::StrSplit(r[4].as<std::string>(), ',', absl::SkipEmpty());
  w.create_time = pg::FromUs(r[5]);
  return w;
}

}  // namespace

absl::Status PgNotifyStore::SeedTemplates(
    const std::vector<TemplateText>& defaults, absl::Time now) {
  return db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    for (const TemplateText& t : defaults) {
      tx.exec_params(
          "INSERT INTO notify.templates (event_type, channel, version, "
          "subject, body, create_time) VALUES ($1, $2, 1, $3, $4, "
          "$5::timestamptz) ON CONFLICT DO NOTHING",
          t.event_type, std::string(ChannelName(t.channel)), t.subject, t.body,
          pg::Ts(now));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<StoredTemplate> PgNotifyStore::CurrentTemplate(
    pqxx::work& tx, absl::string_view event_type, Channel channel) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kTemplateColumns,
                   " FROM notify.templates WHERE event_type = $1 AND "
                   "channel = $2 ORDER BY version DESC LIMIT 1"),
      std::string(event_type), std::string(ChannelName(channel)));
  if (r.empty()) {
    return common::NotFound("TEMPLATE_NOT_FOUND", "no such template",
                            {{"event_type", std::string(event_type)},
                             {"channel", std::string(ChannelName(channel))}});
  }
  return TemplateFromRow(r[0]);
}

absl::StatusOr<StoredTemplate> PgNotifyStore::GetTemplate(
    absl::string_view event_type, Channel channel) {
  return db::WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<StoredTemplate> {
        return CurrentTemplate(tx, event_type, channel);
      });
}

void PgNotifyStore::Audit(pqxx::work& tx, const AuditEntry& e, absl::Time now) {
  tx.exec_params(
      "INSERT INTO notify.audit (at, agency, subject, role, peer, action, "
      "resource, outcome, request_id) VALUES ($1::timestamptz, $2, $3, $4, "
      "$5, $6, $7, $8, $9)",
      pg::Ts(now), e.agency, e.subject, e.role, e.peer, e.action, e.resource,
      e.outcome, e.request_id);
}

absl::StatusOr<StoredTemplate> PgNotifyStore::AddTemplateVersion(
    const TemplateText& t, absl::string_view request_id, absl::Time now,
    const AuditEntry& audit) {
  return db::WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<StoredTemplate> {
        if (!request_id.empty()) {
          pqxx::result prior = tx.exec_params(
              absl::StrCat("SELECT ", kTemplateColumns,
                           " FROM notify.templates WHERE request_id = $1"),
              std::string(request_id));
          if (!prior.empty()) {
            absl::StatusOr<StoredTemplate> s = TemplateFromRow(prior[0]);
            if (!s.ok()) return s.status();
            if (s->text.event_type != t.event_type ||
                s->text.channel != t.channel || s->text.body != t.body ||
                s->text.subject != t.subject) {
              return common::InvalidArgument(
                  "REQUEST_ID_REUSED",
                  {{"request_id", "was used for a different template"}});
            }
            return s;
          }
        }
        // Serialize versions of one template.
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                       absl::StrCat("notify.templates:", t.event_type, ".",
                                    ChannelName(t.channel)));
        pqxx::result r = tx.exec_params(
            absl::StrCat(
                "INSERT INTO notify.templates (event_type, channel, version, "
                "subject, body, create_time, request_id) SELECT $1, $2, "
                "coalesce(max(version), 0) + 1, $3, $4, $5::timestamptz, "
                "NULLIF($6, '') FROM notify.templates WHERE event_type = $1 "
                "AND channel = $2 RETURNING ",
                kTemplateColumns),
            t.event_type, std::string(ChannelName(t.channel)), t.subject,
            t.body, pg::Ts(now), std::string(request_id));
        absl::StatusOr<StoredTemplate> stored = TemplateFromRow(r[0]);
        if (stored.ok()) {
          AuditEntry a = audit;
          a.resource = absl::StrCat("templates/", t.event_type, ".",
                                    ChannelName(t.channel), "/versions/",
                                    stored->version);
          Audit(tx, a, now);
        }
        return stored;
      });
}

absl::StatusOr<Page<StoredTemplate>> PgNotifyStore::ListTemplates(
    int page_size, absl::string_view token) {
  const int limit = pg::ClampPageSize(page_size);
  std::string after;
  if (!token.empty()) {
    absl::StatusOr<std::string> raw = pg::DecodeToken(token);
    if (!raw.ok()) return raw.status();
    after = *raw;
  }
  return db::WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<Page<StoredTemplate>> {
        pqxx::result rows = tx.exec_params(
            absl::StrCat(
                "SELECT DISTINCT ON (event_type, channel) ", kTemplateColumns,
                " FROM notify.templates WHERE event_type || '.' || channel > "
                "$1 ORDER BY event_type, channel, version DESC LIMIT $2"),
            after, limit + 1);
        Page<StoredTemplate> page;
        for (const pqxx::row& r : rows) {
          if (static_cast<int>(page.items.size()) == limit) {
            const TemplateText& last = page.items.back().text;
            page.next_page_token = pg::EncodeToken(
                absl::StrCat(last.event_type, ".", ChannelName(last.channel)));
            break;
          }
          absl::StatusOr<StoredTemplate> t = TemplateFromRow(r);
          if (!t.ok()) return t.status();
          page.items.push_back(*std::move(t));
        }
        return page;
      });
}

absl::StatusOr<Webhook> PgNotifyStore::SaveWebhook(const Webhook& w,
                                                   absl::string_view request_id,
                                                   absl::Time now,
                                                   const AuditEntry& audit) {
  return db::WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<Webhook> {
        if (!request_id.empty()) {
          pqxx::result prior = tx.exec_params(
              absl::StrCat("SELECT ", kWebhookColumns,
                           " FROM notify.webhooks WHERE request_id = $1"),
              std::string(request_id));
          if (!prior.empty()) {
            Webhook s = WebhookFromRow(prior[0]);
            if (s.agency_code != w.agency_code || s.url != w.url ||
                s.event_types != w.event_types ||
                (!w.id.empty() && s.id != w.id)) {
              return common::InvalidArgument(
                  "REQUEST_ID_REUSED",
                  {{"request_id", "was used for a different webhook"}});
            }
            return s;
          }
        }
        pqxx::result r;
        if (w.id.empty()) {
          r = tx.exec_params(
              absl::StrCat(
                  "INSERT INTO notify.webhooks (id, agency_code, url, secret, "
                  "event_types, create_time, update_time, request_id) VALUES "
                  "($1::uuid, $2, $3, $4, $5::text[], $6::timestamptz, "
                  "$6::timestamptz, NULLIF($7, '')) RETURNING ",
                  kWebhookColumns),
              common::NewUuid(), w.agency_code, w.url, w.secret,
              TextArray(w.event_types), pg::Ts(now), std::string(request_id));
        } else {
          r = tx.exec_params(
              absl::StrCat(
                  // A new secret keeps the old one as previous_secret
                  // (SET sees the row as it was) until $8.
                  "UPDATE notify.webhooks SET url = $3, previous_secret = "
                  "CASE WHEN $4 = '' THEN previous_secret ELSE secret END, "
                  "previous_secret_expire_time = CASE WHEN $4 = '' THEN "
                  "previous_secret_expire_time ELSE $8::timestamptz END, "
                  "secret = CASE WHEN $4 = '' THEN secret ELSE $4 END, "
                  "event_types = $5::text[], update_time = $6::timestamptz, "
                  "request_id = coalesce(NULLIF($7, ''), request_id) WHERE "
                  "id = $1::uuid AND agency_code = $2 AND delete_time IS "
                  "NULL RETURNING ",
                  kWebhookColumns),
              w.id, w.agency_code, w.url, w.secret, TextArray(w.event_types),
              pg::Ts(now), std::string(request_id),
              pg::Ts(w.previous_secret_expire_time));
          if (r.empty()) {
            return common::NotFound("WEBHOOK_NOT_FOUND", "no such webhook");
          }
        }
        Webhook saved = WebhookFromRow(r[0]);
        AuditEntry a = audit;
        a.resource = absl::StrCat("webhooks/", saved.id);
        Audit(tx, a, now);
        return saved;
      });
}

absl::StatusOr<Page<Webhook>> PgNotifyStore::ListWebhooks(
    absl::string_view agency_code, int page_size, absl::string_view token) {
  const int limit = pg::ClampPageSize(page_size);
  std::string after = "00000000-0000-0000-0000-000000000000";
  if (!token.empty()) {
    absl::StatusOr<std::string> raw = pg::DecodeToken(token);
    if (!raw.ok()) return raw.status();
    if (!common::IsUuid(*raw)) {
      return common::InvalidArgument(
          "INVALID_PAGE_TOKEN", {{"page_token", "is not a token we issued"}});
    }
    after = *raw;
  }
  return db::WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<Page<Webhook>> {
        pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT ", kWebhookColumns,
                         " FROM notify.webhooks WHERE delete_time IS NULL AND "
                         "($1 = '' OR agency_code = $1) AND id > $2::uuid "
                         "ORDER BY id LIMIT $3"),
            std::string(agency_code), after, limit + 1);
        Page<Webhook> page;
        for (const pqxx::row& r : rows) {
          if (static_cast<int>(page.items.size()) == limit) {
            page.next_page_token = pg::EncodeToken(page.items.back().id);
            break;
          }
          page.items.push_back(WebhookFromRow(r));
        }
        return page;
      });
}

absl::Status PgNotifyStore::DeleteWebhook(absl::string_view id, absl::Time now,
                                          const AuditEntry& audit) {
  if (!common::IsUuid(id)) {
    return common::NotFound("WEBHOOK_NOT_FOUND", "no such webhook");
  }
  return db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    // Deleting twice is fine (idempotent); an unknown id is not.
    pqxx::result r = tx.exec_params(
        "UPDATE notify.webhooks w SET delete_time = coalesce(w.delete_time, "
        "$2::timestamptz) FROM (SELECT id, delete_time IS NULL AS live FROM "
        "notify.webhooks WHERE id = $1::uuid FOR UPDATE) old WHERE w.id = "
        "old.id RETURNING w.id, old.live",
        std::string(id), pg::Ts(now));
    if (r.empty()) {
      return common::NotFound("WEBHOOK_NOT_FOUND", "no such webhook");
    }
    if (r[0][1].as<bool>()) {  // live until now: deleted by this call
      AuditEntry a = audit;
      a.resource = absl::StrCat("webhooks/", id);
      Audit(tx, a, now);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<Webhook>> PgNotifyStore::WebhooksFor(
    pqxx::work& tx, const std::vector<std::string>& agency_codes,
    absl::string_view event_type) {
  pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT ", kWebhookColumns,
                   " FROM notify.webhooks WHERE delete_time IS NULL AND "
                   "agency_code = ANY($1::text[]) AND (event_types = '{}' OR "
                   "$2 = ANY(event_types)) ORDER BY id"),
      TextArray(agency_codes), std::string(event_type));
  std::vector<Webhook> out;
  for (const pqxx::row& r : rows) out.push_back(WebhookFromRow(r));
  return out;
}

absl::Status PgNotifyStore::RememberAncestors(
    pqxx::work& tx, absl::string_view agency_code,
    const std::vector<std::string>& ancestors, absl::Time now) {
  if (agency_code.empty() || ancestors.empty()) return absl::OkStatus();
  tx.exec_params(
      "INSERT INTO notify.agency_ancestors (agency_code, ancestors, "
      "update_time) VALUES ($1, $2::text[], $3::timestamptz) ON CONFLICT "
      "(agency_code) DO UPDATE SET ancestors = EXCLUDED.ancestors, "
      "update_time = EXCLUDED.update_time WHERE "
      "notify.agency_ancestors.ancestors IS DISTINCT FROM EXCLUDED.ancestors",
      std::string(agency_code), TextArray(ancestors), pg::Ts(now));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> PgNotifyStore::AncestorsOf(
    pqxx::work& tx, const std::vector<std::string>& agency_codes) {
  pqxx::result rows = tx.exec_params(
      "SELECT DISTINCT unnest(ancestors) FROM notify.agency_ancestors WHERE "
      "agency_code = ANY($1::text[]) ORDER BY 1",
      TextArray(agency_codes));
  std::vector<std::string> out;
  for (const pqxx::row& r : rows) out.push_back(r[0].as<std::string>());
  return out;
}

}  // namespace lienthong::notify
