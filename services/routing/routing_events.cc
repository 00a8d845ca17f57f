// RoutingServer: intake's events, lease expiry and queue gauges.

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/db/notifier.h"
#include "libs/db/outbox.h"
#include "libs/db/prepared.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/logging/logging.h"
#include "libs/metrics/metrics.h"
#include "lienthong/intake/v1/events.pb.h"
#include "services/routing/routing_server.h"
#include "services/routing/routing_text.h"

namespace lienthong::routing {
namespace {

// How far apart intake's and routing's clocks may be when a supplement's
// time is set against a leg's request: a request up to this much after the
// supplement counts as answered by it (the citizen cannot have been told of
// a request that much younger).
constexpr absl::Duration kSupplementClockSkew = absl::Minutes(1);

}  // namespace

// An incoming event with what was worked out before its transaction: for
// DossierReceived, the route (planning asks intake for the agency tree,
// which must not happen inside a transaction).
struct IncomingEvent {
  const common::v1::Event* event = nullptr;
  bool is_received = false;
  intake::v1::DossierReceived received;
  std::vector<PlannedTask> plan;
};

absl::StatusOr<IncomingEvent> RoutingServer::PrepareEvent(
    const common::v1::Event& e) {
  IncomingEvent in;
  in.event = &e;
  in.is_received = e.payload().UnpackTo(&in.received);
  if (in.is_received) {
    absl::StatusOr<std::vector<PlannedTask>> plan =
        PlanRoute(in.received.procedure(), in.received.receiving_agency(),
                  in.received.fields(), directory_);
    if (plan.ok()) {
      in.plan = *std::move(plan);
      return in;
    }
    // A plan that fails (the agency tree changed since) is not needed when
    // the route exists already, or a withdrawal that overtook this event
    // left its place: the event then only finds it planned.
    LT_ASSIGN_OR_RETURN(
        const bool routed,
        db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::StatusOr<bool> {
          return !db::ExecPrepared(
                      tx, "SELECT 1 FROM routing.routes WHERE dossier = $1",
                      in.received.dossier())
                      .empty();
        }));
    if (!routed) return plan.status();
  }
  return in;
}

absl::StatusOr<bool> RoutingServer::HandleEvent(const common::v1::Event& e) {
  LT_ASSIGN_OR_RETURN(IncomingEvent in, PrepareEvent(e));
  return db::WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<bool> {
        EmitBatch events;
        LT_ASSIGN_OR_RETURN(bool applied, ApplyEvent(tx, in));
        LT_RETURN_IF_ERROR(events.Flush(tx, clock_.Now()));
        return applied;
      });
}

absl::StatusOr<std::vector<bool>> RoutingServer::HandleEvents(
    const std::vector<const common::v1::Event*>& events) {
  std::vector<IncomingEvent> incoming;
  incoming.reserve(events.size());
  for (const common::v1::Event* e : events) {
    LT_ASSIGN_OR_RETURN(IncomingEvent in, PrepareEvent(*e));
    incoming.push_back(std::move(in));
  }
  // The delivered batch in one transaction; any error rolls all of it back
  // and the relay retries or delivers the events one by one.
  return db::WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<bool>> {
        EmitBatch emitted;
        WriteBehind rows;  // the planned tasks, inserted in one statement
        std::vector<std::string> ids;
        ids.reserve(events.size());
        for (const common::v1::Event* e : events) ids.push_back(e->event_id());
        LT_ASSIGN_OR_RETURN(std::vector<bool> first,
                            db::RecordInboxBatch(tx, "routing", ids));
        for (size_t i = 0; i < incoming.size(); ++i) {
          if (!first[i]) continue;  // applied before: acknowledged only
          LT_RETURN_IF_ERROR(ApplyEvent(tx, incoming[i], true).status());
        }
        rows.Flush(tx);  // no request ids here: nothing can be taken
        LT_RETURN_IF_ERROR(emitted.Flush(tx, clock_.Now()));
        return first;
      });
}

