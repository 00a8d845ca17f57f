// RoutingServer: construction, who may act, and the calls that read --
// routes, hand-overs, an agency's tasks. The calls that change a task are
// in routing_task_rpcs.cc, WatchTasks in routing_watch.cc.

#include "services/routing/routing_server.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/db/prepared.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/after_call.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "lienthong/intake/v1/events.pb.h"
#include "services/routing/routing_text.h"

namespace lienthong::routing {

using grpc_util::Role;

RoutingServer::RoutingServer(db::Pool& pool, const common::Clock& clock,
                             AgencyDirectory& directory, RoutingOptions options)
    : pool_(pool), clock_(clock), directory_(directory), options_(options) {}

RoutingServer::~RoutingServer() { Stop(); }

namespace {

// A route is read by its dossier's name.
absl::Status CheckDossierName(const std::string& dossier) {
  if (dossier.rfind("dossiers/", 0) == 0) return absl::OkStatus();
  return common::InvalidArgument("BAD_NAME",
                                 {{"dossier", "must be dossiers/{code}"}});
}

absl::Status RouteNotFound(const std::string& dossier) {
  return common::NotFound("ROUTE_NOT_FOUND",
                          absl::StrCat("no route for ", dossier, " (yet)"),
                          {{"dossier", dossier}});
}

}  // namespace

grpc::Status RoutingServer::Done(const absl::Status& s) const {
  grpc_util::RunAfterCall();  // the call's transactions have ended
  return grpc_util::ToGrpcStatus(s, "lienthong.routing");
}

void RoutingServer::AuditDenied(const Caller& c, absl::string_view action,
                                absl::string_view resource) {
  EmitBatch::AuditRow row = AuditRowOf(c, action, resource);
  row.outcome = "PERMISSION_DENIED";
  // In a transaction of its own (the refused call's is rolled back), once
  // the call's has given its connection back (grpc_util::AfterCall).
  grpc_util::AfterCall([this, c, row = std::move(row),
                        action = std::string(action),
                        resource = std::string(resource), at = clock_.Now()] {
    const absl::Status s = db::WithTransaction(pool_, [&](pqxx::work& tx) {
      InsertAudit(tx, {row}, at);
      return absl::OkStatus();
    });
    grpc_util::LogDenied(c, action, resource, s.ok());
  });
}

absl::Status RoutingServer::CheckOwnAgency(const Caller& c,
                                           const std::string& agency_name,
                                           absl::string_view action,
                                           absl::string_view resource) {
  if (c.role == Role::kAdmin) return absl::OkStatus();
  if (agency_name == absl::StrCat("agencies/", c.agency_code)) {
    return absl::OkStatus();
  }
  AuditDenied(c, action, resource);
  return common::PermissionDenied(
      "NOT_YOUR_AGENCY",
      absl::StrCat(resource, " belongs to another agency's queue"),
      {{"agency", c.agency_code}, {"resource", std::string(resource)}});
}

absl::Status RoutingServer::DeniedRoute(const Caller& c,
                                        absl::string_view action,
                                        absl::string_view resource) {
  AuditDenied(c, action, resource);
  return common::PermissionDenied(
      "NOT_YOUR_DOSSIER",
      absl::StrCat(resource,
                   " was received outside the caller's agency subtree and "
                   "has no task of the caller's agency"),
      {{"agency", c.agency_code}, {"resource", std::string(resource)}});
}

absl::StatusOr<RoutingServer::RouteView> RoutingServer::RouteViewFor(
    const Caller& c, const std::string& receiving_agency,
    absl::string_view action, absl::string_view resource) {
  if (c.role == Role::kAdmin || c.role == Role::kService) {
    return RouteView::kWhole;
  }
  if (c.role == Role::kCitizen || c.agency_code.empty()) {
    return DeniedRoute(c, action, resource);
  }
  const std::string code = receiving_agency.rfind("agencies/", 0) == 0
                               ? receiving_agency.substr(9)
                               : receiving_agency;
  if (code == c.agency_code) return RouteView::kWhole;
  if (absl::StatusOr<intake::v1::Agency> a = directory_.Get(code); a.ok()) {
    for (const std::string& anc : a->ancestor_codes()) {
      if (anc == c.agency_code) return RouteView::kWhole;
    }
  } else if (a.status().code() != absl::StatusCode::kNotFound) {
    return a.status();  // the directory is away: not a denial
  }
  return RouteView::kOwnAgency;
}

grpc::Status RoutingServer::GetRoute(grpc::ServerContext* ctx,
                                     const v1::GetRouteRequest* req,
                                     v1::GetRouteResponse* resp) {
  auto caller = grpc_util::CallerOf(*ctx, options_.insecure_dev_auth);
  if (!caller.ok()) return Done(caller.status());
  if (auto s = CheckDossierName(req->dossier()); !s.ok()) return Done(s);
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = db::ExecPrepared(
        tx,
        "SELECT state, receiving_agency, received, EXTRACT(EPOCH FROM "
        "created_at)::float8, EXTRACT(EPOCH FROM finished_at)::float8 FROM "
        "routing.routes WHERE dossier = $1",
        req->dossier());
    if (r.empty()) {
      return RouteNotFound(req->dossier());
    }
    LT_ASSIGN_OR_RETURN(const RouteView view,
                        RouteViewFor(*caller, r[0][1].as<std::string>(),
                                     "GetRoute", req->dossier()));
    v1::Route* route = resp->mutable_route();
    route->set_name(absl::StrCat(req->dossier(), "/route"));
    route->set_dossier(req->dossier());
    route->set_state(static_cast<v1::RouteState>(r[0][0].as<int>()));
    route->set_receiving_agency(r[0][1].as<std::string>());
    intake::v1::DossierReceived received;
    const pqxx::binarystring b(r[0][2]);
    received.ParseFromArray(b.data(), static_cast<int>(b.size()));
    route->set_procedure(received.procedure().name());
    route->set_procedure_version(received.procedure().version());
    grpc_util::ToProto(
        absl::FromUnixMicros(static_cast<int64_t>(r[0][3].as<double>() * 1e6)),
        route->mutable_create_time());
    if (!r[0][4].is_null()) {
      grpc_util::ToProto(absl::FromUnixMicros(
                             static_cast<int64_t>(r[0][4].as<double>() * 1e6)),
                         route->mutable_finish_time());
    }
    pqxx::result tasks = db::ExecPrepared(
        tx, "SELECT body FROM routing.tasks WHERE dossier = $1 ORDER BY id",
        req->dossier());
    const std::string own = absl::StrCat("agencies/", caller->agency_code);
    for (const auto& row : tasks) {
      const pqxx::binarystring tb(row[0]);
      v1::Task t;
      t.ParseFromArray(tb.data(), static_cast<int>(tb.size()));
      if (view == RouteView::kWhole || t.agency() == own) {
        *route->add_tasks() = std::move(t);
      }
    }
    if (route->tasks().empty() && view == RouteView::kOwnAgency) {
      resp->Clear();
      return DeniedRoute(*caller, "GetRoute", req->dossier());
    }
    return absl::OkStatus();
  }));
}

