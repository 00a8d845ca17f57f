#pragma once

// lienthong.routing.v1.RoutingService: routes of legs per dossier, agency
// work queues, hand-overs. Sync API; WatchTasks streams wake on a
// process-wide LISTEN on `routing_feed` (a hint) and poll as a fallback.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/db/outbox.h"
#include "libs/db/pool.h"
#include "libs/grpc_util/auth.h"
#include "lienthong/common/v1/common.pb.h"
#include "lienthong/routing/v1/routing_service.grpc.pb.h"
#include "pqxx/pqxx"
#include "services/routing/route_planner.h"
#include "services/routing/task_state.h"

namespace lienthong::routing {

struct IncomingEvent;

struct RoutingOptions {
  bool insecure_dev_auth = false;
  absl::Duration default_lease = absl::Minutes(5);
  absl::Duration max_lease = absl::Hours(1);
  absl::Duration watch_poll = absl::Seconds(1);
};

class RoutingServer final : public v1::RoutingService::Service {
 public:
  RoutingServer(db::Pool& pool, const common::Clock& clock,
                AgencyDirectory& directory, RoutingOptions options);
  ~RoutingServer() override;

  grpc::Status GetRoute(grpc::ServerContext*, const v1::GetRouteRequest*,
                        v1::GetRouteResponse*) override;
  grpc::Status ListHandovers(grpc::ServerContext*,
                             const v1::ListHandoversRequest*,
                             v1::ListHandoversResponse*) override;
  grpc::Status WatchTasks(grpc::ServerContext*, const v1::WatchTasksRequest*,
                          grpc::ServerWriter<v1::WatchTasksResponse>*) override;
  grpc::Status ListTasks(grpc::ServerContext*, const v1::ListTasksRequest*,
                         v1::ListTasksResponse*) override;
  grpc::Status GetTask(grpc::ServerContext*, const v1::GetTaskRequest*,
                       v1::GetTaskResponse*) override;
  grpc::Status ClaimTask(grpc::ServerContext*, const v1::ClaimTaskRequest*,
                         v1::ClaimTaskResponse*) override;
  grpc::Status RenewLease(grpc::ServerContext*, const v1::RenewLeaseRequest*,
                          v1::RenewLeaseResponse*) override;
  grpc::Status CompleteTask(grpc::ServerContext*,
                            const v1::CompleteTaskRequest*,
                            v1::CompleteTaskResponse*) override;
  grpc::Status CompleteTasks(grpc::ServerContext*,
                             const v1::CompleteTasksRequest*,
                             v1::CompleteTasksResponse*) override;
  grpc::Status RequestSupplement(grpc::ServerContext*,
                                 const v1::RequestSupplementRequest*,
                                 v1::RequestSupplementResponse*) override;
  grpc::Status RefuseTask(grpc::ServerContext*, const v1::RefuseTaskRequest*,
                          v1::RefuseTaskResponse*) override;

  // Intake's events (routing_events.cc).
  absl::StatusOr<bool> HandleEvent(const common::v1::Event& event);
  // A delivered batch in one transaction (grpc_util::EventBatchHandler).
  absl::StatusOr<std::vector<bool>> HandleEvents(
      const std::vector<const common::v1::Event*>& events);

  // Returns expired leases to their queues; how many.
  absl::StatusOr<int> ExpireLeasesOnce();
  // Refreshes the queue depth/age gauges.
  void UpdateQueueMetrics();
  // Starts the LISTEN thread that wakes watchers; Stop ends it and every
  // open WatchTasks stream.
  void StartFeedListener();
  void Stop();

 private:
  // An incoming event: prepared outside any transaction, applied inside
  // one (routing_events.cc).
  absl::StatusOr<IncomingEvent> PrepareEvent(const common::v1::Event& e);
  // `recorded`: as IntakeServer::ApplyEvent's.
  absl::StatusOr<bool> ApplyEvent(pqxx::work& tx, const IncomingEvent& in,
                                  bool recorded = false);
  using Caller = grpc_util::Caller;
  struct Row {
    int64_t id = 0;
    v1::Task task;
  };
  // A task operation: load the task for update, check the caller's agency,
  // apply `event`, let `fill` adjust it, save it, and run `after_save`
  // (events, the route's next legs) in the same transaction: the task is
  // written once per call. Idempotent by request_id.
  struct TaskOp {
    absl::string_view method;
    std::string task_name;
    std::string request_id;
    TaskEvent event;
    std::function<absl::Status(pqxx::work&, Row&)> fill;
    std::function<absl::Status(pqxx::work&, Row&)> after_save = nullptr;
    int64_t id = 0;           // from task_name
    std::string hash;         // of the request, when it has a request_id
    std::string claim_token;  // the caller's claim, when it says
  };
  // FAILED_PRECONDITION unless the caller's claim still holds `task`
  // (CLAIMED_BY_ANOTHER, LEASE_EXPIRED), for an operation other than a
  // claim on a claimed task.
  absl::Status CheckStillHeld(const v1::Task& task, const Caller& caller,
                              const TaskOp& op) const;
  // One operation in its own transaction (the route locked first when the
  // operation can advance or cancel it).
  grpc::Status Mutate(grpc::ServerContext* ctx,
                      const google::protobuf::Message& request, TaskOp op,
                      v1::Task* out);
  // The operation inside `tx`; the route, when needed, already locked.
  // Sets *wrote once it has written anything (an error before that leaves
  // the transaction as it was).
  absl::Status ApplyTaskOp(pqxx::work& tx, const Caller& caller,
                           const TaskOp& op, v1::Task* out,
                           bool* wrote = nullptr);
  // CompleteTask's operation; `req` must outlive it.
  TaskOp CompleteOp(const v1::CompleteTaskRequest& req);

