#include "services/notify/delivery_policy.h"

#include <algorithm>

#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "services/notify/rate_limiter.h"

namespace lienthong::notify {
namespace {

TEST(BackoffTest, ExponentialCappedThenDeadLetter) {
  BackoffPolicy p;
  p.initial = absl::Seconds(10);
  p.multiplier = 2;
  p.max_delay = absl::Seconds(100);
  p.jitter = 0;
  p.max_attempts = 6;
  struct Case {
    int attempts;
    absl::Duration want;
  };
  for (const Case& c : {Case{1, absl::Seconds(10)}, Case{2, absl::Seconds(20)},
                        Case{3, absl::Seconds(40)}, Case{4, absl::Seconds(80)},
                        Case{5, absl::Seconds(100)}}) {
    SCOPED_TRACE(c.attempts);
    std::optional<absl::Duration> d = NextRetryDelay(p, c.attempts, 0.7);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, c.want);
  }
  EXPECT_FALSE(NextRetryDelay(p, 6, 0.5).has_value());
  EXPECT_FALSE(NextRetryDelay(p, 7, 0.5).has_value());
}

// docs/notify.md states these: with the defaults the cap (--retry_max, 1 h)
// is never reached; the longest delay is 32 min, the last attempt about
// 63 min after the first.
TEST(BackoffTest, DefaultsGiveSevenDelaysUpTo32MinutesAndNeverTheCap) {
  BackoffPolicy p;  // 30 s, x2, 1 h, 8 attempts
  absl::Duration total;
  absl::Duration longest;
  for (int made = 1; made < p.max_attempts; ++made) {
    std::optional<absl::Duration> d = NextRetryDelay(p, made, 0.5);
    ASSERT_TRUE(d.has_value()) << made;
    EXPECT_LT(*d, p.max_delay) << made;
    total += *d;
    longest = std::max(longest, *d);
  }
  EXPECT_FALSE(NextRetryDelay(p, p.max_attempts, 0.5).has_value());
  EXPECT_EQ(longest, absl::Minutes(32));
  EXPECT_EQ(total, absl::Seconds(3810));  // 63.5 min
  // With the jitter at its ends: 51 to 76 min.
  absl::Duration low, high;
  for (int made = 1; made < p.max_attempts; ++made) {
    low += *NextRetryDelay(p, made, 0.0);
    high += *NextRetryDelay(p, made, 0.999999);
  }
  EXPECT_GE(low, absl::Minutes(50));
  EXPECT_LE(high, absl::Minutes(77));
}

TEST(BackoffTest, JitterStaysWithinBand) {
  BackoffPolicy p;
  p.initial = absl::Seconds(100);
  p.jitter = 0.2;
  EXPECT_EQ(*NextRetryDelay(p, 1, 0.0), absl::Seconds(80));
  EXPECT_EQ(*NextRetryDelay(p, 1, 0.5), absl::Seconds(100));
  EXPECT_EQ(*NextRetryDelay(p, 1, 0.999999), absl::Milliseconds(120000));
  for (double r = 0; r < 1; r += 0.01) {
    absl::Duration d = *NextRetryDelay(p, 2, r);
    EXPECT_GE(d, absl::Seconds(160));
    EXPECT_LE(d, absl::Seconds(240));
  }
}

TEST(BackoffTest, OneAttemptPolicyDeadLettersAtOnce) {
  BackoffPolicy p;
  p.max_attempts = 1;
  EXPECT_FALSE(NextRetryDelay(p, 1, 0.5).has_value());
}

absl::Time Hcm(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), VietnamZone());
}

TEST(QuietHoursTest, HeldUntilSevenInTheMorningInHanoi) {
  absl::StatusOr<QuietHours> q = ParseQuietHours("21:00-07:00", VietnamZone());
  ASSERT_TRUE(q.ok());
  struct Case {
    absl::Time now;
    absl::Time want;
  };
  const Case cases[] = {
      {Hcm(2026, 3, 12, 20, 59), Hcm(2026, 3, 12, 20, 59)},  // before
      {Hcm(2026, 3, 12, 21, 0), Hcm(2026, 3, 13, 7, 0)},     // start
      {Hcm(2026, 3, 12, 23, 30), Hcm(2026, 3, 13, 7, 0)},
      {Hcm(2026, 3, 13, 0, 0), Hcm(2026, 3, 13, 7, 0)},  // after midnight
      {Hcm(2026, 3, 13, 6, 59), Hcm(2026, 3, 13, 7, 0)},
      {Hcm(2026, 3, 13, 7, 0), Hcm(2026, 3, 13, 7, 0)},  // end is open
      {Hcm(2026, 3, 13, 12, 0), Hcm(2026, 3, 13, 12, 0)},
      {Hcm(2026, 12, 31, 22, 0), Hcm(2027, 1, 1, 7, 0)},  // new year
  };
  for (const Case& c : cases) {
    EXPECT_EQ(HoldUntil(*q, c.now), c.want) << c.now;
  }
  // 14:00 UTC is 21:00 in Hà Nội.
  EXPECT_EQ(
      HoldUntil(*q, absl::FromCivil(absl::CivilSecond(2026, 3, 12, 14, 0, 0),
                                    absl::UTCTimeZone())),
      Hcm(2026, 3, 13, 7, 0));
}

TEST(QuietHoursTest, WindowWithinOneDayAndOff) {
  absl::StatusOr<QuietHours> q = ParseQuietHours("12:00-13:30", VietnamZone());
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(HoldUntil(*q, Hcm(2026, 3, 12, 12, 10)), Hcm(2026, 3, 12, 13, 30));
  EXPECT_EQ(HoldUntil(*q, Hcm(2026, 3, 12, 13, 30)), Hcm(2026, 3, 12, 13, 30));
  EXPECT_EQ(HoldUntil(*q, Hcm(2026, 3, 12, 11, 0)), Hcm(2026, 3, 12, 11, 0));
  absl::StatusOr<QuietHours> off = ParseQuietHours("off", VietnamZone());
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(HoldUntil(*off, Hcm(2026, 3, 12, 23, 0)), Hcm(2026, 3, 12, 23, 0));
}

TEST(QuietHoursTest, RejectsMalformedSpecs) {
  for (const char* bad : {"21-07", "25:00-07:00", "21:00", "21:00-7:0",
                          "ab:cd-07:00", "21:00-07:00-08:00"}) {
    EXPECT_FALSE(ParseQuietHours(bad, VietnamZone()).ok()) << bad;
  }
}

TEST(FormatTest, VietnameseTimeInHoChiMinhZone) {
  EXPECT_EQ(FormatVietnamTime(absl::FromCivil(
                absl::CivilSecond(2026, 3, 18, 9, 30, 0), absl::UTCTimeZone())),
            "16:30 ngày 18/03/2026");
}

TEST(RateLimiterTest, TokenBucketRefillsWithTheClock) {
  common::FakeClock clock;
  RateLimiter limiter(clock, /*rate_per_second=*/2, /*burst=*/3);
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.TryAcquire());
  EXPECT_EQ(limiter.TimeUntilAvailable(), absl::Milliseconds(500));
  clock.Advance(absl::Milliseconds(499));
  EXPECT_FALSE(limiter.TryAcquire());
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.TryAcquire());
  clock.Advance(absl::Hours(1));  // never more than the burst
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.TryAcquire());
}

TEST(RateLimiterTest, ZeroRateIsUnlimited) {
  common::FakeClock clock;
  RateLimiter limiter(clock, 0, 1);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.TryAcquire());
}

}  // namespace
}  // namespace lienthong::notify
