// IntakeServer::SubmitDossier: validation, the dossier code, the
// appointment, and one transaction with the dossier, its transition, its
// audit entry, its idempotent response and DossierReceived for routing,
// deadline and notify.
//
// It is the call a busy counter makes most, so concurrent submissions
// commit together (db::GroupCommit): the calls that arrive while a batch
// commits go in the next one, whose transaction reads their agencies and
// procedures in one statement, takes every counter it needs in one, and
// writes every dossier with its transition, audit entry, request record and
// events in one (pg_submit.cc). A lone call is a batch of one.
// Each submission is still checked on its own: one that fails validation
// or authorisation gets its own error and the others go on.
//
// The counter rows a batch takes stay locked until it commits, and the
// next batch waits for them, so a batch does as little as it can while it
// holds them. Each call checks and builds its dossier on its own thread
// before it joins a batch (PrepareAhead, against the catalog as last read)
// and serializes it without the code; the batch then only puts the codes in
// front of those bytes (a message's fields may come in any order on the
// wire). A call built against entries the batch no longer holds, or on
// another day, is checked and built again inside the batch.
//
// A retry of a committed request is answered from its record
// (submit_replay.cc).

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/redact.h"
#include "libs/common/status_macros.h"
#include "libs/db/migrations.h"
#include "libs/db/outbox.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/logging/logging.h"
#include "libs/metrics/metrics.h"
#include "lienthong/intake/v1/events.pb.h"
#include "services/intake/embedded_bytes.h"
#include "services/intake/forms.h"
#include "services/intake/intake_logic.h"
#include "services/intake/intake_server.h"
#include "services/intake/pg_intake_store.h"
#include "services/intake/submit_catalog.h"
#include "services/intake/submit_job.h"

namespace lienthong::intake {

using grpc_util::Role;

namespace {

// A job that meets twins or conflicts this many times gives up (ABORTED:
// the client retries with the same request_id and gets the committed one).
constexpr int kMaxSubmitAttempts = 4;

}  // namespace

grpc::Status IntakeServer::SubmitDossier(grpc::ServerContext* ctx,
                                         const v1::SubmitDossierRequest* req,
                                         v1::SubmitDossierResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  SubmitJob job;
  job.agency_code = AgencyCodeOf(req->parent());
  if (auto s = RequireRole(*caller, "SubmitDossier", req->parent(),
                           {Role::kCounterOfficer, Role::kSupervisor,
                            Role::kAdmin, Role::kAgencySystem});
      !s.ok()) {
    return Done(s);
  }
  if (job.agency_code.empty()) {
    return Done(common::InvalidArgument(
        "BAD_NAME", {{"parent", "must be agencies/{code}"}}));
  }
  job.procedure_code = ProcedureCodeOf(req->dossier().procedure());
  if (job.procedure_code.empty()) {
    return Done(common::InvalidArgument(
        "BAD_NAME", {{"dossier.procedure", "must be procedures/{code}"}}));
  }
  if (req->request_id().empty() || req->request_id().size() > 100) {
    // Without one, a retry after a lost answer would receive a second
    // dossier with a second code.
    return Done(common::InvalidArgument(
        "BAD_REQUEST_ID",
        {{"request_id", req->request_id().empty()
                            ? "is required (a UUID per dossier; send the "
                              "same one again when retrying)"
                            : "at most 100 characters"}}));
  }
  job.request_hash = db::Sha256Hex(req->SerializeAsString());
  job.caller = &*caller;
  job.req = req;
  job.resp = resp;
  PrepareAhead(job);
  submits_->Run(&job);
  if (job.replay) return Done(ReplaySubmit(job));
  if (!job.status.ok()) return Done(job.status);

  // The receipt borrows the answer's dossier while it is printed.
  job.receipt->dossier = std::move(*resp->mutable_dossier());
  std::string receipt = intake::RenderForm(v1::FORM_KIND_RECEIPT, *job.receipt);
  *resp->mutable_dossier() = std::move(job.receipt->dossier);
  resp->set_receipt_html(std::move(receipt));
  const v1::Dossier& out = resp->dossier();
  metrics::Counter("lienthong_intake_dossiers_received_total",
                   "Dossiers received, by tier and channel.")
      .Add({{"tier",
             common::v1::Tier_Name(job.receipt->receiving_agency->tier())},
            {"channel", common::v1::ReceiptChannel_Name(out.channel())}})
      .Increment();
  logging::Event("dossier_received")
      .With("dossier", out.code())
      .With("procedure", job.procedure_code)
      .Info();
  return Done(absl::OkStatus());
}

db::GroupCommit<SubmitJob>::Stats IntakeServer::SubmitBatchStats() const {
  return submits_->stats();
}

size_t IntakeServer::SubmitsWaiting() const { return submits_->queued(); }

std::shared_ptr<const SubmitCatalog> IntakeServer::CachedSubmitCatalog() const {
  absl::MutexLock lock(&catalog_mu_);
  return submit_catalog_;
}

void IntakeServer::RunSubmitBatch(std::vector<SubmitJob*>& batch) {
  if (options_.before_submit_batch_for_testing) {
    options_.before_submit_batch_for_testing();
  }
  std::vector<SubmitJob*> writing;
  bool twin_committed = false;
  bool catalog_changed = false;
  std::shared_ptr<const SubmitCatalog> cached = CachedSubmitCatalog();
  absl::Status st;
  for (;;) {
    const bool warm =
        cached != nullptr &&
        std::all_of(batch.begin(), batch.end(), [&](const SubmitJob* j) {
          return cached->Holds(j->agency_code, j->caller->agency_code,
                               j->procedure_code);
        });
    st = db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
      return SubmitBatchAttempt(tx, batch, warm ? cached.get() : nullptr,
                                writing, twin_committed, catalog_changed);
    });
    if (!warm || !catalog_changed) break;
    cached = nullptr;  // read again, check on what was read
  }
  for (SubmitJob* j : batch) {
    // A twin committed elsewhere (everything rolled back) or written by
    // this batch: the job goes again, and is then answered as a replay.
    if (twin_committed || j->twin_in_batch) {
      if (j->attempts >= kMaxSubmitAttempts) {
        j->status = common::Aborted(
            "TWIN_COMMITTED",
            "a submission with this request_id was committing; retry with "
            "the same request_id");
        j->replay = false;
        j->done = true;
      }
      continue;
    }
    if (!st.ok() && (j->status.ok() || j->replay)) {
      j->status = st;
      j->replay = false;
    }
    j->done = true;
  }
}

