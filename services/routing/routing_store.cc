// RoutingServer's storage helpers and the route mechanics that run inside a
// transaction: dispatching ready legs, hand-overs, finishing the route.

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/db/notifier.h"
#include "libs/db/outbox.h"
#include "libs/db/prepared.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/proto_time.h"
#include "lienthong/intake/v1/events.pb.h"
#include "lienthong/routing/v1/events.pb.h"
#include "services/routing/routing_server.h"
#include "services/routing/routing_text.h"

namespace lienthong::routing {
namespace {

// The events of the transaction body running on this thread, while an
// EmitBatch collects them.
thread_local std::vector<db::OutboxEntry>* collecting = nullptr;

v1::Task ParseTask(const pqxx::field& f) {
  v1::Task t;
  const pqxx::binarystring b(f);
  t.ParseFromArray(b.data(), static_cast<int>(b.size()));
  return t;
}

}  // namespace

absl::optional<RoutingServer::Row> RoutingServer::LoadTask(pqxx::work& tx,
                                                           int64_t id,
                                                           bool for_update) {
  if (WriteBehind* wb = WriteBehind::Current()) {
    if (auto it = wb->tasks_.find(id); it != wb->tasks_.end())
      return it->second;
  }
  pqxx::result r = db::ExecPrepared(
      tx,
      for_update ? "SELECT body FROM routing.tasks WHERE id = $1 FOR UPDATE"
                 : "SELECT body FROM routing.tasks WHERE id = $1",
      id);
  if (r.empty()) return absl::nullopt;
  return Row{id, ParseTask(r[0][0])};
}

std::vector<RoutingServer::Row> RoutingServer::RouteTasks(
    pqxx::work& tx, const std::string& dossier) {
  if (WriteBehind* wb = WriteBehind::Current()) {
    if (auto it = wb->by_dossier_.find(dossier); it != wb->by_dossier_.end()) {
      std::vector<Row> out;
      for (int64_t id : it->second) out.push_back(wb->tasks_.at(id));
      return out;
    }
  }
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT id, body FROM routing.tasks WHERE dossier = $1 ORDER BY id FOR "
      "UPDATE",
      dossier);
  std::vector<Row> out;
  for (const auto& row : r)
    out.push_back({row[0].as<int64_t>(), ParseTask(row[1])});
  return out;
}

void RoutingServer::InsertTask(pqxx::work& tx, const Row& r) {
  if (WriteBehind* wb = WriteBehind::Current()) {
    wb->tasks_[r.id] = r;
    wb->by_dossier_[r.task.dossier()].push_back(r.id);
    wb->inserted_.insert(r.id);
    return;
  }
  const std::string body = r.task.SerializeAsString();
  const bool ready = r.task.state() == v1::TASK_STATE_READY;
  db::ExecPrepared(
      tx,
      "INSERT INTO routing.tasks (id, dossier, leg_id, agency, state, "
      "ready_at, body) VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 = '' THEN "
      "NULL ELSE $6::timestamptz END, $7)",
      r.id, r.task.dossier(), r.task.leg_id(), r.task.agency(),
      static_cast<int>(r.task.state()),
      ready ? PgTime(grpc_util::FromProto(r.task.ready_time())) : "",
      pqxx::binarystring(body.data(), body.size()));
}

std::vector<int64_t> RoutingServer::NewTaskIds(pqxx::work& tx, int n) {
  std::vector<int64_t> ids;
  for (const auto& row : db::ExecPrepared(
           tx,
           "SELECT nextval(pg_get_serial_sequence('routing.tasks', 'id')) "
           "FROM generate_series(1, $1)",
           n)) {
    ids.push_back(row[0].as<int64_t>());
  }
  return ids;
}

void RoutingServer::SaveTask(pqxx::work& tx, const Row& r) {
  if (WriteBehind* wb = WriteBehind::Current()) {
    if (auto it = wb->tasks_.find(r.id); it != wb->tasks_.end()) {
      it->second = r;
      if (!wb->inserted_.count(r.id)) wb->dirty_.insert(r.id);
      return;
    }
  }
  const std::string body = r.task.SerializeAsString();
  const bool leased = r.task.state() == v1::TASK_STATE_CLAIMED;
  db::ExecPrepared(
      tx,
      "UPDATE routing.tasks SET state = $2, lease_expires = CASE WHEN $3 THEN "
      "$4::timestamptz ELSE NULL END, ready_at = CASE WHEN $5 = '' THEN "
      "ready_at ELSE $5::timestamptz END, body = $6 WHERE id = $1",
      r.id, static_cast<int>(r.task.state()), leased,
      leased ? PgTime(grpc_util::FromProto(r.task.lease_expire_time()))
             : PgTime(absl::UnixEpoch()),
      r.task.state() == v1::TASK_STATE_READY
          ? PgTime(grpc_util::FromProto(r.task.ready_time()))
          : "",
      pqxx::binarystring(body.data(), body.size()));
}

