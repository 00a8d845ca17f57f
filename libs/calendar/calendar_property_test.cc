// Property tests over the real national calendar, random but reproducible
// (fixed seed): adding then measuring returns the duration, and the due time
// never moves backwards when the start or the duration grows.

#include <algorithm>
#include <iterator>
#include <random>

#include "gtest/gtest.h"
#include "libs/calendar/default_calendar.h"
#include "libs/calendar/test_calendars.h"
#include "libs/calendar/working_calendar.h"

namespace lienthong::calendar {
namespace {

constexpr int kIterations = 3000;

class CalendarPropertyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<WorkingCalendar> cal = DefaultCalendar();
    ASSERT_TRUE(cal.ok()) << cal.status();
    cal_.emplace(*cal);
  }
  absl::Time RandomStart() {
    // 2025-01-01 .. 2027-12-31 (every year vn.json covers), to the second.
    const int64_t from = absl::ToUnixSeconds(testing::Vn(2025, 1, 1, 0, 0));
    const int64_t to = absl::ToUnixSeconds(testing::Vn(2027, 12, 31, 0, 0));
    return absl::FromUnixSeconds(
        std::uniform_int_distribution<int64_t>(from, to)(rng_));
  }
  absl::Duration RandomDuration() {
    // Up to 30 working days, in seconds (limits are minutes in practice).
    return absl::Seconds(
        std::uniform_int_distribution<int64_t>(0, 30 * 8 * 3600)(rng_));
  }
  std::mt19937_64 rng_{20260214};
  absl::optional<WorkingCalendar> cal_;
};

TEST_F(CalendarPropertyTest, AddThenBetweenReturnsTheDuration) {
  for (int i = 0; i < kIterations; ++i) {
    const absl::Time start = RandomStart();
    const absl::Duration d = RandomDuration();
    absl::StatusOr<absl::Time> due =
        cal_->AddWorkingDuration(start, WorkingDuration::Of(d));
    ASSERT_TRUE(due.ok()) << due.status();
    ASSERT_EQ(*cal_->WorkingTimeBetween(start, *due), d)
        << "start " << start << " d " << d;
  }
}

TEST_F(CalendarPropertyTest,
       WithCutoffBetweenCountingStartAndDueIsTheDuration) {
  AddOptions options;
  options.cutoff_minute = 15 * 60;
  for (int i = 0; i < kIterations; ++i) {
    const absl::Time start = RandomStart();
    const absl::Duration d = RandomDuration();
    absl::StatusOr<absl::Time> counting = cal_->CountingStart(start, options);
    absl::StatusOr<absl::Time> due =
        cal_->AddWorkingDuration(start, WorkingDuration::Of(d), options);
    ASSERT_TRUE(counting.ok() && due.ok());
    ASSERT_GE(*counting, start);
    ASSERT_EQ(*cal_->WorkingTimeBetween(*counting, *due), d);
    // A cut-off can only push the due time later.
    ASSERT_GE(*due, *cal_->AddWorkingDuration(start, WorkingDuration::Of(d)));
  }
}

TEST_F(CalendarPropertyTest, MonotonicInStartAndInDuration) {
  for (int i = 0; i < kIterations; ++i) {
    const absl::Time s1 = RandomStart();
    const absl::Time s2 = s1 + absl::Seconds(std::uniform_int_distribution<int>(
                                   0, 4 * 24 * 3600)(rng_));
    const absl::Duration d1 = RandomDuration();
    const absl::Duration d2 =
        d1 + absl::Seconds(std::uniform_int_distribution<int>(0, 40000)(rng_));
    const absl::Time a = *cal_->AddWorkingDuration(s1, WorkingDuration::Of(d1));
    const absl::Time b = *cal_->AddWorkingDuration(s2, WorkingDuration::Of(d1));
    const absl::Time c = *cal_->AddWorkingDuration(s1, WorkingDuration::Of(d2));
    ASSERT_LE(a, b) << "start " << s1 << " -> " << s2;
    ASSERT_LE(a, c) << "duration " << d1 << " -> " << d2;
    // The due instant is always inside (or at the end of) office hours.
    ASSERT_EQ(cal_->NextWorkingInstant(a - absl::Seconds(1)) <= a, true);
  }
}

TEST_F(CalendarPropertyTest, BetweenIsAdditive) {
  for (int i = 0; i < kIterations; ++i) {
    absl::Time t[3] = {RandomStart(), RandomStart(), RandomStart()};
    std::sort(std::begin(t), std::end(t));
    ASSERT_EQ(*cal_->WorkingTimeBetween(t[0], t[2]),
              *cal_->WorkingTimeBetween(t[0], t[1]) +
                  *cal_->WorkingTimeBetween(t[1], t[2]));
  }
}

}  // namespace
}  // namespace lienthong::calendar
