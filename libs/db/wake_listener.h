#pragma once

// Waits for wake-ups (PostgreSQL NOTIFY, e.g. NotifyAfterCommit) on one
// channel, from a connection of its own, for a loop that otherwise runs
// on a timer: Wait returns as soon as one arrives, or when the time is up.
// A wake-up sent while nobody listened (before the first Listen, while
// the connection was down or being opened again) cannot be heard, so Wait
// also returns true once after listening on a new connection when an
// earlier one was lost or could not be opened: the loop runs to catch up
// on what it may have missed. While the database
// cannot be reached, Wait only sleeps, and tries to connect again with a
// growing pause (up to kMaxRetry).
//
//   db::WakeListener wake(dsn, "intake_calendars");
//   wake.Listen();  // before the first run: nothing sent after it is lost
//   do { RefreshOnce(); } while (!stopping && (wake.Wait(interval), true));

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace lienthong::db {

class WakeListener {
 public:
  static constexpr absl::Duration kFirstRetry = absl::Milliseconds(250);
  static constexpr absl::Duration kMaxRetry = absl::Seconds(30);

  WakeListener(std::string dsn, std::string channel);
  ~WakeListener();
  WakeListener(const WakeListener&) = delete;
  WakeListener& operator=(const WakeListener&) = delete;

  // Opens the connection and LISTENs, unless it is open; false if the
  // database cannot be reached (Wait tries again).
  bool Listen();

  // True when a wake-up arrived within `timeout` (every one waiting is
  // taken: several count as one), or when the listening connection had to
  // be opened again (wake-ups may have been missed); false when the time
  // ran out.
  bool Wait(absl::Duration timeout);

  // Whether the listening connection is open (after the last Wait).
  bool listening() const { return receiver_ != nullptr; }

 private:
  class Receiver;
  void Drop();  // the connection is broken: close it without a word

  const std::string dsn_;
  const std::string channel_;
  std::unique_ptr<Receiver> receiver_;  // owns its connection
  int backend_pid_ = 0;  // the session listening; another: reconnected
  // Whether Listen was tried before: listening now after a lost
  // connection or a failed first try, wake-ups may have been lost.
  bool tried_ = false;
  bool missed_ = false;
  absl::Time next_attempt_ = absl::InfinitePast();
  absl::Duration retry_ = kFirstRetry;
};

}  // namespace lienthong::db