absl::Status IntakeServer::SubmitBatchAttempt(pqxx::work& tx,
                                              std::vector<SubmitJob*>& batch,
                                              const SubmitCatalog* cached,
                                              std::vector<SubmitJob*>& writing,
                                              bool& twin_committed,
                                              bool& catalog_changed) {
  writing.clear();
  twin_committed = catalog_changed = false;
  const absl::Time now = clock_.Now();
  const absl::CivilDay day = LocalDay(now);
  // Each dossier follows its procedure's or receiving agency's calendar,
  // all picked from the one set held as the batch begins (a dossier built
  // ahead with another set is built again).
  const std::shared_ptr<const CalendarSet> calendars =
      options_.calendars->Calendars();
  std::vector<std::string> ids, agencies, procedures;
  for (SubmitJob* j : batch) {
    j->status = absl::OkStatus();
    j->replay = j->twin_in_batch = false;
    if (j->prepared_with == nullptr) j->Unbuild();
    if (!j->request_id().empty()) ids.push_back(j->request_id());
    agencies.push_back(j->agency_code);
    agencies.push_back(j->caller->agency_code);
    procedures.push_back(j->procedure_code);
  }
  // Checks every submission against `catalog` (request records as `read`
  // says) and counts the dossiers to number per agency.
  std::map<std::string, int> counts;
  const auto check = [&](const SubmitCatalog& catalog,
                         const std::set<std::string>* committed) {
    std::set<std::string> ids_written;
    for (SubmitJob* j : batch) {
      const std::string& id = j->request_id();
      if (committed != nullptr && !id.empty() && committed->count(id) > 0) {
        j->replay = true;
        continue;
      }
      if (!id.empty() && !ids_written.insert(id).second) {
        j->twin_in_batch = true;  // the next batch replays it
        continue;
      }
      if (j->prepared_with != nullptr &&
          (LocalDay(j->received_at) != day ||
           j->prepared_calendars != calendars ||
           !catalog.SameEntriesAs(*j->prepared_with, j->agency_code,
                                  j->caller->agency_code, j->procedure_code))) {
        j->Unbuild();  // built on what the batch does not hold
      }
      j->status = j->prepared_with != nullptr
                      ? absl::OkStatus()
                      : PrepareReceived(&tx, *j, catalog, *calendars, now);
      if (j->status.ok()) {
        writing.push_back(j);
        ++counts[j->agency_code];
      }
    }
  };

  // The codes last: the counter rows stay locked until commit and every
  // submission of those agencies today waits for them, so all that can be
  // done before taking them is done before (the receipts after).
  std::map<std::string, int64_t> last;
  if (cached != nullptr) {
    check(*cached, nullptr);
    pg::SubmitBatchRead read =
        pg::ReadSubmitBatch(tx, ids, agencies, procedures, now, counts, day);
    const bool counted_a_replay =
        std::any_of(writing.begin(), writing.end(), [&](const SubmitJob* j) {
          return read.committed_requests.count(j->request_id()) > 0;
        });
    if (counted_a_replay || !cached->Matches(read, agencies, procedures)) {
      catalog_changed = true;
      return common::Aborted("CATALOG_CHANGED", "read again");  // rolls back
    }
    for (SubmitJob* j : batch) {
      // Failed its checks above but committed: answered as a replay, unless
      // the caller may not act there (refused and audited above).
      if (!j->request_id().empty() &&
          read.committed_requests.count(j->request_id()) > 0 &&
          !absl::IsPermissionDenied(j->status)) {
        j->replay = true;
        j->status = absl::OkStatus();
      }
    }
    last = std::move(read.last);
  } else {
    pg::SubmitBatchRead read =
        pg::ReadSubmitBatch(tx, ids, agencies, procedures, now, {}, day);
    std::shared_ptr<const SubmitCatalog> fresh = SubmitCatalog::Updated(
        CachedSubmitCatalog().get(), read, agencies, procedures);
    check(*fresh, &read.committed_requests);
    {
      absl::MutexLock lock(&catalog_mu_);
      submit_catalog_ = fresh;
    }
    if (!writing.empty()) last = pg::NextSequences(tx, counts, day);
  }
  if (writing.empty()) return absl::OkStatus();
  if (options_.submit_batch_phase_for_testing) {
    options_.submit_batch_phase_for_testing("read");
  }

  std::map<std::string, int64_t> next;
  for (const auto& [code, n] : counts) {
    next[code] = last.at(code) - n + 1;
  }
  std::vector<pg::ReceivedRow> rows;
  rows.reserve(writing.size());
  for (SubmitJob* j : writing) {
    v1::Dossier& d = *j->resp->mutable_dossier();
    d.set_code(FormatDossierCode(j->agency_code, day, next[j->agency_code]++));
    d.set_name(DossierName(d.code()));
    pg::ReceivedRow& r = rows.emplace_back();
    r.dossier = &d;
    r.received_at = j->received_at;
    r.agency_code = j->agency_code;
    r.agency_path = j->agency_path;
    r.procedure_code = j->procedure_code;
    r.actor_agency = j->caller->agency_code;
    r.actor_subject = j->caller->subject;
    r.peer = j->caller->peer;
    r.role = std::string(grpc_util::RoleName(j->caller->role));
    r.request_id = j->request_id();
    r.request_hash = j->request_hash;
    v1::Dossier head;
    head.set_code(d.code());
    head.set_name(d.name());
    r.body = head.SerializeAsString();
    r.body += j->body_rest;
    r.response = EmbeddedDossier(r.body);  // without the receipt
    v1::DossierReceived event_head;
    event_head.set_dossier(d.name());
    std::string payload = event_head.SerializeAsString();
    payload += j->event_rest;
    const common::v1::Event e = grpc_util::MakeEventFromBytes(
        v1::DossierReceived::descriptor()->full_name(), std::move(payload),
        "intake", d.name(), j->received_at);
    r.event = {e.event_id(), e.type(), e.SerializeAsString()};
  }
  if (!pg::WriteReceivedBatch(tx, rows,
                              static_cast<int>(v1::DOSSIER_STATE_RECEIVED),
                              "Tiếp nhận hồ sơ", "SubmitDossier",
                              {kRouting, kDeadline, kNotify}, now)) {
    twin_committed = true;
    return common::Aborted("TWIN_COMMITTED",
                           "the same request committed first; retry");
  }
  if (options_.submit_batch_phase_for_testing) {
    options_.submit_batch_phase_for_testing("written");
  }
  return absl::OkStatus();
}

