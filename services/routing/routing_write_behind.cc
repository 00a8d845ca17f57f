// RoutingServer::WriteBehind: a CompleteTasks batch's rows, read in three
// statements and written back in one statement per table.

#include <set>

#include "absl/strings/str_cat.h"
#include "libs/db/prepared.h"
#include "libs/grpc_util/proto_time.h"
#include "services/routing/routing_server.h"
#include "services/routing/routing_text.h"

namespace lienthong::routing {
namespace {

thread_local RoutingServer::WriteBehind* current = nullptr;

}  // namespace

RoutingServer::WriteBehind::WriteBehind() : outer_(current) { current = this; }

RoutingServer::WriteBehind::~WriteBehind() { current = outer_; }

RoutingServer::WriteBehind* RoutingServer::WriteBehind::Current() {
  return current;
}

void RoutingServer::WriteBehind::Load(
    pqxx::work& tx, const std::vector<int64_t>& task_ids,
    const std::vector<std::string>& request_ids) {
  const std::string ids = BigintArray(task_ids);
  // Routes first, in one order, then tasks in id order: the lock order of
  // a single completion (route, task) and of a claim (tasks by id), so
  // batches, single calls and claims never wait on each other in a cycle.
  for (const auto& row : db::ExecPrepared(
           tx,
           "SELECT dossier, received, receiving_agency FROM routing.routes "
           "WHERE dossier IN (SELECT dossier FROM routing.tasks WHERE id = "
           "ANY($1::bigint[])) ORDER BY dossier FOR UPDATE",
           ids)) {
    const pqxx::binarystring b(row[1]);
    routes_[row[0].as<std::string>()] = {b.str(), row[2].as<std::string>()};
  }
  for (const auto& row : db::ExecPrepared(
           tx,
           "SELECT id, dossier, body FROM routing.tasks WHERE dossier IN "
           "(SELECT dossier FROM routing.tasks WHERE id = ANY($1::bigint[])) "
           "ORDER BY id FOR UPDATE",
           ids)) {
    Row r{row[0].as<int64_t>(), {}};
    const pqxx::binarystring b(row[2]);
    r.task.ParseFromArray(b.data(), static_cast<int>(b.size()));
    by_dossier_[row[1].as<std::string>()].push_back(r.id);
    tasks_.emplace(r.id, std::move(r));
  }
  // Read under the tasks' locks: a twin of one of these requests holds its
  // task's lock until it commits, so its record is visible here.
  if (request_ids.empty()) return;
  for (const auto& row : db::ExecPrepared(
           tx,
           "SELECT request_id, method, request_hash, response FROM "
           "routing.idempotency WHERE request_id = ANY($1::text[])",
           db::TextArrayLiteral(request_ids))) {
    const pqxx::binarystring b(row[3]);
    records_[row[0].as<std::string>()] = {row[1].as<std::string>(),
                                          row[2].as<std::string>(), b.str()};
  }
}

std::vector<std::string> RoutingServer::WriteBehind::Flush(pqxx::work& tx) {
  std::vector<std::string> taken;
  // Request ids first: one taken meanwhile spoils the batch, and nothing
  // else need be written then.
  {
    db::ValuesRows rows("({t}::text, {t}::text, {t}::text, {b}::bytea)");
    for (const auto& [id, rec] : records_) {
      if (rec.fresh) rows.Add({id, rec.method, rec.hash}, rec.response);
    }
    if (!rows.empty()) {
      pqxx::result ins = db::ExecPrepared(
          tx,
          absl::StrCat("INSERT INTO routing.idempotency (request_id, method, "
                       "request_hash, response) VALUES ",
                       rows.sql(),
                       " ON CONFLICT DO NOTHING RETURNING request_id"),
          rows.text_params(), rows.bytes_params());
      if (static_cast<int>(ins.size()) < rows.size()) {
        std::set<std::string> written;
        for (const auto& row : ins) written.insert(row[0].as<std::string>());
        for (const auto& [id, rec] : records_) {
          if (rec.fresh && !written.count(id)) taken.push_back(id);
        }
        return taken;
      }
    }
  }
  // New tasks, each with its last body (as InsertTask).
  if (!inserted_.empty()) {
    db::ValuesRows rows(
        "({t}::bigint, {t}::text, {t}::text, {t}::text, {t}::integer, "
        "NULLIF({t}::text, '')::timestamptz, {b}::bytea)");
    for (int64_t id : inserted_) {
      const v1::Task& t = tasks_.at(id).task;
      rows.Add({absl::StrCat(id), t.dossier(), t.leg_id(), t.agency(),
                absl::StrCat(static_cast<int>(t.state())),
                t.state() == v1::TASK_STATE_READY
                    ? PgTime(grpc_util::FromProto(t.ready_time()))
                    : std::string()},
               t.SerializeAsString());
    }
    db::ExecPrepared(
        tx,
        absl::StrCat("INSERT INTO routing.tasks (id, dossier, leg_id, agency, "
                     "state, ready_at, body) VALUES ",
                     rows.sql()),
        rows.text_params(), rows.bytes_params());
  }
  // Tasks: a lease only while claimed; ready_at kept unless ready now (as
  // SaveTask).
  if (!dirty_.empty()) {
    db::ValuesRows rows(
        "({t}::bigint, {t}::integer, {t}::text, {t}::text, {b}::bytea)");
    for (int64_t id : dirty_) {
      const v1::Task& t = tasks_.at(id).task;
      rows.Add({absl::StrCat(id), absl::StrCat(static_cast<int>(t.state())),
                t.state() == v1::TASK_STATE_CLAIMED
                    ? PgTime(grpc_util::FromProto(t.lease_expire_time()))
                    : std::string(),
                t.state() == v1::TASK_STATE_READY
                    ? PgTime(grpc_util::FromProto(t.ready_time()))
                    : std::string()},
               t.SerializeAsString());
    }
    db::ExecPrepared(
        tx,
        absl::StrCat(
            "UPDATE routing.tasks t SET state = v.state, lease_expires = "
            "NULLIF(v.lease, '')::timestamptz, ready_at = "
            "coalesce(NULLIF(v.ready, '')::timestamptz, t.ready_at), body = "
            "v.body FROM (VALUES ",
            rows.sql(),
            ") AS v(id, state, lease, ready, body) WHERE t.id = v.id"),
        rows.text_params(), rows.bytes_params());
  }
  if (!feed_.empty()) {
    std::vector<std::string> agencies, ids, at;
    for (const Feed& f : feed_) {
      agencies.push_back(f.agency);
      ids.push_back(absl::StrCat(f.task_id));
      at.push_back(f.at);
    }
    db::ExecPrepared(
        tx,
        "INSERT INTO routing.task_feed (agency, task_id, at) SELECT * FROM "
        "unnest($1::text[], $2::bigint[], $3::timestamptz[])",
        db::TextArrayLiteral(agencies), db::TextArrayLiteral(ids),
        db::TextArrayLiteral(at));
  }
  {
    std::vector<std::string> dossiers, states, at;
    for (const auto& [dossier, route] : routes_) {
      if (route.finished_state == 0) continue;
      dossiers.push_back(dossier);
      states.push_back(absl::StrCat(route.finished_state));
      at.push_back(route.finished_at);
    }
    if (!dossiers.empty()) {
      db::ExecPrepared(
          tx,
          "UPDATE routing.routes r SET state = v.state, finished_at = v.at "
          "FROM unnest($1::text[], $2::integer[], $3::timestamptz[]) AS "
          "v(dossier, state, at) WHERE r.dossier = v.dossier",
          db::TextArrayLiteral(dossiers), db::TextArrayLiteral(states),
          db::TextArrayLiteral(at));
    }
  }
  if (!handovers_.empty()) {
    const int n = static_cast<int>(handovers_.size());
    db::ValuesRows rows("({t}::bigint, {t}::text, {b}::bytea)");
    int i = 0;
    for (const auto& row : db::ExecPrepared(
             tx,
             "SELECT nextval(pg_get_serial_sequence('routing.handovers', "
             "'id')) FROM generate_series(1, $1)",
             n)) {
      v1::Handover& h = handovers_[i++];
      const int64_t id = row[0].as<int64_t>();
      h.set_name(absl::StrCat(h.dossier(), "/handovers/", id));
      rows.Add({absl::StrCat(id), h.dossier()}, h.SerializeAsString());
    }
    db::ExecPrepared(
        tx,
        absl::StrCat(
            "INSERT INTO routing.handovers (id, dossier, body) VALUES ",
            rows.sql()),
        rows.text_params(), rows.bytes_params());
  }
  return taken;
}

}  // namespace lienthong::routing
