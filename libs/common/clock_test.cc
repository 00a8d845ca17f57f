#include "libs/common/clock.h"

#include "gtest/gtest.h"

namespace lienthong::common {
namespace {

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1000));
  clock.Advance(absl::Hours(30));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1000) + absl::Hours(30));
  clock.Set(absl::FromUnixSeconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(5));
}

TEST(RealClockTest, IsCloseToWallTime) {
  const absl::Duration skew = RealClock::Get().Now() - absl::Now();
  EXPECT_LT(absl::AbsDuration(skew), absl::Seconds(5));
}

}  // namespace
}  // namespace lienthong::common
