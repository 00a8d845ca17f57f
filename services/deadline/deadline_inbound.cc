// DeadlineService: inbound events — how each event another service sends
// starts, pauses, resumes or stops its dossier's clocks, in the transaction
// that records the event as seen (applied once, however often delivered).

#include <functional>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/deadline/deadline_service.h"

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

bool DeadlineService::ReceiptDisagrees(const InboundEvent& e, const Clock& c) {
  return e.receipt_appointment.has_value() &&
         absl::AbsDuration(c.due_at - *e.receipt_appointment) >=
             kReceiptTolerance;
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
  // ran ahead of intake's) took the restart rule, no cut-off of their own
  // (their agency calendar's default, if it sets one) and their agency's
  // calendar: they count as the dossier does from now on.
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

}  // namespace lienthong::deadline
