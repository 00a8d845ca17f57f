#include "services/intake/intake_server.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/calendar/calendar_choice.h"
#include "libs/calendar/calendar_json.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/db/migrations.h"
#include "libs/db/outbox.h"
#include "libs/db/prepared.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/after_call.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "libs/logging/logging.h"
#include "libs/metrics/metrics.h"
#include "services/intake/audit_chain.h"
#include "services/intake/intake_logic.h"
#include "services/intake/pg_audit_store.h"
#include "services/intake/pg_intake_store.h"

namespace lienthong::intake {

using grpc_util::Role;

IntakeServer::IntakeServer(db::Pool& pool, const common::Clock& clock,
                           IntakeOptions options)
    : pool_(pool),
      clock_(clock),
      options_(std::move(options)),
      coverage_([](const calendar::CoverageExceeded& e) {
        logging::Event("calendar_coverage_exceeded")
            .With("calendar", e.calendar_id)
            .With("version", e.calendar_version)
            .With("covered_through", calendar::FormatDay(e.covered_through))
            .With("appointment", absl::FormatTime(absl::RFC3339_sec, e.due,
                                                  absl::UTCTimeZone()))
            .Warn();
        metrics::Counter(kCoverageExceededName, kCoverageExceededHelp)
            .Add({{"calendar", e.calendar_id}})
            .Increment();
      }) {
  if (options_.calendars == nullptr) {
    options_.calendars = std::make_shared<CalendarCache>(
        options_.calendar, options_.calendar_version);
  }
  submits_ = std::make_unique<db::GroupCommit<SubmitJob>>(
      db::GroupCommitOptions{
          .max_in_flight = options_.submit_batch_max <= 1
                               ? pool_.size()
                               : options_.submit_batches_in_flight,
          .max_batch = options_.submit_batch_max,
          .min_queued_for_another = options_.submit_batch_min_queued},
      [this](std::vector<SubmitJob*>& batch) { RunSubmitBatch(batch); });
}

IntakeServer::~IntakeServer() = default;

grpc::Status IntakeServer::Done(const absl::Status& s) const {
  grpc_util::RunAfterCall();  // the call's transactions have ended
  return grpc_util::ToGrpcStatus(s, "lienthong.intake");
}

absl::StatusOr<grpc_util::Caller> IntakeServer::Authenticate(
    grpc::ServerContext* ctx) {
  return grpc_util::CallerOf(*ctx, options_.insecure_dev_auth);
}

v1::AuditEntry IntakeServer::AuditEntryOf(const Caller& c,
                                          absl::string_view action,
                                          absl::string_view resource,
                                          absl::string_view request_id) const {
  v1::AuditEntry e;
  grpc_util::ToProto(clock_.Now(), e.mutable_time());
  e.set_actor_agency(c.agency_code);
  e.set_actor_subject(c.subject);
  e.set_actor_role(std::string(grpc_util::RoleName(c.role)));
  e.set_peer(c.peer);
  e.set_action(std::string(action));
  e.set_resource(std::string(resource));
  e.set_outcome("OK");
  e.set_request_id(std::string(request_id));
  return e;
}

void IntakeServer::Audit(pqxx::work& tx, const Caller& c,
                         absl::string_view action, absl::string_view resource,
                         absl::string_view request_id) {
  pg::AppendAudit(tx, AuditEntryOf(c, action, resource, request_id));
}

absl::StatusOr<int64_t> IntakeServer::SealAuditOnce() {
  constexpr int kPass = 1000;
  int64_t total = 0;
  pg::AuditBacklog backlog;
  while (true) {
    LT_ASSIGN_OR_RETURN(
        int n,
        db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::StatusOr<int> {
          const int sealed = pg::SealAudit(tx, kPass);
          // What is left after the last pass waits for transactions still
          // running (operations.md, "Audit chain lagging"); the alert
          // LienthongAuditChainLagging watches it.
          if (sealed < kPass) backlog = pg::UnsealedAudit(tx, clock_.Now());
          return sealed;
        }));
    total += n;
    if (n < kPass) break;
  }
  metrics::Gauge(kAuditUnsealedName, kAuditUnsealedHelp)
      .Add({})
      .Set(static_cast<double>(backlog.entries));
  metrics::Gauge(kAuditUnsealedAgeName, kAuditUnsealedAgeHelp)
      .Add({})
      .Set(backlog.oldest_age_seconds);
  return total;
}

