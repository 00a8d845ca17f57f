#include "libs/calendar/calendar_json.h"

#include <string>

#include "absl/strings/str_cat.h"
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
    {"date": "2026-01-11", "name": "Làm bù", "hours": ["08:00-12:00"]}
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
  EXPECT_EQ(d->make_up_days[0].day, absl::CivilDay(2026, 1, 11));
}

TEST(CalendarJsonTest, RoundTripsFixtureData) {
  const CalendarData data = testing::FixtureData();
  const std::string json = ToJson(data);
  EXPECT_NE(json.find("Tết Nguyên đán Bính Ngọ"), std::string::npos);
  absl::StatusOr<CalendarData> back = ParseCalendarJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, data);
}

TEST(CalendarJsonTest, KeepsTheDefaultCutoff) {
  std::string json = kGood;
  json.insert(json.rfind('}'), R"(, "default_cutoff_local_time": "15:30")");
  absl::StatusOr<CalendarData> d = ParseCalendarJson(json);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->default_cutoff_minute, 15 * 60 + 30);
  const std::string again = ToJson(*d);
  EXPECT_NE(again.find(R"("default_cutoff_local_time": "15:30")"),
            std::string::npos)
      << again;
  EXPECT_EQ(*ParseCalendarJson(again), *d);
  // None: none, and no key written (a release that does not know the key
  // still reads the document).
  absl::StatusOr<CalendarData> none = ParseCalendarJson(kGood);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->default_cutoff_minute, absl::nullopt);
  EXPECT_EQ(ToJson(*none).find("default_cutoff"), std::string::npos);
}

TEST(CalendarJsonTest, RejectsADefaultCutoffThatIsNoTimeOfDay) {
  for (const char* bad : {"3pm", "15h", "15:60", "24:00", "1500", "7:00"}) {
    std::string json = kGood;
    json.insert(json.rfind('}'),
                absl::StrCat(R"(, "default_cutoff_local_time": ")", bad, "\""));
    EXPECT_THAT(DetailsOf(json).field_violations,
                Contains(Field(&common::FieldViolation::field,
                               "default_cutoff_local_time")))
        << bad;
  }
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

TEST(CalendarJsonTest, RejectsAKeyRepeatedInOneObject) {
  struct Case {
    const char* json;
    const char* field;
  };
  const Case cases[] = {
      // Kept as the last one, this would be a calendar with no holidays.
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00"]},
           "holidays": [{"name": "A", "from": "2026-01-01"}],
           "holidays": []})",
       "holidays"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00", "13:00-17:00"],
                            "monday": ["08:00-09:00"]}})",
       "office_hours.monday"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00"]},
           "holidays": [{"name": "A", "from": "2026-01-01"},
                        {"name": "B", "from": "2026-01-05",
                         "to": "2026-01-06", "to": "2026-01-09"}]})",
       "holidays[1].to"},
      {R"({"id": "x", "time_zone": "Asia/Ho_Chi_Minh",
           "office_hours": {"monday": ["08:00-12:00"]},
           "make_up_days": [{"date": "2026-01-10", "name": "Bù",
                             "hours": ["08:00-12:00"],
                             "hours": ["08:00-09:00"]}]})",
       "make_up_days[0].hours"},
      {R"({"id": "x", "id": "y", "time_zone": "Asia/Ho_Chi_Minh",
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
  // The same key in different objects is fine (kGood repeats "name").
  EXPECT_TRUE(ParseCalendarJson(kGood).ok());
}

