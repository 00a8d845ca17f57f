// RoutingServer: the calls that change a task -- claim, renew, complete
// (one or a batch), supplement, refuse -- each a TaskOp applied under the
// task's lock, idempotent by request_id.

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/uuid.h"
#include "libs/db/migrations.h"
#include "libs/db/prepared.h"
#include "libs/db/transaction.h"
#include "libs/fields/field_validation.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "libs/logging/logging.h"
#include "lienthong/routing/v1/events.pb.h"
#include "services/routing/routing_server.h"
#include "services/routing/routing_text.h"

namespace lienthong::routing {

namespace {

absl::Status RequestIdReused() {
  return common::InvalidArgument(
      "REQUEST_ID_REUSED",
      {{"request_id", "was already used for a different request"}});
}

std::string RequestHash(const std::string& request_id,
                        const google::protobuf::Message& request) {
  if (request_id.empty()) return "";
  std::string bytes;
  request.SerializeToString(&bytes);
  return db::Sha256Hex(bytes);
}

constexpr int kMaxBatch = 100;

}  // namespace

grpc::Status RoutingServer::Mutate(grpc::ServerContext* ctx,
                                   const google::protobuf::Message& request,
                                   TaskOp op, v1::Task* out) {
  auto caller = grpc_util::CallerOf(*ctx, options_.insecure_dev_auth);
  if (!caller.ok()) return Done(caller.status());
  op.id = TaskIdOf(op.task_name);
  if (op.id == 0) return Done(BadTaskName());
  op.hash = RequestHash(op.request_id, request);
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    // Locks in one order everywhere: the route's row, then its tasks.
    // Completing, refusing or pausing a leg touches the whole route
    // (Advance, CancelOpen); two legs of one dossier finishing at once
    // would otherwise deadlock on each other's task rows.
    if (op.event != TaskEvent::kClaim && op.event != TaskEvent::kRenew) {
      db::ExecPrepared(
          tx,
          "SELECT 1 FROM routing.routes WHERE dossier = (SELECT dossier FROM "
          "routing.tasks WHERE id = $1) FOR UPDATE",
          op.id);
    }
    EmitBatch events;
    LT_RETURN_IF_ERROR(ApplyTaskOp(tx, *caller, op, out));
    return events.Flush(tx, clock_.Now());
  }));
}

// A claimed task is worked by whoever holds its lease: a worker whose
// lease ran out (and was claimed again, maybe by another replica of the
// same system) must not renew, complete, refuse or suspend it over the new
// holder's head. (Claiming is judged by the state machine.)
absl::Status RoutingServer::CheckStillHeld(const v1::Task& task,
                                           const Caller& caller,
                                           const TaskOp& op) const {
  if (task.state() != v1::TASK_STATE_CLAIMED || op.event == TaskEvent::kClaim) {
    return absl::OkStatus();
  }
  const bool admin = caller.role == grpc_util::Role::kAdmin;
  if (!admin && !task.lease_holder().empty() &&
      task.lease_holder() != caller.subject) {
    return common::FailedPrecondition(
        "CLAIMED_BY_ANOTHER",
        absl::StrCat(op.task_name, " is claimed by ", task.lease_holder(),
                     "; claim it once its lease has ended"),
        {{"lease_holder", task.lease_holder()}});
  }
  // A lease that has run out is over when the call comes, not when the
  // sweeper (every --lease_sweep_interval) next returns the task to the
  // queue: the work may already be someone else's.
  if (!admin && task.has_lease_expire_time() &&
      grpc_util::FromProto(task.lease_expire_time()) <= clock_.Now()) {
    return common::FailedPrecondition(
        "LEASE_EXPIRED",
        absl::StrCat("the lease on ", op.task_name,
                     " has ended; claim it again (another system may have "
                     "it by now)"),
        {{"lease_holder", task.lease_holder()}});
  }
  // Replicas of one system share the holder's name: the claim token says
  // which claim the caller acts on.
  if (!op.claim_token.empty() && op.claim_token != task.claim_token()) {
    return common::FailedPrecondition(
        "CLAIMED_BY_ANOTHER",
        absl::StrCat(op.task_name,
                     " was claimed again after your claim; drop your copy "
                     "of the work"),
        {{"lease_holder", task.lease_holder()}});
  }
  return absl::OkStatus();
}

