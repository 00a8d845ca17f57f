#pragma once

// Runs a function in a PostgreSQL transaction. Until libs/db's pool lands
// this is a small self-contained one: idle connections are reused, broken
// ones dropped, serialization failures and deadlocks retried, and libpqxx
// exceptions mapped to absl::Status without their text (it may quote a row).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "pqxx/pqxx"

namespace lienthong::deadline {

using TxFn = std::function<absl::Status(pqxx::work&)>;

class PgTxRunner {
 public:
  explicit PgTxRunner(std::string dsn, int max_idle = 8)
      : dsn_(std::move(dsn)), max_idle_(max_idle) {}

  // `fn` may run more than once (retries); it must not keep side effects
  // outside the transaction.
  absl::Status Run(const TxFn& fn);

  // Runs a SQL script (a migration) in one transaction.
  absl::Status Exec(const std::string& sql);

 private:
  absl::Status RunOnce(const TxFn& fn, bool* retry);
  std::unique_ptr<pqxx::connection> Acquire();
  void Release(std::unique_ptr<pqxx::connection> c);

  const std::string dsn_;
  const int max_idle_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::deadline
