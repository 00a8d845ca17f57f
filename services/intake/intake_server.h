#pragma once

// lienthong.intake.v1.IntakeService over gRPC (sync API; the runtime bounds
// its threads). Converts protobuf to the rules in intake_logic, runs every
// change in one transaction with its transition, audit row and outbox
// events, and answers canonical codes with ErrorInfo domain
// `lienthong.intake`.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/calendar/coverage_watch.h"
#include "libs/calendar/working_calendar.h"
#include "libs/common/clock.h"
#include "libs/db/group_commit.h"
#include "libs/db/pool.h"
#include "libs/grpc_util/auth.h"
#include "lienthong/common/v1/common.pb.h"
#include "lienthong/intake/v1/intake_service.grpc.pb.h"
#include "pqxx/pqxx"
#include "services/intake/calendar_cache.h"
#include "services/intake/dossier_state.h"

namespace lienthong::deadline::v1 {
class AppointmentsMoved;
}  // namespace lienthong::deadline::v1

namespace lienthong::intake {

// Where intake's events go.
inline constexpr char kRouting[] = "routing";
inline constexpr char kDeadline[] = "deadline";
inline constexpr char kNotify[] = "notify";

struct IntakeOptions {
  bool insecure_dev_auth = false;
  // The working-time calendars for appointments (cached copies: counters
  // keep receiving while the deadline service is away), each dossier
  // following its procedure's or else its receiving agency's. When `calendars`
  // is null the server keeps `calendar` as "vn", labelled `calendar_version`,
  // for every agency for good.
  std::shared_ptr<const calendar::WorkingCalendar> calendar;
  std::string calendar_version = "vn@bundled";
  std::shared_ptr<CalendarCache> calendars;
  int lookup_max_failures = 5;
  absl::Duration lookup_window = absl::Minutes(15);
  // SubmitDossier group commit (submit_dossier.cc): concurrent submissions
  // share a transaction, at most `submit_batch_max` in one and at most
  // `submit_batches_in_flight` transactions at once. 1 = one per call.
  int submit_batch_max = 32;
  int submit_batches_in_flight = 2;
  // A batch starts beside a running one only once this many submissions
  // wait (db::GroupCommitOptions::min_queued_for_another).
  int submit_batch_min_queued = 6;
  // VerifyAuditChain reads the chain in pages of this many entries and
  // holds one page at a time (tests make it small to cross pages).
  int audit_verify_page_size = 5000;
  // Tests only: runs as each submission batch begins (before its
  // transaction), so a test can hold one batch and queue others behind it.
  std::function<void()> before_submit_batch_for_testing;
  // Called in a submit batch's transaction after its read ("read") and
  // after its write, before the commit ("written").
  std::function<void(absl::string_view phase)> submit_batch_phase_for_testing;
};

// Gauges the audit sealer sets after each SealAuditOnce.
inline constexpr char kAuditUnsealedName[] = "lienthong_intake_audit_unsealed";
inline constexpr char kAuditUnsealedHelp[] =
    "Committed audit entries not yet sealed into the hash chain.";
inline constexpr char kAuditUnsealedAgeName[] =
    "lienthong_intake_audit_unsealed_oldest_age_seconds";
inline constexpr char kAuditUnsealedAgeHelp[] =
    "How long the oldest committed audit entry not yet sealed has waited.";

// Counted (and logged, calendar_coverage_exceeded) once per calendar version
// and process when an appointment falls after the last year the version's
// holidays cover.
inline constexpr char kCoverageExceededName[] =
    "lienthong_intake_calendar_coverage_exceeded_total";
inline constexpr char kCoverageExceededHelp[] =
    "Calendar versions that gave an appointment past the last year their "
    "holidays cover, once per version and process (log line "
    "calendar_coverage_exceeded): add the next year's holidays.";

struct SubmitJob;
struct SubmitCatalog;

class IntakeServer final : public v1::IntakeService::Service {
 public:
  IntakeServer(db::Pool& pool, const common::Clock& clock,
               IntakeOptions options);
  ~IntakeServer() override;