TEST(CalendarJsonTest, RejectsAMakeUpDayOnADayWithOfficeHours) {
  // Monday 9/3/2026 has office hours: a "make-up" day there would replace
  // them with its own.
  const common::ErrorDetails d = DetailsOf(R"({
    "id": "x", "time_zone": "Asia/Ho_Chi_Minh",
    "office_hours": {"monday": ["08:00-12:00", "13:00-17:00"]},
    "make_up_days": [{"date": "2026-03-09", "name": "Bù",
                      "hours": ["08:00-09:00"]}]})");
  EXPECT_THAT(d.field_violations, Contains(Field(&common::FieldViolation::field,
                                                 "make_up_days[0].date")));
  // A Saturday (no office hours) is what make-up days are for.
  EXPECT_TRUE(ParseCalendarJson(R"({
    "id": "x", "time_zone": "Asia/Ho_Chi_Minh",
    "office_hours": {"monday": ["08:00-12:00", "13:00-17:00"]},
    "make_up_days": [{"date": "2026-03-07", "name": "Bù",
                      "hours": ["08:00-09:00"]}]})")
                  .ok());
}

TEST(CalendarJsonTest, RejectsTimeZonesThatAreNotIanaNames) {
  for (const char* tz : {"localtime", "/etc/localtime", "file:/etc/localtime",
                         "../../etc/localtime", "posix/Asia/Ho_Chi_Minh"}) {
    const std::string json =
        absl::StrCat(R"({"id": "x", "time_zone": ")", tz,
                     R"(", "office_hours": {"monday": ["08:00-17:00"]}})");
    const common::ErrorDetails d = DetailsOf(json);
    EXPECT_THAT(d.field_violations,
                Contains(Field(&common::FieldViolation::field, "time_zone")))
        << tz;
  }
  CalendarData data = testing::FixtureData();
  data.time_zone = "localtime";
  EXPECT_EQ(WorkingCalendar::Create(data).status().code(),
            absl::StatusCode::kInvalidArgument);
  data.time_zone = "UTC";
  EXPECT_TRUE(WorkingCalendar::Create(data).ok());
}

TEST(CalendarJsonTest, ReportsEveryOverlapNotOnlyWithTheNeighbour) {
  // B and C both lie inside A; C does not touch B.
  const common::ErrorDetails d = DetailsOf(R"({
    "id": "x", "time_zone": "Asia/Ho_Chi_Minh",
    "office_hours": {"monday": ["08:00-12:00"]},
    "holidays": [{"name": "A", "from": "2026-01-01", "to": "2026-01-10"},
                 {"name": "B", "from": "2026-01-02", "to": "2026-01-03"},
                 {"name": "C", "from": "2026-01-05", "to": "2026-01-06"}]})");
  EXPECT_THAT(d.field_violations,
              Contains(Field(&common::FieldViolation::field, "holidays[1]")));
  EXPECT_THAT(d.field_violations,
              Contains(Field(&common::FieldViolation::field, "holidays[2]")));
}

TEST(CalendarJsonTest, AHolidayRangeIsAtMost366Days) {
  CalendarData data = testing::FixtureData();
  data.holidays = {{absl::CivilDay(2028, 1, 1), absl::CivilDay(2028, 12, 31),
                    "Cả năm nhuận", "", false}};  // 366 days
  EXPECT_TRUE(Validate(data).ok()) << Validate(data);
  data.holidays[0].last = absl::CivilDay(2029, 1, 1);  // 367 days
  EXPECT_THAT(
      common::GetErrorDetails(Validate(data)).field_violations,
      Contains(Field(&common::FieldViolation::field, "holidays[0].to")));
}

TEST(CalendarJsonTest, CapsTheHolidayDaysOfOneCalendar) {
  // 100 ranges of 366 days are the cap; one day more is refused (a small
  // document must not expand into millions of indexed days).
  CalendarData data = testing::FixtureData();
  data.holidays.clear();
  data.make_up_days.clear();
  absl::CivilDay from(1900, 1, 1);
  for (int i = 0; i < kMaxHolidayDays / 366; ++i, from += 366) {
    data.holidays.push_back({from, from + 365, "Nghỉ", "", false});
  }
  EXPECT_TRUE(Validate(data).ok()) << Validate(data);
  data.holidays.push_back({from, from, "Nghỉ", "", false});
  EXPECT_THAT(common::GetErrorDetails(Validate(data)).field_violations,
              Contains(Field(&common::FieldViolation::field, "holidays")));
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