grpc::Status RoutingServer::ListHandovers(grpc::ServerContext* ctx,
                                          const v1::ListHandoversRequest* req,
                                          v1::ListHandoversResponse* resp) {
  auto caller = grpc_util::CallerOf(*ctx, options_.insecure_dev_auth);
  if (!caller.ok()) return Done(caller.status());
  if (auto s = CheckDossierName(req->dossier()); !s.ok()) return Done(s);
  int64_t after = 0;
  if (!req->page_token().empty() &&
      !absl::SimpleAtoi(req->page_token(), &after)) {
    return Done(common::InvalidArgument(
        "BAD_PAGE_TOKEN", {{"page_token", "is not from this list"}}));
  }
  const int limit =
      req->page_size() <= 0 ? 50 : std::min(req->page_size(), 500);
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result route = db::ExecPrepared(
        tx, "SELECT receiving_agency FROM routing.routes WHERE dossier = $1",
        req->dossier());
    if (route.empty()) {
      return RouteNotFound(req->dossier());
    }
    LT_ASSIGN_OR_RETURN(const RouteView view,
                        RouteViewFor(*caller, route[0][0].as<std::string>(),
                                     "ListHandovers", req->dossier()));
    if (view == RouteView::kOwnAgency) {
      // Only the hand-overs the caller's agency sent or received.
      pqxx::result mine = db::ExecPrepared(
          tx,
          "SELECT 1 FROM routing.tasks WHERE dossier = $1 AND agency = $2 "
          "LIMIT 1",
          req->dossier(), absl::StrCat("agencies/", caller->agency_code));
      if (mine.empty()) {
        return DeniedRoute(*caller, "ListHandovers", req->dossier());
      }
    }
    const std::string own = absl::StrCat("agencies/", caller->agency_code);
    pqxx::result r = db::ExecPrepared(
        tx,
        "SELECT id, body FROM routing.handovers WHERE dossier = $1 AND id > $2 "
        "ORDER BY id LIMIT $3",
        req->dossier(), after, limit + 1);
    for (int i = 0; i < static_cast<int>(r.size()) && i < limit; ++i) {
      const pqxx::binarystring b(r[i][1]);
      v1::Handover h;
      h.ParseFromArray(b.data(), static_cast<int>(b.size()));
      // Another agency's view: only what its agency sent or received (a
      // page may then hold fewer than page_size).
      if (view == RouteView::kWhole || h.sender_agency() == own ||
          h.receiver_agency() == own) {
        *resp->add_handovers() = std::move(h);
      }
    }
    if (static_cast<int>(r.size()) > limit) {
      resp->set_next_page_token(absl::StrCat(r[limit - 1][0].as<int64_t>()));
    }
    return absl::OkStatus();
  }));
}

