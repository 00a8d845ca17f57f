#include "services/deadline/deadline_logic.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace lienthong::deadline {
namespace {

using calendar::AddOptions;
using calendar::WorkingCalendar;
using calendar::WorkingDuration;

AddOptions OptionsOf(const Clock& c) {
  AddOptions o;
  o.cutoff_minute = c.cutoff_minute;
  return o;
}

absl::Status Illegal(const Clock& c, absl::string_view verb) {
  return common::FailedPrecondition(
      "ILLEGAL_TRANSITION",
      absl::StrCat("cannot ", verb, " a ", StateName(c.state), " clock"),
      {{"clock", c.name}, {"state", StateName(c.state)}});
}

}  // namespace

const char* KindName(ClockKind k) {
  return k == ClockKind::kLeg ? "leg" : "dossier";
}
const char* StateName(ClockState s) {
  switch (s) {
    case ClockState::kRunning:
      return "running";
    case ClockState::kPaused:
      return "paused";
    case ClockState::kStopped:
      return "stopped";
  }
  return "unknown";
}
const char* UrgencyName(Urgency u) {
  switch (u) {
    case Urgency::kOnTrack:
      return "on_track";
    case Urgency::kDueSoon:
      return "due_soon";
    case Urgency::kOverdue:
      return "overdue";
  }
  return "unknown";
}
const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kNone:
      return "none";
    case Outcome::kEarly:
      return "early";
    case Outcome::kOnTime:
      return "on_time";
    case Outcome::kLate:
      return "late";
  }
  return "unknown";
}
const char* TierName(Tier t) {
  switch (t) {
    case Tier::kProvince:
      return "province";
    case Tier::kDistrict:
      return "district";
    case Tier::kCommune:
      return "commune";
    case Tier::kUnspecified:
      break;
  }
  return "unspecified";
}

absl::Duration DueSoonThreshold(const DueSoonPolicy& p, absl::Duration limit) {
  const absl::Duration by_fraction = absl::Seconds(static_cast<int64_t>(
      absl::ToDoubleSeconds(limit) * std::clamp(p.fraction, 0.0, 1.0)));
  return std::min(std::max(by_fraction, p.min_remaining), limit / 2);
}

namespace {

// When the scanner must look at `c` next: its due-soon instant, then the
// first instant past its due time (microseconds, as stored), then never.
absl::optional<absl::Time> NextFire(const Clock& c) {
  if (c.state != ClockState::kRunning || c.overdue_fired) return absl::nullopt;
  return c.due_soon_fired ? c.due_at + absl::Microseconds(1) : c.due_soon_at;
}

// Notices fired for thresholds that are, after a reschedule, still ahead of
// where the clock's working time stands at `at` are withdrawn (they fire
// again when reached), and the scanner's next firing follows. Events arrive
// late (relays retry), so a pause or a resume can reach a clock after a
// notice its own time makes premature.
//
// Before the run's counting starts (a resume or pause outside office hours)
// the working time stands where it will at counting_starts: a run with
// nothing left has its due time there, and judging by the wall clock would
// withdraw an overdue that holds, so the scanner would send it again.
void ReconcileFired(Clock& c, absl::Time at) {
  const absl::Time stands_at = std::max(at, c.counting_starts);
  if (c.due_at > stands_at) c.overdue_fired = false;
  if (c.due_soon_at > stands_at) c.due_soon_fired = false;
  c.next_fire_at = NextFire(c);
}

}  // namespace

// due_at and due_soon_at of the current run, and what the scanner needs next.
absl::Status DeadlineRules::Schedule(Clock& c,
                                     const WorkingCalendar& cal) const {
  const absl::Duration left =
      std::max(absl::ZeroDuration(), c.limit - c.consumed_before_run);
  LT_ASSIGN_OR_RETURN(c.counting_starts,
                      cal.CountingStart(c.run_started_at, OptionsOf(c)));
  LT_ASSIGN_OR_RETURN(
      c.due_at, cal.AddWorkingDuration(
                    c.run_started_at, WorkingDuration::Of(left), OptionsOf(c)));
  const absl::Duration before_due_soon =
      left - DueSoonThreshold(policy_, c.limit);
  if (before_due_soon <= absl::ZeroDuration()) {
    c.due_soon_at = c.counting_starts;
  } else {
    LT_ASSIGN_OR_RETURN(
        c.due_soon_at, cal.AddWorkingDuration(
                           c.run_started_at,
                           WorkingDuration::Of(before_due_soon), OptionsOf(c)));
  }
  c.next_fire_at = NextFire(c);
  return absl::OkStatus();
}

