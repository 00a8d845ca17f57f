#pragma once
// Pure delivery rules: when to retry (exponential backoff with jitter, then
// a dead letter) and when an SMS to a citizen must wait (quiet hours in
// Asia/Ho_Chi_Minh). No I/O; time and randomness come in as arguments.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace lienthong::notify {

struct BackoffPolicy {
  absl::Duration initial = absl::Seconds(30);
  double multiplier = 2.0;
  absl::Duration max_delay = absl::Hours(1);
  double jitter = 0.2;   // ± this fraction of the delay
  int max_attempts = 8;  // then dead letter
};

// Delay before the next attempt after `attempts_made` (>= 1) failed ones,
// or nullopt when the delivery goes to the dead letters. `random01` in
// [0, 1) picks the jitter: delay = base * (1 + jitter * (2 * random01 - 1)),
// base = min(max_delay, initial * multiplier^(attempts_made - 1)).
std::optional<absl::Duration> NextRetryDelay(const BackoffPolicy& policy,
                                             int attempts_made,
                                             double random01);

// Asia/Ho_Chi_Minh (UTC+7, no DST) even without tzdata.
absl::TimeZone VietnamZone();

// A daily window in local time during which citizen SMS are held, e.g.
// 21:00–07:00 (wrapping midnight). Disabled when start == end.
struct QuietHours {
  int start_minute = 21 * 60;
  int end_minute = 7 * 60;
  absl::TimeZone zone = VietnamZone();

  bool enabled() const { return start_minute != end_minute; }
};

// Parses "21:00-07:00" (or "off"); INVALID_ARGUMENT otherwise.
absl::StatusOr<QuietHours> ParseQuietHours(absl::string_view spec,
                                           absl::TimeZone zone);

// `now` when outside the window, else the window's end (the morning).
absl::Time HoldUntil(const QuietHours& quiet, absl::Time now);

// "16:30 ngày 18/03/2026" in Asia/Ho_Chi_Minh, for messages.
std::string FormatVietnamTime(absl::Time t);

}  // namespace lienthong::notify
