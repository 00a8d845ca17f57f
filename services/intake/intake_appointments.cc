// Deadline's AppointmentsMoved: an administrator changed the working-time
// calendar and deadline recomputed the open clocks, or the citizen
// supplemented a dossier and its clock, resumed, is due at another time
// (after_supplement), or this intake printed a receipt with an older copy
// of the calendar than the clock counts with (receipt_correction). Intake
// owns the dossier's appointment (receipt, GetDossier, LookupDossier) and
// the citizen's contact, so it moves the appointment and tells notify, in the
// transaction that records the event in the inbox.

#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/logging/logging.h"
#include "lienthong/deadline/v1/events.pb.h"
#include "lienthong/intake/v1/events.pb.h"
#include "services/intake/appointment_moves.h"
#include "services/intake/forms.h"
#include "services/intake/intake_logic.h"
#include "services/intake/intake_server.h"
#include "services/intake/pg_intake_store.h"

namespace lienthong::intake {
namespace {

constexpr char kCalendarReason[] = "Thay đổi lịch làm việc";
// The receipt was counted with an older copy of the calendar than the
// legal due time: no calendar changed today, the time is counted again.
constexpr char kCorrectionReason[] = "Tính lại theo lịch làm việc đang áp dụng";
constexpr char kSupplementReason[] = "Hồ sơ đã được bổ sung";

// Producers older than MovedAppointment.kind leave it unset; a leg's clock
// is `clocks/{code}/tasks/{id}`.
bool IsDossierClock(const deadline::v1::MovedAppointment& m) {
  switch (m.kind()) {
    case deadline::v1::CLOCK_KIND_DOSSIER:
      return true;
    case deadline::v1::CLOCK_KIND_LEG:
      return false;
    default:
      return !absl::StrContains(m.clock(), "/tasks/");
  }
}

}  // namespace

absl::Status IntakeServer::ApplyAppointmentsMoved(
    pqxx::work& tx, const common::v1::Event& e,
    const deadline::v1::AppointmentsMoved& moved) {
  // One move per dossier, locked in code order: two calendar changes
  // applied at once never wait on each other's dossiers in a cycle.
  std::map<std::string, const deadline::v1::MovedAppointment*> by_dossier;
  for (const deadline::v1::MovedAppointment& m : moved.moved_appointments()) {
    const std::string code = DossierCodeOf(m.dossier());
    if (code.empty() || !IsDossierClock(m)) continue;
    by_dossier[code] = &m;
  }
  Caller actor;
  actor.role = grpc_util::Role::kService;
  actor.subject = e.source();
  actor.peer = "event";
  const absl::Time now = clock_.Now();
  const std::string calendar_id(
      absl::StripPrefix(moved.calendar(), "calendars/"));
  const std::string calendar_version =
      absl::StrCat(calendar_id, "@", moved.version());
  // After a supplement no calendar changed: the move is never stale by
  // version, and the dossier takes the move's version only when it is a
  // later one (the calendar changed during the pause, and the clock
  // counted the rest with it; a producer before 2026-12-07 sends none).
  const bool supplement = moved.after_supplement();
  const char* reason = supplement                   ? kSupplementReason
                       : moved.receipt_correction() ? kCorrectionReason
                                                    : kCalendarReason;
  for (const auto& [code, m] : by_dossier) {
    absl::optional<v1::Dossier> d = pg::GetDossier(tx, code, true);
    if (!d) {
      logging::Event("event_for_unknown_dossier")
          .With("type", e.type())
          .With("dossier", code)
          .Warn();
      continue;
    }
    if (!supplement &&
        AlreadyAtOrPast(d->calendar_version(), calendar_id, moved.version())) {
      logging::Event("appointment_move_stale")
          .With("dossier", code)
          .With("calendar_version", calendar_version)
          .With("dossier_calendar_version", d->calendar_version())
          .Info();
      continue;
    }
    const bool stamp =
        !supplement ||
        (moved.version() > 0 &&
         !AlreadyAtOrPast(d->calendar_version(), calendar_id, moved.version()));
    AppointmentMove move;
    move.state = d->state();
    move.appointment = grpc_util::FromProto(d->appointment_time());
    move.old_due = grpc_util::FromProto(m->old_due_time());
    move.new_due = grpc_util::FromProto(m->new_due_time());
    absl::optional<absl::Time> next = RescheduledAppointment(move);
    // A supplement given within a minute of the request (at the counter,
    // while the citizen waits) leaves the appointment as printed, to the
    // minute: no change to tell anyone about.
    if (supplement && next &&
        absl::AbsDuration(*next - move.appointment) < absl::Minutes(1)) {
      next = absl::nullopt;
    }
    if (!next && !IsTerminal(d->state()) && stamp) {
      // Not moved, but its appointment now follows this version: an older
      // event arriving later must not move it.
      d->set_calendar_version(calendar_version);
      pg::UpdateDossier(tx, *d, now);
    }
    if (!next) {
      logging::Event("appointment_not_moved")
          .With("dossier", code)
          .With("state", StateName(d->state()))
          .Info();
      continue;
    }
    v1::AppointmentRescheduled ev;
    ev.set_dossier(d->name());
    *ev.mutable_old_appointment_time() = d->appointment_time();
    grpc_util::ToProto(*next, ev.mutable_new_appointment_time());
    ev.set_reason(reason);
    *ev.mutable_applicant_contact() = d->applicant().contact();
    if (auto a = pg::GetAgency(tx, AgencyCodeOf(d->receiving_agency()))) {
      *ev.mutable_receiving_agency() = *a;
      for (const auto& anc : a->ancestor_codes()) {
        ev.add_agency_ancestor_codes(anc);
      }
    }
    if (auto p = pg::GetProcedure(tx, ProcedureCodeOf(d->procedure()),
                                  d->procedure_version(), now)) {
      ev.set_procedure_display_name(p->display_name());
    }
    if (!supplement) {
      ev.set_calendar(moved.calendar());
      ev.set_calendar_version(moved.version());
    }
    grpc_util::ToProto(now, ev.mutable_reschedule_time());

    *d->mutable_appointment_time() = ev.new_appointment_time();
    if (stamp) d->set_calendar_version(calendar_version);
    // Flagged late under the old calendar but due later now: on time again.
    if (d->late() && *next > now) d->set_late(false);
    grpc_util::ToProto(now, d->mutable_update_time());
    pg::UpdateDossier(tx, *d, now);
    // On the control slip as a step in place, like an apology's new
    // appointment, so the officer sees why the receipt's time changed.
    v1::Transition t;
    grpc_util::ToProto(now, t.mutable_time());
    t.set_from_state(d->state());
    t.set_to_state(d->state());
    t.set_actor_agency(actor.agency_code);
    t.set_actor_subject(actor.subject);
    t.set_peer(actor.peer);
    t.set_reason(absl::StrCat(reason, kNewAppointmentMarker,
                              FormatLocalTime(ev.new_appointment_time())));
    // What a receipt or an apology printed before this move gave.
    *t.mutable_previous_appointment_time() = ev.old_appointment_time();
    pg::AddTransition(tx, code, t);
    Audit(tx, actor, "RescheduleAppointment", d->name(), e.event_id());
    Emit(tx, ev, d->name(), {kNotify});
    logging::Event("appointment_rescheduled")
        .With("dossier", code)
        .With("calendar", moved.calendar())
        .Info();
  }
  return absl::OkStatus();
}

}  // namespace lienthong::intake
