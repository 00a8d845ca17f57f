#pragma once

// Statements run as prepared statements: PostgreSQL parses and plans each
// one once per connection instead of on every call (under load, parsing
// and planning unprepared statements was a large share of the server's
// CPU). The statement's name is derived from its text, so a call site needs
// no name of its own; libpqxx registers the definition with the connection
// and prepares it on the server at first use (again after a reconnect), and
// PostgreSQL itself invalidates the plan when a migration changes a table
// it reads.
//
//   pqxx::result r = db::ExecPrepared(tx,
//       "SELECT body FROM intake.dossiers WHERE code = $1", code);
//
// The SQL must be a fixed text (values always as parameters, as everywhere
// here): each distinct text stays prepared for the connection's life.

#include <string>
#include <utility>
#include <vector>

#include "pqxx/pqxx"

namespace lienthong::db {

// "lt_" and a 64-bit hash of `sql` in hex.
std::string PreparedName(const std::string& sql);

template <typename... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& tx, const std::string& sql,
                          Args&&... args) {
  const std::string name = PreparedName(sql);
  // A map lookup once known; a (never expected) hash collision between two
  // texts makes libpqxx throw argument_error rather than run the wrong one.
  tx.conn().prepare(name, sql);
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

// A PostgreSQL array literal for a `$n::text[]` (or `::uuid[]`) parameter:
// each element double-quoted, with `"` and `\` escaped.
std::string TextArrayLiteral(const std::vector<std::string>& items);

}  // namespace lienthong::db
