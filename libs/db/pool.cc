#include "libs/db/pool.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

namespace lienthong::db {

Pool::Pool(PoolOptions options) : options_(std::move(options)) {}
Pool::~Pool() = default;

Pool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_),
      conn_(std::move(other.conn_)),
      generation_(other.generation_),
      broken_(other.broken_) {
  other.pool_ = nullptr;
}

Pool::Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) {
    pool_->Release(std::move(conn_), generation_, broken_);
  }
}

absl::StatusOr<Pool::Lease> Pool::Acquire() {
  std::unique_ptr<pqxx::connection> conn;
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    auto has_room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || in_use_ < options_.size;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&has_room),
                              options_.acquire_timeout)) {
      return common::Unavailable("DB_POOL_EXHAUSTED",
                                 "all database connections are busy");
    }
    ++in_use_;
    generation = generation_;
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (conn == nullptr || !conn->is_open()) {
    try {
      conn = std::make_unique<pqxx::connection>(options_.dsn);
    } catch (const std::exception&) {
      // The message may carry the DSN; say only what happened.
      Release(nullptr, generation, true);
      ReportError("connection");
      return common::Unavailable("DB_UNAVAILABLE",
                                 "cannot connect to PostgreSQL");
    }
  }
  return Lease(this, std::move(conn), generation);
}

void Pool::Release(std::unique_ptr<pqxx::connection> conn, uint64_t generation,
                   bool broken) {
  std::vector<std::unique_ptr<pqxx::connection>> retired;
  {
    absl::MutexLock lock(&mu_);
    --in_use_;
    if (broken) {
      if (generation == generation_) {
        ++generation_;
        retired.swap(idle_);
      }
    } else if (conn != nullptr && generation == generation_ &&
               conn->is_open()) {
      idle_.push_back(std::move(conn));
    }
  }
  // Closed outside the lock: closing a dead socket is quick, but not ours
  // to make others wait for.
  retired.clear();
  conn.reset();
}

absl::Status Pool::Ping() {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto lease = Acquire();
    if (!lease.ok()) return lease.status();
    try {
      pqxx::nontransaction tx(lease->conn());
      tx.exec("SELECT 1");
      return absl::OkStatus();
    } catch (const std::exception&) {
      lease->MarkBroken();
      ReportError("connection");
    }
  }
  return common::Unavailable("DB_UNAVAILABLE", "PostgreSQL did not answer");
}

}  // namespace lienthong::db