  // Agencies and procedures.
  grpc::Status GetAgency(grpc::ServerContext*, const v1::GetAgencyRequest*,
                         v1::GetAgencyResponse*) override;
  grpc::Status ListAgencies(grpc::ServerContext*,
                            const v1::ListAgenciesRequest*,
                            v1::ListAgenciesResponse*) override;
  grpc::Status ResolveAgencySubtree(grpc::ServerContext*,
                                    const v1::ResolveAgencySubtreeRequest*,
                                    v1::ResolveAgencySubtreeResponse*) override;
  grpc::Status UpsertAgency(grpc::ServerContext*,
                            const v1::UpsertAgencyRequest*,
                            v1::UpsertAgencyResponse*) override;
  grpc::Status GetProcedure(grpc::ServerContext*,
                            const v1::GetProcedureRequest*,
                            v1::GetProcedureResponse*) override;
  grpc::Status ListProcedures(grpc::ServerContext*,
                              const v1::ListProceduresRequest*,
                              v1::ListProceduresResponse*) override;
  grpc::Status UpsertProcedure(grpc::ServerContext*,
                               const v1::UpsertProcedureRequest*,
                               v1::UpsertProcedureResponse*) override;
  // Dossiers (dossier_rpcs.cc).
  grpc::Status SubmitDossier(grpc::ServerContext*,
                             const v1::SubmitDossierRequest*,
                             v1::SubmitDossierResponse*) override;
  grpc::Status GetDossier(grpc::ServerContext*, const v1::GetDossierRequest*,
                          v1::GetDossierResponse*) override;
  grpc::Status ListDossiers(grpc::ServerContext*,
                            const v1::ListDossiersRequest*,
                            v1::ListDossiersResponse*) override;
  grpc::Status SupplementDossier(grpc::ServerContext*,
                                 const v1::SupplementDossierRequest*,
                                 v1::SupplementDossierResponse*) override;
  grpc::Status WithdrawDossier(grpc::ServerContext*,
                               const v1::WithdrawDossierRequest*,
                               v1::WithdrawDossierResponse*) override;
  grpc::Status ReturnResult(grpc::ServerContext*,
                            const v1::ReturnResultRequest*,
                            v1::ReturnResultResponse*) override;
  grpc::Status RateDossier(grpc::ServerContext*, const v1::RateDossierRequest*,
                           v1::RateDossierResponse*) override;
  grpc::Status LookupDossier(grpc::ServerContext*,
                             const v1::LookupDossierRequest*,
                             v1::LookupDossierResponse*) override;
  grpc::Status GetControlSlip(grpc::ServerContext*,
                              const v1::GetControlSlipRequest*,
                              v1::GetControlSlipResponse*) override;
  grpc::Status RenderForm(grpc::ServerContext*, const v1::RenderFormRequest*,
                          v1::RenderFormResponse*) override;
  grpc::Status IssueApology(grpc::ServerContext*,
                            const v1::IssueApologyRequest*,
                            v1::IssueApologyResponse*) override;
  grpc::Status ListAuditEntries(grpc::ServerContext*,
                                const v1::ListAuditEntriesRequest*,
                                v1::ListAuditEntriesResponse*) override;
  grpc::Status VerifyAuditChain(grpc::ServerContext*,
                                const v1::VerifyAuditChainRequest*,
                                v1::VerifyAuditChainResponse*) override;

  // Chains committed, unsealed audit entries (all of them, in passes of
  // 1000); returns how many. Run by a loop and before the audit is read.
  absl::StatusOr<int64_t> SealAuditOnce();

  // SubmitDossier's batches so far (benchmarks, tests).
  db::GroupCommit<SubmitJob>::Stats SubmitBatchStats() const;
  // Submissions waiting for a batch (not those in one).
  size_t SubmitsWaiting() const;

  // Applies routing's and deadline's events (intake_events.cc); true when
  // applied now, false for a duplicate.
  absl::StatusOr<bool> HandleEvent(const common::v1::Event& event);
  // A delivered batch in one transaction (grpc_util::EventBatchHandler).
  absl::StatusOr<std::vector<bool>> HandleEvents(
      const std::vector<const common::v1::Event*>& events);

 private:
  using Caller = grpc_util::Caller;

  absl::StatusOr<Caller> Authenticate(grpc::ServerContext* ctx);
  // PERMISSION_DENIED (audited) unless the caller has one of `roles`.
  absl::Status RequireRole(const Caller& c, absl::string_view action,
                           absl::string_view resource,
                           std::initializer_list<grpc_util::Role> roles);
  // PERMISSION_DENIED (audited) unless `path` lies in the caller's subtree
  // (administrators everywhere).
  // `own_path`, when given, is the caller's agency path already read.
  absl::Status RequireInSubtree(pqxx::work& tx, const Caller& c,
                                const std::string& path,
                                absl::string_view action,
                                absl::string_view resource,
                                const std::string* own_path = nullptr);
  // The citizen's second factor (citizen_rpcs.cc): RESOURCE_EXHAUSTED when
  // `code` has failed too often lately; the dossier when `phone_last4` ends
  // its applicant's phone; else nullopt, with the failure counted in `tx`
  // (commit it, then answer LOOKUP_NO_MATCH).
  absl::StatusOr<absl::optional<v1::Dossier>> ApplicantDossier(
      pqxx::work& tx, const std::string& code, const std::string& phone_last4,
      absl::Time now);
  // The dossier `code` (locked until commit when `for_update`) once the
  // caller may act on it: NOT_FOUND, or PERMISSION_DENIED (audited) when
  // it was received outside the caller's subtree.
  absl::StatusOr<v1::Dossier> DossierFor(pqxx::work& tx, const Caller& c,
                                         const std::string& code,
                                         absl::string_view action,
                                         absl::string_view resource,
                                         bool for_update);
  // The frame of a staff call that changes one dossier (supplement,
  // withdrawal, return, apology), in this order: the caller, the dossier's
  // name, `check` (the request's own fields: INVALID_ARGUMENT), the staff
  // roles, then one transaction in which a replay of the request_id gets
  // its stored answer and anything else runs `change` on the dossier,
  // locked and in the caller's subtree.
  using DossierChange = std::function<absl::Status(
      pqxx::work& tx, const Caller& caller, v1::Dossier& dossier)>;
  grpc::Status ChangeDossier(grpc::ServerContext* ctx, absl::string_view method,
                             const std::string& name,
                             const std::string& request_id,
                             const google::protobuf::Message& req,
                             google::protobuf::Message* resp,
                             const std::function<absl::Status()>& check,
                             const DossierChange& change);
  // Whether `path` lies in the subtree at `own_path` (the caller's agency
  // path; administrators everywhere). Pure.
  static bool InSubtree(const Caller& c, const std::string& path,
                        const std::string& own_path);
  void AuditDenied(const Caller& c, absl::string_view action,
                   absl::string_view resource);
  void Audit(pqxx::work& tx, const Caller& c, absl::string_view action,
             absl::string_view resource, absl::string_view request_id);
  v1::AuditEntry AuditEntryOf(const Caller& c, absl::string_view action,
                              absl::string_view resource,
                              absl::string_view request_id) const;