absl::StatusOr<bool> RoutingServer::ApplyEvent(pqxx::work& tx,
                                               const IncomingEvent& in,
                                               bool recorded) {
  const common::v1::Event& e = *in.event;
  const intake::v1::DossierReceived& received = in.received;
  const bool is_received = in.is_received;
  intake::v1::DossierWithdrawn withdrawn;
  intake::v1::DossierSupplemented supplemented;
  // A copy: a retried transaction starts again from the plan.
  std::vector<PlannedTask> plan = in.plan;
  if (!recorded) {
    LT_ASSIGN_OR_RETURN(bool first,
                        db::RecordInbox(tx, "routing", e.event_id()));
    if (!first) return false;
  }
  const absl::Time now = clock_.Now();
  if (is_received) {
    const std::string body = received.SerializeAsString();
    pqxx::result ins = db::ExecPrepared(
        tx,
        "INSERT INTO routing.routes (dossier, state, receiving_agency, "
        "received, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT "
        "DO "
        "NOTHING",
        received.dossier(), static_cast<int>(v1::ROUTE_STATE_ACTIVE),
        received.receiving_agency().name(),
        pqxx::binarystring(body.data(), body.size()), PgTime(now));
    if (ins.affected_rows() == 0) return true;  // planned already
    const std::vector<int64_t> ids =
        NewTaskIds(tx, static_cast<int>(plan.size()));
    for (size_t i = 0; i < plan.size(); ++i) {
      PlannedTask& p = plan[i];
      p.task.set_dossier(received.dossier());
      const bool ready = p.task.state() == v1::TASK_STATE_READY;
      p.task.set_state(v1::TASK_STATE_WAITING);
      // The id first (its name is in the body): each task is
      // written once, waiting or already ready.
      Row row{ids[i], p.task};
      row.task.set_name(absl::StrCat("tasks/", row.id));
      if (ready) {
        LT_RETURN_IF_ERROR(MakeReady(tx, row, received.receiving_agency(),
                                     /*resumed=*/false, /*is_new=*/true));
      } else {
        InsertTask(tx, row);
      }
    }
    logging::Event("route_planned")
        .With("dossier", received.dossier())
        .With("legs", static_cast<int64_t>(plan.size()))
        .Info();
    if (plan.empty()) LT_RETURN_IF_ERROR(Advance(tx, received.dossier()));
  } else if (e.payload().UnpackTo(&withdrawn)) {
    // Withdrawn before its DossierReceived got here (that one is waiting
    // out a backoff, the relays letting later events past a rejected
    // one): a cancelled route in its place, so it is never planned.
    db::ExecPrepared(
        tx,
        "INSERT INTO routing.routes (dossier, state, receiving_agency, "
        "received, created_at, finished_at) VALUES ($1, $2, '', '', $3, $3) "
        "ON CONFLICT DO NOTHING",
        withdrawn.dossier(), static_cast<int>(v1::ROUTE_STATE_CANCELLED),
        PgTime(now));
    // The route's row before its tasks, as everywhere else.
    db::ExecPrepared(
        tx, "SELECT 1 FROM routing.routes WHERE dossier = $1 FOR UPDATE",
        withdrawn.dossier());
    CancelOpen(tx, withdrawn.dossier(), "Công dân rút hồ sơ");
    db::ExecPrepared(
        tx,
        "UPDATE routing.routes SET state = $2, finished_at = $3 WHERE "
        "dossier = $1 AND state IN ($4, $5)",
        withdrawn.dossier(), static_cast<int>(v1::ROUTE_STATE_CANCELLED),
        PgTime(now), static_cast<int>(v1::ROUTE_STATE_ACTIVE),
        static_cast<int>(v1::ROUTE_STATE_PAUSED));
  } else if (e.payload().UnpackTo(&supplemented)) {
    pqxx::result route = db::ExecPrepared(
        tx,
        "SELECT receiving_agency, received FROM routing.routes WHERE "
        "dossier "
        "= $1 FOR UPDATE",
        supplemented.dossier());
    if (route.empty()) return true;
    // Keep the supplemented fields for legs that start later.
    intake::v1::DossierReceived rec;
    const pqxx::binarystring b(route[0][1]);
    rec.ParseFromArray(b.data(), static_cast<int>(b.size()));
    for (const auto& f : supplemented.fields()) {
      bool replaced = false;
      for (auto& old : *rec.mutable_fields()) {
        if (old.key() == f.key()) {
          old.set_value(f.value());
          replaced = true;
        }
      }
      if (!replaced) *rec.add_fields() = f;
    }
    // The legs that asked before the citizen supplemented resume; one that
    // asked after (the event was on its way) asked for something else and
    // keeps waiting for the next supplement, which intake will ask for.
    const absl::Time given =
        supplemented.has_supplement_time()
            ? grpc_util::FromProto(supplemented.supplement_time())
            : absl::InfiniteFuture();
    bool still_waiting = false;
    for (Row& r : RouteTasks(tx, supplemented.dossier())) {
      if (r.task.state() != v1::TASK_STATE_SUPPLEMENT_REQUESTED) continue;
      if (r.task.has_supplement_request_time() &&
          grpc_util::FromProto(r.task.supplement_request_time()) >
              given + kSupplementClockSkew) {
        still_waiting = true;
        continue;
      }
      r.task.clear_supplement_request_time();
      for (const auto& f : supplemented.fields()) {
        bool replaced = false;
        for (auto& old : *r.task.mutable_inputs()) {
          if (old.key() == f.key()) {
            old.set_value(f.value());
            replaced = true;
          }
        }
        if (!replaced) *r.task.add_inputs() = f;
      }
      r.task.clear_missing_items();
      r.task.clear_reason();
      LT_ASSIGN_OR_RETURN(v1::TaskState next,
                          NextTaskState(r.task.state(), TaskEvent::kResume));
      r.task.set_state(next);
      LT_RETURN_IF_ERROR(
          MakeReady(tx, r, rec.receiving_agency(), /*resumed=*/true));
    }
    // Only a paused route goes on, once no leg waits any more: a finished,
    // refused or cancelled one stays as it ended.
    const std::string body = rec.SerializeAsString();
    db::ExecPrepared(
        tx,
        "UPDATE routing.routes SET received = $3, state = CASE WHEN state = "
        "$4 AND NOT $5 THEN $2 ELSE state END WHERE dossier = $1",
        supplemented.dossier(), static_cast<int>(v1::ROUTE_STATE_ACTIVE),
        pqxx::binarystring(body.data(), body.size()),
        static_cast<int>(v1::ROUTE_STATE_PAUSED), still_waiting);
  }
  return true;
}

