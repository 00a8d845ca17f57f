#pragma once

// Waits for wake-ups (PostgreSQL NOTIFY, e.g. NotifyAfterCommit) on one
// channel, from a connection of its own, for a loop that otherwise runs
// on a timer: Wait returns as soon as one arrives, or when the time is up.
// Wake-ups stay hints (a loop still runs every interval): while the
// connection cannot be opened, Wait only sleeps, and each Wait tries to
// open it again.
//
//   db::WakeListener wake(dsn, "intake_calendars");
//   do { RefreshOnce(); } while (!stopping && (wake.Wait(interval), true));

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace lienthong::db {

class WakeListener {
 public:
  WakeListener(std::string dsn, std::string channel);
  ~WakeListener();
  WakeListener(const WakeListener&) = delete;
  WakeListener& operator=(const WakeListener&) = delete;

  // True when a wake-up arrived within `timeout` (every one waiting is
  // taken: several count as one), false when the time ran out.
  bool Wait(absl::Duration timeout);

  // Whether the listening connection is open (after the last Wait).
  bool listening() const { return receiver_ != nullptr; }

 private:
  class Receiver;
  bool Listen();  // opens the connection and LISTENs; false on failure
  void Close();

  const std::string dsn_;
  const std::string channel_;
  std::unique_ptr<Receiver> receiver_;  // owns its connection
};

}  // namespace lienthong::db
