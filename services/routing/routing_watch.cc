// RoutingServer: the WatchTasks stream and the LISTEN thread that wakes it.
//
// Feed rows take their sequence number when inserted but become visible
// when their transaction commits, which can be in another order. A stream
// reads forward from its position and, in the same snapshot, lists the
// sequence numbers between its last position and the newest row it read
// that are not visible yet (any agency's: a transaction still in flight, or
// one rolled back). Those holes are re-checked -- every 10 ms while young,
// then every second, for a minute -- and a hole that turns out to be one of
// this agency's ready tasks is sent then. The cursor given with each item
// is the position and the holes below it ("1234" or "1234.1229.1231"), so a
// stream resumed from it knows exactly what it still owes: nothing is
// missed and nothing is sent twice. (A task put back in the queue, by an
// expired lease or a supplement, comes again: it is a new feed row.)

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/uuid.h"
#include "libs/common/status_macros.h"
#include "libs/db/prepared.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/proto_time.h"
#include "services/routing/routing_server.h"
#include "services/routing/routing_text.h"

namespace lienthong::routing {
namespace {

// A feed row commits within this of its insert (statement timeouts bound
// it); holes older than this are gaps left by rolled-back transactions.
constexpr absl::Duration kHoleLifetime = absl::Minutes(1);
// Young holes are re-checked often: they are usually commits in flight.
constexpr absl::Duration kYoungHole = absl::Seconds(1);
// How far behind the feed's head (in sequence numbers) holes are looked for.
constexpr int64_t kHoleSpan = 20000;
constexpr int kBatch = 200;
// At most this many holes travel in a cursor (the newest; older ones are
// almost always numbers of rolled-back transactions).
constexpr size_t kMaxCursorHoles = 64;

struct Pass {
  pqxx::result ahead;   // seq, state, body: this agency's rows past cursor
  pqxx::result filled;  // seq, ours, state, body: holes now visible
  std::vector<int64_t> missing;  // new holes
  int64_t checked = 0;           // holes are known up to here
};

std::string HoleArray(const std::map<int64_t, absl::Time>& holes) {
  std::vector<int64_t> seqs;
  seqs.reserve(holes.size());
  for (const auto& [seq, seen] : holes) seqs.push_back(seq);
  return BigintArray(seqs);
}

// "1234" or "1234.1229.1231": the position and the holes below it.
bool ParseCursor(const std::string& text, int64_t* position,
                 std::vector<int64_t>* holes) {
  *position = 0;
  if (text.empty()) return true;
  bool first = true;
  for (absl::string_view part : absl::StrSplit(text, '.')) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(part, &v) || v <= 0) return false;
    if (first) {
      *position = v;
      first = false;
    } else {
      if (v >= *position || holes->size() >= kMaxCursorHoles) return false;
      holes->push_back(v);
    }
  }
  return true;
}

}  // namespace

void RoutingServer::StartFeedListener() {
  if (listener_ != nullptr) return;
  listener_ = std::make_unique<std::thread>([this] {
    // The payload is the agency whose feed grew; none wakes every stream.
    class Receiver final : public pqxx::notification_receiver {
     public:
      Receiver(pqxx::connection_base& c, RoutingServer* server)
          : pqxx::notification_receiver(c, "routing_feed"), server_(server) {}
      void operator()(const std::string& payload, int) override {
        std::lock_guard<std::mutex> lock(server_->feed_mu_);
        if (payload.empty()) {
          ++server_->feed_generation_;
        } else {
          ++server_->agency_generation_[payload];
        }
        server_->feed_cv_.notify_all();
      }

     private:
      RoutingServer* server_;
    };
    std::unique_ptr<pqxx::connection> conn;
    std::unique_ptr<Receiver> receiver;
    while (!stopping_) {
      try {
        if (conn == nullptr) {
          conn = std::make_unique<pqxx::connection>(pool_.dsn());
          receiver = std::make_unique<Receiver>(*conn, this);
          // Notifications sent while not listening are lost: every stream
          // reads the feed once.
          std::lock_guard<std::mutex> lock(feed_mu_);
          ++feed_generation_;
          feed_cv_.notify_all();
        }
        conn->await_notification(0, 500000);
      } catch (const std::exception&) {
        receiver.reset();
        conn.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    }
  });
}

void RoutingServer::Stop() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(feed_mu_);
    ++feed_generation_;
    feed_cv_.notify_all();
  }
  if (listener_ != nullptr) {
    listener_->join();
    listener_.reset();
  }
}