void RoutingServer::Emit(pqxx::work& tx,
                         const google::protobuf::Message& payload,
                         const std::string& dossier,
                         std::initializer_list<const char*> destinations) {
  const absl::Time now = clock_.Now();
  const common::v1::Event e =
      grpc_util::MakeEvent(payload, "routing", dossier, now);
  std::vector<std::string> dest(destinations.begin(), destinations.end());
  if (collecting != nullptr) {
    collecting->push_back(
        {{e.event_id(), e.type(), e.SerializeAsString()}, std::move(dest)});
    return;
  }
  db::AppendOutbox(tx, "routing",
                   {e.event_id(), e.type(), e.SerializeAsString()}, dest, now)
      .IgnoreError();
}

namespace {
thread_local RoutingServer::EmitBatch* current_batch = nullptr;

}  // namespace

void RoutingServer::InsertAudit(pqxx::work& tx,
                                const std::vector<EmitBatch::AuditRow>& rows,
                                absl::Time now) {
  if (rows.empty()) return;
  std::vector<std::string> cols[7];
  for (const auto& r : rows) {
    cols[0].push_back(r.agency);
    cols[1].push_back(r.subject);
    cols[2].push_back(r.role);
    cols[3].push_back(r.peer);
    cols[4].push_back(r.action);
    cols[5].push_back(r.resource);
    cols[6].push_back(r.outcome);
  }
  db::ExecPrepared(
      tx,
      "INSERT INTO routing.audit (at, agency, subject, role, peer, action, "
      "resource, outcome) SELECT $1::timestamptz, a, s, r, p, x, res, o "
      "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], "
      "$6::text[], $7::text[], $8::text[]) AS u(a, s, r, p, x, res, o)",
      PgTime(now), db::TextArrayLiteral(cols[0]), db::TextArrayLiteral(cols[1]),
      db::TextArrayLiteral(cols[2]), db::TextArrayLiteral(cols[3]),
      db::TextArrayLiteral(cols[4]), db::TextArrayLiteral(cols[5]),
      db::TextArrayLiteral(cols[6]));
}

RoutingServer::EmitBatch::AuditRow RoutingServer::AuditRowOf(
    const Caller& c, absl::string_view action, absl::string_view resource) {
  return {c.agency_code,
          c.subject,
          std::string(grpc_util::RoleName(c.role)),
          c.peer,
          std::string(action),
          std::string(resource)};
}

RoutingServer::EmitBatch::EmitBatch()
    : outer_(collecting), outer_batch_(current_batch) {
  collecting = &entries_;
  current_batch = this;
}

RoutingServer::EmitBatch::~EmitBatch() {
  collecting = outer_;
  current_batch = outer_batch_;
}

bool RoutingServer::EmitBatch::Keep(AuditRow row) {
  if (current_batch == nullptr) return false;
  current_batch->audit_.push_back(std::move(row));
  return true;
}

absl::Status RoutingServer::EmitBatch::Flush(pqxx::work& tx, absl::Time now) {
  absl::Status s = db::AppendOutboxEach(tx, "routing", entries_, now);
  entries_.clear();
  if (s.ok()) InsertAudit(tx, audit_, now);
  audit_.clear();
  return s;
}

void RoutingServer::AuditChange(pqxx::work& tx, const Caller& c,
                                absl::string_view action,
                                absl::string_view resource) {
  EmitBatch::AuditRow row = AuditRowOf(c, action, resource);
  if (!EmitBatch::Keep(row)) InsertAudit(tx, {row}, clock_.Now());
}

