#pragma once
// A token bucket per channel, on an injected clock: `rate` tokens a second,
// at most `burst` saved up. Thread-safe.

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"

namespace lienthong::notify {

class RateLimiter {
 public:
  // rate <= 0 means unlimited. Starts full.
  RateLimiter(const common::Clock& clock, double rate_per_second, double burst);

  // Takes one token if there is one.
  bool TryAcquire();

  // How long until a token is available (zero when one is).
  absl::Duration TimeUntilAvailable();

 private:
  void Refill() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const common::Clock& clock_;
  const double rate_;
  const double burst_;
  absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::notify
