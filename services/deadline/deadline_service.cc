#include "services/deadline/deadline_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/calendar/calendar_choice.h"
#include "libs/calendar/calendar_json.h"
#include "libs/calendar/default_calendar.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace lienthong::deadline {

using calendar::WorkingCalendar;

std::string DossierClockName(const std::string& dossier_code) {
  return absl::StrCat("dossiers/", dossier_code);
}

std::string LegClockName(const std::string& dossier_code,
                         const std::string& leg_id) {
  return absl::StrCat("dossiers/", dossier_code, "/legs/", leg_id);
}

DeadlineService::DeadlineService(DeadlineStore& store,
                                 const common::Clock& clock,
                                 NoticeEncoder encoder, ServiceOptions options)
    : store_(store),
      clock_(clock),
      encoder_(std::move(encoder)),
      options_(options),
      rules_(options.due_soon) {}

absl::Status DeadlineService::EnsureDefaultCalendar() {
  LT_ASSIGN_OR_RETURN(WorkingCalendar def, calendar::DefaultCalendar());
  const std::string id = def.data().id;
  return store_.InTransaction([&](DeadlineTx& tx) -> absl::Status {
    LT_ASSIGN_OR_RETURN(absl::optional<CalendarVersion> latest,
                        tx.LatestCalendar(id, absl::InfiniteFuture()));
    if (latest.has_value()) return absl::OkStatus();
    CalendarVersion v;
    v.calendar_id = id;
    v.version = 1;
    v.effective_from = absl::UnixEpoch();
    v.json = std::string(calendar::DefaultCalendarJson());
    v.created_at = clock_.Now();
    v.created_by = "system";
    v.reason = "seed: data/calendars/vn.json";
    v.applied = true;
    const absl::Status inserted = tx.InsertCalendar(v);
    // Another replica starting beside this one seeded it first.
    if (common::GetErrorDetails(inserted).reason == kCalendarVersionExists) {
      return absl::OkStatus();
    }
    return inserted;
  });
}

absl::StatusOr<WorkingCalendar> StoredCalendar(const CalendarVersion& v) {
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(v.json);
  absl::StatusOr<WorkingCalendar> cal =
      data.ok() ? WorkingCalendar::Create(*std::move(data))
                : absl::StatusOr<WorkingCalendar>(data.status());
  if (cal.ok() || cal.status().code() != absl::StatusCode::kInvalidArgument) {
    return cal;
  }
  // Our data, not the caller's argument: an event that needs this calendar
  // must be delivered again once it is repaired, not dropped as invalid.
  return common::Internal(
      "STORED_CALENDAR_INVALID",
      absl::StrCat("stored calendar ", v.calendar_id, " version ", v.version,
                   " cannot be read (",
                   common::GetErrorDetails(cal.status()).reason, ")"),
      {{"calendar", v.calendar_id}, {"version", absl::StrCat(v.version)}});
}

absl::StatusOr<DeadlineService::Cached> DeadlineService::Load(
    const std::string& id) {
  const absl::Time now = clock_.Now();
  uint64_t drops;
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(id);
    if (it != cache_.end() &&
        now - it->second.loaded_at < options_.calendar_cache_ttl) {
      return it->second;
    }
    drops = cache_drops_;
  }
  LT_ASSIGN_OR_RETURN(absl::optional<CalendarVersion> latest,
                      store_.LatestCalendar(id, now));
  Cached c;
  c.loaded_at = now;
  if (latest.has_value()) {
    LT_ASSIGN_OR_RETURN(WorkingCalendar cal, StoredCalendar(*latest));
    c.version = latest->version;
    c.calendar = std::move(cal);
  }
  absl::MutexLock lock(&mu_);
  // Dropped while it was read (a new version, here or on another replica):
  // what was read may be the version before it, so it is not kept.
  if (cache_drops_ == drops) cache_[id] = c;
  return c;
}

absl::StatusOr<WorkingCalendar> DeadlineService::Calendar(
    const std::string& id) {
  LT_ASSIGN_OR_RETURN(Cached c, Load(id));
  if (!c.calendar.has_value()) {
    return common::NotFound("CALENDAR_NOT_FOUND",
                            absl::StrCat("no calendar ", id),
                            {{"calendar", id}});
  }
  return *c.calendar;
}

