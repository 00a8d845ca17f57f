#include "libs/db/notifier.h"

#include "libs/db/prepared.h"
#include "pqxx/pqxx"

namespace lienthong::db {
namespace {

thread_local std::vector<Notification> pending;

}  // namespace

void NotifyAfterCommit(std::string channel, std::string payload) {
  pending.emplace_back(std::move(channel), std::move(payload));
}

namespace internal {

std::vector<Notification> SwapPendingNotifications(
    std::vector<Notification> with) {
  std::swap(pending, with);
  return with;
}

void ClearPendingNotifications() { pending.clear(); }

}  // namespace internal

Notifier::Notifier(std::string dsn) : dsn_(std::move(dsn)) {}

Notifier::~Notifier() {
  std::unique_ptr<std::thread> t;
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    t = std::move(thread_);
  }
  if (t != nullptr) t->join();
}

void Notifier::Send(std::vector<Notification> notifications) {
  if (notifications.empty()) return;
  absl::MutexLock lock(&mu_);
  if (stop_) return;
  for (auto& n : notifications) queued_.insert(std::move(n));
  if (thread_ == nullptr) {
    thread_ = std::make_unique<std::thread>([this] { Loop(); });
  }
}

void Notifier::Loop() {
  std::unique_ptr<pqxx::connection> conn;
  while (true) {
    std::set<Notification> batch;
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Notifier* n) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return n->stop_ || !n->queued_.empty();
          },
          this));
      if (queued_.empty()) return;  // stopping, nothing left
      batch.swap(queued_);
      stopping = stop_;
    }
    // Stopping with no connection: not worth a connect that could hang the
    // process's exit while the database is away (readers poll anyway).
    if (stopping && conn == nullptr) return;
    std::vector<std::string> channels, payloads;
    for (const auto& [c, p] : batch) {
      channels.push_back(c);
      payloads.push_back(p);
    }
    for (;;) {
      const bool reused = conn != nullptr;
      try {
        if (!reused) conn = std::make_unique<pqxx::connection>(dsn_);
        pqxx::nontransaction n(*conn);
        ExecPrepared(n,
                     "SELECT pg_notify(c, p) FROM unnest($1::text[], "
                     "$2::text[]) AS x(c, p)",
                     TextArrayLiteral(channels), TextArrayLiteral(payloads));
        break;
      } catch (const std::exception&) {
        conn.reset();
        // A session that ended since the last send (a restart, a
        // failover, an idle timeout) fails the first statement after it,
        // while the listeners have already reconnected: the batch goes
        // again on a new session. A new session that fails too means the
        // database is away; its listeners are cut off as well and catch
        // up when they reconnect, and the readers poll.
        if (!reused) break;
      }
    }
  }
}

}  // namespace lienthong::db