absl::StatusOr<Clock> DeadlineRules::Start(const StartParams& p,
                                           const WorkingCalendar& cal) const {
  std::vector<common::FieldViolation> v;
  if (p.name.empty()) v.push_back({"name", "required"});
  if (p.dossier_code.empty()) v.push_back({"dossier_code", "required"});
  if (p.kind == ClockKind::kLeg && p.leg_id.empty()) {
    v.push_back({"leg_id", "required for a leg clock"});
  }
  if (p.agency.code.empty()) v.push_back({"agency", "required"});
  if (p.limit <= absl::ZeroDuration() || p.limit > absl::Hours(8 * 365)) {
    v.push_back({"limit", "must be positive and at most 365 working days"});
  }
  if (p.cutoff_minute.has_value() &&
      (*p.cutoff_minute < 0 || *p.cutoff_minute >= calendar::kMinutesPerDay)) {
    v.push_back({"cutoff", "must be a time of day"});
  }
  if (!v.empty()) {
    return common::InvalidArgument("INVALID_CLOCK", std::move(v));
  }
  Clock c;
  c.name = p.name;
  c.kind = p.kind;
  c.dossier_code = p.dossier_code;
  c.leg_id = p.leg_id;
  c.agency = p.agency;
  c.procedure_code = p.procedure_code;
  c.calendar_id = p.calendar_id;
  c.limit = p.limit;
  c.cutoff_minute = p.cutoff_minute;
  c.supplement_policy = p.supplement_policy;
  c.received_at = p.received_at;
  c.run_started_at = p.received_at;
  c.consumed_before_run = absl::ZeroDuration();
  c.state = ClockState::kRunning;
  LT_RETURN_IF_ERROR(Schedule(c, cal));
  c.original_due_at = c.due_at;
  return c;
}

absl::Status DeadlineRules::Pause(Clock& c, absl::Time at,
                                  const WorkingCalendar& cal) const {
  if (c.state == ClockState::kPaused) return absl::OkStatus();
  if (c.state == ClockState::kStopped) return Illegal(c, "pause");
  // A request made before this run began was answered by the supplement
  // that began it (its event came late, from another sender's line).
  if (at < c.run_started_at) return absl::OkStatus();
  // An `at` outside the calendar's years is refused here (INVALID_ARGUMENT),
  // before the clock changes, rather than measured day by day.
  LT_ASSIGN_OR_RETURN(const absl::Duration ran,
                      cal.WorkingTimeBetween(c.counting_starts, at));
  c.consumed_before_run += std::max(absl::ZeroDuration(), ran);
  c.state = ClockState::kPaused;
  c.paused_at = at;
  // A notice fired after the pause's instant (its event came late) was
  // premature: at the pause the clock was not yet there.
  ReconcileFired(c, at);
  return absl::OkStatus();
}

absl::Status DeadlineRules::Resume(Clock& c, absl::Time at,
                                   const WorkingCalendar& cal) const {
  if (c.state == ClockState::kRunning) return absl::OkStatus();
  if (c.state == ClockState::kStopped) return Illegal(c, "resume");
  if (c.supplement_policy == SupplementPolicy::kRestart) {
    // The legal time counts again from receipt of the complete dossier.
    c.consumed_before_run = absl::ZeroDuration();
    c.due_soon_fired = false;
    c.overdue_fired = false;
  }
  c.state = ClockState::kRunning;
  c.run_started_at = at;
  c.paused_at = absl::InfinitePast();
  LT_RETURN_IF_ERROR(Schedule(c, cal));
  ReconcileFired(c, at);  // the resumed run has its own due time
  return absl::OkStatus();
}

absl::Status DeadlineRules::Stop(Clock& c, absl::Time at, StopReason reason,
                                 const WorkingCalendar& cal) const {
  if (c.state == ClockState::kStopped) return absl::OkStatus();
  // A clock stopped while paused is judged at the pause: the citizen's
  // supplement time is not the office's delay.
  const absl::Time judged = c.state == ClockState::kPaused ? c.paused_at : at;
  c.state = ClockState::kStopped;
  c.stopped_at = at;
  c.stop_reason = reason;
  c.next_fire_at = absl::nullopt;
  if (reason == StopReason::kWithdrawn || reason == StopReason::kCancelled) {
    c.outcome = Outcome::kNone;
  } else if (judged > c.due_at) {
    c.outcome = Outcome::kLate;
  } else if (cal.LocalDay(judged) < cal.LocalDay(c.due_at)) {
    c.outcome = Outcome::kEarly;
  } else {
    c.outcome = Outcome::kOnTime;
  }
  return absl::OkStatus();
}