grpc::Status RoutingServer::ListTasks(grpc::ServerContext* ctx,
                                      const v1::ListTasksRequest* req,
                                      v1::ListTasksResponse* resp) {
  auto caller = grpc_util::CallerOf(*ctx, options_.insecure_dev_auth);
  if (!caller.ok()) return Done(caller.status());
  if (auto s =
          CheckOwnAgency(*caller, req->agency(), "ListTasks", req->agency());
      !s.ok()) {
    return Done(s);
  }
  int64_t after = 0;
  if (!req->page_token().empty() &&
      !absl::SimpleAtoi(req->page_token(), &after)) {
    return Done(common::InvalidArgument(
        "BAD_PAGE_TOKEN", {{"page_token", "is not from this list"}}));
  }
  const int limit =
      req->page_size() <= 0 ? 50 : std::min(req->page_size(), 500);
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = db::ExecPrepared(
        tx,
        "SELECT id, body FROM routing.tasks WHERE agency = $1 AND ($2 = 0 OR "
        "state = $2) AND id > $3 ORDER BY id LIMIT $4",
        req->agency(), static_cast<int>(req->state()), after, limit + 1);
    for (int i = 0; i < static_cast<int>(r.size()) && i < limit; ++i) {
      const pqxx::binarystring b(r[i][1]);
      resp->add_tasks()->ParseFromArray(b.data(), static_cast<int>(b.size()));
    }
    if (static_cast<int>(r.size()) > limit) {
      resp->set_next_page_token(absl::StrCat(r[limit - 1][0].as<int64_t>()));
    }
    return absl::OkStatus();
  }));
}

grpc::Status RoutingServer::GetTask(grpc::ServerContext* ctx,
                                    const v1::GetTaskRequest* req,
                                    v1::GetTaskResponse* resp) {
  auto caller = grpc_util::CallerOf(*ctx, options_.insecure_dev_auth);
  if (!caller.ok()) return Done(caller.status());
  const int64_t id = TaskIdOf(req->name());
  if (id == 0) return Done(BadTaskName());
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    auto row = LoadTask(tx, id, false);
    if (!row) {
      return common::NotFound("TASK_NOT_FOUND",
                              absl::StrCat(req->name(), " does not exist"));
    }
    LT_RETURN_IF_ERROR(
        CheckOwnAgency(*caller, row->task.agency(), "GetTask", req->name()));
    *resp->mutable_task() = row->task;
    return absl::OkStatus();
  }));
}

}  // namespace lienthong::routing
