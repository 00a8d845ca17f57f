#include "libs/calendar/coverage_watch.h"

#include <vector>

#include "gtest/gtest.h"
#include "libs/calendar/test_calendars.h"

namespace lienthong::calendar {
namespace {

using testing::Fixture;
using testing::Vn;

TEST(CoverageWatchTest, ReportsADueTimePastTheHolidayDataOncePerVersion) {
  std::vector<CoverageExceeded> reports;
  CoverageWatch watch([&](const CoverageExceeded& e) { reports.push_back(e); });
  // The fixture's holidays end with Tết 2026.
  const WorkingCalendar cal = Fixture();
  EXPECT_FALSE(watch.Check(cal, "test@1", Vn(2026, 12, 31, 17, 0)));
  EXPECT_TRUE(reports.empty());

  EXPECT_TRUE(watch.Check(cal, "test@1", Vn(2027, 1, 4, 9, 0)));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].calendar_id, "test");
  EXPECT_EQ(reports[0].calendar_version, "test@1");
  EXPECT_EQ(reports[0].covered_through, absl::CivilDay(2026, 12, 31));
  EXPECT_EQ(reports[0].due, Vn(2027, 1, 4, 9, 0));

  // Once per version: later due times of it say nothing more.
  EXPECT_FALSE(watch.Check(cal, "test@1", Vn(2027, 1, 5, 9, 0)));
  EXPECT_EQ(reports.size(), 1u);
  // Another version (the same data stored again, or the bundled copy) is
  // reported by itself.
  EXPECT_TRUE(watch.Check(cal, "test@2", Vn(2027, 1, 5, 9, 0)));
  EXPECT_EQ(reports.size(), 2u);
}

TEST(CoverageWatchTest, ACalendarWithoutHolidayDataIsNeverReported) {
  CalendarData data = testing::FixtureData();
  data.holidays.clear();
  data.make_up_days.clear();
  const WorkingCalendar cal = *WorkingCalendar::Create(data);
  int reports = 0;
  CoverageWatch watch([&](const CoverageExceeded&) { ++reports; });
  EXPECT_FALSE(watch.Check(cal, "test@1", Vn(2100, 1, 4, 9, 0)));
  EXPECT_EQ(reports, 0);
}

TEST(CoverageWatchTest, WithoutAReportNothingIsRemembered) {
  CoverageWatch watch;
  const WorkingCalendar cal = Fixture();
  EXPECT_FALSE(watch.Check(cal, "test@1", Vn(2027, 1, 4, 9, 0)));
  int reports = 0;
  watch.SetReport([&](const CoverageExceeded&) { ++reports; });
  EXPECT_TRUE(watch.Check(cal, "test@1", Vn(2027, 1, 4, 9, 0)));
  EXPECT_EQ(reports, 1);
}

}  // namespace
}  // namespace lienthong::calendar