absl::optional<Firing> DeadlineRules::Fire(Clock& c, absl::Time now) const {
  if (c.state != ClockState::kRunning || c.overdue_fired) {
    c.next_fire_at = absl::nullopt;
    return absl::nullopt;
  }
  absl::optional<Firing> f;
  // Overdue only after the due time: a dossier finished at it is on time
  // (Stop), so it is not overdue then either.
  if (now > c.due_at) {
    c.overdue_fired = true;
    c.due_soon_fired = true;
    f = Firing{Urgency::kOverdue, c.due_at};
  } else if (!c.due_soon_fired && now >= c.due_soon_at) {
    c.due_soon_fired = true;
    f = Firing{Urgency::kDueSoon, c.due_soon_at};
  }
  c.next_fire_at = NextFire(c);
  return f;
}

absl::StatusOr<bool> DeadlineRules::Recompute(
    Clock& c, absl::Time now, const WorkingCalendar& cal) const {
  if (c.state != ClockState::kRunning) return false;
  const absl::Time old_due = c.due_at;
  const absl::Time old_original = c.original_due_at;
  LT_RETURN_IF_ERROR(Schedule(c, cal));
  // The first appointment moves with the calendar only while this is still
  // the first run (nothing consumed before it).
  if (c.run_started_at == c.received_at) {
    c.original_due_at = c.due_at;
  } else {
    c.original_due_at = old_original;
  }
  ReconcileFired(c, now);
  return c.due_at != old_due;
}

absl::Duration DeadlineRules::Remaining(const Clock& c, absl::Time now,
                                        const WorkingCalendar& cal) const {
  switch (c.state) {
    case ClockState::kPaused:
      return c.limit - c.consumed_before_run;
    case ClockState::kStopped:
      // Stopped while paused: frozen at the pause.
      if (c.paused_at != absl::InfinitePast()) {
        return c.limit - c.consumed_before_run;
      }
      now = c.stopped_at;
      break;
    case ClockState::kRunning:
      break;
  }
  // Only instants the calendar refuses fail (a span of more than
  // calendar::kHorizonDays): shown as if nothing more had run, as when the
  // calendar cannot be read.
  const absl::StatusOr<absl::Duration> ran =
      cal.WorkingTimeBetween(c.counting_starts, now);
  if (!ran.ok()) return c.limit - c.consumed_before_run;
  return c.limit - c.consumed_before_run - std::max(absl::ZeroDuration(), *ran);
}

ReportDelta Contribution(const Clock& c) {
  ReportDelta d;
  d.received = 1;
  if (c.state == ClockState::kStopped) {
    d.finished_early = c.outcome == Outcome::kEarly ? 1 : 0;
    d.finished_on_time = c.outcome == Outcome::kOnTime ? 1 : 0;
    d.finished_late = c.outcome == Outcome::kLate ? 1 : 0;
  } else if (c.overdue_fired) {
    d.open_overdue = 1;
  } else {
    d.open_on_time = 1;
  }
  return d;
}

std::vector<RollUpScope> RollUpScopes(const AgencyRef& agency) {
  std::vector<std::string> path = agency.ancestors;
  path.push_back(agency.code);
  std::vector<RollUpScope> out;
  for (size_t i = 0; i < path.size(); ++i) {
    out.push_back({path[i], i + 1 < path.size() ? path[i + 1] : path[i]});
  }
  return out;
}

ReportDelta DeltaOf(const Clock* before, const Clock& after) {
  const ReportDelta a = Contribution(after);
  if (before == nullptr) return a;
  const ReportDelta b = Contribution(*before);
  ReportDelta d;
  d.received = a.received - b.received;
  d.finished_early = a.finished_early - b.finished_early;
  d.finished_on_time = a.finished_on_time - b.finished_on_time;
  d.finished_late = a.finished_late - b.finished_late;
  d.open_on_time = a.open_on_time - b.open_on_time;
  d.open_overdue = a.open_overdue - b.open_overdue;
  return d;
}

}  // namespace lienthong::deadline
