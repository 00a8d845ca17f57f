#include "services/notify/rate_limiter.h"

#include <algorithm>

namespace lienthong::notify {

RateLimiter::RateLimiter(const common::Clock& clock, double rate_per_second,
                         double burst)
    : clock_(clock),
      rate_(rate_per_second),
      burst_(std::max(1.0, burst)),
      tokens_(std::max(1.0, burst)),
      last_(clock.Now()) {}

void RateLimiter::Refill() {
  const absl::Time now = clock_.Now();
  if (now > last_) {
    tokens_ =
        std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * rate_);
    last_ = now;
  }
}

bool RateLimiter::TryAcquire() {
  if (rate_ <= 0) return true;
  absl::MutexLock lock(&mu_);
  Refill();
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

absl::Duration RateLimiter::TimeUntilAvailable() {
  if (rate_ <= 0) return absl::ZeroDuration();
  absl::MutexLock lock(&mu_);
  Refill();
  if (tokens_ >= 1.0) return absl::ZeroDuration();
  return absl::Seconds((1.0 - tokens_) / rate_);
}

}  // namespace lienthong::notify
