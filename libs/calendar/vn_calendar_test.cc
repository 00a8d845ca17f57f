// Guards data/calendars/vn.json: it parses, the compiled-in copy is current,
// and the holidays the law names are there for every year it covers (2025 to
// 2027).

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "libs/calendar/calendar_json.h"
#include "libs/calendar/default_calendar.h"
#include "libs/calendar/test_calendars.h"

namespace lienthong::calendar {
namespace {

using testing::Vn;

TEST(VnCalendarTest, CompiledInCopyMatchesTheFile) {
  const char* src = std::getenv("LIENTHONG_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  std::ifstream in(std::string(src) + "/data/calendars/vn.json");
  ASSERT_TRUE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), std::string(DefaultCalendarJson()));
}

TEST(VnCalendarTest, ParsesAndRoundTrips) {
  absl::StatusOr<CalendarData> data = ParseCalendarJson(DefaultCalendarJson());
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->id, "vn");
  absl::StatusOr<CalendarData> again = ParseCalendarJson(ToJson(*data));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *data);
}

TEST(VnCalendarTest, NamedHolidaysAreOff) {
  absl::StatusOr<WorkingCalendar> cal = DefaultCalendar();
  ASSERT_TRUE(cal.ok()) << cal.status();
  struct Case {
    absl::CivilDay day;
    const char* name_prefix;
  };
  const Case cases[] = {
      {absl::CivilDay(2025, 1, 1), "Tết Dương lịch"},
      {absl::CivilDay(2025, 1, 29), "Tết Nguyên đán"},
      {absl::CivilDay(2025, 4, 7), "Giỗ Tổ Hùng Vương"},
      {absl::CivilDay(2025, 4, 30), "Ngày Chiến thắng"},
      {absl::CivilDay(2025, 5, 1), "Ngày Quốc tế Lao động"},
      {absl::CivilDay(2025, 9, 1), "Quốc khánh"},
      {absl::CivilDay(2025, 9, 2), "Quốc khánh"},
      {absl::CivilDay(2026, 1, 1), "Tết Dương lịch"},
      {absl::CivilDay(2026, 2, 16), "Tết Nguyên đán"},
      {absl::CivilDay(2026, 2, 20), "Tết Nguyên đán"},
      {absl::CivilDay(2026, 4, 27), "Nghỉ bù Giỗ Tổ"},
      {absl::CivilDay(2026, 4, 30), "Ngày Chiến thắng"},
      {absl::CivilDay(2026, 5, 1), "Ngày Quốc tế Lao động"},
      {absl::CivilDay(2026, 9, 2), "Quốc khánh"},
      {absl::CivilDay(2027, 1, 1), "Tết Dương lịch"},
      {absl::CivilDay(2027, 2, 5), "Tết Nguyên đán Đinh Mùi"},
      {absl::CivilDay(2027, 2, 8), "Tết Nguyên đán Đinh Mùi"},
      {absl::CivilDay(2027, 2, 10), "Tết Nguyên đán Đinh Mùi"},  // bù 6/2
      {absl::CivilDay(2027, 2, 11), "Tết Nguyên đán Đinh Mùi"},  // bù 7/2
      {absl::CivilDay(2027, 4, 16), "Giỗ Tổ Hùng Vương"},
      {absl::CivilDay(2027, 4, 30), "Ngày Chiến thắng"},
      {absl::CivilDay(2027, 5, 1), "Ngày Quốc tế Lao động"},
      {absl::CivilDay(2027, 5, 3), "Nghỉ bù Ngày Quốc tế Lao động"},
      {absl::CivilDay(2027, 9, 2), "Quốc khánh"},
      {absl::CivilDay(2027, 9, 3), "Ngày liền kề Quốc khánh"},
  };
  for (const Case& c : cases) {
    const Holiday* h = cal->HolidayOn(c.day);
    ASSERT_NE(h, nullptr) << c.day;
    EXPECT_EQ(h->name.rfind(c.name_prefix, 0), 0u) << c.day << ": " << h->name;
    EXPECT_FALSE(cal->IsWorkingDay(c.day)) << c.day;
  }
  EXPECT_TRUE(cal->IsWorkingDay(absl::CivilDay(2026, 2, 23)));  // after Tết
  EXPECT_TRUE(cal->IsWorkingDay(absl::CivilDay(2027, 2, 4)));   // before
  EXPECT_TRUE(cal->IsWorkingDay(absl::CivilDay(2027, 2, 12)));  // after
  EXPECT_EQ(cal->KindOf(absl::CivilDay(2025, 4, 26)), DayKind::kMakeUp);
  // Not fixed by law alone, and no decision checked yet.
  EXPECT_TRUE(cal->HolidayOn(absl::CivilDay(2027, 2, 5))->tentative);
  EXPECT_TRUE(cal->HolidayOn(absl::CivilDay(2027, 9, 3))->tentative);
  EXPECT_FALSE(cal->HolidayOn(absl::CivilDay(2027, 9, 2))->tentative);
}

