#include "services/deadline/pg_report.h"

#include "absl/strings/str_cat.h"
#include "libs/calendar/calendar_json.h"
#include "services/deadline/deadline_logic.h"
#include "services/deadline/pg_rows.h"

namespace lienthong::deadline::pg {

void ReportCounters::Add(const Clock& c, const ReportDelta& d,
                         absl::TimeZone tz) {
  const std::string received_day =
      calendar::FormatDay(absl::ToCivilDay(c.received_at, tz));
  const int kind = static_cast<int>(c.kind);
  const int tier = static_cast<int>(c.agency.tier);
  for (const RollUpScope& s : RollUpScopes(c.agency)) {
    if (d.received != 0) {
      daily_[{s.scope, kind, received_day, s.via, c.procedure_code, tier}]
          .received += d.received;
    }
    if (d.finished_early != 0 || d.finished_on_time != 0 ||
        d.finished_late != 0) {
      Daily& f =
          daily_[{s.scope, kind,
                  calendar::FormatDay(absl::ToCivilDay(c.stopped_at, tz)),
                  s.via, c.procedure_code, tier}];
      f.early += d.finished_early;
      f.on_time += d.finished_on_time;
      f.late += d.finished_late;
    }
    if (d.open_on_time != 0 || d.open_overdue != 0) {
      Open& o = open_[{s.scope, kind, s.via, c.procedure_code, tier}];
      o.on_time += d.open_on_time;
      o.overdue += d.open_overdue;
    }
  }
}

void ReportCounters::Flush(pqxx::work& w) {
  for (const auto& [k, v] : daily_) {
    if (v.received == 0 && v.early == 0 && v.on_time == 0 && v.late == 0) {
      continue;
    }
    const auto& [scope, kind, day, via, procedure, tier] = k;
    Params()
        .Text(scope)
        .Text(via)
        .Text(day)
        .Int(kind)
        .Text(procedure)
        .Int(tier)
        .Int(v.received)
        .Int(v.early)
        .Int(v.on_time)
        .Int(v.late)
        .Exec(w,
              "INSERT INTO deadline.report_daily AS r (scope, via, day, "
              "kind, procedure_code, tier, received, finished_early, "
              "finished_on_time, finished_late) VALUES ($1, $2, $3::date, "
              "$4, $5, $6, $7, $8, $9, $10) ON CONFLICT (scope, kind, day, "
              "via, procedure_code, tier) DO UPDATE SET received = "
              "r.received + $7, finished_early = r.finished_early + $8, "
              "finished_on_time = r.finished_on_time + $9, finished_late = "
              "r.finished_late + $10");
  }
  for (const auto& [k, v] : open_) {
    if (v.on_time == 0 && v.overdue == 0) continue;
    const auto& [scope, kind, via, procedure, tier] = k;
    Params()
        .Text(scope)
        .Text(via)
        .Int(kind)
        .Text(procedure)
        .Int(tier)
        .Int(v.on_time)
        .Int(v.overdue)
        .Exec(w,
              "INSERT INTO deadline.report_open AS r (scope, via, kind, "
              "procedure_code, tier, open_on_time, open_overdue) VALUES "
              "($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (scope, kind, via, "
              "procedure_code, tier) DO UPDATE SET open_on_time = "
              "r.open_on_time + $6, open_overdue = r.open_overdue + $7");
  }
  daily_.clear();
  open_.clear();
}

std::vector<ReportRow> ReadReport(pqxx::work& w, const ReportQuery& q) {
  const char* group = "''";
  switch (q.group_by) {
    case ReportGroupBy::kNone:
      break;
    case ReportGroupBy::kAgency:
      group = "via";
      break;
    case ReportGroupBy::kProcedure:
      group = "procedure_code";
      break;
    case ReportGroupBy::kTier:
      group = "tier::text";
      break;
  }
  std::vector<ReportRow> out;
  const pqxx::result r =
      Params()
          .Text(q.agency_subtree)
          .Int(static_cast<int>(q.kind))
          .Text(calendar::FormatDay(q.first_day))
          .Text(calendar::FormatDay(q.last_day))
          .Exec(w, absl::StrCat(
                       "SELECT g, sum(received), sum(early), sum(on_time), "
                       "sum(late), sum(open_on_time), sum(open_overdue) "
                       "FROM (SELECT ",
                       group,
                       " AS g, received, finished_early AS early, "
                       "finished_on_time AS on_time, finished_late AS late, "
                       "0 AS open_on_time, 0 AS open_overdue FROM "
                       "deadline.report_daily WHERE scope = $1 AND kind = "
                       "$2 AND day BETWEEN $3::date AND $4::date "
                       "UNION ALL SELECT ",
                       group,
                       ", 0, 0, 0, 0, open_on_time, open_overdue FROM "
                       "deadline.report_open WHERE scope = $1 AND kind = "
                       "$2) t GROUP BY g ORDER BY g COLLATE \"C\""));
  for (const pqxx::row& row : r) {
    ReportRow rr;
    rr.key = row[0].as<std::string>();
    if (q.group_by == ReportGroupBy::kTier) {
      rr.key = TierName(static_cast<Tier>(std::stoi(rr.key)));
    }
    rr.received = row[1].as<int64_t>();
    rr.finished_early = row[2].as<int64_t>();
    rr.finished_on_time = row[3].as<int64_t>();
    rr.finished_late = row[4].as<int64_t>();
    rr.open_on_time = row[5].as<int64_t>();
    rr.open_overdue = row[6].as<int64_t>();
    out.push_back(rr);
  }
  return out;
}

}  // namespace lienthong::deadline::pg
