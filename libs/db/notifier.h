#pragma once

// Wake-ups (PostgreSQL NOTIFY) sent after a transaction commits, not in it.
//
// A transaction that runs NOTIFY takes a lock on the whole database from
// the start of its commit until the commit's WAL flush has ended
// (PostgreSQL 15, PreCommit_Notify), so every notifying transaction in the
// cluster commits one after another and none share a WAL flush. Outbox
// appends and task feeds wake their readers on every write; under load
// that lock, not the work, set the pace. So a transaction asks for its
// wake-ups with NotifyAfterCommit, and once it has committed the pool's
// notifier sends them from its own connection, coalesced, in one
// statement (a NOTIFY alone writes no WAL and holds that lock only
// briefly). A rollback drops them. A send that finds the notifier's
// session ended (a restart, a failover) goes again on a new one. They stay
// hints: readers still poll, so a wake-up lost to a crash between commit
// and send costs latency, never an event.

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace lienthong::db {

// Inside a WithTransaction function: wake listeners on `channel` (with
// `payload`) once this transaction commits.
void NotifyAfterCommit(std::string channel, std::string payload = "");

using Notification = std::pair<std::string, std::string>;  // channel, payload

namespace internal {
// The calling thread's wake-ups for the transaction it is running.
// RunTransaction swaps in an empty list for each transaction (a
// transaction opened inside another keeps its own) and takes it after
// commit.
std::vector<Notification> SwapPendingNotifications(
    std::vector<Notification> with);
void ClearPendingNotifications();
}  // namespace internal

// Sends wake-ups from a connection of its own, on a thread that starts with
// the first Send; what is queued while a statement runs goes in the next,
// each distinct (channel, payload) once.
class Notifier {
 public:
  explicit Notifier(std::string dsn);
  // Sends what is queued (if its connection is open), then stops.
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void Send(std::vector<Notification> notifications);

 private:
  void Loop();

  const std::string dsn_;
  absl::Mutex mu_;
  std::set<Notification> queued_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<std::thread> thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::db
