// IntakeServer::SubmitDossier: validation, the dossier code, the
// appointment, and one transaction with the dossier, its transition, its
// audit entry, its idempotent response and DossierReceived for routing,
// deadline and notify. Its SQL is combined (pg_submit.cc): it is the call a
// busy counter makes most.

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/redact.h"
#include "libs/common/status_macros.h"
#include "libs/db/migrations.h"
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

grpc::Status IntakeServer::SubmitDossier(grpc::ServerContext* ctx,
                                         const v1::SubmitDossierRequest* req,
                                         v1::SubmitDossierResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string agency_code = AgencyCodeOf(req->parent());
  if (auto s = RequireRole(*caller, "SubmitDossier", req->parent(),
                           {Role::kCounterOfficer, Role::kSupervisor,
                            Role::kAdmin, Role::kAgencySystem});
      !s.ok()) {
    return Done(s);
  }
  if (agency_code.empty()) {
    return Done(common::InvalidArgument(
        "BAD_NAME", {{"parent", "must be agencies/{code}"}}));
  }
  const std::string procedure_code =
      ProcedureCodeOf(req->dossier().procedure());
  if (procedure_code.empty()) {
    return Done(common::InvalidArgument(
        "BAD_NAME", {{"dossier.procedure", "must be procedures/{code}"}}));
  }
  const std::string& request_id = req->request_id();
  if (request_id.size() > 100) {
    return Done(common::InvalidArgument(
        "BAD_REQUEST_ID", {{"request_id", "at most 100 characters"}}));
  }
  const std::string request_hash = db::Sha256Hex(req->SerializeAsString());

  // Set once a new dossier is written; its receipt is printed after commit.
  absl::optional<FormContext> receipt;
  std::string tier;
  // A concurrent twin of this request (same request_id) that committed
  // first is found when this one writes the request's record: this one
  // rolls back and a second pass answers as a replay.
  bool twin_committed = false;
  absl::Status st;
  for (int pass = 0; pass < 2; ++pass) {
    twin_committed = false;
    st = db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
      receipt.reset();
      resp->Clear();
      const absl::Time now = clock_.Now();
      pg::SubmitStart start =
          pg::StartSubmit(tx, request_id, now, agency_code, caller->agency_code,
                          procedure_code);
      if (!start.claimed) {  // a replay: the first answer, or a misuse
        pg::StoredRequest stored = pg::LoadRequest(tx, request_id);
        if (stored.method != "SubmitDossier" ||
            stored.request_hash != request_hash) {
          return common::InvalidArgument(
              "REQUEST_ID_REUSED",
              {{"request_id",
                "was already used for a different request; use a new UUID"}});
        }
        resp->ParseFromString(stored.response);
        // The receipt is not stored (it is most of the response's size):
        // printed again from the dossier and its procedure version.
        if (resp->has_dossier() && start.agency.agency.has_value()) {
          auto version = pg::GetProcedure(
              tx, procedure_code, resp->dossier().procedure_version(), now);
          if (version.has_value()) {
            FormContext fc;
            fc.dossier = resp->dossier();
            fc.procedure = *std::move(version);
            fc.receiving_agency = *start.agency.agency;
            resp->set_receipt_html(
                intake::RenderForm(v1::FORM_KIND_RECEIPT, fc));
          }
        }
        return absl::OkStatus();
      }
      auto& agency = start.agency.agency;
      if (!agency) {
        return common::NotFound(
            "AGENCY_NOT_FOUND",
            absl::StrCat("receiving agency ", agency_code, " does not exist"),
            {{"agency", agency_code}});
      }
      const std::string& path = start.agency.path;
      LT_RETURN_IF_ERROR(RequireInSubtree(tx, *caller, path, "SubmitDossier",
                                          req->parent(),
                                          &start.agency.caller_path));
      auto& procedure = start.procedure;
      if (!procedure) {
        return common::NotFound(
            "PROCEDURE_NOT_FOUND",
            absl::StrCat("procedure ", procedure_code,
                         " does not exist or is not in force"),
            {{"procedure", procedure_code}});
      }
      LT_RETURN_IF_ERROR(CheckMayReceive(*procedure, *agency, now));
      LT_RETURN_IF_ERROR(ValidateDossier(req->dossier(), *procedure));
      const CalendarSnapshot cal = options_.calendars->Snapshot();
      LT_ASSIGN_OR_RETURN(absl::Time appointment,
                          ComputeAppointment(*cal.calendar, now, *procedure));
      v1::Dossier& d = *resp->mutable_dossier();
      d = req->dossier();
      d.set_receiving_agency(AgencyName(agency_code));
      d.set_procedure(ProcedureName(procedure_code));
      d.set_procedure_version(procedure->version());
      d.set_state(v1::DOSSIER_STATE_RECEIVED);
      d.set_national_status_code(NationalStatusCode(d.state()));
      d.set_current_step(std::string(StateNameVi(d.state())));
      grpc_util::ToProto(now, d.mutable_receive_time());
      grpc_util::ToProto(now, d.mutable_update_time());
      grpc_util::ToProto(appointment, d.mutable_appointment_time());
      d.set_calendar_version(cal.version);
      d.clear_rating();
      d.clear_results();

      v1::Transition t;
      grpc_util::ToProto(now, t.mutable_time());
      t.set_to_state(d.state());
      t.set_actor_agency(caller->agency_code);
      t.set_actor_subject(caller->subject);
      t.set_peer(caller->peer);
      t.set_reason("Tiếp nhận hồ sơ");

      v1::DossierReceived ev;
      *ev.mutable_receiving_agency() = *agency;
      *ev.mutable_procedure() = *procedure;
      *ev.mutable_fields() = d.fields();
      *ev.mutable_applicant_contact() = d.applicant().contact();
      ev.set_masked_applicant_name(common::MaskName(d.applicant().full_name()));
      *ev.mutable_receive_time() = d.receive_time();
      *ev.mutable_appointment_time() = d.appointment_time();
      for (const auto& anc : agency->ancestor_codes()) {
        ev.add_agency_ancestor_codes(anc);
      }
      ev.set_procedure_display_name(procedure->display_name());

      // The code last: its counter row stays locked until commit, and
      // every dossier of this agency today waits for it, so all that can
      // be done before taking it is done before (the receipt after).
      const int64_t seq = pg::NextSequence(tx, agency_code, LocalDay(now));
      d.set_code(FormatDossierCode(agency_code, LocalDay(now), seq));
      d.set_name(DossierName(d.code()));
      if (!pg::WriteReceived(
              tx, d, agency_code, procedure_code, path, t,
              AuditEntryOf(*caller, "SubmitDossier", d.name(), request_id),
              request_id, request_hash, resp->SerializeAsString(),
              now)) {  // the response without the receipt
        twin_committed = true;
        return common::Aborted("TWIN_COMMITTED",
                               "the same request committed first; retry");
      }
      ev.set_dossier(d.name());
      Emit(tx, ev, d.name(), {kRouting, kDeadline, kNotify});
      receipt.emplace();
      receipt->procedure = *std::move(procedure);
      receipt->receiving_agency = *std::move(agency);
      tier = common::v1::Tier_Name(receipt->receiving_agency.tier());
      return absl::OkStatus();
    });
    if (!twin_committed) break;
  }
  if (st.ok() && receipt.has_value()) {
    const v1::Dossier& out = resp->dossier();
    receipt->dossier = out;
    resp->set_receipt_html(intake::RenderForm(v1::FORM_KIND_RECEIPT, *receipt));
    metrics::Counter("lienthong_intake_dossiers_received_total",
                     "Dossiers received, by tier and channel.")
        .Add({{"tier", tier},
              {"channel", common::v1::ReceiptChannel_Name(out.channel())}})
        .Increment();
    logging::Event("dossier_received")
        .With("dossier", out.code())
        .With("procedure", procedure_code)
        .Info();
  }
  return Done(st);
}

}  // namespace lienthong::intake
