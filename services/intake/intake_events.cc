// Events from routing and deadline that move a dossier along.

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/db/notifier.h"
#include "libs/db/outbox.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/logging/logging.h"
#include "lienthong/deadline/v1/events.pb.h"
#include "lienthong/intake/v1/events.pb.h"
#include "lienthong/routing/v1/events.pb.h"
#include "services/intake/calendar_source.h"
#include "services/intake/intake_logic.h"
#include "services/intake/intake_server.h"
#include "services/intake/pg_intake_store.h"
#include "services/intake/submit_catalog.h"

namespace lienthong::intake {

absl::StatusOr<bool> IntakeServer::HandleEvent(const common::v1::Event& e) {
  return db::WithTransaction(pool_,
                             [&](pqxx::work& tx) { return ApplyEvent(tx, e); });
}

absl::StatusOr<std::vector<bool>> IntakeServer::HandleEvents(
    const std::vector<const common::v1::Event*>& events) {
  // One transaction for the delivered batch (routing sends several events
  // per dossier): any error rolls all of them back and the relay retries
  // or delivers them one by one.
  return db::WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<bool>> {
        std::vector<std::string> ids;
        ids.reserve(events.size());
        for (const common::v1::Event* e : events) ids.push_back(e->event_id());
        LT_ASSIGN_OR_RETURN(std::vector<bool> first,
                            db::RecordInboxBatch(tx, "intake", ids));
        // The new events' dossiers, each read once and written once.
        pg::DossierBatch batch;
        std::vector<std::string> codes;
        for (size_t i = 0; i < events.size(); ++i) {
          if (!first[i]) continue;
          if (std::string c = DossierCodeOf(events[i]->dossier()); !c.empty())
            codes.push_back(std::move(c));
        }
        batch.Load(tx, std::move(codes));
        for (size_t i = 0; i < events.size(); ++i) {
          if (!first[i]) continue;  // applied before: acknowledged only
          LT_RETURN_IF_ERROR(ApplyEvent(tx, *events[i], true).status());
        }
        batch.Flush(tx, clock_.Now());
        return first;
      });
}