absl::Status RoutingServer::ApplyTaskOp(pqxx::work& tx, const Caller& caller,
                                        const TaskOp& op, v1::Task* out,
                                        bool* wrote) {
  auto row = LoadTask(tx, op.id, true);
  if (!row) {
    return common::NotFound("TASK_NOT_FOUND",
                            absl::StrCat(op.task_name, " does not exist"));
  }
  LT_RETURN_IF_ERROR(
      CheckOwnAgency(caller, row->task.agency(), op.method, op.task_name));
  // The request id is looked up under the task's lock: a concurrent twin of
  // this request holds the same lock until it commits, so its record is
  // visible here and its answer is replayed (the record is then written
  // once, with the answer, below).
  if (!op.request_id.empty()) {
    if (auto record = LookupRequest(tx, op.request_id)) {
      if (record->method != op.method || record->hash != op.hash) {
        return RequestIdReused();
      }
      out->ParseFromString(record->response);
      return absl::OkStatus();
    }
  }
  LT_ASSIGN_OR_RETURN(v1::TaskState next,
                      NextTaskState(row->task.state(), op.event));
  LT_RETURN_IF_ERROR(CheckStillHeld(row->task, caller, op));
  if (op.event == TaskEvent::kClaim) {
    row->task.set_claim_token(common::NewUuid());
  }
  if (op.event == TaskEvent::kClaim || op.event == TaskEvent::kRenew) {
    row->task.set_lease_holder(caller.subject);
  }
  row->task.set_state(next);
  LT_RETURN_IF_ERROR(op.fill(tx, *row));
  if (wrote != nullptr) *wrote = true;
  SaveTask(tx, *row);
  if (op.after_save) LT_RETURN_IF_ERROR(op.after_save(tx, *row));
  AuditChange(tx, caller, op.method, op.task_name);
  // Taken meanwhile by a call on another task (each task's twins are
  // serialised above): the id was reused; nothing of this commits.
  if (!op.request_id.empty() &&
      !RecordRequest(
          tx, op.request_id,
          {std::string(op.method), op.hash, row->task.SerializeAsString()})) {
    return RequestIdReused();
  }
  *out = row->task;
  return absl::OkStatus();
}

grpc::Status RoutingServer::ClaimTask(grpc::ServerContext* ctx,
                                      const v1::ClaimTaskRequest* req,
                                      v1::ClaimTaskResponse* resp) {
  absl::Duration lease = req->has_lease_duration()
                             ? grpc_util::FromProto(req->lease_duration())
                             : options_.default_lease;
  if (lease <= absl::ZeroDuration() || lease > options_.max_lease) {
    return Done(common::InvalidArgument(
        "BAD_LEASE",
        {{"lease_duration", "must be positive and at most 1 hour"}}));
  }
  return Mutate(ctx, *req,
                {"ClaimTask", req->name(), req->request_id(), TaskEvent::kClaim,
                 [&](pqxx::work&, Row& r) {
                   const absl::Time now = clock_.Now();
                   grpc_util::ToProto(now, r.task.mutable_claim_time());
                   grpc_util::ToProto(now + lease,
                                      r.task.mutable_lease_expire_time());
                   return absl::OkStatus();
                 }},
                resp->mutable_task());
}

grpc::Status RoutingServer::RenewLease(grpc::ServerContext* ctx,
                                       const v1::RenewLeaseRequest* req,
                                       v1::RenewLeaseResponse* resp) {
  absl::Duration lease = req->has_lease_duration()
                             ? grpc_util::FromProto(req->lease_duration())
                             : options_.default_lease;
  if (lease <= absl::ZeroDuration() || lease > options_.max_lease) {
    return Done(common::InvalidArgument(
        "BAD_LEASE",
        {{"lease_duration", "must be positive and at most 1 hour"}}));
  }
  TaskOp op{"RenewLease", req->name(), req->request_id(), TaskEvent::kRenew,
            [&](pqxx::work&, Row& r) {
              grpc_util::ToProto(clock_.Now() + lease,
                                 r.task.mutable_lease_expire_time());
              return absl::OkStatus();
            }};
  op.claim_token = req->claim_token();
  return Mutate(ctx, *req, std::move(op), resp->mutable_task());
}

RoutingServer::TaskOp RoutingServer::CompleteOp(
    const v1::CompleteTaskRequest& req) {
  TaskOp op{"CompleteTask", req.name(), req.request_id(), TaskEvent::kComplete,
            [this, &req](pqxx::work&, Row& r) -> absl::Status {
              std::vector<common::FieldViolation> v;
              fields::ValidateValues(r.task.expected_outputs(), req.outputs(),
                                     "outputs", &v);
              if (!v.empty())
                return common::InvalidArgument("INVALID_OUTPUTS", v);
              *r.task.mutable_outputs() = req.outputs();
              grpc_util::ToProto(clock_.Now(), r.task.mutable_finish_time());
              r.task.clear_lease_expire_time();
              return absl::OkStatus();
            },
            // Advance reads the route's tasks: this one must be saved.
            [this, &req](pqxx::work& tx, Row& r) -> absl::Status {
              const absl::Time now = grpc_util::FromProto(r.task.finish_time());
              auto ev = LegEventFor<v1::TaskCompleted>(r.task);
              *ev.mutable_outputs() = req.outputs();
              grpc_util::ToProto(now, ev.mutable_complete_time());
              Emit(tx, ev, r.task.dossier(), {"deadline"});
              logging::Event("task_completed")
                  .With("dossier", r.task.dossier())
                  .With("leg", r.task.leg_id())
                  .Info();
              return Advance(tx, r.task.dossier());
            }};
  op.claim_token = req.claim_token();
  return op;
}

