#include "services/deadline/pg_deadline_store.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/uuid.h"
#include "libs/db/notifier.h"
#include "libs/db/outbox.h"
#include "libs/db/transaction.h"
#include "services/deadline/pg_report.h"
#include "services/deadline/pg_rows.h"

namespace lienthong::deadline {
namespace {

constexpr char kSchema[] = "deadline";
using namespace pg;  // NOLINT: the row helpers of this store

class PgTx final : public DeadlineTx {
 public:
  PgTx(pqxx::work& w, const common::Clock& clock) : w_(w), clock_(clock) {}

  absl::StatusOr<bool> MarkInbound(const std::string& event_id) override {
    if (!common::IsUuid(event_id)) {
      return common::InvalidArgument("INVALID_EVENT",
                                     {{"event_id", "must be a UUID"}});
    }
    return db::RecordInbox(w_, kSchema, event_id);
  }
  absl::StatusOr<std::vector<Clock>> LockDossierClocks(
      const std::string& dossier_code) override {
    return Clocks(
        Params()
            .Text(dossier_code)
            .Exec(w_,
                  absl::StrCat("SELECT ", kClockCols,
                               " FROM deadline.clocks WHERE dossier_code = $1 "
                               "ORDER BY name FOR UPDATE")));
  }
  absl::Status InsertClock(const Clock& c) override {
    ClockParams(c).Exec(w_, kInsertClock);
    // Its agency and ancestors, for the subtree check. An agency moved
    // since it was first named gets its new ancestors; rows that do not
    // change are neither written nor locked (every clock names the city).
    std::vector<std::string> path = c.agency.ancestors;
    path.push_back(c.agency.code);
    Params()
        .Text(TextArray(path))
        .Exec(w_,
              "WITH x AS (SELECT p[i] AS code, p[1:i - 1] AS anc FROM (SELECT "
              "$1::text[] AS p) s, generate_subscripts(s.p, 1) AS i), u AS "
              "(UPDATE deadline.agencies a SET ancestors = x.anc FROM x WHERE "
              "a.code = x.code AND a.ancestors IS DISTINCT FROM x.anc) INSERT "
              "INTO deadline.agencies (code, ancestors) SELECT code, anc FROM "
              "x ON CONFLICT (code) DO NOTHING");
    return absl::OkStatus();
  }
  absl::Status UpdateClock(Clock& c) override {
    const pqxx::result r = UpdateParams(c).Exec(w_, kUpdateClock);
    if (r.affected_rows() != 1) {
      return common::Aborted("CLOCK_CHANGED", "clock changed concurrently",
                             {{"clock", c.name}});
    }
    ++c.version;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Clock>> ClaimDue(absl::Time now,
                                              int limit) override {
    return Clocks(Params().Us(now).Int(limit).Exec(
        w_, absl::StrCat("SELECT ", kClockCols,
                         " FROM deadline.clocks WHERE next_fire_at <= "
                         "deadline.us_to_ts($1) ORDER BY next_fire_at "
                         "LIMIT $2 FOR UPDATE SKIP LOCKED")));
  }
  absl::StatusOr<std::vector<Clock>> LockOpenClocksOfCalendar(
      const std::string& calendar_id, const std::string& after_name,
      int limit) override {
    return Clocks(
        Params()
            .Text(calendar_id)
            .Text(after_name)
            .Int(limit)
            .Exec(w_, absl::StrCat(
                          "SELECT ", kClockCols,
                          " FROM deadline.clocks WHERE calendar_id = $1 AND "
                          "state = 1 AND name > $2 ORDER BY name LIMIT $3 "
                          "FOR UPDATE")));
  }
  absl::Status ApplyReportDelta(const Clock& c, const ReportDelta& d,
                                absl::TimeZone tz) override {
    counters_.Add(c, d, tz);
    return absl::OkStatus();
  }
  void Flush() { counters_.Flush(w_); }

  absl::Status AppendOutbox(const OutgoingEvent& e) override {
    return db::AppendOutbox(w_, kSchema, {e.event_id, e.type, e.payload},
                            e.destinations, clock_.Now());
  }
  absl::Status AppendAudit(const AuditEntry& a) override {
    Params()
        .Text(a.actor)
        .Text(a.action)
        .Text(a.target)
        .Text(a.detail)
        .Us(a.at)
        .Text(a.peer)
        .Text(a.outcome)
        .Exec(w_,
              "INSERT INTO deadline.audit_log (actor, action, target, detail, "
              "at, peer, outcome) VALUES ($1, $2, $3, $4, "
              "deadline.us_to_ts($5), $6, $7)");
    return absl::OkStatus();
  }
  absl::StatusOr<absl::optional<CalendarVersion>> LatestCalendar(
      const std::string& calendar_id, absl::Time at) override {
    Params p;
    p.Text(calendar_id);
    if (at == absl::InfiniteFuture()) {
      p.Null();
    } else {
      p.Us(at);
    }
    const pqxx::result r = p.Exec(
        w_, absl::StrCat("SELECT ", kCalendarCols,
                         " FROM deadline.calendars WHERE calendar_id = $1 AND "
                         "($2::bigint IS NULL OR effective_from <= "
                         "deadline.us_to_ts($2)) ORDER BY version DESC "
                         "LIMIT 1"));
    if (r.empty()) return absl::optional<CalendarVersion>();
    return absl::optional<CalendarVersion>(CalendarFromRow(r[0]));
  }
  absl::StatusOr<int64_t> ShareCalendar(const std::string& calendar_id,
                                        absl::Time at) override {
    const pqxx::row r =
        Params()
            .Text(calendar_id)
            .Us(at)
            .Exec(w_,
                  "SELECT pg_try_advisory_xact_lock_shared(hashtext("
                  "'lienthong.deadline.calendar.' || $1)), (SELECT version "
                  "FROM deadline.calendars WHERE calendar_id = $1 AND "
                  "effective_from <= deadline.us_to_ts($2) ORDER BY version "
                  "DESC LIMIT 1)")[0];
    if (!r[0].as<bool>()) {
      return common::Aborted(
          "CALENDAR_CHANGING",
          absl::StrCat("calendar ", calendar_id,
                       " is being changed; deliver the event again"),
          {{"calendar", calendar_id}});
    }
    return r[1].is_null() ? 0 : r[1].as<int64_t>();
  }
  absl::Status LockCalendar(const std::string& calendar_id) override {
    Params()
        .Text(calendar_id)
        .Exec(w_,
              "SELECT "
              "pg_advisory_xact_lock(hashtext('lienthong.deadline.calendar.' "
              "|| $1))");
    return absl::OkStatus();
  }
  absl::Status InsertCalendar(const CalendarVersion& v) override {
    // DO NOTHING rather than a unique_violation, which would abort the
    // transaction and lose which constraint it was (two replicas seeding
    // the default calendar, two first attempts of one UpdateCalendar).
    const pqxx::result r =
        Params()
            .Text(v.calendar_id)
            .Int(v.version)
            .Us(v.effective_from)
            .Text(v.json)
            .Us(v.created_at)
            .Text(v.created_by)
            .Text(v.reason)
            .Bool(v.applied)
            .Text(v.request_id)
            .Text(EncodeMoved(v.moved))
            .Exec(w_,
                  "INSERT INTO deadline.calendars (calendar_id, version, "
                  "effective_from, data, created_at, created_by, reason, "
                  "applied_at, request_id, moved) VALUES ($1, $2, "
                  "deadline.us_to_ts($3), $4, deadline.us_to_ts($5), $6, $7, "
                  "CASE WHEN $8::boolean THEN deadline.us_to_ts($5) END, "
                  "NULLIF($9, ''), $10) ON CONFLICT DO NOTHING");
    if (r.affected_rows() == 0) {
      // READ COMMITTED: this statement sees the row that conflicted.
      const pqxx::result taken =
          Params()
              .Text(v.request_id)
              .Exec(w_,
                    "SELECT EXISTS (SELECT 1 FROM deadline.calendars WHERE "
                    "request_id = NULLIF($1, ''))");
      return taken[0][0].as<bool>()
                 ? common::AlreadyExists(kRequestIdTaken,
                                         "request_id already used",
                                         {{"calendar", v.calendar_id}})
                 : common::AlreadyExists(
                       kCalendarVersionExists,
                       absl::StrCat("calendar ", v.calendar_id, " version ",
                                    v.version, " already exists"),
                       {{"calendar", v.calendar_id},
                        {"version", absl::StrCat(v.version)}});
    }
    db::NotifyAfterCommit(kCalendarsChangedChannel);
    return absl::OkStatus();
  }
  absl::Status SetCalendarMoved(
      const std::string& calendar_id, int64_t version,
      const std::vector<MovedAppointment>& moved) override {
    Params()
        .Text(calendar_id)
        .Int(version)
        .Text(EncodeMoved(moved))
        .Exec(w_,
              "UPDATE deadline.calendars SET moved = $3 WHERE calendar_id = "
              "$1 AND version = $2");
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<CalendarVersion>> ClaimPendingCalendars(
      absl::Time now, const std::string& calendar_id) override {
    std::vector<CalendarVersion> out;
    for (const pqxx::row& r :
         Params()
             .Us(now)
             .Text(calendar_id)
             .Exec(w_,
                   absl::StrCat("SELECT ", kCalendarCols,
                                " FROM deadline.calendars WHERE applied_at IS "
                                "NULL AND effective_from <= "
                                "deadline.us_to_ts($1) AND ($2 = '' OR "
                                "calendar_id = $2) ORDER BY calendar_id, "
                                "version FOR UPDATE SKIP LOCKED"))) {
      out.push_back(CalendarFromRow(r));
    }
    return out;
  }
  absl::Status MarkCalendarApplied(const std::string& calendar_id,
                                   int64_t version, absl::Time at) override {
    Params()
        .Text(calendar_id)
        .Int(version)
        .Us(at)
        .Exec(
            w_,
            "UPDATE deadline.calendars SET applied_at = deadline.us_to_ts($3) "
            "WHERE calendar_id = $1 AND version = $2");
    db::NotifyAfterCommit(kCalendarsChangedChannel);
    return absl::OkStatus();
  }

 private:
  ReportCounters counters_;
  pqxx::work& w_;
  const common::Clock& clock_;
};

}  // namespace

absl::Status PgDeadlineStore::InTransaction(
    const std::function<absl::Status(DeadlineTx&)>& fn) {
  return db::WithTransaction(pool_, [&](pqxx::work& w) {
    PgTx tx(w, clock_);
    LT_RETURN_IF_ERROR(fn(tx));
    tx.Flush();
    return absl::OkStatus();
  });
}

absl::StatusOr<absl::optional<Clock>> PgDeadlineStore::GetClock(
    const std::string& name) {
  absl::optional<Clock> out;
  LT_RETURN_IF_ERROR(db::WithTransaction(pool_, [&](pqxx::work& w) {
    const pqxx::result r = Params().Text(name).Exec(
        w, absl::StrCat("SELECT ", kClockCols,
                        " FROM deadline.clocks WHERE name = $1"));
    out = r.empty() ? absl::nullopt : absl::make_optional(ClockFromRow(r[0]));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<Clock>> PgDeadlineStore::ListClocks(
    const ClockQuery& q) {
  std::vector<Clock> out;
  LT_RETURN_IF_ERROR(db::WithTransaction(pool_, [&](pqxx::work& w) {
    Params p;
    p.Text(TextArray({q.agency_subtree}))
        .Bool(q.urgency == Urgency::kOverdue)
        .Bool(q.urgency != Urgency::kOnTrack);
    if (q.kind.has_value()) {
      p.Int(static_cast<int>(*q.kind));
    } else {
      p.Null();
    }
    p.OptUs(q.after_due_at).Text(q.after_name).Int(q.page_size);
    out = Clocks(p.Exec(
        w, absl::StrCat(
               "SELECT ", kClockCols,
               // Running clocks only (state 1): a paused one waits for the
               // citizen, not the office. `state <> 3` is the partial
               // index's predicate. Urgency as Clock::urgency(): overdue
               // fired is overdue, whatever due_soon_fired says.
               " FROM deadline.clocks WHERE state <> 3 AND state = 1 AND "
               "agency_path @> "
               "$1::text[] AND overdue_fired = $2 AND ($2 OR due_soon_fired "
               "= $3) "
               "AND ($4::smallint IS NULL OR kind = $4) AND ($5::bigint IS "
               "NULL OR (due_at, name) > (deadline.us_to_ts($5), $6::text)) "
               "ORDER BY due_at, name LIMIT $7")));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<ReportRow>> PgDeadlineStore::Report(
    const ReportQuery& q) {
  std::vector<ReportRow> out;
  LT_RETURN_IF_ERROR(db::WithTransaction(pool_, [&](pqxx::work& w) {
    out = ReadReport(w, q);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<CalendarVersion>> PgDeadlineStore::ListCalendars() {
  std::vector<CalendarVersion> out;
  LT_RETURN_IF_ERROR(db::WithTransaction(pool_, [&](pqxx::work& w) {
    for (const pqxx::row& r :
         w.exec(absl::StrCat("SELECT ", kCalendarCols,
                             " FROM deadline.calendars ORDER BY calendar_id, "
                             "version"))) {
      out.push_back(CalendarFromRow(r));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<absl::optional<CalendarVersion>> PgDeadlineStore::LatestCalendar(
    const std::string& calendar_id, absl::Time at) {
  absl::optional<CalendarVersion> out;
  LT_RETURN_IF_ERROR(db::WithTransaction(pool_, [&](pqxx::work& w) {
    PgTx tx(w, clock_);
    LT_ASSIGN_OR_RETURN(out, tx.LatestCalendar(calendar_id, at));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<absl::optional<CalendarVersion>>
PgDeadlineStore::CalendarVersionOf(const std::string& calendar_id,
                                   int64_t version) {
  absl::optional<CalendarVersion> out;
  LT_RETURN_IF_ERROR(db::WithTransaction(pool_, [&](pqxx::work& w) {
    const pqxx::result r =
        Params()
            .Text(calendar_id)
            .Int(version)
            .Exec(w, absl::StrCat("SELECT ", kCalendarCols,
                                  " FROM deadline.calendars WHERE "
                                  "calendar_id = $1 AND version = $2"));
    if (!r.empty()) out = CalendarFromRow(r[0]);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<OpenClockCount>> PgDeadlineStore::CountOpenClocks() {
  std::vector<OpenClockCount> out;
  LT_RETURN_IF_ERROR(db::WithTransaction(pool_, [&](pqxx::work& w) {
    for (const pqxx::row& r :
         w.exec("SELECT kind, CASE WHEN state = 2 THEN 'paused' WHEN "
                "overdue_fired THEN 'overdue' WHEN due_soon_fired THEN "
                "'due_soon' ELSE 'on_track' END AS s, count(*) FROM "
                "deadline.clocks WHERE state <> 3 GROUP BY 1, 2")) {
      out.push_back({static_cast<ClockKind>(r[0].as<int>()),
                     r[1].as<std::string>(), r[2].as<int64_t>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<absl::optional<std::vector<std::string>>>
PgDeadlineStore::AgencyAncestors(const std::string& agency_code) {
  absl::optional<std::vector<std::string>> out;
  LT_RETURN_IF_ERROR(db::WithTransaction(pool_, [&](pqxx::work& w) {
    const pqxx::result r =
        Params()
            .Text(agency_code)
            .Exec(w,
                  "SELECT array_to_string(ancestors, chr(31)) FROM "
                  "deadline.agencies WHERE code = $1");
    if (r.empty()) return absl::OkStatus();
    out = absl::StrSplit(r[0][0].as<std::string>(), '\x1f', absl::SkipEmpty());
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<absl::optional<CalendarVersion>>
PgDeadlineStore::CalendarByRequestId(const std::string& request_id) {
  absl::optional<CalendarVersion> out;
  if (request_id.empty()) return out;
  LT_RETURN_IF_ERROR(db::WithTransaction(pool_, [&](pqxx::work& w) {
    const pqxx::result r =
        Params()
            .Text(request_id)
            .Exec(w, absl::StrCat(
                         "SELECT ", kCalendarCols,
                         " FROM deadline.calendars WHERE request_id = $1"));
    if (!r.empty()) out = CalendarFromRow(r[0]);
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace lienthong::deadline
