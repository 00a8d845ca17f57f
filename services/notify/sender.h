#pragma once
// The sender loop (main runs one per channel): claims due deliveries (SKIP
// LOCKED, under a lease), holds citizen SMS during quiet hours, respects
// each channel's rate limit, sends through the Transport, and records the
// attempt: sent, failed (next try after exponential backoff with jitter) or
// dead letter (attempts used up, or a permanent refusal). RunOnce() is one
// pass; time is injected.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "services/notify/delivery_policy.h"
#include "services/notify/notify_store.h"
#include "services/notify/rate_limiter.h"
#include "services/notify/secret_box.h"
#include "services/notify/transport.h"

namespace lienthong::notify {

struct SenderOptions {
  // Only this channel's deliveries: main runs one sender per channel, so a
  // webhook endpoint that times out (10 s a call) cannot hold up citizens'
  // SMS and e-mail queued behind it. All channels when unset.
  std::optional<Channel> channel;
  int batch_size = 20;
  absl::Duration lease = absl::Minutes(2);  // > every transport timeout
  BackoffPolicy backoff;
  QuietHours quiet_hours;  // for citizen SMS
  // Per channel: messages a second (0 = unlimited) and burst.
  std::map<Channel, std::pair<double, double>> rate_limits;
  SecretBox secrets;  // opens the stored webhook secrets
  // True once the process is shutting down: the deliveries of the batch not
  // sent yet are given back at once (due now) rather than sent past the
  // pod's grace period and killed between the send and its record, which
  // would send them again when the lease ran out.
  std::function<bool()> stopping;
};

struct SendCounts {
  int claimed = 0;
  int sent = 0;
  int failed = 0;
  int dead_lettered = 0;
  int held = 0;  // quiet hours or rate limit
};

class Sender {
 public:
  // Observes each recorded attempt (metrics): its channel, the state it
  // left the delivery in, and why it failed (nullopt when it was sent).
  using Observer = std::function<void(Channel, DeliveryState,
                                      std::optional<SendErrorReason>)>;

  Sender(PgNotifyStore& store, Transport& transport, const common::Clock& clock,
         SenderOptions options, Observer observer = nullptr);

  absl::StatusOr<SendCounts> RunOnce();

  // Tests: called after a message was handed to the transport and before
  // its outcome is recorded; returning false abandons the batch there (as
  // a crash would).
  void SetAfterSendHookForTest(std::function<bool()> hook) {
    after_send_ = std::move(hook);
  }

 private:
  double Random01();

  PgNotifyStore& store_;
  Transport& transport_;
  const common::Clock& clock_;
  const SenderOptions options_;
  Observer observer_;
  std::map<Channel, std::unique_ptr<RateLimiter>> limiters_;
  std::function<bool()> after_send_;
  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::notify