absl::StatusOr<int> RoutingServer::ExpireLeasesOnce() {
  return db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::StatusOr<int> {
    const absl::Time now = clock_.Now();
    pqxx::result r = db::ExecPrepared(
        tx,
        "SELECT id FROM routing.tasks WHERE state = $1 AND lease_expires < $2 "
        "ORDER BY lease_expires LIMIT 100 FOR UPDATE SKIP LOCKED",
        static_cast<int>(v1::TASK_STATE_CLAIMED), PgTime(now));
    int n = 0;
    for (const auto& row : r) {
      auto task = LoadTask(tx, row[0].as<int64_t>(), true);
      if (!task) continue;
      auto next = NextTaskState(task->task.state(), TaskEvent::kLeaseExpired);
      if (!next.ok()) continue;
      pqxx::result route = db::ExecPrepared(
          tx, "SELECT receiving_agency FROM routing.routes WHERE dossier = $1",
          task->task.dossier());
      // Back in the queue: a new feed row wakes the agency's watchers. It is
      // not a new dispatch, so no TaskDispatched event.
      task->task.set_state(*next);
      task->task.clear_lease_holder();
      task->task.clear_lease_expire_time();
      grpc_util::ToProto(now, task->task.mutable_ready_time());
      SaveTask(tx, *task);
      db::ExecPrepared(
          tx,
          "INSERT INTO routing.task_feed (agency, task_id, at) VALUES ($1, $2, "
          "$3)",
          task->task.agency(), task->id, PgTime(now));
      db::NotifyAfterCommit("routing_feed", task->task.agency());
      ++n;
    }

    return n;
  });
}

void RoutingServer::UpdateQueueMetrics() {
  auto rows = db::WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<pqxx::result> {
        return db::ExecPrepared(
            tx,
            "SELECT agency, state, count(*), EXTRACT(EPOCH FROM "
            "($1::timestamptz "
            "- min(ready_at)))::float8 FROM routing.tasks WHERE state IN ($2, "
            "$3) GROUP BY agency, state",
            PgTime(clock_.Now()), static_cast<int>(v1::TASK_STATE_READY),
            static_cast<int>(v1::TASK_STATE_CLAIMED));
      });
  if (!rows.ok()) return;
  auto& depth =
      metrics::Gauge("lienthong_routing_queue_depth",
                     "Tasks waiting or being worked, by agency and state.");
  auto& age = metrics::Gauge("lienthong_routing_queue_oldest_age_seconds",
                             "Age of the oldest ready task, by agency.");
  std::lock_guard<std::mutex> lock(queue_metrics_mu_);
  std::set<std::pair<std::string, std::string>> depth_now;
  std::set<std::string> age_now;
  for (const auto& row : *rows) {
    const std::string agency = row[0].as<std::string>().substr(9);
    const auto state = static_cast<v1::TaskState>(row[1].as<int>());
    const std::string state_name(TaskStateName(state));
    depth.Add({{"agency", agency}, {"state", state_name}})
        .Set(row[2].as<double>());
    depth_now.insert({agency, state_name});
    if (state == v1::TASK_STATE_READY && !row[3].is_null()) {
      age.Add({{"agency", agency}}).Set(row[3].as<double>());
      age_now.insert(agency);
    }
  }
  for (const auto& [agency, state] : queue_depth_labels_) {
    if (depth_now.count({agency, state}) == 0) {
      depth.Add({{"agency", agency}, {"state", state}}).Set(0);
    }
  }
  for (const std::string& agency : queue_age_labels_) {
    if (age_now.count(agency) == 0) age.Add({{"agency", agency}}).Set(0);
  }
  queue_depth_labels_.insert(depth_now.begin(), depth_now.end());
  queue_age_labels_.insert(age_now.begin(), age_now.end());
}

}  // namespace lienthong::routing