absl::StatusOr<std::pair<WorkingCalendar, int64_t>>
DeadlineService::CalendarWithVersion(const std::string& id) {
  LT_ASSIGN_OR_RETURN(Cached c, Load(id));
  if (!c.calendar.has_value()) {
    return common::NotFound("CALENDAR_NOT_FOUND",
                            absl::StrCat("no calendar ", id),
                            {{"calendar", id}});
  }
  return std::make_pair(*c.calendar, c.version);
}

absl::StatusOr<std::pair<WorkingCalendar, int64_t>>
DeadlineService::CalendarForClock(DeadlineTx& tx, const std::string& id) {
  LT_ASSIGN_OR_RETURN(const int64_t in_force,
                      tx.ShareCalendar(id, clock_.Now()));
  LT_ASSIGN_OR_RETURN(auto cal_version, CalendarWithVersion(id));
  if (cal_version.second == in_force) return cal_version;
  // Cached before a change this replica has not heard of yet.
  const std::vector<std::string> ids{id};
  DropCached(&ids);
  LT_ASSIGN_OR_RETURN(cal_version, CalendarWithVersion(id));
  if (cal_version.second == in_force) return cal_version;
  // A version taking effect between the two reads: next delivery.
  return common::Aborted("CALENDAR_CHANGING",
                         absl::StrCat("calendar ", id,
                                      " changed while it was read; deliver the "
                                      "event again"),
                         {{"calendar", id}});
}

absl::StatusOr<absl::optional<bool>> DeadlineService::WithinIfKnown(
    const std::string& agency, const std::string& root) {
  if (agency == root) return true;
  LT_ASSIGN_OR_RETURN(absl::optional<std::vector<std::string>> ancestors,
                      store_.AgencyAncestors(agency));
  if (!ancestors.has_value()) return absl::nullopt;
  return std::find(ancestors->begin(), ancestors->end(), root) !=
         ancestors->end();
}

absl::StatusOr<bool> DeadlineService::IsWithin(const std::string& agency,
                                               const std::string& root) {
  LT_ASSIGN_OR_RETURN(absl::optional<bool> within, WithinIfKnown(agency, root));
  return within.value_or(false);
}

absl::StatusOr<std::string> DeadlineService::CalendarIdFor(
    const std::string& agency_code, const std::string& procedure_calendar_id) {
  // The rule is shared with intake (its appointment must agree with this
  // due time); a failed load is an error here, not "no such calendar".
  absl::Status load = absl::OkStatus();
  std::string id = calendar::ChooseCalendarId(
      procedure_calendar_id, agency_code, [&](absl::string_view candidate) {
        if (!load.ok()) return false;
        absl::StatusOr<Cached> c = Load(std::string(candidate));
        if (!c.ok()) {
          load = c.status();
          return false;
        }
        return c->calendar.has_value();
      });
  LT_RETURN_IF_ERROR(load);
  return id;
}

void DeadlineService::ForgetCachedCalendars() { DropCached(nullptr); }

void DeadlineService::NoteCoverage(const Clock& c, const WorkingCalendar& cal,
                                   int64_t version) {
  // Labelled as intake labels its copies ("vn@3").
  coverage_.Check(cal, absl::StrCat(c.calendar_id, "@", version), c.due_at);
}

void DeadlineService::DropCached(const std::vector<std::string>* ids) {
  absl::MutexLock lock(&mu_);
  ++cache_drops_;
  if (ids == nullptr) {
    cache_.clear();
    return;
  }
  for (const std::string& id : *ids) cache_.erase(id);
}

absl::Status DeadlineService::Save(DeadlineTx& tx, const Clock& before,
                                   Clock& after) {
  LT_RETURN_IF_ERROR(tx.UpdateClock(after));
  LT_ASSIGN_OR_RETURN(WorkingCalendar cal, Calendar(after.calendar_id));
  const ReportDelta d = DeltaOf(&before, after);
  if (d.empty()) return absl::OkStatus();
  return tx.ApplyReportDelta(after, d, cal.time_zone());
}

