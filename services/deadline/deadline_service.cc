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
namespace {

using calendar::WorkingCalendar;

bool IsOpen(const Clock& c) { return c.state != ClockState::kStopped; }

Clock* Find(std::vector<Clock>& clocks, const std::string& name) {
  for (Clock& c : clocks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

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

bool DeadlineService::ReceiptDisagrees(const InboundEvent& e, const Clock& c) {
  return e.receipt_appointment.has_value() &&
         absl::AbsDuration(c.due_at - *e.receipt_appointment) >=
             kReceiptTolerance;
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

absl::Status DeadlineService::MoveStaleReceipt(DeadlineTx& tx,
                                               const InboundEvent& e,
                                               const Clock& c,
                                               int64_t calendar_version) {
  // Intake prints the appointment with its cached copy of the calendars; a
  // copy older than this one (a change made since intake last fetched, or
  // while it could not) gives another time than the clock's. Intake owns
  // the receipt: it moves the appointment to the legal due time, stamps
  // this version and tells the citizen, as after a calendar change.
  if (!moved_encoder_ || !ReceiptDisagrees(e, c)) return absl::OkStatus();
  MovedAppointment m;
  m.clock_name = c.name;
  m.dossier_code = c.dossier_code;
  m.old_due = *e.receipt_appointment;
  m.new_due = c.due_at;
  m.kind = ClockKind::kDossier;
  CalendarVersion v;
  v.calendar_id = c.calendar_id;
  v.version = calendar_version;
  return tx.AppendOutbox(
      moved_encoder_(v, {m}, clock_.Now(), MoveCause::kReceiptCorrection));
}

absl::Status DeadlineService::Save(DeadlineTx& tx, const Clock& before,
                                   Clock& after) {
  LT_RETURN_IF_ERROR(tx.UpdateClock(after));
  LT_ASSIGN_OR_RETURN(WorkingCalendar cal, Calendar(after.calendar_id));
  const ReportDelta d = DeltaOf(&before, after);
  if (d.empty()) return absl::OkStatus();
  return tx.ApplyReportDelta(after, d, cal.time_zone());
}

absl::StatusOr<bool> DeadlineService::HandleEvent(const InboundEvent& e) {
  if (e.event_id.empty() || e.dossier_code.empty()) {
    return common::InvalidArgument(
        "INVALID_EVENT", {{"event_id", "event id and dossier code required"}});
  }
  bool fresh = false;
  LT_RETURN_IF_ERROR(store_.InTransaction([&](DeadlineTx& tx) -> absl::Status {
    LT_ASSIGN_OR_RETURN(fresh, tx.MarkInbound(e.event_id));
    if (!fresh) return absl::OkStatus();  // redelivery: applied before
    return Apply(tx, e);
  }));
  return fresh;
}

absl::StatusOr<bool> DeadlineService::Acknowledge(const std::string& event_id) {
  bool fresh = false;
  LT_RETURN_IF_ERROR(store_.InTransaction([&](DeadlineTx& tx) -> absl::Status {
    LT_ASSIGN_OR_RETURN(fresh, tx.MarkInbound(event_id));
    return absl::OkStatus();
  }));
  return fresh;
}

absl::Status DeadlineService::Apply(DeadlineTx& tx, const InboundEvent& e) {
  LT_ASSIGN_OR_RETURN(std::vector<Clock> clocks,
                      tx.LockDossierClocks(e.dossier_code));
  const std::string dossier_name = DossierClockName(e.dossier_code);
  const std::string leg_name =
      e.leg_id.empty() ? "" : LegClockName(e.dossier_code, e.leg_id);

  absl::optional<Clock> started;  // by `start`, as inserted
  auto start = [&](ClockKind kind, const std::string& name) -> absl::Status {
    if (Find(clocks, name) != nullptr) return absl::OkStatus();  // started
    StartParams p;
    p.name = name;
    p.kind = kind;
    p.dossier_code = e.dossier_code;
    p.leg_id = kind == ClockKind::kLeg ? e.leg_id : "";
    p.agency = e.agency;
    p.procedure_code = e.procedure_code;
    p.supplement_policy = e.supplement_policy;
    p.cutoff_minute = e.cutoff_minute;
    // The procedure's calendar; empty: the agency's.
    std::string calendar_id = e.calendar_id;
    const Clock* d =
        kind == ClockKind::kLeg ? Find(clocks, dossier_name) : nullptr;
    if (d != nullptr) {
      // A dispatch names neither the procedure's supplement rule, its
      // calendar nor its cut-off: the leg counts as its dossier does, so
      // that a supplement resumes (or restarts) both alike, in one calendar,
      // and a run begun after the cut-off counts from the next working day
      // for both. Should that calendar be gone, the leg agency's, as for a
      // dossier.
      p.supplement_policy = d->supplement_policy;
      p.cutoff_minute = d->cutoff_minute;
      if (calendar_id.empty()) calendar_id = d->calendar_id;
    }
    LT_ASSIGN_OR_RETURN(p.calendar_id,
                        CalendarIdFor(e.agency.code, calendar_id));
    p.limit = e.limit;
    p.received_at = e.occurred_at;
    LT_ASSIGN_OR_RETURN(auto cal_version, CalendarForClock(tx, p.calendar_id));
    LT_ASSIGN_OR_RETURN(Clock c, rules_.Start(p, cal_version.first));
    if (kind == ClockKind::kDossier && ReceiptDisagrees(e, c)) {
      // Intake may hold a version newer than the one this replica cached
      // (for up to calendar_cache_ttl): read the calendars again before
      // telling it that its receipt is wrong.
      ForgetCachedCalendars();
      LT_ASSIGN_OR_RETURN(p.calendar_id,
                          CalendarIdFor(e.agency.code, calendar_id));
      LT_ASSIGN_OR_RETURN(cal_version, CalendarForClock(tx, p.calendar_id));
      LT_ASSIGN_OR_RETURN(c, rules_.Start(p, cal_version.first));
    }
    const WorkingCalendar& cal = cal_version.first;
    c.calendar_version = cal_version.second;
    NoteCoverage(c, cal, cal_version.second);
    LT_RETURN_IF_ERROR(tx.InsertClock(c));
    started = c;
    if (kind == ClockKind::kDossier) {
      LT_RETURN_IF_ERROR(MoveStaleReceipt(tx, e, c, cal_version.second));
    }
    return tx.ApplyReportDelta(c, DeltaOf(nullptr, c), cal.time_zone());
  };
  // Applies `change` to the clock called `name` if it exists and is open.
  auto change =
      [&](const std::string& name,
          const std::function<absl::Status(Clock&, const WorkingCalendar&)>& fn)
      -> absl::Status {
    Clock* c = Find(clocks, name);
    if (c == nullptr || !IsOpen(*c)) return absl::OkStatus();
    LT_ASSIGN_OR_RETURN(auto cal_version, CalendarForClock(tx, c->calendar_id));
    const Clock before = *c;
    LT_RETURN_IF_ERROR(fn(*c, cal_version.first));
    if (c->due_at != before.due_at) {
      c->calendar_version = cal_version.second;
      NoteCoverage(*c, cal_version.first, cal_version.second);
    }
    return Save(tx, before, *c);
  };
  auto stop = [&](const std::string& name, StopReason r) {
    return change(name, [&](Clock& c, const WorkingCalendar& cal) {
      return rules_.Stop(c, e.occurred_at, r, cal);
    });
  };
  auto stop_all = [&](StopReason dossier_reason) -> absl::Status {
    LT_RETURN_IF_ERROR(stop(dossier_name, dossier_reason));
    for (const Clock& c : std::vector<Clock>(clocks)) {
      if (c.kind == ClockKind::kLeg) {
        LT_RETURN_IF_ERROR(stop(c.name, StopReason::kCancelled));
      }
    }
    return absl::OkStatus();
  };

  // Legs dispatched before their dossier's clock started (routing's line
  // ran ahead of intake's) took the restart rule, no cut-off and their
  // agency's calendar: they count as the dossier does from now on.
  auto adopt_dossier_rules = [&](const Clock& d) -> absl::Status {
    for (Clock& c : clocks) {
      if (c.kind != ClockKind::kLeg || !IsOpen(c)) continue;
      const Clock before = c;
      c.supplement_policy = d.supplement_policy;
      c.cutoff_minute = d.cutoff_minute;
      LT_ASSIGN_OR_RETURN(const std::string id,
                          CalendarIdFor(c.agency.code, d.calendar_id));
      if (id != c.calendar_id || c.cutoff_minute != before.cutoff_minute) {
        LT_ASSIGN_OR_RETURN(auto cal_version, CalendarForClock(tx, id));
        c.calendar_id = id;
        c.calendar_version = cal_version.second;
        // A running leg is counted again by them; a paused one's next run
        // will be, when the citizen supplements.
        LT_ASSIGN_OR_RETURN(
            const bool moved,
            rules_.Recompute(c, clock_.Now(), cal_version.first));
        if (moved) NoteCoverage(c, cal_version.first, cal_version.second);
      }
      LT_RETURN_IF_ERROR(Save(tx, before, c));
    }
    return absl::OkStatus();
  };

  switch (e.kind) {
    case InboundKind::kDossierReceived: {
      LT_RETURN_IF_ERROR(start(ClockKind::kDossier, dossier_name));
      return started ? adopt_dossier_rules(*started) : absl::OkStatus();
    }
    case InboundKind::kLegDispatched:
      if (leg_name.empty()) {
        return common::InvalidArgument("INVALID_EVENT",
                                       {{"leg_id", "required"}});
      }
      return start(ClockKind::kLeg, leg_name);
    case InboundKind::kSupplementRequested: {
      auto pause = [&](Clock& c, const WorkingCalendar& cal) {
        return rules_.Pause(c, e.occurred_at, cal);
      };
      LT_RETURN_IF_ERROR(change(dossier_name, pause));
      if (!leg_name.empty()) return change(leg_name, pause);
      return absl::OkStatus();
    }
    case InboundKind::kSupplemented: {
      auto resume = [&](Clock& c, const WorkingCalendar& cal) {
        return rules_.Resume(c, e.occurred_at, cal);
      };
      const Clock* d = Find(clocks, dossier_name);
      const absl::optional<absl::Time> due_before =
          d != nullptr && IsOpen(*d) ? absl::optional<absl::Time>(d->due_at)
                                     : absl::nullopt;
      LT_RETURN_IF_ERROR(change(dossier_name, resume));
      // The citizen's appointment moves with it: intake owns the receipt.
      d = Find(clocks, dossier_name);
      if (moved_encoder_ && due_before && d != nullptr &&
          d->due_at != *due_before) {
        MovedAppointment m;
        m.clock_name = d->name;
        m.dossier_code = d->dossier_code;
        m.old_due = *due_before;
        m.new_due = d->due_at;
        m.kind = ClockKind::kDossier;
        CalendarVersion v;
        v.calendar_id = d->calendar_id;
        // The version the due time was counted with now (a later one than
        // the receipt's when the calendar changed during the pause).
        v.version = d->calendar_version;
        LT_RETURN_IF_ERROR(tx.AppendOutbox(
            moved_encoder_(v, {m}, clock_.Now(), MoveCause::kSupplement)));
      }
      // The leg that asked resumes; without a leg id, every paused leg.
      for (const Clock& c : std::vector<Clock>(clocks)) {
        if (c.kind == ClockKind::kLeg && c.state == ClockState::kPaused &&
            (leg_name.empty() || c.name == leg_name)) {
          LT_RETURN_IF_ERROR(change(c.name, resume));
        }
      }
      return absl::OkStatus();
    }
    case InboundKind::kLegResumed:
      return change(leg_name, [&](Clock& c, const WorkingCalendar& cal) {
        return rules_.Resume(c, e.occurred_at, cal);
      });
    case InboundKind::kLegCompleted:
      return stop(leg_name, StopReason::kDone);
    case InboundKind::kLegRefused:
      return stop(leg_name, StopReason::kRefused);
    case InboundKind::kLegCancelled:
      return stop(leg_name, StopReason::kCancelled);
    case InboundKind::kDossierCompleted:
      return stop_all(StopReason::kDone);
    case InboundKind::kDossierRefused:
      return stop_all(StopReason::kRefused);
    case InboundKind::kDossierWithdrawn:
      return stop_all(StopReason::kWithdrawn);
    case InboundKind::kAppointmentRescheduled: {
      Clock* c = Find(clocks, dossier_name);
      if (c == nullptr || !e.new_appointment.has_value()) {
        return absl::OkStatus();
      }
      const Clock before = *c;
      c->new_appointment = e.new_appointment;
      return Save(tx, before, *c);
    }
  }
  return absl::OkStatus();
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

absl::StatusOr<calendar::Explanation> DeadlineService::ExplainDueTime(
    const std::string& name) {
  LT_ASSIGN_OR_RETURN(Clock c, GetClock(name));
  LT_ASSIGN_OR_RETURN(WorkingCalendar cal, Calendar(c.calendar_id));
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