void IntakeServer::AuditDenied(const Caller& c, absl::string_view action,
                               absl::string_view resource) {
  v1::AuditEntry e = AuditEntryOf(c, action, resource, "");
  e.set_outcome("PERMISSION_DENIED");
  // In a transaction of its own (the denied call's is rolled back), once
  // the call's has given its connection back (grpc_util::AfterCall).
  grpc_util::AfterCall([this, c, e = std::move(e)] {
    absl::Status s = db::WithTransaction(pool_, [&](pqxx::work& tx) {
      pg::AppendAudit(tx, e);
      return absl::OkStatus();
    });
    grpc_util::LogDenied(c, e.action(), e.resource(), s.ok());
  });
}

absl::Status IntakeServer::RequireRole(const Caller& c,
                                       absl::string_view action,
                                       absl::string_view resource,
                                       std::initializer_list<Role> roles) {
  for (Role r : roles) {
    if (c.role == r) return absl::OkStatus();
  }
  AuditDenied(c, action, resource);
  return common::PermissionDenied(
      "ROLE_NOT_ALLOWED",
      absl::StrCat("role ", grpc_util::RoleName(c.role), " may not call ",
                   action),
      {{"role", std::string(grpc_util::RoleName(c.role))},
       {"action", std::string(action)}});
}

bool IntakeServer::InSubtree(const Caller& c, const std::string& path,
                             const std::string& own_path) {
  return c.role == Role::kAdmin ||
         (!own_path.empty() && path.rfind(own_path, 0) == 0);
}

absl::Status IntakeServer::RequireInSubtree(pqxx::work& tx, const Caller& c,
                                            const std::string& path,
                                            absl::string_view action,
                                            absl::string_view resource,
                                            const std::string* own_path) {
  if (c.role == Role::kAdmin) return absl::OkStatus();
  const std::string own =
      own_path != nullptr ? *own_path : pg::PathOf(tx, c.agency_code);
  if (InSubtree(c, path, own)) return absl::OkStatus();
  AuditDenied(c, action, resource);
  return common::PermissionDenied(
      "OUTSIDE_AGENCY_SUBTREE",
      absl::StrCat(resource, " is outside the caller's agency subtree"),
      {{"agency", c.agency_code}, {"resource", std::string(resource)}});
}

absl::Status IntakeServer::Idempotent(
    pqxx::work& tx, absl::string_view method, const std::string& request_id,
    const google::protobuf::Message& request, google::protobuf::Message* resp,
    const std::function<absl::Status()>& body) {
  if (request_id.empty()) return body();
  if (request_id.size() > 100) {
    return common::InvalidArgument("BAD_REQUEST_ID",
                                   {{"request_id", "at most 100 characters"}});
  }
  std::string bytes;
  request.SerializeToString(&bytes);  // deterministic for our messages
  const std::string hash = db::Sha256Hex(bytes);
  absl::optional<pg::StoredRequest> stored =
      pg::ClaimRequest(tx, request_id, std::string(method), hash, clock_.Now());
  if (stored.has_value()) {
    if (stored->method != method || stored->request_hash != hash) {
      return common::InvalidArgument(
          "REQUEST_ID_REUSED",
          {{"request_id",
            "was already used for a different request; use a new UUID"}});
    }
    resp->ParseFromString(stored->response);
    return absl::OkStatus();
  }
  LT_RETURN_IF_ERROR(body());
  pg::SaveResponse(tx, request_id, resp->SerializeAsString());
  return absl::OkStatus();
}

absl::Status IntakeServer::Transition(pqxx::work& tx, v1::Dossier& d,
                                      DossierEvent event, const Caller& c,
                                      absl::string_view reason, bool save) {
  LT_ASSIGN_OR_RETURN(v1::DossierState next, NextState(d.state(), event));
  const absl::Time now = clock_.Now();
  v1::Transition t;
  grpc_util::ToProto(now, t.mutable_time());
  t.set_from_state(d.state());
  t.set_to_state(next);
  t.set_actor_agency(c.agency_code);
  t.set_actor_subject(c.subject);
  t.set_peer(c.peer);
  t.set_reason(std::string(reason));
  pg::AddTransition(tx, d.code(), t);
  d.set_state(next);
  d.set_national_status_code(NationalStatusCode(next));
  d.set_current_step(std::string(StateNameVi(next)));
  grpc_util::ToProto(now, d.mutable_update_time());
  if (save) pg::UpdateDossier(tx, d, now);
  return absl::OkStatus();
}