  // FAILED_PRECONDITION CALENDAR_NOT_FOUND when `procedure` names a
  // calendar intake does not hold.
  absl::Status CheckProcedureCalendar(const v1::Procedure& procedure) const;
  // Runs a mutating call once per request_id: a replay returns the stored
  // response; the same id with another body is REQUEST_ID_REUSED.
  absl::Status Idempotent(pqxx::work& tx, absl::string_view method,
                          const std::string& request_id,
                          const google::protobuf::Message& request,
                          google::protobuf::Message* resp,
                          const std::function<absl::Status()>& body);

  // Records a dossier's transition (and bumps the dossier); FAILED_PRECONDITION
  // for an illegal one.
  // `save` false: the caller changes the dossier further and saves it.
  absl::Status Transition(pqxx::work& tx, v1::Dossier& d, DossierEvent event,
                          const Caller& c, absl::string_view reason,
                          bool save = true);
  void Emit(pqxx::work& tx, const google::protobuf::Message& payload,
            const std::string& dossier_name,
            std::initializer_list<const char*> destinations);
  // Moves the appointments of the dossiers whose clocks a calendar change
  // moved, and tells notify (intake_appointments.cc).
  // After `moved` was moved to `path`: its descendants' ancestors and
  // administrative units.
  void RefreshDescendants(pqxx::work& tx, const v1::Agency& moved,
                          const std::string& path);
  // One event's effect inside `tx` (its inbox record first).
  // `recorded`: its inbox row was written by the caller (a batch's, in one
  // statement) and it is the event's first delivery.
  absl::StatusOr<bool> ApplyEvent(pqxx::work& tx, const common::v1::Event& e,
                                  bool recorded = false);
  absl::Status ApplyAppointmentsMoved(
      pqxx::work& tx, const common::v1::Event& e,
      const deadline::v1::AppointmentsMoved& moved);

  grpc::Status Done(const absl::Status& s) const;

  // SubmitDossier (submit_dossier.cc): a batch of submissions in one
  // transaction (checked against the catalog as last read, when it holds
  // everything the batch names); one submission checked and built; a
  // replay answered.
  void RunSubmitBatch(std::vector<SubmitJob*>& batch);
  absl::Status SubmitBatchAttempt(pqxx::work& tx,
                                  std::vector<SubmitJob*>& batch,
                                  const SubmitCatalog* cached,
                                  std::vector<SubmitJob*>& writing,
                                  bool& twin_committed, bool& catalog_changed);
  // With `tx` null (ahead of the batch, on the caller's thread) a failed
  // check has no side effect: the batch checks that submission again in
  // its transaction, which reports (and audits) the failure. The
  // appointment follows the calendar `calendars` holds for the job's
  // procedure and receiving agency (CalendarSet::For).
  absl::Status PrepareReceived(pqxx::work* tx, SubmitJob& job,
                               const SubmitCatalog& catalog,
                               const CalendarSet& calendars, absl::Time now);
  void PrepareAhead(SubmitJob& job);
  absl::Status ReplaySubmit(SubmitJob& job);
  std::shared_ptr<const SubmitCatalog> CachedSubmitCatalog() const;

  db::Pool& pool_;
  const common::Clock& clock_;
  IntakeOptions options_;
  std::unique_ptr<db::GroupCommit<SubmitJob>> submits_;
  // Appointments past a calendar's holiday data (PrepareReceived).
  calendar::CoverageWatch coverage_;
  mutable absl::Mutex catalog_mu_;
  std::shared_ptr<const SubmitCatalog> submit_catalog_
      ABSL_GUARDED_BY(catalog_mu_);
};

}  // namespace lienthong::intake