grpc::Status RoutingServer::CompleteTask(grpc::ServerContext* ctx,
                                         const v1::CompleteTaskRequest* req,
                                         v1::CompleteTaskResponse* resp) {
  return Mutate(ctx, *req, CompleteOp(*req), resp->mutable_task());
}

grpc::Status RoutingServer::CompleteTasks(grpc::ServerContext* ctx,
                                          const v1::CompleteTasksRequest* req,
                                          v1::CompleteTasksResponse* resp) {
  auto caller = grpc_util::CallerOf(*ctx, options_.insecure_dev_auth);
  if (!caller.ok()) return Done(caller.status());
  const int n = req->requests_size();
  if (n == 0 || n > kMaxBatch) {
    return Done(common::InvalidArgument(
        "BAD_BATCH", {{"requests", absl::StrCat("must hold 1 to ", kMaxBatch,
                                                " completions, not ", n)}}));
  }
  // A malformed batch is refused whole: names that are not task names, or
  // one task twice (its second completion would depend on the first).
  std::vector<TaskOp> ops;
  ops.reserve(n);
  std::vector<common::FieldViolation> v;
  std::map<int64_t, int> seen;
  for (int i = 0; i < n; ++i) {
    const v1::CompleteTaskRequest& item = req->requests(i);
    TaskOp op = CompleteOp(item);
    op.id = TaskIdOf(item.name());
    const std::string field = absl::StrCat("requests[", i, "].name");
    if (op.id == 0) {
      v.push_back({field, "must be tasks/{id}"});
    } else if (auto [it, fresh] = seen.emplace(op.id, i); !fresh) {
      v.push_back({field, absl::StrCat("names the task of requests[",
                                       it->second, "] again")});
    }
    op.hash = RequestHash(item.request_id(), item);
    ops.push_back(std::move(op));
  }
  if (!v.empty()) return Done(common::InvalidArgument("BAD_BATCH", v));
  std::vector<int64_t> task_ids;
  for (const auto& [id, i] : seen) task_ids.push_back(id);
  std::vector<std::string> request_ids;
  for (const TaskOp& op : ops) {
    if (!op.request_id.empty()) request_ids.push_back(op.request_id);
  }
  // An item refused before it writes anything (the usual case: wrong
  // state, bad outputs, another agency's task) is answered and the batch
  // goes on. One that fails after writing (a request_id taken meanwhile on
  // another task, a statement refused by the database) spoils the
  // transaction: it is rolled back and run again without that item, which
  // keeps its answer.
  //
  // The batch's rows are read up front and written back at the end
  // (WriteBehind). When those final writes fail, which item caused it is
  // not known: the batch runs again item by item, each item's statements
  // on their own, and the loop above finds it.
  std::vector<absl::optional<absl::Status>> excluded(n);
  bool itemwise = false;
  for (int exclusions = 0;;) {
    int spoiled = -1;
    absl::Status spoiled_by;
    bool flush_failed = false;
    const absl::Status s =
        db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
          resp->clear_results();
          spoiled = -1;
          EmitBatch events;
          absl::optional<WriteBehind> rows;
          if (!itemwise) {
            rows.emplace();
            rows->Load(tx, task_ids, request_ids);
          } else {
            // Every route of the batch, in one order, before any task (as
            // WriteBehind::Load).
            db::ExecPrepared(
                tx,
                "SELECT 1 FROM routing.routes WHERE dossier IN (SELECT "
                "dossier FROM routing.tasks WHERE id = ANY($1::bigint[])) "
                "ORDER BY dossier FOR UPDATE",
                BigintArray(task_ids));
          }
          for (int i = 0; i < n; ++i) {
            v1::CompleteTasksResult* result = resp->add_results();
            absl::Status item = excluded[i].value_or(absl::OkStatus());
            if (!excluded[i]) {
              bool wrote = false;
              try {
                item = ApplyTaskOp(tx, *caller, ops[i], result->mutable_task(),
                                   &wrote);
              } catch (const std::exception&) {
                // A statement of this item failed: the transaction is
                // lost with it. Deadlocks and lost connections retry the
                // whole batch; anything else is this item's answer.
                bool retry = false, broken = false;
                item = db::MapCurrentException(&retry, &broken);
                if (retry || broken) throw;
                wrote = true;
              }
              if (!item.ok() && wrote) {
                spoiled = i;
                spoiled_by = item;
                return absl::AbortedError("an item failed after writing");
              }
            }
            if (!item.ok()) {
              result->clear_task();
              *result->mutable_status() =
                  grpc_util::ToRpcStatus(item, "lienthong.routing");
            }
          }
          if (rows) {
            std::vector<std::string> taken;
            try {
              taken = rows->Flush(tx);
            } catch (const std::exception&) {
              bool retry = false, broken = false;
              const absl::Status e = db::MapCurrentException(&retry, &broken);
              if (retry || broken) throw;
              flush_failed = true;
              return e;
            }
            // A request id taken meanwhile by a call on another task: that
            // item is answered REQUEST_ID_REUSED, the others run again.
            for (int i = 0; i < n && !taken.empty(); ++i) {
              if (!excluded[i] && std::find(taken.begin(), taken.end(),
                                            ops[i].request_id) != taken.end()) {
                spoiled = i;
                spoiled_by = RequestIdReused();
                return absl::AbortedError("a request id was taken meanwhile");
              }
            }
          }
          return events.Flush(tx, clock_.Now());
        });
    if (flush_failed && !itemwise) {
      itemwise = true;
      continue;
    }
    if (spoiled < 0 || exclusions++ >= n) return Done(s);
    excluded[spoiled] = spoiled_by;
  }
}