void IntakeServer::Emit(pqxx::work& tx,
                        const google::protobuf::Message& payload,
                        const std::string& dossier_name,
                        std::initializer_list<const char*> destinations) {
  const absl::Time now = clock_.Now();
  const common::v1::Event e =
      grpc_util::MakeEvent(payload, "intake", dossier_name, now);
  std::vector<std::string> dest(destinations.begin(), destinations.end());
  if (pg::DossierBatch* batch = pg::DossierBatch::Current()) {
    batch->Emit(
        {{e.event_id(), e.type(), e.SerializeAsString()}, std::move(dest)});
    return;
  }
  db::AppendOutbox(tx, "intake",
                   {e.event_id(), e.type(), e.SerializeAsString()}, dest, now)
      .IgnoreError();  // AppendOutbox reports failures by throwing in tx
}

// --- Procedures -------------------------------------------------------------

grpc::Status IntakeServer::GetProcedure(grpc::ServerContext* ctx,
                                        const v1::GetProcedureRequest* req,
                                        v1::GetProcedureResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string code = ProcedureCodeOf(req->name());
  if (code.empty()) {
    return Done(common::InvalidArgument(
        "BAD_NAME", {{"name", "must be procedures/{code}"}}));
  }
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    auto p = pg::GetProcedure(tx, code, req->version(), clock_.Now());
    if (!p) {
      return common::NotFound(
          "PROCEDURE_NOT_FOUND",
          absl::StrCat("procedure ", code,
                       req->version() > 0
                           ? absl::StrCat(" version ", req->version())
                           : std::string(" (in force now)"),
                       " does not exist"),
          {{"procedure", code}});
    }
    *resp->mutable_procedure() = *p;
    return absl::OkStatus();
  }));
}

grpc::Status IntakeServer::ListProcedures(grpc::ServerContext* ctx,
                                          const v1::ListProceduresRequest* req,
                                          v1::ListProceduresResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const int limit = PageSize(req->page_size());
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    std::string after = req->page_token();
    // Filtering by tier happens after the page query; keep reading pages
    // until this one is full.
    while (resp->procedures_size() < limit) {
      auto list = pg::ListProcedures(tx, clock_.Now(), after, limit);
      if (list.empty()) {
        after.clear();
        break;
      }
      for (auto& p : list) {
        after = p.code();
        bool ok = req->receiving_tier() == common::v1::TIER_UNSPECIFIED;
        for (int t : p.receiving_tiers()) ok = ok || t == req->receiving_tier();
        if (ok) *resp->add_procedures() = std::move(p);
        if (resp->procedures_size() == limit) break;
      }
      if (static_cast<int>(list.size()) < limit &&
          resp->procedures_size() < limit) {
        after.clear();
        break;
      }
    }
    resp->set_next_page_token(after);
    return absl::OkStatus();
  }));
}

grpc::Status IntakeServer::UpsertProcedure(
    grpc::ServerContext* ctx, const v1::UpsertProcedureRequest* req,
    v1::UpsertProcedureResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string resource = ProcedureName(req->procedure().code());
  if (auto s =
          RequireRole(*caller, "UpsertProcedure", resource, {Role::kAdmin});
      !s.ok()) {
    return Done(s);
  }
  if (auto s = ValidateProcedure(req->procedure()); !s.ok()) return Done(s);
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    return Idempotent(
        tx, "UpsertProcedure", req->request_id(), *req, resp,
        [&]() -> absl::Status {
          // Checked here, after a replay of the same request_id has had its
          // answer: a retry reaching a replica that has not fetched the
          // calendar yet still gets the first try's response.
          LT_RETURN_IF_ERROR(CheckProcedureCalendar(req->procedure()));
          v1::Procedure p = req->procedure();
          p.set_name(ProcedureName(p.code()));
          // Versions of one procedure one after another: two upserts side
          // by side took the same number and one failed ALREADY_EXISTS.
          db::ExecPrepared(tx,
                           "SELECT pg_advisory_xact_lock(hashtext("
                           "'lienthong.intake.procedure.' || $1))",
                           p.code());
          p.set_version(pg::LatestProcedureVersion(tx, p.code()) + 1);
          if (!p.has_effective_time()) {
            grpc_util::ToProto(clock_.Now(), p.mutable_effective_time());
          }
          pg::PutProcedure(tx, p, clock_.Now());
          Audit(tx, *caller, "UpsertProcedure", resource, req->request_id());
          *resp->mutable_procedure() = p;
          return absl::OkStatus();
        });
  }));
}

