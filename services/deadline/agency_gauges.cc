#include "services/deadline/agency_gauges.h"

#include <map>
#include <set>
#include <string>
#include <vector>

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

// The label sets `family` holds now, so that those the new values leave
// out can be cleared (a gauge keeps its last value otherwise: an agency
// whose last due-soon dossier finished would stay at 1 for good).
std::vector<std::map<std::string, std::string>> LabelSets(
    prometheus::Family<prometheus::Gauge>& family) {
  std::vector<std::map<std::string, std::string>> out;
  for (const auto& f : family.Collect()) {
    for (const auto& m : f.metric) {
      std::map<std::string, std::string> labels;
      for (const auto& l : m.label) labels[l.name] = l.value;
      out.push_back(std::move(labels));
    }
  }
  return out;
}

// Sets `family`'s per-agency counts from `rows` (agency code, count), and
// those of the agencies it had a series for and `rows` leaves out to 0.
void SetPerAgency(prometheus::Family<prometheus::Gauge>& family,
                  const pqxx::result& rows) {
  std::set<std::string> seen;
  for (const auto& row : rows) {
    seen.insert(row[0].as<std::string>());
    family.Add({{"agency", row[0].as<std::string>()}}).Set(row[1].as<double>());
  }
  for (const auto& labels : LabelSets(family)) {
    const auto it = labels.find("agency");
    if (it != labels.end() && seen.count(it->second) == 0) {
      family.Add(labels).Set(0);  // none any more
    }
  }
}

}  // namespace

absl::Status UpdateAgencyGauges(db::Pool& pool, absl::Time now,
                                absl::Duration window) {
  return db::WithTransaction(pool, [&](pqxx::work& tx) -> absl::Status {
    auto& due_soon = metrics::Gauge(
        "lienthong_deadline_due_soon",
        "Open clocks inside their due-soon window, by responsible agency.");
    SetPerAgency(due_soon,
                 tx.exec_params("SELECT agency_code, count(*) FROM "
                                "deadline.clocks WHERE state = 1 AND "
                                "due_soon_at <= $1 AND due_at >= $1 GROUP BY "
                                "agency_code",
                                PgTime(now)));
    auto& overdue = metrics::Gauge(
        "lienthong_deadline_overdue_clocks",
        "Running clocks past their due time, by responsible agency.");
    // `state <> 3` is clocks_open_due's predicate, so that index serves.
    // At the due instant itself a clock is still on time (the scanner
    // fires after it, Stop counts it on time): due soon, not overdue.
    SetPerAgency(overdue,
                 tx.exec_params("SELECT agency_code, count(*) FROM "
                                "deadline.clocks WHERE state <> 3 AND state "
                                "= 1 AND due_at < $1 GROUP BY agency_code",
                                PgTime(now)));
    auto& ratio = metrics::Gauge(
        "lienthong_deadline_on_time_ratio",
        "Dossiers finished early or on time / finished, over the dossiers "
        "finished in the last 30 days, by agency and its ancestors "
        "(roll-up).");
    pqxx::result r = tx.exec_params(
        "WITH r AS (SELECT scope, sum(finished_early + finished_on_time) AS "
        "ok, "
        "sum(finished_early + finished_on_time + finished_late) AS done FROM "
        "deadline.report_daily WHERE kind = 1 AND day >= ($1::timestamptz AT "
        "TIME ZONE 'Asia/Ho_Chi_Minh')::date GROUP BY scope) "
        "SELECT r.scope, r.ok, r.done, (SELECT cardinality(a.ancestors) + 1 "
        "FROM deadline.agencies a WHERE a.code = r.scope) FROM r",
        PgTime(now - window));
    std::set<std::map<std::string, std::string>> current;
    for (const auto& row : r) {
      const double done = row[2].as<double>();
      // Received but nothing finished yet: no ratio. 1.0 would rank a ward
      // with dossiers overdue and none finished as the best one (and out of
      // the dashboard's bottomk "worst wards").
      if (done <= 0) continue;
      const int depth = row[3].is_null() ? 0 : row[3].as<int>();
      std::map<std::string, std::string> labels = {
          {"agency", row[0].as<std::string>()}, {"tier", TierOfDepth(depth)}};
      ratio.Add(labels).Set(row[1].as<double>() / done);
      current.insert(std::move(labels));
    }
    // An agency with nothing finished in the window has no ratio (not its
    // old one).
    for (const auto& labels : LabelSets(ratio)) {
      if (current.count(labels) == 0) ratio.Remove(&ratio.Add(labels));
    }
    return absl::OkStatus();
  });
}

}  // namespace lienthong::deadline