grpc::Status RoutingServer::RequestSupplement(
    grpc::ServerContext* ctx, const v1::RequestSupplementRequest* req,
    v1::RequestSupplementResponse* resp) {
  std::vector<common::FieldViolation> v;
  if (req->reason().empty()) v.push_back({"reason", "is required"});
  if (req->missing_items().empty()) {
    v.push_back({"missing_items", "name at least one missing item"});
  }
  if (!v.empty()) return Done(common::InvalidArgument("BAD_SUPPLEMENT", v));
  TaskOp op{"RequestSupplement", req->name(), req->request_id(),
            TaskEvent::kRequestSupplement, [&](pqxx::work& tx, Row& r) {
              const absl::Time now = clock_.Now();
              r.task.set_reason(req->reason());
              *r.task.mutable_missing_items() = req->missing_items();
              r.task.clear_lease_expire_time();
              grpc_util::ToProto(now, r.task.mutable_supplement_request_time());
              db::ExecPrepared(
                  tx, "UPDATE routing.routes SET state = $2 WHERE dossier = $1",
                  r.task.dossier(), static_cast<int>(v1::ROUTE_STATE_PAUSED));
              auto ev = LegEventFor<v1::LegSupplementRequested>(r.task);
              ev.set_reason(req->reason());
              *ev.mutable_missing_items() = req->missing_items();
              grpc_util::ToProto(now, ev.mutable_request_time());
              Emit(tx, ev, r.task.dossier(), {"intake", "deadline"});
              return absl::OkStatus();
            }};
  op.claim_token = req->claim_token();
  return Mutate(ctx, *req, std::move(op), resp->mutable_task());
}

grpc::Status RoutingServer::RefuseTask(grpc::ServerContext* ctx,
                                       const v1::RefuseTaskRequest* req,
                                       v1::RefuseTaskResponse* resp) {
  if (req->reason().empty()) {
    return Done(
        common::InvalidArgument("MISSING_REASON", {{"reason", "is required"}}));
  }
  TaskOp op{"RefuseTask", req->name(), req->request_id(), TaskEvent::kRefuse,
            [&](pqxx::work&, Row& r) {
              r.task.set_reason(req->reason());
              grpc_util::ToProto(clock_.Now(), r.task.mutable_finish_time());
              r.task.clear_lease_expire_time();
              return absl::OkStatus();
            },
            // CancelOpen skips closed tasks: this one must be saved refused.
            [&](pqxx::work& tx, Row& r) {
              const absl::Time now = grpc_util::FromProto(r.task.finish_time());
              CancelOpen(tx, r.task.dossier(),
                         absl::StrCat("Hồ sơ bị từ chối ở bước ",
                                      r.task.display_name()));
              db::ExecPrepared(
                  tx,
                  "UPDATE routing.routes SET state = $2, finished_at = $3 "
                  "WHERE dossier = $1",
                  r.task.dossier(), static_cast<int>(v1::ROUTE_STATE_REFUSED),
                  PgTime(now));
              auto ev = LegEventFor<v1::LegRefused>(r.task);
              ev.set_reason(req->reason());
              grpc_util::ToProto(now, ev.mutable_refuse_time());
              Emit(tx, ev, r.task.dossier(), {"intake", "deadline"});
              return absl::OkStatus();
            }};
  op.claim_token = req->claim_token();
  return Mutate(ctx, *req, std::move(op), resp->mutable_task());
}

}  // namespace lienthong::routing
