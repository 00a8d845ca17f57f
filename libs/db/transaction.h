#pragma once

// Runs a function in one PostgreSQL transaction: commit on OK, roll back on
// an error status. Serialization failures and deadlocks are retried; libpqxx
// exceptions become statuses HERE and nowhere else, without their text
// (PostgreSQL quotes the offending key, maybe a citizen's ID number).
//
//   absl::StatusOr<Dossier> d = db::WithTransaction(pool,
//       [&](pqxx::work& tx) -> absl::StatusOr<Dossier> { ... });
//
// `fn` may run more than once; it must keep no side effects outside the
// transaction.

#include <exception>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/db/notifier.h"
#include "libs/db/pool.h"
#include "pqxx/pqxx"

namespace lienthong::db {

// Maps the exception being handled (call inside a catch block) to a status.
// Sets *retry for serialization failures and deadlocks; *broken when the
// connection is gone.
absl::Status MapCurrentException(bool* retry, bool* broken);

inline constexpr int kMaxTransactionAttempts = 5;

namespace internal {
template <typename T>
struct IsStatusOr : std::false_type {};
template <typename T>
struct IsStatusOr<absl::StatusOr<T>> : std::true_type {};

template <typename Tx, typename Fn>
auto RunTransaction(Pool& pool, Fn&& fn) -> std::invoke_result_t<Fn, Tx&> {
  using R = std::invoke_result_t<Fn, Tx&>;
  static_assert(std::is_same_v<R, absl::Status> || IsStatusOr<R>::value,
                "fn must return absl::Status or absl::StatusOr<T>");
  absl::Status last;
  // This transaction's wake-ups (NotifyAfterCommit); an enclosing one's are
  // put back when it ends.
  struct OwnNotifications {
    std::vector<Notification> outer =
        SwapPendingNotifications(std::vector<Notification>());
    ~OwnNotifications() { SwapPendingNotifications(std::move(outer)); }
  } own;
  for (int attempt = 0; attempt < kMaxTransactionAttempts; ++attempt) {
    ClearPendingNotifications();
    auto lease = pool.Acquire();
    if (!lease.ok()) return lease.status();
    bool retry = false;
    bool broken = false;
    try {
      Tx tx(lease->conn());
      R result = fn(tx);
      if (!result.ok()) {
        tx.abort();
        return result;
      }
      tx.commit();
      pool.NotifyCommitted(SwapPendingNotifications({}));
      return result;
    } catch (...) {
      last = MapCurrentException(&retry, &broken);
    }
    if (broken) {
      lease->MarkBroken();
      pool.ReportError("connection");
    } else {
      pool.ReportError("query");
    }
    if (!retry) break;
  }
  return last;
}
}  // namespace internal

template <typename Fn>
auto WithTransaction(Pool& pool, Fn&& fn)
    -> std::invoke_result_t<Fn, pqxx::work&> {
  return internal::RunTransaction<pqxx::work>(pool, std::forward<Fn>(fn));
}

// The same for reads: `fn(pqxx::read_transaction&)`; PostgreSQL refuses any
// write in it (INTERNAL, sqlstate 25006).
template <typename Fn>
auto WithReadOnlyTransaction(Pool& pool, Fn&& fn)
    -> std::invoke_result_t<Fn, pqxx::read_transaction&> {
  return internal::RunTransaction<pqxx::read_transaction>(pool,
                                                          std::forward<Fn>(fn));
}

}  // namespace lienthong::db
