#include "libs/db/wake_listener.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <utility>

#include "absl/time/clock.h"
#include "pqxx/pqxx"

namespace lienthong::db {

// The connection and its receiver: pqxx unregisters a receiver as it goes,
// so the receiver goes first.
class WakeListener::Receiver {
 public:
  Receiver(const std::string& dsn, const std::string& channel)
      : conn_(dsn), receiver_(conn_, channel, &woken_) {}
  pqxx::connection& conn() { return conn_; }
  bool TakeWoken() { return std::exchange(woken_, false); }

 private:
  class Flag final : public pqxx::notification_receiver {
   public:
    Flag(pqxx::connection& c, const std::string& channel, bool* woken)
        : pqxx::notification_receiver(c, channel), woken_(woken) {}
    void operator()(const std::string&, int) override { *woken_ = true; }

   private:
    bool* woken_;
  };
  pqxx::connection conn_;
  bool woken_ = false;
  Flag receiver_;
};

WakeListener::WakeListener(std::string dsn, std::string channel)
    : dsn_(std::move(dsn)), channel_(std::move(channel)) {}

WakeListener::~WakeListener() {
  // UNLISTEN on a healthy connection; closing it would do as much.
  if (receiver_ != nullptr) Drop();
}

bool WakeListener::Listen() {
  if (receiver_ != nullptr) return true;
  const absl::Time now = absl::Now();
  if (now < next_attempt_) return false;
  try {
    // The receiver registers with LISTEN as it is made.
    receiver_ = std::make_unique<Receiver>(dsn_, channel_);
    backend_pid_ = receiver_->conn().backendpid();
    missed_ = tried_;
    tried_ = true;
    retry_ = kFirstRetry;
    return true;
  } catch (const std::exception&) {
    tried_ = true;
    receiver_.reset();
    next_attempt_ = now + retry_;
    retry_ = std::min(retry_ * 2, kMaxRetry);
    return false;
  }
}

void WakeListener::Drop() {
  // Closed first, the connection sends no UNLISTEN as the receiver goes
  // (libpqxx would otherwise open it again to send one).
  receiver_->conn().disconnect();
  receiver_.reset();
}

bool WakeListener::Wait(absl::Duration timeout) {
  if (!Listen()) {
    absl::SleepFor(timeout);
    return false;
  }
  if (std::exchange(missed_, false)) return true;
  try {
    pqxx::connection& c = receiver_->conn();
    const absl::Time until = absl::Now() + timeout;
    c.get_notifs();
    // The socket can turn readable with no wake-up for us (another
    // message, a signal): wait again for what is left.
    for (absl::Duration left = until - absl::Now(); !receiver_->TakeWoken();
         left = until - absl::Now()) {
      if (left <= absl::ZeroDuration()) return false;
      const int64_t us = absl::ToInt64Microseconds(left);
      c.await_notification(static_cast<long>(us / 1000000),
                           static_cast<long>(us % 1000000));
      // libpqxx opens a lost connection again by itself (and LISTENs
      // again): what was sent in between was missed.
      if (c.backendpid() != backend_pid_) {
        backend_pid_ = c.backendpid();
        receiver_->TakeWoken();
        return true;
      }
    }
    return true;
  } catch (const std::exception&) {
    Drop();  // opened again by a later Wait, which then says so
    absl::SleepFor(timeout);
    return false;
  }
}

}  // namespace lienthong::db
