#pragma once

// Forward-only, numbered SQL migrations, one schema per service.
//
// Migrate() creates the schema and `<schema>.schema_migrations`, then
// applies the missing files in order, each in its own transaction, under a
// transaction-level advisory lock keyed on the schema: N replicas may start
// at once and each file is applied exactly once. An applied file whose
// checksum changed stops the service (never edit a merged migration).
//
// Every schema also gets the library's own tables for events, recorded as
// negative versions: `<schema>.outbox` (one row per event and destination)
// and `<schema>.inbox` (event ids already applied).
//
// Services embed their files at build time with
//   lt_migrations(<name> DIR migrations NAMESPACE lienthong::intake)
// which defines `lienthong::<name>` with header "<name>.h" declaring
// `std::vector<lienthong::db::Migration> Migrations();` in that namespace.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "libs/db/pool.h"

namespace lienthong::db {

struct Migration {
  int version = 0;
  std::string name;
  std::string sql;
};

absl::Status Migrate(Pool& pool, absl::string_view schema,
                     const std::vector<Migration>& migrations);

// Lower-case hex SHA-256.
std::string Sha256Hex(absl::string_view data);

// The library's own migrations for `schema` (outbox, inbox).
std::vector<Migration> EventTableMigrations(absl::string_view schema);

}  // namespace lienthong::db
