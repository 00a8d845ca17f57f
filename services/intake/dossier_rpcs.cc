// The dossier RPCs of IntakeServer: from the counter to the return.

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/logging/logging.h"
#include "libs/metrics/metrics.h"
#include "lienthong/intake/v1/events.pb.h"
#include "services/intake/forms.h"
#include "services/intake/intake_logic.h"
#include "services/intake/intake_server.h"
#include "services/intake/pg_intake_store.h"

namespace lienthong::intake {

using grpc_util::Role;

namespace {

std::string PageToken(const v1::Dossier& d) {
  return absl::StrCat(
      absl::ToUnixMicros(grpc_util::FromProto(d.receive_time())), "|",
      d.code());
}

}  // namespace

absl::StatusOr<v1::Dossier> IntakeServer::DossierFor(
    pqxx::work& tx, const Caller& c, const std::string& code,
    absl::string_view action, absl::string_view resource, bool for_update) {
  absl::optional<v1::Dossier> d = pg::GetDossier(tx, code, for_update);
  if (!d) return DossierNotFound(code);
  LT_RETURN_IF_ERROR(RequireInSubtree(tx, c, pg::DossierAgencyPath(tx, code),
                                      action, resource));
  return *std::move(d);
}

grpc::Status IntakeServer::GetDossier(grpc::ServerContext* ctx,
                                      const v1::GetDossierRequest* req,
                                      v1::GetDossierResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string code = DossierCodeOf(req->name());
  if (code.empty()) return Done(BadDossierName());
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    auto d = DossierFor(tx, *caller, code, "GetDossier", req->name(), false);
    if (!d.ok()) return d.status();
    *resp->mutable_dossier() = *d;
    return absl::OkStatus();
  }));
}

grpc::Status IntakeServer::ListDossiers(grpc::ServerContext* ctx,
                                        const v1::ListDossiersRequest* req,
                                        v1::ListDossiersResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string agency = AgencyCodeOf(req->parent());
  if (agency.empty()) {
    return Done(common::InvalidArgument(
        "BAD_NAME", {{"parent", "must be agencies/{code}"}}));
  }
  pg::DossierQuery q;
  if (!req->page_token().empty()) {
    std::vector<std::string> parts = absl::StrSplit(req->page_token(), '|');
    int64_t micros;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &micros)) {
      return Done(common::InvalidArgument(
          "BAD_PAGE_TOKEN", {{"page_token", "is not from this list"}}));
    }
    q.before_time = absl::FromUnixMicros(micros);
    q.before_code = parts[1];
  }
  q.state = req->state();
  q.procedure_code = ProcedureCodeOf(req->procedure());
  if (!req->procedure().empty() && q.procedure_code.empty()) {
    // Not silently "every procedure".
    return Done(common::InvalidArgument(
        "BAD_NAME", {{"procedure", "must be procedures/{code}"}}));
  }
  if (req->has_receive_time_from()) {
    q.from = grpc_util::FromProto(req->receive_time_from());
  }
  if (req->has_receive_time_to())
    q.to = grpc_util::FromProto(req->receive_time_to());
  q.limit = req->page_size() <= 0 ? 50 : std::min(req->page_size(), 500);
  const int limit = q.limit;
  q.limit = limit + 1;
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    q.subtree_path = pg::PathOf(tx, agency);
    if (q.subtree_path.empty()) {
      return common::NotFound(
          "AGENCY_NOT_FOUND",
          absl::StrCat("agency ", agency, " does not exist"),
          {{"agency", agency}});
    }
    LT_RETURN_IF_ERROR(RequireInSubtree(tx, *caller, q.subtree_path,
                                        "ListDossiers", req->parent()));
    auto list = pg::ListDossiers(tx, q);
    for (int i = 0; i < static_cast<int>(list.size()) && i < limit; ++i) {
      *resp->add_dossiers() = list[i];
    }
    if (static_cast<int>(list.size()) > limit) {
      resp->set_next_page_token(PageToken(list[limit - 1]));
    }
    return absl::OkStatus();
  }));
}

grpc::Status IntakeServer::ChangeDossier(
    grpc::ServerContext* ctx, absl::string_view method, const std::string& name,
    const std::string& request_id, const google::protobuf::Message& req,
    google::protobuf::Message* resp, const std::function<absl::Status()>& check,
    const DossierChange& change) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string code = DossierCodeOf(name);
  if (code.empty()) return Done(BadDossierName());
  if (absl::Status s = check(); !s.ok()) return Done(s);
  if (auto s =
          RequireRole(*caller, method, name,
                      {Role::kCounterOfficer, Role::kSupervisor, Role::kAdmin});
      !s.ok()) {
    return Done(s);
  }
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    // The caller's subtree before any stored answer: a replay hands back
    // the dossier, which only those who may act on it may see (a request
    // id is no secret: it is in the audit trail).
    auto d = DossierFor(tx, *caller, code, method, name, true);
    if (!d.ok()) return d.status();
    return Idempotent(tx, method, request_id, req, resp,
                      [&] { return change(tx, *caller, *d); });
  }));
}