absl::Status RoutingServer::ClaimForDelivery(const Caller& caller,
                                             absl::Duration lease,
                                             std::vector<Delivery>& out) {
  std::vector<int64_t> ids;  // ids[i] is out[i]'s
  ids.reserve(out.size());
  for (const Delivery& d : out) ids.push_back(TaskIdOf(d.task.name()));
  return db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    for (Delivery& d : out) d.send = false;
    // Locked in id order, as ClaimTask would, and re-read under the lock:
    // a task another watcher claimed meanwhile is no longer ready.
    pqxx::result r = db::ExecPrepared(
        tx,
        "SELECT id, body FROM routing.tasks WHERE id = ANY($1::bigint[]) AND "
        "state = $2 ORDER BY id FOR UPDATE",
        BigintArray(ids), static_cast<int>(v1::TASK_STATE_READY));
    std::map<int64_t, v1::Task> ready;
    for (const auto& row : r) {
      const pqxx::binarystring b(row[1]);
      ready[row[0].as<int64_t>()].ParseFromArray(b.data(),
                                                 static_cast<int>(b.size()));
    }
    const absl::Time now = clock_.Now();
    // Every claim of the pass in one statement (the rows are locked above),
    // and in the audit trail as a ClaimTask would be.
    db::ValuesRows claims("({t}::bigint, {b}::bytea)", 3);
    std::vector<EmitBatch::AuditRow> audit;
    for (size_t i = 0; i < out.size(); ++i) {
      Delivery& d = out[i];
      const int64_t id = ids[i];
      auto it = ready.find(id);
      if (it == ready.end()) continue;
      v1::Task task = std::move(it->second);
      ready.erase(it);
      LT_ASSIGN_OR_RETURN(v1::TaskState next,
                          NextTaskState(task.state(), TaskEvent::kClaim));
      task.set_state(next);
      task.set_lease_holder(caller.subject);
      task.set_claim_token(common::NewUuid());
      grpc_util::ToProto(now, task.mutable_claim_time());
      grpc_util::ToProto(now + lease, task.mutable_lease_expire_time());
      claims.Add({absl::StrCat(id)}, task.SerializeAsString());
      audit.push_back(AuditRowOf(caller, "WatchTasks", task.name()));
      d.task = std::move(task);
      d.send = true;
    }
    if (claims.empty()) return absl::OkStatus();
    db::ExecPrepared(
        tx,
        absl::StrCat("UPDATE routing.tasks t SET state = $1, lease_expires = "
                     "$2::timestamptz, body = v.body FROM (VALUES ",
                     claims.sql(), ") AS v(id, body) WHERE t.id = v.id"),
        static_cast<int>(v1::TASK_STATE_CLAIMED), PgTime(now + lease),
        claims.text_params(), claims.bytes_params());
    InsertAudit(tx, audit, now);
    return absl::OkStatus();
  });
}

