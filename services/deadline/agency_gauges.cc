#include "services/deadline/agency_gauges.h"

#include "libs/db/prepared.h"
#include "libs/db/transaction.h"
#include "libs/metrics/metrics.h"

namespace lienthong::deadline {
namespace {

using db::PgTime;

// Position in a root-first path -> tier label.
const char* TierOfDepth(int depth) {
  switch (depth) {
    case 1:
      return "province";
    case 2:
      return "district";
    case 3:
      return "commune";
    default:
      return "office";
  }
}

}  // namespace

absl::Status UpdateAgencyGauges(db::Pool& pool, absl::Time now,
                                absl::Duration window) {
  return db::WithTransaction(pool, [&](pqxx::work& tx) -> absl::Status {
    auto& due_soon = metrics::Gauge(
        "lienthong_deadline_due_soon",
        "Open clocks inside their due-soon window, by responsible agency.");
    pqxx::result ds = tx.exec_params(
        "SELECT agency_code, count(*) FROM deadline.clocks WHERE state = 1 "
        "AND due_soon_at <= $1 AND due_at > $1 GROUP BY agency_code",
        PgTime(now));
    for (const auto& row : ds) {
      due_soon.Add({{"agency", row[0].as<std::string>()}})
          .Set(row[1].as<double>());
    }
    auto& ratio = metrics::Gauge(
        "lienthong_deadline_on_time_ratio",
        "Dossiers finished early or on time / finished, over 30 days of "
        "receipts, by agency and its ancestors (roll-up).");
    pqxx::result r = tx.exec_params(
        "WITH r AS (SELECT scope, sum(finished_early + finished_on_time) AS "
        "ok, "
        "sum(finished_early + finished_on_time + finished_late) AS done FROM "
        "deadline.report_daily WHERE kind = 1 AND day >= ($1::timestamptz AT "
        "TIME ZONE 'Asia/Ho_Chi_Minh')::date GROUP BY scope) "
        "SELECT r.scope, r.ok, r.done, (SELECT array_position(c.agency_path, "
        "r.scope) FROM deadline.clocks c WHERE c.agency_path @> "
        "ARRAY[r.scope] LIMIT 1) FROM r",
        PgTime(now - window));
    for (const auto& row : r) {
      const double done = row[2].as<double>();
      const int depth = row[3].is_null() ? 0 : row[3].as<int>();
      ratio
          .Add({{"agency", row[0].as<std::string>()},
                {"tier", TierOfDepth(depth)}})
          .Set(done > 0 ? row[1].as<double>() / done : 1.0);
    }
    return absl::OkStatus();
  });
}

}  // namespace lienthong::deadline