  absl::Status CheckOwnAgency(const Caller& c, const std::string& agency_name,
                              absl::string_view action,
                              absl::string_view resource);
  void AuditDenied(const Caller& c, absl::string_view action,
                   absl::string_view resource);
  // How much of a dossier's route (received at `receiving_agency`) the
  // caller may read: all of it for administrators, services and the
  // receiving agency or one above it (its subtree of tiers); only its own
  // agency's part for any other agency (an agency sees only its own
  // tasks); PERMISSION_DENIED, audited, for citizens.
  enum class RouteView { kWhole, kOwnAgency };
  absl::StatusOr<RouteView> RouteViewFor(const Caller& c,
                                         const std::string& receiving_agency,
                                         absl::string_view action,
                                         absl::string_view resource);
  absl::Status DeniedRoute(const Caller& c, absl::string_view action,
                           absl::string_view resource);
  grpc::Status Done(const absl::Status& s) const;

 public:  // used by routing_events.cc and routing_store.cc helpers
  // A ready task a WatchTasks pass is about to send.
  struct Delivery {
    int64_t seq = 0;  // its feed row
    v1::Task task;
    bool send = true;
  };
  // Claim on delivery: claims, in one transaction, those of `out` that are
  // still ready, for `caller` with `lease`; the rest are marked not to send.
  absl::Status ClaimForDelivery(const Caller& caller, absl::Duration lease,
                                std::vector<Delivery>& out);  // and by tests
  absl::optional<Row> LoadTask(pqxx::work& tx, int64_t id, bool for_update);
  std::vector<Row> RouteTasks(pqxx::work& tx, const std::string& dossier);
  void SaveTask(pqxx::work& tx, const Row& r);
  // A new task's row, written once with its final body (id from NewTaskIds).
  void InsertTask(pqxx::work& tx, const Row& r);
  // `n` new task ids, in one statement.
  std::vector<int64_t> NewTaskIds(pqxx::work& tx, int n);
  // Ready: saved (inserted when `is_new`), fed to the agency's watchers,
  // announced (TaskDispatched, or LegResumed when `resumed`).
  // UNAVAILABLE only for a task planned before it kept its agency's tier
  // (2026-12-07) when intake cannot tell it (not cached either).
  absl::Status MakeReady(pqxx::work& tx, Row& r,
                         const intake::v1::Agency& receiving_agency,
                         bool resumed, bool is_new = false);
  // After a leg is done: dispatch newly ready legs, finish the route when
  // all are done.
  absl::Status Advance(pqxx::work& tx, const std::string& dossier);
  void CancelOpen(pqxx::work& tx, const std::string& dossier,
                  const std::string& reason);
  void Emit(pqxx::work& tx, const google::protobuf::Message& payload,
            const std::string& dossier,
            std::initializer_list<const char*> destinations);
  // While one lives (one transaction's body, on this thread), Emit collects
  // the events instead of inserting each; Flush writes them all in one
  // statement, before the commit. Dropped unflushed with a rolled-back
  // attempt.
  class EmitBatch {
   public:
    EmitBatch();
    ~EmitBatch();
    EmitBatch(const EmitBatch&) = delete;
    EmitBatch& operator=(const EmitBatch&) = delete;
    absl::Status Flush(pqxx::work& tx, absl::Time now);

    // An audit row of a change (routing.audit), written with the events.
    struct AuditRow {
      std::string agency, subject, role, peer, action, resource;
      std::string outcome = "OK";  // or "PERMISSION_DENIED"
    };
    // Keeps `row` for Flush when a batch lives on this thread; false when
    // none does (the caller writes it itself).
    static bool Keep(AuditRow row);