grpc::Status IntakeServer::SupplementDossier(
    grpc::ServerContext* ctx, const v1::SupplementDossierRequest* req,
    v1::SupplementDossierResponse* resp) {
  return ChangeDossier(
      ctx, "SupplementDossier", req->name(), req->request_id(), *req, resp,
      [] { return absl::OkStatus(); },
      [&](pqxx::work& tx, const Caller& caller, v1::Dossier& d) {
        // Merge the new values over the old, then check the whole dossier
        // again against its own procedure version.
        v1::Dossier next = d;
        for (const auto& f : req->fields()) {
          bool replaced = false;
          for (auto& old : *next.mutable_fields()) {
            if (old.key() == f.key()) {
              old.set_value(f.value());
              replaced = true;
            }
          }
          if (!replaced) *next.add_fields() = f;
        }
        for (const auto& doc : req->documents()) *next.add_documents() = doc;
        auto procedure = pg::GetProcedure(tx, ProcedureCodeOf(d.procedure()),
                                          d.procedure_version(), clock_.Now());
        if (procedure) LT_RETURN_IF_ERROR(ValidateDossier(next, *procedure));
        LT_RETURN_IF_ERROR(Transition(
            tx, next, DossierEvent::kSupplement, caller,
            req->note().empty() ? "Công dân bổ sung hồ sơ" : req->note()));
        Audit(tx, caller, "SupplementDossier", next.name(), req->request_id());
        v1::DossierSupplemented ev;
        ev.set_dossier(next.name());
        grpc_util::ToProto(clock_.Now(), ev.mutable_supplement_time());
        *ev.mutable_fields() = req->fields();
        Emit(tx, ev, next.name(), {kRouting, kDeadline});
        *resp->mutable_dossier() = next;
        return absl::OkStatus();
      });
}

grpc::Status IntakeServer::WithdrawDossier(
    grpc::ServerContext* ctx, const v1::WithdrawDossierRequest* req,
    v1::WithdrawDossierResponse* resp) {
  return ChangeDossier(
      ctx, "WithdrawDossier", req->name(), req->request_id(), *req, resp,
      [&] {
        return req->reason().empty()
                   ? common::InvalidArgument("MISSING_REASON",
                                             {{"reason", "is required"}})
                   : absl::OkStatus();
      },
      [&](pqxx::work& tx, const Caller& caller, v1::Dossier& d) {
        LT_RETURN_IF_ERROR(
            Transition(tx, d, DossierEvent::kWithdraw, caller, req->reason()));
        Audit(tx, caller, "WithdrawDossier", d.name(), req->request_id());
        v1::DossierWithdrawn ev;
        ev.set_dossier(d.name());
        grpc_util::ToProto(clock_.Now(), ev.mutable_withdraw_time());
        ev.set_reason(req->reason());
        Emit(tx, ev, d.name(), {kRouting, kDeadline});
        *resp->mutable_dossier() = d;
        return absl::OkStatus();
      });
}

grpc::Status IntakeServer::ReturnResult(grpc::ServerContext* ctx,
                                        const v1::ReturnResultRequest* req,
                                        v1::ReturnResultResponse* resp) {
  return ChangeDossier(
      ctx, "ReturnResult", req->name(), req->request_id(), *req, resp,
      [] { return absl::OkStatus(); },
      [&](pqxx::work& tx, const Caller& caller, v1::Dossier& d) {
        grpc_util::ToProto(clock_.Now(), d.mutable_return_time());
        LT_RETURN_IF_ERROR(
            Transition(tx, d, DossierEvent::kReturn, caller,
                       req->note().empty() ? "Trả kết quả" : req->note()));
        Audit(tx, caller, "ReturnResult", d.name(), req->request_id());
        v1::DossierReturned ev;
        ev.set_dossier(d.name());
        *ev.mutable_return_time() = d.return_time();
        Emit(tx, ev, d.name(), {kDeadline});
        *resp->mutable_dossier() = d;
        return absl::OkStatus();
      });
}

grpc::Status IntakeServer::GetControlSlip(grpc::ServerContext* ctx,
                                          const v1::GetControlSlipRequest* req,
                                          v1::GetControlSlipResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string code = DossierCodeOf(req->name());
  if (code.empty()) return Done(BadDossierName());
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    auto d =
        DossierFor(tx, *caller, code, "GetControlSlip", req->name(), false);
    if (!d.ok()) return d.status();
    *resp->mutable_dossier() = *d;
    for (auto& t : pg::Transitions(tx, code)) *resp->add_transitions() = t;
    return absl::OkStatus();
  }));
}