void IntakeServer::PrepareAhead(SubmitJob& job) {
  std::shared_ptr<const SubmitCatalog> catalog = CachedSubmitCatalog();
  if (catalog == nullptr ||
      !catalog->Holds(job.agency_code, job.caller->agency_code,
                      job.procedure_code)) {
    return;  // the batch reads
  }
  std::shared_ptr<const CalendarSet> calendars =
      options_.calendars->Calendars();
  if (PrepareReceived(nullptr, job, *catalog, *calendars, clock_.Now()).ok()) {
    job.prepared_with = std::move(catalog);
    job.prepared_calendars = std::move(calendars);
  } else {
    job.Unbuild();  // checked again in the batch, which reports it
  }
}

absl::Status IntakeServer::PrepareReceived(pqxx::work* tx, SubmitJob& job,
                                           const SubmitCatalog& catalog,
                                           const CalendarSet& calendars,
                                           absl::Time now) {
  const grpc_util::Caller& caller = *job.caller;
  const v1::SubmitDossierRequest& req = *job.req;
  auto agency_row = catalog.agencies.find(job.agency_code);
  if (agency_row == catalog.agencies.end()) {
    return common::NotFound(
        "AGENCY_NOT_FOUND",
        absl::StrCat("receiving agency ", job.agency_code, " does not exist"),
        {{"agency", job.agency_code}});
  }
  const auto& agency_entry = agency_row->second;
  const v1::Agency& agency = agency_entry->message;
  job.agency_path = agency_row->second->path;
  auto caller_row = catalog.agencies.find(caller.agency_code);
  const std::string caller_path =
      caller_row == catalog.agencies.end() ? "" : caller_row->second->path;
  if (tx == nullptr) {
    if (!InSubtree(caller, job.agency_path, caller_path)) {
      return common::PermissionDenied("OUTSIDE_AGENCY_SUBTREE",
                                      "checked again in the batch", {});
    }
  } else {
    LT_RETURN_IF_ERROR(RequireInSubtree(*tx, caller, job.agency_path,
                                        "SubmitDossier", req.parent(),
                                        &caller_path));
  }
  auto procedure_it = catalog.procedures.find(job.procedure_code);
  if (procedure_it == catalog.procedures.end()) {
    return common::NotFound("PROCEDURE_NOT_FOUND",
                            absl::StrCat("procedure ", job.procedure_code,
                                         " does not exist or is not in force"),
                            {{"procedure", job.procedure_code}});
  }
  const auto& procedure_entry = procedure_it->second;
  const v1::Procedure& procedure = procedure_entry->message;
  LT_RETURN_IF_ERROR(CheckMayReceive(procedure, agency, now));
  LT_RETURN_IF_ERROR(ValidateDossier(req.dossier(), procedure));
  // As deadline chooses for the dossier's clock (calendar_choice.h).
  const CalendarSnapshot& cal =
      calendars.For(job.agency_code, procedure.calendar(), now);
  LT_ASSIGN_OR_RETURN(absl::Time appointment,
                      ComputeAppointment(*cal.calendar, now, procedure));
  // Past the calendar's holiday data, that year's holidays counted as
  // working days: said once per version, so the data gets its next year.
  coverage_.Check(*cal.calendar, cal.version, appointment);
  job.received_at = now;
  v1::Dossier& d = *job.resp->mutable_dossier();
  d = req.dossier();
  d.clear_code();  // the batch writes code and name in front (body_rest)
  d.clear_name();
  d.set_receiving_agency(AgencyName(job.agency_code));
  d.set_procedure(ProcedureName(job.procedure_code));
  d.set_procedure_version(procedure.version());
  d.set_state(v1::DOSSIER_STATE_RECEIVED);
  d.set_national_status_code(NationalStatusCode(d.state()));
  d.set_current_step(std::string(StateNameVi(d.state())));
  grpc_util::ToProto(now, d.mutable_receive_time());
  grpc_util::ToProto(now, d.mutable_update_time());
  grpc_util::ToProto(appointment, d.mutable_appointment_time());
  d.set_calendar_version(cal.version);
  d.clear_rating();
  d.clear_results();

  // The agency and procedure go in as the catalog holds their bytes.
  v1::DossierReceived ev;
  *ev.mutable_fields() = d.fields();
  *ev.mutable_applicant_contact() = d.applicant().contact();
  ev.set_masked_applicant_name(common::MaskName(d.applicant().full_name()));
  *ev.mutable_receive_time() = d.receive_time();
  *ev.mutable_appointment_time() = d.appointment_time();
  for (const auto& anc : agency.ancestor_codes()) {
    ev.add_agency_ancestor_codes(anc);
  }
  ev.set_procedure_display_name(procedure.display_name());

  job.receipt.emplace();
  job.receipt->officer = caller.subject;
  job.receipt->procedure = &procedure;
  job.receipt->receiving_agency = &agency;
  job.receipt_agency = agency_entry;
  job.receipt_procedure = procedure_entry;
  job.body_rest = d.SerializeAsString();
  job.event_rest = ev.SerializeAsString();
  AppendEmbedded(&job.event_rest,
                 v1::DossierReceived::kReceivingAgencyFieldNumber,
                 agency_entry->bytes);
  AppendEmbedded(&job.event_rest, v1::DossierReceived::kProcedureFieldNumber,
                 procedure_entry->bytes);
  return absl::OkStatus();
}

}  // namespace lienthong::intake