absl::Status RoutingServer::MakeReady(
    pqxx::work& tx, Row& r, const intake::v1::Agency& receiving_agency,
    bool resumed, bool is_new) {
  const absl::Time now = clock_.Now();
  r.task.set_state(v1::TASK_STATE_READY);
  r.task.clear_lease_holder();
  r.task.clear_lease_expire_time();
  grpc_util::ToProto(now, r.task.mutable_ready_time());
  if (is_new) {
    InsertTask(tx, r);
  } else {
    SaveTask(tx, r);
  }
  FeedTask(tx, r.task.agency(), r.id, now);
  if (resumed) {
    auto ev = LegEventFor<v1::LegResumed>(r.task);
    grpc_util::ToProto(now, ev.mutable_resume_time());
    Emit(tx, ev, r.task.dossier(), {"deadline"});
    return absl::OkStatus();
  }
  auto ev = LegEventFor<v1::TaskDispatched>(r.task);
  *ev.mutable_time_limit() = r.task.time_limit();
  grpc_util::ToProto(now, ev.mutable_dispatch_time());
  // Tier and ancestors of the leg's agency, as planned; a task planned
  // before they were kept asks the directory (cached, else intake).
  common::v1::Tier tier = r.task.agency_tier();
  std::vector<std::string> ancestors(r.task.agency_ancestor_codes().begin(),
                                     r.task.agency_ancestor_codes().end());
  if (tier == common::v1::TIER_UNSPECIFIED) {
    absl::StatusOr<intake::v1::Agency> a =
        directory_.Get(r.task.agency().substr(9));
    if (!a.ok()) {
      // Not dispatched without them (deadline's clocks and the hand-over
      // need them): the transaction is retried.
      return common::Unavailable(
          "AGENCY_TREE_UNAVAILABLE",
          absl::StrCat("cannot read agency ", r.task.agency(),
                       " from intake: ", a.status().message()),
          {{"agency", r.task.agency()}});
    }
    tier = a->tier();
    ancestors.assign(a->ancestor_codes().begin(), a->ancestor_codes().end());
  }
  ev.set_agency_tier(tier);
  for (const std::string& anc : ancestors) ev.add_agency_ancestor_codes(anc);
  // A leg at another tier is handed over: the digital hand-over minutes.
  if (receiving_agency.tier() != common::v1::TIER_UNSPECIFIED &&
      receiving_agency.tier() != tier) {
    v1::Handover h;
    h.set_dossier(r.task.dossier());
    h.set_sender_agency(receiving_agency.name());
    h.set_receiver_agency(r.task.agency());
    h.set_sender_tier(receiving_agency.tier());
    h.set_receiver_tier(tier);
    grpc_util::ToProto(now, h.mutable_handover_time());
    h.set_task(r.task.name());
    for (const auto& in : r.task.inputs()) h.add_items(in.key());
    SaveHandover(tx, std::move(h));
  }
  // notify: the agency's webhooks hear of the new task, and it learns the
  // agency's ancestors for the supervisors of its clocks.
  Emit(tx, ev, r.task.dossier(), {"intake", "deadline", "notify"});
  return absl::OkStatus();
}

absl::Status RoutingServer::Advance(pqxx::work& tx,
                                    const std::string& dossier) {
  const absl::optional<RouteRow> route = LoadRoute(tx, dossier);
  if (!route) return absl::OkStatus();
  intake::v1::DossierReceived received;
  received.ParseFromString(route->received);
  std::vector<Row> tasks = RouteTasks(tx, dossier);
  std::vector<std::string> done, waiting;
  std::vector<common::v1::FieldValue> outputs;
  for (const Row& r : tasks) {
    if (r.task.state() == v1::TASK_STATE_DONE) {
      done.push_back(r.task.leg_id());
      outputs.insert(outputs.end(), r.task.outputs().begin(),
                     r.task.outputs().end());
    }
    if (r.task.state() == v1::TASK_STATE_WAITING)
      waiting.push_back(r.task.leg_id());
  }
  for (const std::string& leg_id :
       NewlyReady(received.procedure(), done, waiting)) {
    for (Row& r : tasks) {
      if (r.task.leg_id() != leg_id) continue;
      for (const auto& leg : received.procedure().legs()) {
        if (leg.id() != leg_id) continue;
        r.task.clear_inputs();
        for (auto& f : InputsFor(leg, received.fields(), outputs)) {
          *r.task.add_inputs() = f;
        }
      }
      LT_ASSIGN_OR_RETURN(v1::TaskState next,
                          NextTaskState(r.task.state(), TaskEvent::kDepsDone));
      r.task.set_state(next);
      LT_RETURN_IF_ERROR(MakeReady(tx, r, received.receiving_agency(),
                                   /*resumed=*/false));
    }
  }
  if (done.size() == tasks.size()) {
    const absl::Time now = clock_.Now();
    FinishRoute(tx, dossier, v1::ROUTE_STATE_DONE, now);
    v1::RouteCompleted ev;
    ev.set_dossier(dossier);
    for (auto& o : outputs) *ev.add_outputs() = o;
    grpc_util::ToProto(now, ev.mutable_complete_time());
    Emit(tx, ev, dossier, {"intake"});
  }
  return absl::OkStatus();
}