grpc::Status IntakeServer::RenderForm(grpc::ServerContext* ctx,
                                      const v1::RenderFormRequest* req,
                                      v1::RenderFormResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string code = DossierCodeOf(req->name());
  if (code.empty()) return Done(BadDossierName());
  if (req->kind() == v1::FORM_KIND_UNSPECIFIED ||
      !v1::FormKind_IsValid(req->kind())) {
    return Done(common::InvalidArgument(
        "BAD_FORM", {{"kind", "is required: one of the FormKind values"}}));
  }
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    auto d = DossierFor(tx, *caller, code, "RenderForm", req->name(), false);
    if (!d.ok()) return d.status();
    FormContext fc;
    fc.dossier = *d;
    const auto p = pg::GetProcedure(tx, ProcedureCodeOf(d->procedure()),
                                    d->procedure_version(), clock_.Now());
    if (p) fc.procedure = &*p;
    const auto a = pg::GetAgency(tx, AgencyCodeOf(d->receiving_agency()));
    if (a) fc.receiving_agency = &*a;
    fc.transitions = pg::Transitions(tx, code);
    // The reason, appointments and officer of the step the form is about;
    // FAILED_PRECONDITION for a step the dossier never took.
    LT_RETURN_IF_ERROR(FillFromHistory(req->kind(), fc));
    resp->set_html(intake::RenderForm(req->kind(), fc));
    return absl::OkStatus();
  }));
}

grpc::Status IntakeServer::IssueApology(grpc::ServerContext* ctx,
                                        const v1::IssueApologyRequest* req,
                                        v1::IssueApologyResponse* resp) {
  const auto check = [&] {
    std::vector<common::FieldViolation> v;
    if (req->reason().empty()) v.push_back({"reason", "is required"});
    if (!req->has_new_appointment_time()) {
      v.push_back({"new_appointment_time", "is required"});
    }
    return v.empty() ? absl::OkStatus()
                     : common::InvalidArgument("BAD_APOLOGY", v);
  };
  return ChangeDossier(
      ctx, "IssueApology", req->name(), req->request_id(), *req, resp, check,
      [&](pqxx::work& tx, const Caller& caller, v1::Dossier& d) {
        if (IsTerminal(d.state()) ||
            d.state() == v1::DOSSIER_STATE_READY_FOR_RETURN) {
          return common::FailedPrecondition(
              "DOSSIER_FINISHED",
              absl::StrCat("dossier is ", StateName(d.state()),
                           "; no new appointment is needed"),
              {{"state", std::string(StateName(d.state()))}});
        }
        const absl::Time old_due = grpc_util::FromProto(d.appointment_time());
        const absl::Time new_due =
            grpc_util::FromProto(req->new_appointment_time());
        if (new_due <= old_due || new_due <= clock_.Now()) {
          return common::InvalidArgument(
              "BAD_APPOINTMENT",
              {{"new_appointment_time",
                "must be after the current appointment and in the future"}});
        }
        FormContext fc;
        fc.dossier = d;
        const auto p = pg::GetProcedure(tx, ProcedureCodeOf(d.procedure()),
                                        d.procedure_version(), clock_.Now());
        if (p) fc.procedure = &*p;
        const auto a = pg::GetAgency(tx, AgencyCodeOf(d.receiving_agency()));
        if (a) fc.receiving_agency = &*a;
        fc.reasons = {req->reason()};
        fc.previous_appointment = d.appointment_time();
        fc.new_appointment = req->new_appointment_time();
        resp->set_apology_html(intake::RenderForm(v1::FORM_KIND_APOLOGY, fc));
        v1::ApologyIssued ev;
        ev.set_dossier(d.name());
        *ev.mutable_old_appointment_time() = d.appointment_time();
        *ev.mutable_new_appointment_time() = req->new_appointment_time();
        ev.set_reason(req->reason());
        *ev.mutable_applicant_contact() = d.applicant().contact();
        const google::protobuf::Timestamp previous = d.appointment_time();
        // The dossier still counts as late against its first appointment.
        d.set_late(true);
        *d.mutable_appointment_time() = req->new_appointment_time();
        pg::UpdateDossier(tx, d, clock_.Now());
        v1::Transition t;
        grpc_util::ToProto(clock_.Now(), t.mutable_time());
        t.set_from_state(d.state());
        t.set_to_state(d.state());
        t.set_actor_agency(caller.agency_code);
        t.set_actor_subject(caller.subject);
        t.set_peer(caller.peer);
        t.set_reason(absl::StrCat(kApologyReasonPrefix, req->reason()));
        *t.mutable_previous_appointment_time() = previous;
        pg::AddTransition(tx, DossierCodeOf(d.name()), t);
        Audit(tx, caller, "IssueApology", d.name(), req->request_id());
        Emit(tx, ev, d.name(), {kDeadline, kNotify});
        *resp->mutable_dossier() = d;
        return absl::OkStatus();
      });
}

}  // namespace lienthong::intake
