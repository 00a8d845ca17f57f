#include "services/deadline/pg_tx_runner.h"

#include <utility>

#include "libs/common/errors.h"

namespace lienthong::deadline {
namespace {
constexpr int kMaxAttempts = 5;
}  // namespace

std::unique_ptr<pqxx::connection> PgTxRunner::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  return std::make_unique<pqxx::connection>(dsn_);
}

void PgTxRunner::Release(std::unique_ptr<pqxx::connection> c) {
  if (c == nullptr || !c->is_open()) return;
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(idle_.size()) < max_idle_) idle_.push_back(std::move(c));
}

absl::Status PgTxRunner::RunOnce(const TxFn& fn, bool* retry) {
  *retry = false;
  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = Acquire();
    absl::Status s;
    {
      pqxx::work w(*conn);
      s = fn(w);
      if (s.ok()) w.commit();
    }
    Release(std::move(conn));
    return s;
  } catch (const pqxx::serialization_failure&) {
    Release(std::move(conn));
    *retry = true;
    return common::Aborted("DB_CONFLICT", "serialization failure");
  } catch (const pqxx::deadlock_detected&) {
    Release(std::move(conn));
    *retry = true;
    return common::Aborted("DB_CONFLICT", "deadlock");
  } catch (const pqxx::unique_violation&) {
    Release(std::move(conn));
    return common::AlreadyExists("ALREADY_EXISTS", "row already exists");
  } catch (const pqxx::broken_connection&) {
    return common::Unavailable("DB_UNAVAILABLE", "database connection lost");
  } catch (const pqxx::in_doubt_error&) {
    return common::Unavailable("DB_UNAVAILABLE", "commit in doubt");
  } catch (const pqxx::sql_error&) {
    Release(std::move(conn));
    return common::Internal("DB_ERROR", "database query failed");
  } catch (const std::exception&) {
    return common::Unavailable("DB_UNAVAILABLE", "database error");
  }
}

absl::Status PgTxRunner::Run(const TxFn& fn) {
  absl::Status s;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    bool retry = false;
    s = RunOnce(fn, &retry);
    if (!retry) return s;
  }
  return s;
}

absl::Status PgTxRunner::Exec(const std::string& sql) {
  return Run([&](pqxx::work& w) {
    w.exec(sql);
    return absl::OkStatus();
  });
}

}  // namespace lienthong::deadline