absl::optional<RoutingServer::RouteRow> RoutingServer::LoadRoute(
    pqxx::work& tx, const std::string& dossier) {
  if (WriteBehind* wb = WriteBehind::Current()) {
    if (auto it = wb->routes_.find(dossier); it != wb->routes_.end()) {
      return RouteRow{it->second.received, it->second.receiving_agency};
    }
  }
  pqxx::result route = db::ExecPrepared(
      tx,
      "SELECT received, receiving_agency FROM routing.routes WHERE dossier = "
      "$1 FOR UPDATE",
      dossier);
  if (route.empty()) return absl::nullopt;
  const pqxx::binarystring b(route[0][0]);
  return RouteRow{b.str(), route[0][1].as<std::string>()};
}

void RoutingServer::FinishRoute(pqxx::work& tx, const std::string& dossier,
                                v1::RouteState state, absl::Time at) {
  if (WriteBehind* wb = WriteBehind::Current()) {
    if (auto it = wb->routes_.find(dossier); it != wb->routes_.end()) {
      it->second.finished_state = static_cast<int>(state);
      it->second.finished_at = PgTime(at);
      return;
    }
  }
  db::ExecPrepared(tx,
                   "UPDATE routing.routes SET state = $2, finished_at = $3 "
                   "WHERE dossier = $1",
                   dossier, static_cast<int>(state), PgTime(at));
}

void RoutingServer::FeedTask(pqxx::work& tx, const std::string& agency,
                             int64_t task_id, absl::Time at) {
  db::NotifyAfterCommit("routing_feed", agency);
  if (WriteBehind* wb = WriteBehind::Current()) {
    wb->feed_.push_back({agency, task_id, PgTime(at)});
    return;
  }
  db::ExecPrepared(
      tx,
      "INSERT INTO routing.task_feed (agency, task_id, at) VALUES ($1, $2, $3)",
      agency, task_id, PgTime(at));
}

void RoutingServer::SaveHandover(pqxx::work& tx, v1::Handover h) {
  if (WriteBehind* wb = WriteBehind::Current()) {
    wb->handovers_.push_back(std::move(h));
    return;
  }
  pqxx::result id = db::ExecPrepared(
      tx,
      "INSERT INTO routing.handovers (dossier, body) VALUES ($1, ''::bytea) "
      "RETURNING id",
      h.dossier());
  h.set_name(absl::StrCat(h.dossier(), "/handovers/", id[0][0].as<int64_t>()));
  const std::string body = h.SerializeAsString();
  db::ExecPrepared(tx, "UPDATE routing.handovers SET body = $2 WHERE id = $1",
                   id[0][0].as<int64_t>(),
                   pqxx::binarystring(body.data(), body.size()));
}

absl::optional<RoutingServer::RequestRecord> RoutingServer::LookupRequest(
    pqxx::work& tx, const std::string& request_id) {
  if (WriteBehind* wb = WriteBehind::Current()) {
    auto it = wb->records_.find(request_id);
    if (it == wb->records_.end()) return absl::nullopt;
    return RequestRecord{it->second.method, it->second.hash,
                         it->second.response};
  }
  pqxx::result r = db::ExecPrepared(
      tx,
      "SELECT method, request_hash, response FROM routing.idempotency "
      "WHERE request_id = $1",
      request_id);
  if (r.empty()) return absl::nullopt;
  const pqxx::binarystring b(r[0][2]);
  return RequestRecord{r[0][0].as<std::string>(), r[0][1].as<std::string>(),
                       b.str()};
}

bool RoutingServer::RecordRequest(pqxx::work& tx, const std::string& request_id,
                                  const RequestRecord& record) {
  if (WriteBehind* wb = WriteBehind::Current()) {
    // Flush finds an id taken meanwhile by another transaction.
    wb->records_[request_id] = {record.method, record.hash, record.response,
                                /*fresh=*/true};
    return true;
  }
  pqxx::result ins = db::ExecPrepared(
      tx,
      "INSERT INTO routing.idempotency (request_id, method, request_hash, "
      "response) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
      request_id, record.method, record.hash,
      pqxx::binarystring(record.response.data(), record.response.size()));
  return ins.affected_rows() == 1;
}

void RoutingServer::CancelOpen(pqxx::work& tx, const std::string& dossier,
                               const std::string& reason) {
  const absl::Time now = clock_.Now();
  for (Row& r : RouteTasks(tx, dossier)) {
    if (!IsOpen(r.task.state())) continue;
    r.task.set_state(v1::TASK_STATE_CANCELLED);
    r.task.set_reason(reason);
    grpc_util::ToProto(now, r.task.mutable_finish_time());
    SaveTask(tx, r);
    auto ev = LegEventFor<v1::TaskCancelled>(r.task);
    ev.set_reason(reason);
    grpc_util::ToProto(now, ev.mutable_cancel_time());
    Emit(tx, ev, dossier, {"deadline", "notify"});
  }
}

}  // namespace lienthong::routing
