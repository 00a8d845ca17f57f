#pragma once

// Hot-path statements run as named prepared statements: PostgreSQL parses
// and plans them once per connection instead of on every call (under load,
// parsing and planning unprepared statements is a large share of the
// server's CPU). libpqxx registers the definition with the connection and
// prepares it on the server at first use, again after a reconnect; the
// cached plan is invalidated by PostgreSQL itself when a migration changes
// a table it reads.
//
//   pqxx::result r = db::ExecPrepared(tx, "intake_next_sequence",
//       "INSERT INTO intake.dossier_sequences ... RETURNING last_value",
//       agency_code, day);
//
// `name` must be unique per distinct `sql` in the process: libpqxx refuses
// to redefine a name with another text (argument_error, which
// WithTransaction maps to INTERNAL).

#include <string>
#include <utility>
#include <vector>

#include "pqxx/pqxx"

namespace lienthong::db {

template <typename... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& tx, const std::string& name,
                          const std::string& sql, Args&&... args) {
  tx.conn().prepare(name, sql);  // a map lookup once it is known
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

// A PostgreSQL array literal for a `$n::text[]` (or `::uuid[]`) parameter:
// each element double-quoted, with `"` and `\` escaped.
std::string TextArrayLiteral(const std::vector<std::string>& items);

}  // namespace lienthong::db
