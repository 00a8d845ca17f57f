#pragma once

// A bounded pool of libpqxx connections. Connections open lazily; a broken
// one is dropped and replaced on the next acquire, so the pool survives a
// PostgreSQL restart without restarting the process. While the database is
// away callers get UNAVAILABLE, never a crash.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/db/notifier.h"
#include "pqxx/pqxx"

namespace lienthong::db {

struct PoolOptions {
  std::string dsn;
  int size = 8;
  absl::Duration acquire_timeout = absl::Seconds(5);
  // Called with "connection" or "query" on each database error (metrics).
  std::function<void(const char* kind)> on_error;
};

class Pool {
 public:
  explicit Pool(PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A borrowed connection; returned to the pool when destroyed unless
  // marked broken.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& conn() { return *conn_; }
    void MarkBroken() { broken_ = true; }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<pqxx::connection> conn,
          uint64_t generation)
        : pool_(pool), conn_(std::move(conn)), generation_(generation) {}
    Pool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
    uint64_t generation_;
    bool broken_ = false;
  };

  // UNAVAILABLE when the database cannot be reached or every connection is
  // busy for longer than the acquire timeout.
  absl::StatusOr<Lease> Acquire();

  // SELECT 1 (a stale idle connection found on the way is replaced).
  absl::Status Ping();

  const std::string& dsn() const { return options_.dsn; }
  int size() const { return options_.size; }
  void ReportError(const char* kind) const {
    if (options_.on_error) options_.on_error(kind);
  }
  // Wake-ups a transaction asked for (NotifyAfterCommit), sent now that it
  // has committed.
  void NotifyCommitted(std::vector<Notification> notifications) {
    notifier_.Send(std::move(notifications));
  }

 private:
  // A connection found broken retires every connection opened before it:
  // after a PostgreSQL restart all of them are stale, and each would
  // otherwise cost a caller one failed attempt.
  void Release(std::unique_ptr<pqxx::connection> conn, uint64_t generation,
               bool broken);

  const PoolOptions options_;
  Notifier notifier_{options_.dsn};
  absl::Mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace lienthong::db
