#include "services/notify/sender.h"

#include <utility>

#include "libs/common/status_macros.h"
#include "libs/logging/logging.h"

namespace lienthong::notify {

Sender::Sender(PgNotifyStore& store, Transport& transport,
               const common::Clock& clock, SenderOptions options,
               Observer observer)
    : store_(store),
      transport_(transport),
      clock_(clock),
      options_(std::move(options)),
      observer_(std::move(observer)),
      rng_(std::random_device{}()) {
  for (const auto& [channel, limit] : options_.rate_limits) {
    limiters_[channel] =
        std::make_unique<RateLimiter>(clock_, limit.first, limit.second);
  }
}

double Sender::Random01() {
  absl::MutexLock lock(&mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

absl::StatusOr<SendCounts> Sender::RunOnce() {
  SendCounts counts;
  const absl::Time claimed_at = clock_.Now();
  absl::StatusOr<std::vector<DeliveryRecord>> claimed = store_.Claim(
      claimed_at, options_.lease, options_.batch_size, options_.channel);
  if (!claimed.ok()) return claimed.status();
  counts.claimed = static_cast<int>(claimed->size());
  for (const DeliveryRecord& d : *claimed) {
    const absl::Time now = clock_.Now();
    // Slow peers can eat a batch's lease: past half of it, give the rest
    // back rather than send what another replica may already be taking
    // over (a second copy the receiver would have to dedupe). Shutting
    // down, likewise.
    if (now - claimed_at > options_.lease / 2 ||
        (options_.stopping && options_.stopping())) {
      LT_RETURN_IF_ERROR(store_.Release(d, now));
      ++counts.held;
      continue;
    }
    if (d.channel == Channel::kSms && d.citizen) {
      const absl::Time hold = HoldUntil(options_.quiet_hours, now);
      if (hold > now) {
        LT_RETURN_IF_ERROR(store_.Release(d, hold));
        ++counts.held;
        continue;
      }
    }
    auto limiter = limiters_.find(d.channel);
    if (limiter != limiters_.end() && !limiter->second->TryAcquire()) {
      LT_RETURN_IF_ERROR(
          store_.Release(d, now + limiter->second->TimeUntilAvailable()));
      ++counts.held;
      continue;
    }
    OutgoingMessage m;
    m.delivery_id = d.id;
    m.channel = d.channel;
    m.event_type = d.event_type;
    m.recipient = d.channel == Channel::kWebhook ? d.webhook_url : d.recipient;
    m.subject = d.subject;
    m.body = d.body;
    SendResult r;
    if (d.channel == Channel::kWebhook && d.webhook_url.empty()) {
      r = SendResult{.error = "webhook was deleted",
                     .permanent = true,
                     .reason = SendErrorReason::kEndpoint};
    } else if (absl::StatusOr<std::string> secret =
                   options_.secrets.Open(d.webhook_secret);
               !secret.ok()) {
      // A missing or wrong key is an operator's fix away: retry, then a
      // dead letter that can be replayed once the key is right.
      r = SendResult{.error = std::string(secret.status().message()),
                     .reason = SendErrorReason::kEndpoint};
    } else {
      m.webhook_secret = *std::move(secret);
      // The secret it replaced, during a rotation. One we cannot open only
      // loses the receiver its grace period; it does not stop the send.
      if (!d.webhook_previous_secret.empty()) {
        absl::StatusOr<std::string> previous =
            options_.secrets.Open(d.webhook_previous_secret);
        if (previous.ok()) m.webhook_previous_secret = *std::move(previous);
      }
      r = transport_.Send(m);
    }
    if (after_send_ && !after_send_()) return counts;

    AttemptOutcome o;
    o.attempt = {now, r.response_code, r.latency, r.error, r.ok};
    if (r.ok) {
      o.new_state = DeliveryState::kSent;
      o.next_attempt_time = now;
      ++counts.sent;
    } else {
      std::optional<absl::Duration> delay =
          r.permanent
              ? std::nullopt
              : NextRetryDelay(options_.backoff, d.attempts + 1, Random01());
      if (delay.has_value()) {
        o.new_state = DeliveryState::kFailed;
        o.next_attempt_time = now + *delay;
        ++counts.failed;
      } else {
        o.new_state = DeliveryState::kDeadLetter;
        o.next_attempt_time = now;
        ++counts.dead_lettered;
      }
      logging::Event("delivery_attempt_failed")
          .With("delivery", d.id)
          .With("channel", std::string(ChannelName(d.channel)))
          .With("recipient", d.masked_recipient)
          .With("code", r.response_code)
          .With("reason", std::string(SendErrorReasonName(r.reason)))
          .With("permanent", r.permanent ? "true" : "false")
          .With("error", r.error)
          .With("state", std::string(StateName(o.new_state)))
          .Warn();
    }
    absl::Status s = store_.Finish(d, o);
    if (absl::IsNotFound(s)) continue;  // another sender took it over
    LT_RETURN_IF_ERROR(s);
    if (observer_) {
      observer_(d.channel, o.new_state,
                r.ok ? std::nullopt : std::optional(r.reason));
    }
  }
  return counts;
}

}  // namespace lienthong::notify