   private:
    std::vector<db::OutboxEntry> entries_;
    std::vector<db::OutboxEntry>* outer_;
    std::vector<AuditRow> audit_;
    EmitBatch* outer_batch_;
  };
  // Records in routing.audit that `c` changed `resource` by `action`
  // (outcome OK), in the transaction making the change.
  void AuditChange(pqxx::work& tx, const Caller& c, absl::string_view action,
                   absl::string_view resource);
  // routing.audit rows, in one statement.
  static void InsertAudit(pqxx::work& tx,
                          const std::vector<EmitBatch::AuditRow>& rows,
                          absl::Time now);
  static EmitBatch::AuditRow AuditRowOf(const Caller& c,
                                        absl::string_view action,
                                        absl::string_view resource);
  // While one lives (one CompleteTasks or HandleEvents transaction body,
  // on this thread), the batch's rows are kept here: for CompleteTasks, its
  // routes, their tasks and its request ids, read up front in three
  // statements (Load); for HandleEvents, the tasks its routes plan.
  // LoadTask, RouteTasks, InsertTask, SaveTask, LoadRoute, FinishRoute,
  // FeedTask, SaveHandover and the request-id lookups work on this copy
  // (rows it does not hold are read and written as usual), and Flush writes
  // every change in one statement per table before the commit: a batch of
  // n completions costs about ten statements, not seven per item. Dropped
  // unflushed with a rolled-back attempt.
  class WriteBehind {
   public:
    WriteBehind();
    ~WriteBehind();
    WriteBehind(const WriteBehind&) = delete;
    WriteBehind& operator=(const WriteBehind&) = delete;
    // The one living on this thread, or null.
    static WriteBehind* Current();

    // Locks the routes of `task_ids`' dossiers in dossier order, then all
    // their tasks in id order, and reads the records of `request_ids`.
    void Load(pqxx::work& tx, const std::vector<int64_t>& task_ids,
              const std::vector<std::string>& request_ids);
    // Writes every change. Returns the request ids whose records another
    // transaction wrote since Load: the caller must not commit then.
    std::vector<std::string> Flush(pqxx::work& tx);

   private:
    friend class RoutingServer;
    struct Route {
      std::string received;  // lienthong.intake.v1.DossierReceived
      std::string receiving_agency;
      int finished_state = 0;  // set by FinishRoute
      std::string finished_at;
    };
    struct Feed {
      std::string agency;
      int64_t task_id;
      std::string at;
    };
    struct Record {
      std::string method, hash, response;
      bool fresh = false;  // written in this batch
    };
    std::map<std::string, Route> routes_;
    std::map<int64_t, Row> tasks_;
    std::map<std::string, std::vector<int64_t>> by_dossier_;
    std::set<int64_t> dirty_;
    std::set<int64_t> inserted_;  // new rows: inserted, with their last body
    std::vector<Feed> feed_;
    std::map<std::string, Record> records_;
    std::vector<v1::Handover> handovers_;
    WriteBehind* outer_;
  };
  // A route's row as Advance needs it.
  struct RouteRow {
    std::string received;  // lienthong.intake.v1.DossierReceived
    std::string receiving_agency;
  };
  absl::optional<RouteRow> LoadRoute(pqxx::work& tx,
                                     const std::string& dossier);
  void FinishRoute(pqxx::work& tx, const std::string& dossier,
                   v1::RouteState state, absl::Time at);
  // The task's row in its agency's feed (the watchers' wake-up follows the
  // commit).
  void FeedTask(pqxx::work& tx, const std::string& agency, int64_t task_id,
                absl::Time at);
  // Stores `h`, naming it after its new id.
  void SaveHandover(pqxx::work& tx, v1::Handover h);
  // A request id's record: method, request hash, the answer (a Task).
  struct RequestRecord {
    std::string method, hash, response;
  };
  absl::optional<RequestRecord> LookupRequest(pqxx::work& tx,
                                              const std::string& request_id);
  // False when the id was taken meanwhile by another transaction.
  bool RecordRequest(pqxx::work& tx, const std::string& request_id,
                     const RequestRecord& record);
  const common::Clock& clock() const { return clock_; }

 private:
  db::Pool& pool_;
  const common::Clock& clock_;
  AgencyDirectory& directory_;
  RoutingOptions options_;

  // Wake-ups for WatchTasks streams: a NOTIFY on `routing_feed` carries the
  // agency whose queue changed, so only that agency's streams read the
  // feed; the global generation wakes them all (listener reconnected, Stop).
  std::mutex feed_mu_;
  std::condition_variable feed_cv_;
  uint64_t feed_generation_ = 0;
  std::map<std::string, uint64_t> agency_generation_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<std::thread> listener_;

  // The queue gauges' label sets set so far (agency and state; agency): an
  // agency whose queue emptied is set back to 0, not left at its last value.
  std::mutex queue_metrics_mu_;
  std::set<std::pair<std::string, std::string>> queue_depth_labels_;
  std::set<std::string> queue_age_labels_;
};

}  // namespace lienthong::routing
