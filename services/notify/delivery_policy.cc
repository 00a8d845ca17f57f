#include "services/notify/delivery_policy.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"

namespace lienthong::notify {

std::optional<absl::Duration> NextRetryDelay(const BackoffPolicy& policy,
                                             int attempts_made,
                                             double random01) {
  if (attempts_made >= policy.max_attempts) return std::nullopt;
  const int exponent = std::max(0, attempts_made - 1);
  double base = absl::ToDoubleSeconds(policy.initial) *
                std::pow(policy.multiplier, exponent);
  base = std::min(base, absl::ToDoubleSeconds(policy.max_delay));
  const double r = std::clamp(random01, 0.0, 1.0);
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double delay = base * (1.0 + jitter * (2.0 * r - 1.0));
  return absl::Milliseconds(std::llround(std::max(0.0, delay) * 1000.0));
}

namespace {

absl::StatusOr<int> ParseMinute(absl::string_view hhmm) {
  std::vector<absl::string_view> parts = absl::StrSplit(hhmm, ':');
  int h = 0;
  int m = 0;
  if (parts.size() != 2 || parts[0].empty() || parts[1].size() != 2 ||
      !absl::SimpleAtoi(parts[0], &h) || !absl::SimpleAtoi(parts[1], &m) ||
      h < 0 || h > 23 || m < 0 || m > 59) {
    return common::InvalidArgument(
        "INVALID_QUIET_HOURS",
        {{"quiet_hours", "must look like 21:00-07:00, or be off"}});
  }
  return h * 60 + m;
}

}  // namespace

absl::StatusOr<QuietHours> ParseQuietHours(absl::string_view spec,
                                           absl::TimeZone zone) {
  QuietHours q;
  q.zone = zone;
  if (spec.empty() || spec == "off") {
    q.start_minute = q.end_minute = 0;
    return q;
  }
  std::vector<absl::string_view> ends = absl::StrSplit(spec, '-');
  if (ends.size() != 2) {
    return common::InvalidArgument(
        "INVALID_QUIET_HOURS",
        {{"quiet_hours", "must look like 21:00-07:00, or be off"}});
  }
  absl::StatusOr<int> start = ParseMinute(ends[0]);
  if (!start.ok()) return start.status();
  absl::StatusOr<int> end = ParseMinute(ends[1]);
  if (!end.ok()) return end.status();
  q.start_minute = *start;
  q.end_minute = *end;
  return q;
}

absl::Time HoldUntil(const QuietHours& quiet, absl::Time now) {
  if (!quiet.enabled()) return now;
  const absl::CivilSecond local = absl::ToCivilSecond(now, quiet.zone);
  const int minute = local.hour() * 60 + local.minute();
  const bool wraps = quiet.start_minute > quiet.end_minute;
  const bool inside =
      wraps ? (minute >= quiet.start_minute || minute < quiet.end_minute)
            : (minute >= quiet.start_minute && minute < quiet.end_minute);
  if (!inside) return now;
  absl::CivilDay day = absl::CivilDay(local);
  // After the start on a wrapping window, the end is tomorrow morning.
  if (wraps && minute >= quiet.start_minute) day += 1;
  const absl::CivilSecond end(day.year(), day.month(), day.day(),
                              quiet.end_minute / 60, quiet.end_minute % 60, 0);
  return absl::FromCivil(end, quiet.zone);
}

absl::TimeZone VietnamZone() {
  absl::TimeZone tz;
  if (absl::LoadTimeZone("Asia/Ho_Chi_Minh", &tz)) return tz;
  return absl::FixedTimeZone(7 * 3600);
}

std::string FormatVietnamTime(absl::Time t) {
  return absl::FormatTime("%H:%M ngày %d/%m/%Y", t, VietnamZone());
}

}  // namespace lienthong::notify