TEST(VnCalendarTest, EveryYearCoveredHasTheHolidaysFixedByLaw) {
  // covered_through() is the last year with any entry: a year added to the
  // data must be complete, or its dossiers count its holidays as working
  // days without the coverage warning.
  absl::StatusOr<WorkingCalendar> cal = DefaultCalendar();
  ASSERT_TRUE(cal.ok()) << cal.status();
  ASSERT_TRUE(cal->covered_through().has_value());
  EXPECT_GE(cal->covered_through()->year(), 2027);
  for (int y = 2025; y <= cal->covered_through()->year(); ++y) {
    for (absl::CivilDay d :
         {absl::CivilDay(y, 1, 1), absl::CivilDay(y, 4, 30),
          absl::CivilDay(y, 5, 1), absl::CivilDay(y, 9, 2)}) {
      EXPECT_NE(cal->HolidayOn(d), nullptr) << d;
    }
    int tet_days = 0;
    for (absl::CivilDay d(y, 1, 15); d <= absl::CivilDay(y, 2, 28); ++d) {
      const Holiday* h = cal->HolidayOn(d);
      if (h != nullptr && h->name.rfind("Tết Nguyên đán", 0) == 0) ++tet_days;
    }
    EXPECT_GE(tet_days, 5) << y;
  }
}

TEST(VnCalendarTest, ADecember2026DossierSkipsNewYear2027) {
  absl::StatusOr<WorkingCalendar> cal = DefaultCalendar();
  ASSERT_TRUE(cal.ok());
  // Received Tue 15/12/2026 10:00, 15 working days = 120 h: 6 h on 15/12,
  // 12 days to Thu 31/12 (102 h), Fri 1/1/2027 off, Mon 4/1 and Tue 5/1
  // (118 h), then Wed 6/1 08:00-10:00.
  EXPECT_EQ(*cal->AddWorkingDuration(Vn(2026, 12, 15, 10, 0),
                                     WorkingDuration::Days(15)),
            Vn(2027, 1, 6, 10, 0));
  EXPECT_FALSE(cal->BeyondCoverage(Vn(2027, 12, 31, 17, 0)));
  // Over Tết Đinh Mùi: Thu 4/2/2027 10:00 + 2 days -> Fri 12/2 then
  // Mon 15/2 10:00.
  EXPECT_EQ(
      *cal->AddWorkingDuration(Vn(2027, 2, 4, 10, 0), WorkingDuration::Days(2)),
      Vn(2027, 2, 15, 10, 0));
}

TEST(VnCalendarTest, Tet2026AppointmentFromTheRealData) {
  absl::StatusOr<WorkingCalendar> cal = DefaultCalendar();
  ASSERT_TRUE(cal.ok());
  // Received Thu 12/2/2026 10:00, 3 working days = 24h: 12/2 6h, 13/2 8h,
  // Tết until 22/2, 23/2 8h, then 24/2 08:00-10:00.
  EXPECT_EQ(*cal->AddWorkingDuration(Vn(2026, 2, 12, 10, 0),
                                     WorkingDuration::Days(3)),
            Vn(2026, 2, 24, 10, 0));
}

}  // namespace
}  // namespace lienthong::calendar
