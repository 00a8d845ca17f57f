#pragma once

// One SubmitDossier call as the submission batches see it
// (submit_dossier.cc), and as a retry of a committed request is answered
// from its record (submit_replay.cc).

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "libs/db/group_commit.h"
#include "libs/grpc_util/auth.h"
#include "lienthong/intake/v1/intake_service.pb.h"
#include "services/intake/calendar_cache.h"
#include "services/intake/forms.h"
#include "services/intake/submit_catalog.h"

namespace lienthong::intake {

// One SubmitDossier call inside a batch.
struct SubmitJob : db::GroupJob {
  const grpc_util::Caller* caller = nullptr;
  const v1::SubmitDossierRequest* req = nullptr;
  v1::SubmitDossierResponse* resp = nullptr;
  std::string agency_code, procedure_code, request_hash;

  // Set by the batch (again on each attempt of its transaction).
  absl::Status status;
  bool replay = false;         // a committed request: answer from its record
  bool twin_in_batch = false;  // its twin is written by this batch
  absl::optional<FormContext> receipt;  // printed after commit
  // What the receipt points to (catalog entries, shared).
  std::shared_ptr<const void> receipt_agency, receipt_procedure;
  std::string agency_path;
  absl::Time received_at;  // the dossier's receive time
  // The dossier's bytes without its code and name, and DossierReceived's
  // without its dossier (PrepareReceived): the batch writes those in front.
  std::string body_rest, event_rest;
  // Built ahead of the batch (PrepareAhead) against this catalog and
  // these calendars.
  std::shared_ptr<const SubmitCatalog> prepared_with;
  std::shared_ptr<const CalendarSet> prepared_calendars;

  const std::string& request_id() const { return req->request_id(); }
  // Forgets what was built for it (it is built again, or not written).
  void Unbuild() {
    prepared_with = nullptr;
    prepared_calendars = nullptr;
    receipt.reset();
    resp->Clear();
  }
};

}  // namespace lienthong::intake
