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
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "pqxx/pqxx"

namespace lienthong::db {

// "lt_" and a 64-bit hash of `sql` in hex.
// A timestamptz parameter's text: UTC, microseconds ("2026-12-07
// 03:04:05.678901+00").
std::string PgTime(absl::Time t);

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

// A multi-row `VALUES` list whose every value is a parameter: a batch's
// rows in one statement. `row` is one row's text with a `{t}` where each
// text value goes (its cast after it), at most one `{b}` where the row's
// bytes go (bytea) and any `{i}` where the row's index (from 0) goes as a
// literal. Parameters are numbered from `first_param`: every row's text
// values, row by row, then every row's bytes; the statement's own
// parameters go before (`first_param` > 1) or after (`next_param()`).
//
//   db::ValuesRows rows("({t}::bigint, {t}::text, {b}::bytea)");
//   for (const Handover& h : handovers) rows.Add({id, h.dossier()}, bytes);
//   db::ExecPrepared(tx, absl::StrCat("INSERT INTO routing.handovers "
//                    "(id, dossier, body) VALUES ", rows.sql()),
//                    rows.text_params(), rows.bytes_params());
//
// A row text with two `{b}`, or a row added with the wrong number of text
// values or with bytes it has no place for, is a programming error: the
// process aborts with the row text (never the values) on stderr.
class ValuesRows {
 public:
  explicit ValuesRows(std::string_view row, int first_param = 1);

  // One row: as many text values as `row` has `{t}`, and its bytes when it
  // has a `{b}`.
  void Add(std::vector<std::string> text, std::string_view bytes = {});

  int size() const { return rows_; }
  bool empty() const { return rows_ == 0; }
  // The rows, "(…), (…)", for after VALUES.
  std::string sql() const;
  // The number of the first parameter after the rows'.
  int next_param() const;
  auto text_params() const { return pqxx::prepare::make_dynamic_params(text_); }
  auto bytes_params() const {
    return pqxx::prepare::make_dynamic_params(bytes_);
  }

 private:
  enum class Slot { kText, kBytes, kIndex };
  std::string row_;                    // as given, for error messages
  std::vector<std::string> literals_;  // literals_[k] comes before slots_[k]
  std::vector<Slot> slots_;
  std::string tail_;  // after the last slot
  int first_param_;
  int text_per_row_ = 0;
  bool has_bytes_ = false;
  int rows_ = 0;
  std::vector<std::string> text_;
  std::vector<pqxx::binarystring> bytes_;
};

}  // namespace lienthong::db
