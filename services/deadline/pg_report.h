#pragma once

// The on-time report's counters in PostgreSQL (deadline.report_daily, per
// local day, and deadline.report_open, what is open now): what a
// transaction adds to them and the report read back from them. Internal to
// PgDeadlineStore.

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "pqxx/pqxx"
#include "services/deadline/deadline_store.h"

namespace lienthong::deadline::pg {

// A transaction's report deltas, summed per counter row and written by
// Flush() at its end, in key order: fewer statements, and every transaction
// locks counter rows in the same order, so scanners cannot deadlock on the
// city's hot rows.
class ReportCounters {
 public:
  // Adds what clock `c` moved by `d` to its agency's rows and each
  // ancestor's; days are local in `tz`.
  void Add(const Clock& c, const ReportDelta& d, absl::TimeZone tz);
  // Writes the sums (rows that sum to nothing are left alone) and clears.
  void Flush(pqxx::work& w);

 private:
  struct Daily {
    int64_t received = 0, early = 0, on_time = 0, late = 0;
  };
  struct Open {
    int64_t on_time = 0, overdue = 0;
  };
  // Keys in the tables' primary-key order.
  using DailyKey =
      std::tuple<std::string, int, std::string, std::string, std::string, int>;
  using OpenKey = std::tuple<std::string, int, std::string, std::string, int>;
  std::map<DailyKey, Daily> daily_;
  std::map<OpenKey, Open> open_;
};

// The report `q` asks for: its subtree's totals, grouped as it says.
std::vector<ReportRow> ReadReport(pqxx::work& w, const ReportQuery& q);

}  // namespace lienthong::deadline::pg
