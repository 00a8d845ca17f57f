#include "libs/runtime/loop.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace lienthong::runtime {
namespace {

// How often a loop waiting on `wake` looks at `stop`.
constexpr absl::Duration kStopCheck = absl::Milliseconds(250);

// Until `interval` has passed or `wake` hears a wake-up; false once `stop`
// is notified.
bool WaitForNextRun(absl::Duration interval, db::WakeListener* wake,
                    const absl::Notification& stop) {
  if (wake == nullptr) return !stop.WaitForNotificationWithTimeout(interval);
  const absl::Time until = absl::Now() + interval;
  for (absl::Time now = absl::Now(); now < until; now = absl::Now()) {
    if (stop.HasBeenNotified()) return false;
    if (wake->Wait(std::min(until - now, kStopCheck))) break;
  }
  return !stop.HasBeenNotified();
}

}  // namespace

void RunLoop(const std::function<bool()>& run_once, absl::Duration interval,
             absl::Duration retry, db::WakeListener* wake,
             const absl::Notification& stop) {
  // Listening before the first run: a wake-up sent while it runs is heard
  // after it.
  if (wake != nullptr) wake->Listen();
  absl::Duration next_retry = retry;
  absl::Duration wait;
  do {
    if (run_once()) {
      next_retry = retry;
      wait = interval;
    } else {
      wait = std::min(next_retry, interval);
      next_retry = std::min(next_retry * 2, interval);
    }
  } while (WaitForNextRun(wait, wake, stop));
}

}  // namespace lienthong::runtime
