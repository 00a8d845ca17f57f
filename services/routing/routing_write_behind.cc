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
    std::vector<std::string> text;
    std::vector<pqxx::binarystring> answers;
    for (const auto& [id, rec] : records_) {
      if (!rec.fresh) continue;
      text.insert(text.end(), {id, rec.method, rec.hash});
      answers.emplace_back(rec.response.data(), rec.response.size());
    }
    const int n = static_cast<int>(answers.size());
    if (n > 0) {
      std::string values;
      for (int i = 0; i < n; ++i) {
        absl::StrAppend(&values, i == 0 ? "" : ", ", "($", 3 * i + 1,
                        "::text, $", 3 * i + 2, "::text, $", 3 * i + 3,
                        "::text, $", 3 * n + i + 1, "::bytea)");
      }
      pqxx::result ins = db::ExecPrepared(
          tx,
          absl::StrCat("INSERT INTO routing.idempotency (request_id, method, "
                       "request_hash, response) VALUES ",
                       values, " ON CONFLICT DO NOTHING RETURNING request_id"),
          pqxx::prepare::make_dynamic_params(text),
          pqxx::prepare::make_dynamic_params(answers));
      if (static_cast<int>(ins.size()) < n) {
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
    std::vector<std::string> text;
    std::vector<std::string> serialized;
    for (int64_t id : inserted_) {
      const v1::Task& t = tasks_.at(id).task;
      text.insert(text.end(),
                  {absl::StrCat(id), t.dossier(), t.leg_id(), t.agency(),
                   absl::StrCat(static_cast<int>(t.state())),
                   t.state() == v1::TASK_STATE_READY
                       ? PgTime(grpc_util::FromProto(t.ready_time()))
                       : std::string()});
      serialized.push_back(t.SerializeAsString());
    }
    std::vector<pqxx::binarystring> bodies;
    for (const std::string& b : serialized) {
      bodies.emplace_back(b.data(), b.size());
    }
    const int n = static_cast<int>(serialized.size());
    std::string values;
    for (int i = 0; i < n; ++i) {
      absl::StrAppend(&values, i == 0 ? "" : ", ", "($", 6 * i + 1,
                      "::bigint, $", 6 * i + 2, "::text, $", 6 * i + 3,
                      "::text, $", 6 * i + 4, "::text, $", 6 * i + 5,
                      "::integer, NULLIF($", 6 * i + 6,
                      "::text, '')::timestamptz, $", 6 * n + i + 1, "::bytea)");
    }
    db::ExecPrepared(
        tx,
        absl::StrCat("INSERT INTO routing.tasks (id, dossier, leg_id, agency, "
                     "state, ready_at, body) VALUES ",
                     values),
        pqxx::prepare::make_dynamic_params(text),
        pqxx::prepare::make_dynamic_params(bodies));
  }
  // Tasks: a lease only while claimed; ready_at kept unless ready now (as
  // SaveTask).
  if (!dirty_.empty()) {
    std::vector<std::string> text;
    std::vector<pqxx::binarystring> bodies;
    std::vector<std::string> serialized;
    serialized.reserve(dirty_.size());
    for (int64_t id : dirty_) {
      const v1::Task& t = tasks_.at(id).task;
      text.push_back(absl::StrCat(id));
      text.push_back(absl::StrCat(static_cast<int>(t.state())));
      text.push_back(t.state() == v1::TASK_STATE_CLAIMED
                         ? PgTime(grpc_util::FromProto(t.lease_expire_time()))
                         : std::string());
      text.push_back(t.state() == v1::TASK_STATE_READY
                         ? PgTime(grpc_util::FromProto(t.ready_time()))
                         : std::string());
      serialized.push_back(t.SerializeAsString());
    }
    for (const std::string& b : serialized)
      bodies.emplace_back(b.data(), b.size());
    const int n = static_cast<int>(serialized.size());
    std::string values;
    for (int i = 0; i < n; ++i) {
      absl::StrAppend(&values, i == 0 ? "" : ", ", "($", 4 * i + 1,
                      "::bigint, $", 4 * i + 2, "::integer, $", 4 * i + 3,
                      "::text, $", 4 * i + 4, "::text, $", 4 * n + i + 1,
                      "::bytea)");
    }
    db::ExecPrepared(
        tx,
        absl::StrCat(
            "UPDATE routing.tasks t SET state = v.state, lease_expires = "
            "NULLIF(v.lease, '')::timestamptz, ready_at = "
            "coalesce(NULLIF(v.ready, '')::timestamptz, t.ready_at), body = "
            "v.body FROM (VALUES ",
            values, ") AS v(id, state, lease, ready, body) WHERE t.id = v.id"),
        pqxx::prepare::make_dynamic_params(text),
        pqxx::prepare::make_dynamic_params(bodies));
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
    std::vector<std::string> text;
    std::vector<std::string> serialized;
    int i = 0;
    for (const auto& row : db::ExecPrepared(
             tx,
             "SELECT nextval(pg_get_serial_sequence('routing.handovers', "
             "'id')) FROM generate_series(1, $1)",
             n)) {
      v1::Handover& h = handovers_[i++];
      const int64_t id = row[0].as<int64_t>();
      h.set_name(absl::StrCat(h.dossier(), "/handovers/", id));
      text.push_back(absl::StrCat(id));
      text.push_back(h.dossier());
      serialized.push_back(h.SerializeAsString());
    }
    std::vector<pqxx::binarystring> bodies;
    for (const std::string& b : serialized)
      bodies.emplace_back(b.data(), b.size());
    std::string values;
    for (int k = 0; k < n; ++k) {
      absl::StrAppend(&values, k == 0 ? "" : ", ", "($", 2 * k + 1,
                      "::bigint, $", 2 * k + 2, "::text, $", 2 * n + k + 1,
                      "::bytea)");
    }
    db::ExecPrepared(
        tx,
        absl::StrCat(
            "INSERT INTO routing.handovers (id, dossier, body) VALUES ",
            values),
        pqxx::prepare::make_dynamic_params(text),
        pqxx::prepare::make_dynamic_params(bodies));
  }
  return taken;
}

}  // namespace lienthong::routing
