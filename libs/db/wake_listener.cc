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

WakeListener::~WakeListener() { Close(); }

bool WakeListener::Listen() {
  if (receiver_ != nullptr) return true;
  try {
    receiver_ = std::make_unique<Receiver>(dsn_, channel_);
    // The LISTEN is sent when the receiver registers: a wake-up committed
    // before it is not seen, which is why loops also run on a timer.
    return true;
  } catch (const std::exception&) {
    receiver_.reset();
    return false;
  }
}

void WakeListener::Close() { receiver_.reset(); }

bool WakeListener::Wait(absl::Duration timeout) {
  if (!Listen()) {
    absl::SleepFor(timeout);
    return false;
  }
  try {
    receiver_->conn().get_notifs();
    if (receiver_->TakeWoken()) return true;
    const int64_t us = std::max<int64_t>(0, absl::ToInt64Microseconds(timeout));
    receiver_->conn().await_notification(static_cast<long>(us / 1000000),
                                         static_cast<long>(us % 1000000));
    return receiver_->TakeWoken();
  } catch (const std::exception&) {
    Close();  // opened again by the next Wait
    absl::SleepFor(timeout);
    return false;
  }
}

}  // namespace lienthong::db
