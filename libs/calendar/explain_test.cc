#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/calendar/test_calendars.h"
#include "libs/calendar/working_calendar.h"

namespace lienthong::calendar {
namespace {

using ::testing::ElementsAre;
using testing::Fixture;
using testing::Vn;

std::string Hm(absl::Time t) {
  return absl::FormatTime("%d/%m %H:%M", t, absl::FixedTimeZone(7 * 3600));
}

// "REASON detail from-to" per skipped span, compact enough to compare whole.
std::vector<std::string> Skips(const Explanation& e) {
  std::vector<std::string> out;
  for (const SkippedSpan& s : e.skipped) {
    out.push_back(absl::StrCat(SkipReasonName(s.reason),
                               s.detail.empty() ? "" : " ", s.detail, " ",
                               Hm(s.start), "-", Hm(s.end)));
  }
  return out;
}

std::vector<std::string> Counted(const Explanation& e) {
  std::vector<std::string> out;
  for (const CountedSpan& c : e.counted) {
    out.push_back(absl::StrCat(Hm(c.start), "-", Hm(c.end)));
  }
  return out;
}

TEST(ExplainTest, AfterCutoffBeforeTetListsEveryHolidayDay) {
  AddOptions options;
  options.cutoff_minute = 15 * 60;
  absl::StatusOr<Explanation> e = Fixture().Explain(
      Vn(2026, 2, 13, 16, 0), WorkingDuration::Days(1), options);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(Hm(e->counting_starts), "23/02 08:00");
  EXPECT_EQ(Hm(e->due), "23/02 17:00");
  EXPECT_EQ(e->working_time, absl::Hours(8));
  const std::string tet = "Tết Nguyên đán Bính Ngọ";
  std::vector<std::string> want = {
      "AFTER_CUTOFF 15:00 13/02 16:00-14/02 00:00"};
  for (int d = 14; d <= 22; ++d) {
    want.push_back(absl::StrCat("HOLIDAY ", tet, " ", d, "/02 00:00-", d + 1,
                                "/02 00:00"));
  }
  want.push_back("LUNCH_BREAK 23/02 12:00-23/02 13:00");
  EXPECT_EQ(Skips(*e), want);
  EXPECT_THAT(Counted(*e), ElementsAre("23/02 08:00-23/02 12:00",
                                       "23/02 13:00-23/02 17:00"));
  EXPECT_EQ(e->skipped[0].description_vi,
            "Tiếp nhận sau 15:00, tính từ ngày làm việc tiếp theo");
  EXPECT_EQ(e->skipped[1].description_vi, "Nghỉ lễ, Tết: " + tet);
}

TEST(ExplainTest, FridayEveningSkipsTheWeekend) {
  absl::StatusOr<Explanation> e =
      Fixture().Explain(Vn(2026, 3, 6, 18, 0), WorkingDuration::Hours(2));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(Skips(*e),
              ElementsAre("AFTER_OFFICE_HOURS 06/03 18:00-07/03 00:00",
                          "WEEKEND 07/03 00:00-08/03 00:00",
                          "WEEKEND 08/03 00:00-09/03 00:00"));
  EXPECT_EQ(e->skipped[1].description_vi, "Nghỉ cuối tuần (Thứ Bảy)");
  EXPECT_THAT(Counted(*e), ElementsAre("09/03 08:00-09/03 10:00"));
}

TEST(ExplainTest, ReceivedInLunchBreakAndBeforeOfficeHours) {
  absl::StatusOr<Explanation> lunch =
      Fixture().Explain(Vn(2026, 3, 9, 12, 20), WorkingDuration::Hours(1));
  ASSERT_TRUE(lunch.ok());
  EXPECT_THAT(Skips(*lunch),
              ElementsAre("LUNCH_BREAK 09/03 12:20-09/03 13:00"));
  EXPECT_EQ(Hm(lunch->due), "09/03 14:00");

  absl::StatusOr<Explanation> early =
      Fixture().Explain(Vn(2026, 3, 9, 7, 0), WorkingDuration::Hours(5));
  ASSERT_TRUE(early.ok());
  EXPECT_THAT(Skips(*early),
              ElementsAre("BEFORE_OFFICE_HOURS 09/03 07:00-09/03 08:00",
                          "LUNCH_BREAK 09/03 12:00-09/03 13:00"));
  EXPECT_THAT(Counted(*early), ElementsAre("09/03 08:00-09/03 12:00",
                                           "09/03 13:00-09/03 14:00"));
}

TEST(ExplainTest, MakeUpSaturdayIsCountedAndBridgeIsSkipped) {
  absl::StatusOr<Explanation> e =
      Fixture().Explain(Vn(2025, 4, 25, 16, 0), WorkingDuration::Days(4));
  ASSERT_TRUE(e.ok());
  // 25/4 1h, 26/4 (make-up) 8h, 28/4 8h, 29/4 8h, then 30/4–4/5 off, 5/5 7h.
  EXPECT_EQ(Hm(e->due), "05/05 16:00");
  EXPECT_THAT(Skips(*e),
              ::testing::Contains("WEEKEND 27/04 00:00-28/04 00:00"));
  EXPECT_THAT(Skips(*e),
              ::testing::Contains(
                  "HOLIDAY Ngày Chiến thắng 30/4 30/04 00:00-01/05 00:00"));
  EXPECT_THAT(Counted(*e), ::testing::Contains("26/04 08:00-26/04 12:00"));
}

TEST(ExplainTest, SumOfCountedSpansIsTheDuration) {
  absl::StatusOr<Explanation> e =
      Fixture().Explain(Vn(2026, 2, 10, 9, 17), WorkingDuration::Days(7));
  ASSERT_TRUE(e.ok());
  absl::Duration sum;
  for (const CountedSpan& c : e->counted) sum += c.end - c.start;
  EXPECT_EQ(sum, absl::Hours(56));
  EXPECT_EQ(e->counted.back().end, e->due);
}

}  // namespace
}  // namespace lienthong::calendar
