#include "libs/calendar/calendar_json.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/calendar/test_calendars.h"
#include "libs/common/errors.h"

namespace lienthong::calendar {
namespace {

using ::testing::Contains;
using ::testing::Field;

const char kGood[] = R"({
  "id": "vn-hn",
  "name": "Lịch làm việc Hà Nội",
  "time_zone": "Asia/Ho_Chi_Minh",
  "office_hours": {"monday": ["08:00-12:00", "13:00-17:00"],
                   "saturday": ["08:00-12:00"]},
  "reception_hours": {"saturday": ["08:00-11:30"]},
  "holidays": [
    {"name": "Tết Nguyên đán", "from": "2026-02-14", "to": "2026-02-22"},
    {"name": "Giỗ Tổ Hùng Vương", "from": "2026-04-26", "tentative": true}
  ],
  "make_up_days": [
    {"date": "2026-01-10", "name": "Làm bù", "hours": ["08:00-12:00"]}
  ]
})";

common::ErrorDetails DetailsOf(absl::string_view json) {
  absl::StatusOr<CalendarData> d = ParseCalendarJson(json);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << json;
  return common::GetErrorDetails(d.status());
}

TEST(CalendarJsonTest, ParsesEveryField) {
  absl::StatusOr<CalendarData> d = ParseCalendarJson(kGood);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->id, "vn-hn");
  EXPECT_EQ(d->office_hours[0],
            (std::vector<Segment>{{480, 720}, {780, 1020}}));
  EXPECT_EQ(d->office_hours[5], (std::vector<Segment>{{480, 720}}));
  EXPECT_TRUE(d->office_hours[1].empty());
  EXPECT_EQ(d->reception_hours[5], (std::vector<Segment>{{480, 690}}));
  ASSERT_EQ(d->holidays.size(), 2u);
  EXPECT_EQ(d->holidays[0].first, absl::CivilDay(2026, 2, 14));
  EXPECT_EQ(d->holidays[0].last, absl::CivilDay(2026, 2, 22));
  EXPECT_EQ(d->holidays[1].last, absl::CivilDay(2026, 4, 26));  // "to" omitted
  EXPECT_TRUE(d->holidays[1].tentative);
  ASSERT_EQ(d->make_up_days.size(), 1u);
  EXPECT_EQ(d->make_up_days[0].day, absl::CivilDay(2026, 1, 10));
}

TEST(CalendarJsonTest, RoundTripsFixtureData) {
  const CalendarData data = testing::FixtureData();
  const std::string json = ToJson(data);
  EXPECT_NE(json.find("Tết Nguyên đán Bính Ngọ"), std::string::npos);
  absl::StatusOr<CalendarData> back = ParseCalendarJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, data);
}

TEST(CalendarJsonTest, RejectsMalformedInputWithFieldViolations) {
  struct Case {
    const char* json;
    const char* field;
  };
  const Case cases[] = {
      {"{not json", ""},
      {"[]", ""},
      {R"({"time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00"]}})",
       "id"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["12:00-08:00"]}})",
       "office_hours.monday[0]"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00", "11:00-17:00"]}})",
       "office_hours.monday[1]"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["8h-12h"]}})",
       "office_hours.monday[0]"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"mon": ["08:00-12:00"]}})",
       "office_hours.mon"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh", "holiday": [],
           "office_hours": {"monday": ["08:00-12:00"]}})",
       "holiday"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh", "office_hours": {}})",
       "office_hours"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00"]},
           "holidays": [{"name": "A", "from": "2026-02-30"}]})",
       "holidays[0].from"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00"]},
           "holidays": [{"name": "A", "from": "2026-02-10", "to": "2026-02-01"}]})",
       "holidays[0].to"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00"]},
           "holidays": [{"name": "Tết", "from": "2026-02-14", "to": "2026-02-22"},
                        {"name": "Trùng", "from": "2026-02-20", "to": "2026-02-25"}]})",
       "holidays[1]"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00"]},
           "holidays": [{"name": "Tết", "from": "2026-02-14", "to": "2026-02-22"}],
           "make_up_days": [{"date": "2026-02-21", "name": "Bù",
                             "hours": ["08:00-12:00"]}]})",
       "make_up_days[0].date"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00"]},
           "make_up_days": [{"date": "2026-02-21", "name": "Bù"}]})",
       "make_up_days[0].hours"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00"]},
           "holidays": [{"from": "2026-02-21"}]})",
       "holidays[0].name"},
      {R"({"id": 5, "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00"]}})",
       "id"},
  };
  for (const Case& c : cases) {
    const common::ErrorDetails d = DetailsOf(c.json);
    EXPECT_EQ(d.reason, "CALENDAR_INVALID") << c.json;
    EXPECT_THAT(d.field_violations,
                Contains(Field(&common::FieldViolation::field, c.field)))
        << c.json;
  }
}

TEST(CalendarJsonTest, ReportsEveryViolationAtOnce) {
  const common::ErrorDetails d = DetailsOf(R"({
    "id": "", "time_zone": "Asia/Ho_Chi_Minh",
    "office_hours": {"monday": ["08:00-12:00"], "tuesday": ["17:00-08:00"]},
    "holidays": [{"name": "A", "from": "2026-01-01", "to": "2026-01-05"},
                 {"name": "B", "from": "2026-01-03", "to": "2026-01-04"}]})");
  EXPECT_GE(d.field_violations.size(), 3u);
}

TEST(CalendarJsonTest, UnknownTimeZoneIsRejectedByCreate) {
  CalendarData data = testing::FixtureData();
  data.time_zone = "Mars/Olympus_Mons";
  EXPECT_EQ(WorkingCalendar::Create(data).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CalendarJsonTest, DayFormat) {
  absl::CivilDay d;
  EXPECT_TRUE(ParseDay("2026-02-14", &d));
  EXPECT_EQ(FormatDay(d), "2026-02-14");
  EXPECT_FALSE(ParseDay("2026-2-14", &d));
  EXPECT_FALSE(ParseDay("2026-13-01", &d));
  EXPECT_FALSE(ParseDay("2025-02-29", &d));
}

}  // namespace
}  // namespace lienthong::calendar
