// The citizen's RPCs of IntakeServer: LookupDossier, open without an
// account, and RateDossier. A citizen proves to be the applicant with the
// dossier code and the last 4 digits of the applicant's phone; failed tries
// per code are counted, and too many within --lookup_window throttle that
// code for both calls.

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/redact.h"
#include "libs/common/utf8.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/proto_time.h"
#include "services/intake/dossier_state.h"
#include "services/intake/intake_logic.h"
#include "services/intake/intake_server.h"
#include "services/intake/pg_intake_store.h"

namespace lienthong::intake {

using grpc_util::Role;

namespace {

// The same answer whether the code or the digits were wrong.
absl::Status NoMatch() {
  return common::NotFound("LOOKUP_NO_MATCH",
                          "no dossier matches this code and phone");
}

}  // namespace

absl::StatusOr<absl::optional<v1::Dossier>> IntakeServer::ApplicantDossier(
    pqxx::work& tx, const std::string& code, const std::string& phone_last4,
    absl::Time now) {
  if (pg::LookupFailures(tx, code, now, options_.lookup_window) >=
      options_.lookup_max_failures) {
    return common::ResourceExhausted(
        "LOOKUP_THROTTLED",
        "too many failed attempts for this code; try again later");
  }
  absl::optional<v1::Dossier> d = pg::GetDossier(tx, code, false);
  const std::string phone = d ? d->applicant().contact().phone() : "";
  if (!d || phone.size() < 4 || phone.substr(phone.size() - 4) != phone_last4) {
    pg::RecordLookupFailure(tx, code, now, options_.lookup_window);
    return absl::nullopt;
  }
  return d;
}

grpc::Status IntakeServer::RateDossier(grpc::ServerContext* ctx,
                                       const v1::RateDossierRequest* req,
                                       v1::RateDossierResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string code = DossierCodeOf(req->name());
  if (code.empty()) return Done(BadDossierName());
  std::vector<common::FieldViolation> v;
  if (!IsDossierCode(code)) {
    // As LookupDossier: a malformed code is no dossier's, and counting it
    // as a citizen's failure would only grow the throttle's table.
    v.push_back({"name",
                 "dossiers/{code}, the code from the receipt, e.g. "
                 "dossiers/001.08.19.H26-261207-0001"});
  }
  if (req->rating() < 1 || req->rating() > 5) {
    v.push_back({"rating", "must be 1 (very dissatisfied) to 5"});
  }
  if (common::Utf8Length(req->comment()) > 1000) {
    v.push_back({"comment", "at most 1000 characters"});
  }
  const bool citizen = caller->role == Role::kCitizen;
  if (citizen && req->phone_last4().size() != 4) {
    v.push_back({"phone_last4", "the last 4 digits of the applicant's phone"});
  }
  if (!v.empty()) return Done(common::InvalidArgument("BAD_RATING", v));
  if (auto s = RequireRole(*caller, "RateDossier", req->name(),
                           {Role::kCitizen, Role::kCounterOfficer,
                            Role::kSupervisor, Role::kAdmin});
      !s.ok()) {
    return Done(s);
  }
  const absl::Time now = clock_.Now();
  bool no_match = false;  // answered after the failure it counts commits
  absl::Status st =
      db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
        // Who may rate it, checked before the request id is claimed: a
        // wrong try stores nothing but its count, and a replay answers
        // only those who may see the dossier.
        absl::optional<v1::Dossier> officers;
        if (citizen) {
          // Only the applicant.
          absl::StatusOr<absl::optional<v1::Dossier>> applicant =
              ApplicantDossier(tx, code, req->phone_last4(), now);
          if (!applicant.ok()) return applicant.status();
          if (!applicant->has_value()) {
            no_match = true;
            return absl::OkStatus();
          }
        } else {
          auto found =
              DossierFor(tx, *caller, code, "RateDossier", req->name(), true);
          if (!found.ok()) return found.status();
          officers = *std::move(found);
        }
        return Idempotent(
            tx, "RateDossier", req->request_id(), *req, resp, [&] {
              absl::optional<v1::Dossier> d = officers;
              if (citizen) {
                d = pg::GetDossier(tx, code, true);
                if (!d) return DossierNotFound(code);
              }
              if (d->state() != v1::DOSSIER_STATE_RETURNED) {
                return common::FailedPrecondition(
                    "NOT_RETURNED",
                    absl::StrCat(
                        "dossier is ", StateName(d->state()),
                        "; it can be rated once its result is returned"),
                    {{"state", std::string(StateName(d->state()))}});
              }
              if (d->rating() != 0) {
                return common::FailedPrecondition("ALREADY_RATED",
                                                  "a dossier is rated once");
              }
              d->set_rating(req->rating());
              d->set_rating_comment(req->comment());
              pg::UpdateDossier(tx, *d, now);
              Audit(tx, *caller, "RateDossier", d->name(), req->request_id());
              // A citizen proved only the code and 4 digits: the answer
              // holds no more than a lookup shows.
              *resp->mutable_dossier() = citizen ? CitizenView(*d) : *d;
              return absl::OkStatus();
            });
      });
  if (st.ok() && no_match) return Done(NoMatch());
  return Done(st);
}

grpc::Status IntakeServer::LookupDossier(grpc::ServerContext*,
                                         const v1::LookupDossierRequest* req,
                                         v1::LookupDossierResponse* resp) {
  std::vector<common::FieldViolation> v;
  if (!IsDossierCode(req->code())) {
    // Checked before anything is read or counted: a malformed code is no
    // dossier's, and counting it would only grow the throttle's table.
    v.push_back({"code",
                 "the dossier code from the receipt, e.g. "
                 "001.08.19.H26-261207-0001"});
  }
  if (req->phone_last4().size() != 4 ||
      !std::all_of(req->phone_last4().begin(), req->phone_last4().end(),
                   absl::ascii_isdigit)) {
    v.push_back({"phone_last4", "the last 4 digits of the phone"});
  }
  if (!v.empty()) return Done(common::InvalidArgument("BAD_LOOKUP", v));
  const absl::Time now = clock_.Now();
  bool no_match = false;  // answered after the failure it counts commits
  absl::Status st =
      db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
        absl::StatusOr<absl::optional<v1::Dossier>> d =
            ApplicantDossier(tx, req->code(), req->phone_last4(), now);
        if (!d.ok()) return d.status();
        if (!d->has_value()) {
          no_match = true;
          return absl::OkStatus();
        }
        const v1::Dossier& dossier = **d;
        auto procedure =
            pg::GetProcedure(tx, ProcedureCodeOf(dossier.procedure()),
                             dossier.procedure_version(), now);
        resp->set_code(dossier.code());
        resp->set_procedure_display_name(procedure ? procedure->display_name()
                                                   : "");
        resp->set_state(dossier.state());
        resp->set_current_step(dossier.current_step());
        *resp->mutable_appointment_time() = dossier.appointment_time();
        // A finished dossier (ready, returned, refused, withdrawn) keeps
        // the verdict it finished with (`late`); an open one is also late
        // once its appointment has passed.
        const absl::Time due = grpc_util::FromProto(dossier.appointment_time());
        const bool open = !IsTerminal(dossier.state()) &&
                          dossier.state() != v1::DOSSIER_STATE_READY_FOR_RETURN;
        resp->set_on_time(!dossier.late() && (!open || now <= due));
        resp->set_masked_applicant_name(
            common::MaskName(dossier.applicant().full_name()));
        return absl::OkStatus();
      });
  if (st.ok() && no_match) return Done(NoMatch());
  return Done(st);
}

}  // namespace lienthong::intake