absl::StatusOr<ScanResult> DeadlineService::RunScanOnce() {
  ScanResult result;
  std::vector<absl::Time> scheduled;
  LT_RETURN_IF_ERROR(store_.InTransaction([&](DeadlineTx& tx) -> absl::Status {
    result = ScanResult();
    scheduled.clear();
    const absl::Time now = clock_.Now();
    LT_ASSIGN_OR_RETURN(std::vector<Clock> due,
                        tx.ClaimDue(now, options_.scan_batch));
    result.claimed = static_cast<int>(due.size());
    for (Clock& c : due) {
      const Clock before = c;
      absl::optional<Firing> f = rules_.Fire(c, now);
      LT_RETURN_IF_ERROR(Save(tx, before, c));
      if (!f.has_value()) continue;
      (f->urgency == Urgency::kOverdue ? result.overdue : result.due_soon)++;
      if (f->urgency == Urgency::kOverdue && c.kind == ClockKind::kLeg) {
        ++result.overdue_legs;
      }
      scheduled.push_back(f->scheduled);
      if (encoder_) {
        LT_ASSIGN_OR_RETURN(WorkingCalendar cal, Calendar(c.calendar_id));
        LT_RETURN_IF_ERROR(tx.AppendOutbox(encoder_(
            ClockNotice{f->urgency, c, now, rules_.Remaining(c, now, cal)})));
      }
    }
    return absl::OkStatus();
  }));
  const absl::Time committed = clock_.Now();
  for (absl::Time t : scheduled) result.lags.push_back(committed - t);
  return result;
}

absl::StatusOr<Clock> DeadlineService::GetClock(const std::string& name) {
  LT_ASSIGN_OR_RETURN(absl::optional<Clock> c, store_.GetClock(name));
  if (!c.has_value()) {
    return common::NotFound("CLOCK_NOT_FOUND", "no such clock",
                            {{"clock", name}});
  }
  return *c;
}

absl::StatusOr<WorkingCalendar> DeadlineService::CountedCalendar(
    const Clock& c) {
  // Stored before versions were recorded: the version in force is all
  // there is to go by.
  if (c.calendar_version == 0) return Calendar(c.calendar_id);
  LT_ASSIGN_OR_RETURN(Cached cached, Load(c.calendar_id));
  if (cached.calendar.has_value() && cached.version == c.calendar_version) {
    return *cached.calendar;
  }
  LT_ASSIGN_OR_RETURN(
      absl::optional<CalendarVersion> v,
      store_.CalendarVersionOf(c.calendar_id, c.calendar_version));
  if (!v.has_value()) {
    // Versions are never deleted: our data is wrong, and explaining with
    // another version would show steps that did not make this due time.
    return common::Internal(
        "CALENDAR_VERSION_MISSING",
        absl::StrCat("calendar ", c.calendar_id, " version ",
                     c.calendar_version, ", which counted clock ", c.name,
                     ", is not stored"),
        {{"calendar", c.calendar_id},
         {"version", absl::StrCat(c.calendar_version)},
         {"clock", c.name}});
  }
  return StoredCalendar(*v);
}

absl::StatusOr<calendar::Explanation> DeadlineService::ExplainDueTime(
    const std::string& name) {
  LT_ASSIGN_OR_RETURN(Clock c, GetClock(name));
  // The version the due time was counted with, not the one in force now: a
  // later version that did not move this clock (it was stopped or paused,
  // or left the due time where it was) may count the same run differently.
  LT_ASSIGN_OR_RETURN(WorkingCalendar cal, CountedCalendar(c));
  calendar::AddOptions o;
  o.cutoff_minute = c.cutoff_minute;
  // The due time shown is the current run's: what was consumed before it.
  // A pause (also one a stop came during) has added the run's own time to
  // consumed_before_run already.
  absl::Duration before_run = c.consumed_before_run;
  if (c.paused_at != absl::InfinitePast()) {
    LT_ASSIGN_OR_RETURN(const absl::Duration ran,
                        cal.WorkingTimeBetween(c.counting_starts, c.paused_at));
    before_run -= std::max(absl::ZeroDuration(), ran);
  }
  return cal.Explain(c.run_started_at,
                     calendar::WorkingDuration::Of(
                         std::max(absl::ZeroDuration(), c.limit - before_run)),
                     o);
}

absl::Duration DeadlineService::Remaining(const Clock& c) {
  absl::StatusOr<WorkingCalendar> cal = Calendar(c.calendar_id);
  if (!cal.ok()) return c.limit - c.consumed_before_run;
  return rules_.Remaining(c, clock_.Now(), *cal);
}

}  // namespace lienthong::deadline