absl::Status IntakeServer::CheckProcedureCalendar(
    const v1::Procedure& procedure) const {
  const std::string& cal = procedure.calendar();
  if (cal.empty() ||
      options_.calendars->Calendars()->At(calendar::CalendarIdOfName(cal),
                                          clock_.Now()) != nullptr) {
    return absl::OkStatus();
  }
  // Its dossiers would follow the agency's calendar after all, and the
  // receipt would promise another day than the procedure's rules give.
  return common::FailedPrecondition(
      "CALENDAR_NOT_FOUND",
      absl::StrCat("calendar ", cal,
                   " is not known to intake: create it with the deadline "
                   "service's UpdateCalendar, in force now, and retry once "
                   "intake has fetched it (every --calendar_refresh)"),
      {{"calendar", cal}});
}

// --- Audit
// --------------------------------------------------------------------

grpc::Status IntakeServer::ListAuditEntries(
    grpc::ServerContext* ctx, const v1::ListAuditEntriesRequest* req,
    v1::ListAuditEntriesResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  if (auto s = RequireRole(*caller, "ListAuditEntries", "audit",
                           {Role::kAdmin, Role::kSupervisor});
      !s.ok()) {
    return Done(s);
  }
  int64_t after = 0;
  if (!req->page_token().empty() &&
      !absl::SimpleAtoi(req->page_token(), &after)) {
    return Done(common::InvalidArgument(
        "BAD_PAGE_TOKEN", {{"page_token", "is not from this list"}}));
  }
  const int limit = PageSize(req->page_size());
  if (auto sealed = SealAuditOnce(); !sealed.ok()) return Done(sealed.status());
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    // A supervisor sees their subtree's trail: what its agencies did, and
    // what was done to its dossiers (request ids included, which must not
    // reach other wards).
    std::string subtree;
    if (caller->role != Role::kAdmin) {
      subtree = pg::PathOf(tx, caller->agency_code);
      if (subtree.empty()) return absl::OkStatus();  // an unknown agency
    }
    auto list = pg::ListAudit(tx, req->resource(), after, limit + 1, subtree);
    for (int i = 0; i < static_cast<int>(list.size()) && i < limit; ++i) {
      *resp->add_entries() = list[i];
    }
    if (static_cast<int>(list.size()) > limit) {
      resp->set_next_page_token(absl::StrCat(list[limit - 1].sequence()));
    }
    return absl::OkStatus();
  }));
}

grpc::Status IntakeServer::VerifyAuditChain(
    grpc::ServerContext* ctx, const v1::VerifyAuditChainRequest*,
    v1::VerifyAuditChainResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  if (auto s = RequireRole(*caller, "VerifyAuditChain", "audit",
                           {Role::kAdmin, Role::kSupervisor});
      !s.ok()) {
    return Done(s);
  }
  if (auto sealed = SealAuditOnce(); !sealed.ok()) return Done(sealed.status());
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    // The recorded end first: entries sealed meanwhile only add to the list.
    const pg::SealedEnd end = pg::AuditSealedEnd(tx);
    // One page in memory at a time (a city's trail has millions of
    // entries), and none read past the first break.
    const int page_size = std::max(1, options_.audit_verify_page_size);
    ChainVerifier verifier(end.seq, end.hash);
    int64_t after = 0;
    while (verifier.intact()) {
      const std::vector<v1::AuditEntry> page =
          pg::ListAudit(tx, "", after, page_size);
      verifier.Feed(page);
      if (static_cast<int>(page.size()) < page_size) break;  // the last
      after = page.back().sequence();
    }
    const ChainCheck c = verifier.Finish();
    resp->set_intact(c.intact);
    resp->set_checked(c.checked);
    resp->set_first_bad_sequence(c.first_bad_sequence);
    resp->set_problem(c.problem);
    return absl::OkStatus();
  }));
}

}  // namespace lienthong::intake
