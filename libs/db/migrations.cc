#include "libs/db/migrations.h"

#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "libs/common/errors.h"
#include "libs/db/transaction.h"

namespace lienthong::db {
namespace {

bool ValidSchemaName(absl::string_view s) {
  if (s.empty() || s.size() > 48) return false;
  for (const char c : s) {
    if (!((c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

constexpr char kOutboxSql[] = R"sql(
CREATE TABLE {schema}.outbox (
  event_id        uuid        NOT NULL,
  destination     text        NOT NULL,
  event_type      text        NOT NULL,
  payload         bytea       NOT NULL,
  created_at      timestamptz NOT NULL,
  next_attempt_at timestamptz NOT NULL,
  attempts        integer     NOT NULL DEFAULT 0,
  last_error_code text,
  delivered_at    timestamptz,
  seq             bigserial,
  PRIMARY KEY (event_id, destination)
);
CREATE INDEX outbox_due ON {schema}.outbox (destination, next_attempt_at)
  WHERE delivered_at IS NULL;
CREATE TABLE {schema}.inbox (
  event_id    uuid        PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now()
);
)sql";

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

// Event payloads carry whole resources (a DossierReceived holds the
// procedure) and pass TOAST's ~2 kB threshold: lz4 compresses them at a
// fraction of the CPU of the default pglz, which under load was a tenth of
// PostgreSQL's time. Existing rows keep their compression; new ones use lz4.
constexpr char kOutboxLz4Sql[] = R"sql(
ALTER TABLE {schema}.outbox ALTER COLUMN payload SET COMPRESSION lz4;
)sql";

// Relays take a destination's undelivered events in the order they were
// written (seq), not by due time; the index serves that, in place of the
// one by due time.
constexpr char kOutboxFifoSql[] = R"sql(
CREATE INDEX outbox_fifo ON {schema}.outbox (destination, seq)
  WHERE delivered_at IS NULL;
DROP INDEX {schema}.outbox_due;
)sql";

// An event to three destinations was stored three times, whole (a
// DossierReceived with its procedure is ~2.7 kB, 1.6 kB compressed): the
// payload now goes once into outbox_payloads and each destination's row
// only points to it. Rows written before keep their own payload.
constexpr char kOutboxPayloadsSql[] = R"sql(
CREATE TABLE {schema}.outbox_payloads (
  event_id   uuid        PRIMARY KEY,
  payload    bytea       COMPRESSION lz4 NOT NULL,
  created_at timestamptz NOT NULL
);
ALTER TABLE {schema}.outbox ALTER COLUMN payload DROP NOT NULL;
)sql";

std::vector<Migration> EventTableMigrations(absl::string_view schema) {
  // Applied in this order, before the service's own (negative versions so
  // they never collide with a service's numbering).
  return {{-1, "lienthong_events",
           absl::StrReplaceAll(kOutboxSql, {{"{schema}", schema}})},
          {-2, "lienthong_events_lz4",
           absl::StrReplaceAll(kOutboxLz4Sql, {{"{schema}", schema}})},
          {-3, "lienthong_events_fifo",
           absl::StrReplaceAll(kOutboxFifoSql, {{"{schema}", schema}})},
          {-4, "lienthong_events_payload_once",
           absl::StrReplaceAll(kOutboxPayloadsSql, {{"{schema}", schema}})}};
}

absl::Status Migrate(Pool& pool, absl::string_view schema,
                     const std::vector<Migration>& service_migrations) {
  if (!ValidSchemaName(schema)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad schema name '", schema, "'"));
  }
  std::vector<Migration> all = EventTableMigrations(schema);
  std::vector<Migration> own = service_migrations;
  std::sort(own.begin(), own.end(), [](const Migration& a, const Migration& b) {
    return a.version < b.version;
  });
  for (size_t i = 0; i < own.size(); ++i) {
    if (own[i].version <= 0 ||
        (i > 0 && own[i].version == own[i - 1].version)) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration versions must be positive and unique (",
                       own[i].name, ")"));
    }
  }
  all.insert(all.end(), own.begin(), own.end());

  const std::string s(schema);
  const std::string lock_key = absl::StrCat("lienthong.migrations.", s);
  for (const Migration& m : all) {
    const std::string checksum = Sha256Hex(m.sql);
    absl::Status st =
        WithTransaction(pool, [&](pqxx::work& tx) -> absl::Status {
          // Serialises every runner of this schema until this transaction ends.
          tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                         lock_key);
          tx.exec(absl::StrCat("CREATE SCHEMA IF NOT EXISTS ", s));
          tx.exec(absl::StrCat(
              "CREATE TABLE IF NOT EXISTS ", s,
              ".schema_migrations (version integer PRIMARY KEY, name text NOT "
              "NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL "
              "DEFAULT now())"));
          pqxx::result r = tx.exec_params(
              absl::StrCat("SELECT checksum FROM ", s,
                           ".schema_migrations WHERE version = $1"),
              m.version);
          if (!r.empty()) {
            if (r[0][0].as<std::string>() != checksum) {
              return common::FailedPrecondition(
                  "MIGRATION_CHECKSUM_MISMATCH",
                  absl::StrCat("migration ", m.version, " (", m.name,
                               ") of schema ", s,
                               " differs from the one applied; never edit a "
                               "merged migration"));
            }
            return absl::OkStatus();
          }
          tx.exec(m.sql);
          tx.exec_params(
              absl::StrCat("INSERT INTO ", s,
                           ".schema_migrations (version, name, checksum) "
                           "VALUES ($1, $2, $3)"),
              m.version, m.name, checksum);
          return absl::OkStatus();
        });
    if (!st.ok()) {
      if (st.code() == absl::StatusCode::kInternal) {
        return common::Internal(
            "MIGRATION_FAILED",
            absl::StrCat("migration ", m.version, " (", m.name, ") of schema ",
                         s, " failed: ", st.message()),
            common::GetErrorDetails(st).metadata);
      }
      return st;
    }
  }
  return absl::OkStatus();
}

}  // namespace lienthong::db