grpc::Status RoutingServer::WatchTasks(
    grpc::ServerContext* ctx, const v1::WatchTasksRequest* req,
    grpc::ServerWriter<v1::WatchTasksResponse>* writer) {
  auto caller = grpc_util::CallerOf(*ctx, options_.insecure_dev_auth);
  if (!caller.ok()) return Done(caller.status());
  if (auto s =
          CheckOwnAgency(*caller, req->agency(), "WatchTasks", req->agency());
      !s.ok()) {
    return Done(s);
  }
  int64_t cursor = 0;  // the position: the last feed row read forward
  std::vector<int64_t> owed;
  if (!ParseCursor(req->cursor(), &cursor, &owed)) {
    return Done(common::InvalidArgument(
        "BAD_CURSOR",
        {{"cursor", "must be a cursor received from WatchTasks"}}));
  }
  absl::Duration claim_lease = absl::ZeroDuration();
  if (req->has_claim_lease_duration()) {
    claim_lease = grpc_util::FromProto(req->claim_lease_duration());
    if (claim_lease <= absl::ZeroDuration() ||
        claim_lease > options_.max_lease) {
      return Done(common::InvalidArgument(
          "BAD_LEASE",
          {{"claim_lease_duration", "must be positive and at most 1 hour"}}));
    }
  }
  const std::string& agency = req->agency();
  std::map<int64_t, absl::Time> holes;  // seq -> when first found missing
  for (int64_t h : owed) holes.emplace(h, absl::Now());
  int64_t checked = cursor;  // holes below here are known
  absl::Time last_hole_check = absl::InfinitePast();
  bool first = true;
  // The cursor to give with the item of feed row `seq`.
  auto cursor_at = [&](int64_t seq) {
    const int64_t position = std::max(cursor, seq);
    std::string text = absl::StrCat(position);
    size_t n = 0;
    for (auto it = holes.lower_bound(position);
         it != holes.begin() && n < kMaxCursorHoles; ++n) {
      --it;
      absl::StrAppend(&text, ".", it->first);
    }
    return text;
  };
  while (!ctx->IsCancelled() && !stopping_) {
    uint64_t generation, agency_generation;
    {
      std::lock_guard<std::mutex> lock(feed_mu_);
      generation = feed_generation_;
      agency_generation = agency_generation_[agency];
    }
    const absl::Time now = absl::Now();
    bool young = false;
    for (auto it = holes.begin(); it != holes.end();) {
      if (now - it->second > kHoleLifetime) {
        it = holes.erase(it);
        continue;
      }
      young = young || now - it->second < kYoungHole;
      ++it;
    }
    const bool check_holes =
        !holes.empty() &&
        now - last_hole_check >=
            (young ? absl::Milliseconds(10) : absl::Seconds(1));
    // One snapshot for the whole pass: what is missing is exactly what the
    // forward read could not see.
    auto pass =
        db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::StatusOr<Pass> {
          tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
          Pass p;
          p.ahead = db::ExecPrepared(
              tx,
              "SELECT f.seq, t.state, t.body FROM routing.task_feed f JOIN "
              "routing.tasks t ON t.id = f.task_id WHERE f.agency = $1 AND "
              "f.seq > $2 ORDER BY f.seq LIMIT $3",
              agency, cursor, kBatch);
          int64_t hi = cursor;
          if (!p.ahead.empty()) {
            hi = p.ahead[p.ahead.size() - 1][0].as<int64_t>();
          }
          const int64_t head =
              tx.exec(
                    "SELECT coalesce(max(seq), 0) FROM routing.task_feed")[0][0]
                  .as<int64_t>();
          int64_t lo = std::max(checked, head - kHoleSpan);
          if (first && hi > lo) {
            // On connect, a gap below a row written more than a minute ago
            // is a rolled-back number, not a commit in flight (that one
            // took its number before the older row did): start above the
            // last such row. A gap above it may be a row still being
            // written, which cannot be seen to be dated: tracked as a hole.
            lo = std::max(
                lo, db::ExecPrepared(
                        tx,
                        "SELECT coalesce(max(seq), $1) FROM routing.task_feed "
                        "WHERE seq > $1 AND seq <= $2 AND at < $3",
                        lo, hi, PgTime(clock_.Now() - kHoleLifetime))[0][0]
                        .as<int64_t>());
          }
          p.checked = std::max(checked, hi);
          if (hi > lo) {
            const int64_t present =
                db::ExecPrepared(
                    tx,
                    "SELECT count(*) FROM routing.task_feed WHERE seq > $1 "
                    "AND seq <= $2",
                    lo, hi)[0][0]
                    .as<int64_t>();
            if (present < hi - lo) {
              for (const auto& row : db::ExecPrepared(
                       tx,
                       "SELECT s FROM generate_series($1::bigint + 1, "
                       "$2::bigint) s WHERE NOT EXISTS (SELECT 1 FROM "
                       "routing.task_feed g WHERE g.seq = s)",
                       lo, hi)) {
                p.missing.push_back(row[0].as<int64_t>());
              }
            }
          }
          if (check_holes) {
            p.filled = db::ExecPrepared(
                tx,
                "SELECT f.seq, f.agency = $1, t.state, t.body FROM "
                "routing.task_feed f JOIN routing.tasks t ON t.id = "
                "f.task_id WHERE f.seq = ANY($2::bigint[])",
                agency, HoleArray(holes));
          }
          return p;
        });
    if (!pass.ok()) {
      // PostgreSQL away: tell the client to reconnect with its cursor.
      return Done(pass.status());
    }
    first = false;
    if (check_holes) last_hole_check = now;
    for (int64_t seq : pass->missing) holes.emplace(seq, now);
    checked = pass->checked;
    // This pass's ready tasks in feed order: holes now filled, then the
    // rows ahead. The cursor moves past every row read.
    std::vector<Delivery> out;
    auto add = [&](int64_t seq, int state, const pqxx::field& body) {
      if (state != v1::TASK_STATE_READY) return;
      Delivery d{seq};
      const pqxx::binarystring b(body);
      d.task.ParseFromArray(b.data(), static_cast<int>(b.size()));
      out.push_back(std::move(d));
    };
    for (const auto& row : pass->filled) {
      const int64_t seq = row[0].as<int64_t>();
      holes.erase(seq);
      if (row[1].as<bool>()) add(seq, row[2].as<int>(), row[3]);
    }
    const int64_t before = cursor;
    for (const auto& row : pass->ahead)
      add(row[0].as<int64_t>(), row[1].as<int>(), row[2]);
    // A task that went back to the queue (a lease ran out, a supplement
    // came) has a feed row for each time it became ready: it is sent once,
    // for its newest row (the cursor still moves past the others).
    std::set<std::string> newest;
    for (auto it = out.rbegin(); it != out.rend(); ++it) {
      if (!newest.insert(it->task.name()).second) it->send = false;
    }
    out.erase(std::remove_if(out.begin(), out.end(),
                             [](const Delivery& d) { return !d.send; }),
              out.end());
    if (claim_lease > absl::ZeroDuration() && !out.empty()) {
      auto claimed = ClaimForDelivery(*caller, claim_lease, out);
      // PostgreSQL away: nothing was claimed; the client reconnects with
      // its cursor, which has not moved past these rows.
      if (!claimed.ok()) return Done(claimed);
    }
    for (Delivery& d : out) {
      if (d.seq > before) cursor = d.seq;
      if (!d.send) continue;
      v1::WatchTasksResponse item;
      *item.mutable_task() = std::move(d.task);
      item.set_cursor(cursor_at(d.seq));
      if (!writer->Write(item)) return grpc::Status::CANCELLED;
    }
    if (!pass->ahead.empty()) {
      cursor = std::max(cursor,
                        pass->ahead[pass->ahead.size() - 1][0].as<int64_t>());
    }
    if (pass->ahead.size() >= static_cast<size_t>(kBatch)) continue;
    const bool young_holes = [&] {
      for (const auto& [seq, seen] : holes) {
        if (absl::Now() - seen < kYoungHole) return true;
      }
      return false;
    }();
    const absl::Duration wait =
        young_holes
            ? absl::Milliseconds(10)
            : (holes.empty() ? options_.watch_poll
                             : std::min(options_.watch_poll, absl::Seconds(1)));
    std::unique_lock<std::mutex> lock(feed_mu_);
    feed_cv_.wait_for(
        lock, std::chrono::microseconds(absl::ToInt64Microseconds(wait)), [&] {
          return feed_generation_ != generation ||
                 agency_generation_[agency] != agency_generation || stopping_;
        });
  }
  return grpc::Status::OK;
}

}  // namespace lienthong::routing