absl::StatusOr<bool> IntakeServer::ApplyEvent(pqxx::work& tx,
                                              const common::v1::Event& e,
                                              bool recorded) {
  if (!recorded) {
    LT_ASSIGN_OR_RETURN(bool first,
                        db::RecordInbox(tx, "intake", e.event_id()));
    if (!first) return false;
  }
  // A new calendar version: every replica reads the calendars again now
  // (its refresh loop listens), not at its next --calendar_refresh.
  if (e.payload().Is<deadline::v1::CalendarPublished>()) {
    db::NotifyAfterCommit(kCalendarsPublishedChannel);
    return true;
  }
  // A calendar change names many dossiers, none in the envelope.
  if (deadline::v1::AppointmentsMoved moved; e.payload().UnpackTo(&moved)) {
    LT_RETURN_IF_ERROR(ApplyAppointmentsMoved(tx, e, moved));
    return true;
  }
  const std::string code = DossierCodeOf(e.dossier());
  auto d = code.empty() ? absl::nullopt : pg::GetDossier(tx, code, true);
  if (!d) {
    logging::Event("event_for_unknown_dossier").With("type", e.type()).Warn();
    return true;  // acknowledged; nothing to apply
  }
  Caller actor;
  actor.role = grpc_util::Role::kService;
  actor.subject = e.source();
  actor.peer = "event";
  // An event that no longer fits the dossier's state (e.g. a leg result
  // after the citizen withdrew) is acknowledged and logged, never retried
  // forever.
  auto apply = [&](DossierEvent ev, const std::string& reason,
                   bool save = true) -> absl::Status {
    absl::Status s = Transition(tx, *d, ev, actor, reason, save);
    if (!s.ok() && s.code() == absl::StatusCode::kFailedPrecondition) {
      logging::Event("event_not_applicable")
          .With("type", e.type())
          .With("dossier", code)
          .With("state", StateName(d->state()))
          .Warn();
      return absl::OkStatus();
    }
    return s;
  };
  const absl::Time now = clock_.Now();
  routing::v1::TaskDispatched dispatched;
  routing::v1::LegSupplementRequested supplement;
  routing::v1::LegRefused refused;
  routing::v1::RouteCompleted completed;
  deadline::v1::ClockOverdue overdue;
  if (e.payload().UnpackTo(&dispatched)) {
    // The leg as the citizen and the control slip name it (the procedure
    // version's leg display name), its id only if the version lacks it.
    // Versions never change: the submit catalog's copy serves when it is
    // the dossier's version (nearly always), saving a read per event.
    std::string leg = dispatched.leg_id();
    const std::string procedure_code = ProcedureCodeOf(d->procedure());
    absl::optional<v1::Procedure> read;
    const v1::Procedure* p = nullptr;
    const std::shared_ptr<const SubmitCatalog> catalog = CachedSubmitCatalog();
    if (catalog != nullptr) {
      auto it = catalog->procedures.find(procedure_code);
      if (it != catalog->procedures.end() &&
          it->second->message.version() == d->procedure_version()) {
        p = &it->second->message;
      }
    }
    if (p == nullptr) {
      read = pg::GetProcedure(tx, procedure_code, d->procedure_version(), now);
      if (read.has_value()) p = &*read;
    }
    if (p != nullptr) {
      for (const auto& l : p->legs()) {
        if (l.id() == dispatched.leg_id() && !l.display_name().empty()) {
          leg = l.display_name();
        }
      }
    }
    if (d->state() == v1::DOSSIER_STATE_RECEIVED) {
      actor.agency_code = AgencyCodeOf(dispatched.agency());
      LT_RETURN_IF_ERROR(apply(DossierEvent::kStartProcessing,
                               absl::StrCat("Chuyển xử lý: ", leg),
                               /*save=*/false));
    }
    // The step the citizen sees, only while the dossier is being processed:
    // a dispatch that arrives after a withdrawal, a refusal or a parallel
    // leg's supplement request leaves what those set.
    if (d->state() == v1::DOSSIER_STATE_IN_PROCESSING) {
      d->set_current_step(absl::StrCat("Đang giải quyết: ", leg));
    }
    pg::UpdateDossier(tx, *d, now);  // once, with the transition's state
  } else if (e.payload().UnpackTo(&supplement)) {
    actor.agency_code = AgencyCodeOf(supplement.agency());
    // Also when the dossier already waits for a supplement: a parallel leg
    // (residence beside health insurance) may ask for other items, and the
    // citizen must hear of those too before supplementing once for all.
    const bool applies =
        NextState(d->state(), DossierEvent::kRequestSupplement).ok();
    // With the missing items: the supplement request printed later
    // (RenderForm) lists them from the transition.
    std::string what = supplement.reason();
    for (const auto& m : supplement.missing_items()) {
      absl::StrAppend(&what, "; ", m);
    }
    LT_RETURN_IF_ERROR(apply(DossierEvent::kRequestSupplement, what));
    if (applies) {
      v1::DossierSupplementRequested ev;
      ev.set_dossier(d->name());
      grpc_util::ToProto(now, ev.mutable_request_time());
      ev.set_reason(what);
      *ev.mutable_applicant_contact() = d->applicant().contact();
      Emit(tx, ev, d->name(), {kDeadline, kNotify});
    }
  } else if (e.payload().UnpackTo(&refused)) {
    actor.agency_code = AgencyCodeOf(refused.agency());
    const v1::DossierState before = d->state();
    LT_RETURN_IF_ERROR(apply(DossierEvent::kRefuse, refused.reason()));
    if (d->state() != before) {
      v1::DossierRefused ev;
      ev.set_dossier(d->name());
      grpc_util::ToProto(now, ev.mutable_refuse_time());
      ev.set_reason(refused.reason());
      *ev.mutable_applicant_contact() = d->applicant().contact();
      Emit(tx, ev, d->name(), {kDeadline, kNotify});
    }
  } else if (e.payload().UnpackTo(&completed)) {
    *d->mutable_results() = completed.outputs();
    const v1::DossierState before = d->state();
    // Saved with the transition (and not at all when it does not apply).
    if (now > grpc_util::FromProto(d->appointment_time())) d->set_late(true);
    LT_RETURN_IF_ERROR(
        apply(DossierEvent::kReadyForReturn, "Các cơ quan đã giải quyết xong"));
    if (d->state() != before) {
      v1::DossierReadyForReturn ev;
      ev.set_dossier(d->name());
      grpc_util::ToProto(now, ev.mutable_ready_time());
      *ev.mutable_appointment_time() = d->appointment_time();
      *ev.mutable_applicant_contact() = d->applicant().contact();
      if (auto a = pg::GetAgency(tx, AgencyCodeOf(d->receiving_agency()))) {
        ev.set_receiving_agency_display_name(a->display_name());
      }
      Emit(tx, ev, d->name(), {kDeadline, kNotify});
    }
  } else if (e.payload().UnpackTo(&overdue)) {
    if (overdue.clock().kind() == deadline::v1::CLOCK_KIND_DOSSIER &&
        !IsTerminal(d->state())) {
      // The receiving office now owes the citizen an apology and a new
      // appointment (IssueApology); the dossier counts as late.
      d->set_late(true);
      pg::UpdateDossier(tx, *d, now);
      logging::Event("dossier_overdue").With("dossier", code).Warn();
    }
  }
  return true;
}

}  // namespace lienthong::intake
