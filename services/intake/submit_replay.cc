// IntakeServer::ReplaySubmit: a SubmitDossier whose request_id committed
// already gets the response stored with it (the receipt printed again),
// after the checks its first sending passed.

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/db/transaction.h"
#include "services/intake/forms.h"
#include "services/intake/intake_server.h"
#include "services/intake/pg_intake_store.h"
#include "services/intake/submit_job.h"

namespace lienthong::intake {

absl::Status IntakeServer::ReplaySubmit(SubmitJob& job) {
  v1::SubmitDossierResponse* resp = job.resp;
  return db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    resp->Clear();
    const absl::Time now = clock_.Now();
    pg::SubmitStart start =
        pg::StartSubmit(tx, job.request_id(), now, job.agency_code,
                        job.caller->agency_code, job.procedure_code);
    if (start.claimed) {  // not committed after all (cannot happen)
      return common::Aborted("REQUEST_NOT_FOUND",
                             "the request's record is gone; retry");
    }
    // The same request from a caller outside the receiving agency's
    // subtree (its request_id is in the audit trail) is refused, as its
    // first sending would have been.
    LT_RETURN_IF_ERROR(RequireInSubtree(tx, *job.caller, start.agency.path,
                                        "SubmitDossier", job.req->parent(),
                                        &start.agency.caller_path));
    pg::StoredRequest stored = pg::LoadRequest(tx, job.request_id());
    if (stored.method != "SubmitDossier" ||
        stored.request_hash != job.request_hash) {
      return common::InvalidArgument(
          "REQUEST_ID_REUSED",
          {{"request_id",
            "was already used for a different request; use a new UUID"}});
    }
    resp->ParseFromString(stored.response);
    // The receipt is not stored (it is most of the response's size):
    // printed again from the dossier and its procedure version.
    if (resp->has_dossier() && start.agency.agency.has_value()) {
      auto version = pg::GetProcedure(tx, job.procedure_code,
                                      resp->dossier().procedure_version(), now);
      if (version.has_value()) {
        FormContext fc;
        fc.dossier = resp->dossier();
        fc.procedure = &*version;
        fc.receiving_agency = &*start.agency.agency;
        // The officer who received it, as the first print named them.
        fc.transitions = pg::Transitions(tx, resp->dossier().code());
        LT_RETURN_IF_ERROR(FillFromHistory(v1::FORM_KIND_RECEIPT, fc));
        resp->set_receipt_html(intake::RenderForm(v1::FORM_KIND_RECEIPT, fc));
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace lienthong::intake
