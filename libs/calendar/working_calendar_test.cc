#include "libs/calendar/working_calendar.h"

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/calendar/test_calendars.h"

namespace lienthong::calendar {
namespace {

using testing::Fixture;
using testing::Vn;

std::string Show(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S %a", t,
                          absl::FixedTimeZone(7 * 3600));
}

constexpr int kCutoff15 = 15 * 60;

struct AddCase {
  const char* what;
  absl::Time start;
  WorkingDuration duration;
  absl::optional<int> cutoff;
  absl::Time want;
};

TEST(WorkingCalendarTest, AddWorkingDurationHandWorkedCases) {
  const WorkingCalendar cal = Fixture();
  const AddCase cases[] = {
      // "N working days" ends at the same time of day N days later.
      {"Mon 10:00 + 1 day", Vn(2026, 3, 9, 10, 0), WorkingDuration::Days(1),
       absl::nullopt, Vn(2026, 3, 10, 10, 0)},
      {"Mon 08:00 + 1 day ends the same evening", Vn(2026, 3, 9, 8, 0),
       WorkingDuration::Days(1), absl::nullopt, Vn(2026, 3, 9, 17, 0)},
      {"Mon 08:00 + 4 h ends at 12:00, not 13:00", Vn(2026, 3, 9, 8, 0),
       WorkingDuration::Hours(4), absl::nullopt, Vn(2026, 3, 9, 12, 0)},
      {"zero duration in office hours is the start", Vn(2026, 3, 9, 9, 15),
       WorkingDuration::Hours(0), absl::nullopt, Vn(2026, 3, 9, 9, 15)},
      // Lunch break does not count.
      {"11:00 + 2 h skips lunch", Vn(2026, 3, 9, 11, 0),
       WorkingDuration::Hours(2), absl::nullopt, Vn(2026, 3, 9, 14, 0)},
      {"received at 12:30 counts from 13:00", Vn(2026, 3, 9, 12, 30),
       WorkingDuration::Hours(4), absl::nullopt, Vn(2026, 3, 9, 17, 0)},
      {"before office hours counts from 08:00", Vn(2026, 3, 9, 6, 45),
       WorkingDuration::Hours(1), absl::nullopt, Vn(2026, 3, 9, 9, 0)},
      // Friday evening -> Monday.
      {"Fri 18:00 + 1 day", Vn(2026, 3, 6, 18, 0), WorkingDuration::Days(1),
       absl::nullopt, Vn(2026, 3, 9, 17, 0)},
      {"Fri 17:00 exactly is after hours", Vn(2026, 3, 6, 17, 0),
       WorkingDuration::Hours(1), absl::nullopt, Vn(2026, 3, 9, 9, 0)},
      {"Fri 16:00 + 1 day", Vn(2026, 3, 6, 16, 0), WorkingDuration::Days(1),
       absl::nullopt, Vn(2026, 3, 9, 16, 0)},
      // Saturday-morning reception counts from the next working day.
      {"Sat 09:00 reception + 1 day", Vn(2026, 3, 7, 9, 0),
       WorkingDuration::Days(1), absl::nullopt, Vn(2026, 3, 9, 17, 0)},
      // Cut-off 15:00 (civil status): after it, the next working day.
      {"16:59, no cut-off: one minute counts today", Vn(2026, 3, 9, 16, 59),
       WorkingDuration::Days(1), absl::nullopt, Vn(2026, 3, 10, 16, 59)},
      {"16:59 with cut-off 15:00", Vn(2026, 3, 9, 16, 59),
       WorkingDuration::Days(1), kCutoff15, Vn(2026, 3, 10, 17, 0)},
      {"15:01 with cut-off 15:00", Vn(2026, 3, 9, 15, 1),
       WorkingDuration::Days(1), kCutoff15, Vn(2026, 3, 10, 17, 0)},
      {"15:00:00 with cut-off 15:00 still counts today", Vn(2026, 3, 9, 15, 0),
       WorkingDuration::Days(1), kCutoff15, Vn(2026, 3, 10, 15, 0)},
      {"14:59 with cut-off 15:00 counts today", Vn(2026, 3, 9, 14, 59),
       WorkingDuration::Days(1), kCutoff15, Vn(2026, 3, 10, 14, 59)},
      {"Fri 15:30 with cut-off -> Monday", Vn(2026, 3, 6, 15, 30),
       WorkingDuration::Days(2), kCutoff15, Vn(2026, 3, 10, 17, 0)},
      // Tết 2026: 14/2 (Sat) to 22/2 (Sun) off.
      {"Fri 13/2/2026 10:00 + 1 day over Tết", Vn(2026, 2, 13, 10, 0),
       WorkingDuration::Days(1), absl::nullopt, Vn(2026, 2, 23, 10, 0)},
      {"Fri 13/2/2026 16:00 + 5 days", Vn(2026, 2, 13, 16, 0),
       WorkingDuration::Days(5), absl::nullopt, Vn(2026, 2, 27, 16, 0)},
      {"received during Tết counts from Mon 23/2", Vn(2026, 2, 17, 9, 0),
       WorkingDuration::Days(1), absl::nullopt, Vn(2026, 2, 23, 17, 0)},
      {"Fri 13/2/2026 15:30 after cut-off", Vn(2026, 2, 13, 15, 30),
       WorkingDuration::Days(1), kCutoff15, Vn(2026, 2, 23, 17, 0)},
      // 30/4–1/5/2025 bridge: 30/4, 1/5, 2/5 off; Sat 26/4 made up.
      {"Tue 29/4/2025 09:00 + 2 days over the bridge", Vn(2025, 4, 29, 9, 0),
       WorkingDuration::Days(2), absl::nullopt, Vn(2025, 5, 6, 9, 0)},
      // The make-up Saturday counts.
      {"Fri 25/4/2025 14:00 + 1 day runs into make-up Sat",
       Vn(2025, 4, 25, 14, 0), WorkingDuration::Days(1), absl::nullopt,
       Vn(2025, 4, 26, 14, 0)},
      {"received on make-up Sat 26/4/2025 10:00 + 4 h", Vn(2025, 4, 26, 10, 0),
       WorkingDuration::Hours(4), absl::nullopt, Vn(2025, 4, 26, 15, 0)},
      {"a normal Saturday does not count", Vn(2025, 4, 19, 10, 0),
       WorkingDuration::Hours(4), absl::nullopt, Vn(2025, 4, 21, 12, 0)},
  };
  for (const AddCase& c : cases) {
    AddOptions options;
    options.cutoff_minute = c.cutoff;
    absl::StatusOr<absl::Time> due =
        cal.AddWorkingDuration(c.start, c.duration, options);
    ASSERT_TRUE(due.ok()) << c.what << ": " << due.status();
    EXPECT_EQ(Show(*due), Show(c.want)) << c.what;
  }
}

TEST(WorkingCalendarTest, WorkingTimeBetweenCountsOnlyOfficeHours) {
  const WorkingCalendar cal = Fixture();
  struct Case {
    absl::Time a, b;
    absl::Duration want;
  };
  const Case cases[] = {
      {Vn(2026, 3, 9, 11, 0), Vn(2026, 3, 9, 14, 0), absl::Hours(2)},
      {Vn(2026, 3, 9, 0, 0), Vn(2026, 3, 10, 0, 0), absl::Hours(8)},
      {Vn(2026, 3, 6, 16, 0), Vn(2026, 3, 9, 9, 0), absl::Hours(2)},
      {Vn(2026, 2, 13, 0, 0), Vn(2026, 2, 24, 0, 0), absl::Hours(16)},
      {Vn(2025, 4, 25, 0, 0), Vn(2025, 5, 6, 0, 0), absl::Hours(40)},
      {Vn(2026, 3, 9, 14, 0), Vn(2026, 3, 9, 11, 0), -absl::Hours(2)},
      {Vn(2026, 3, 9, 12, 10), Vn(2026, 3, 9, 12, 50), absl::ZeroDuration()},
  };
  for (const Case& c : cases) {
    absl::StatusOr<absl::Duration> got = cal.WorkingTimeBetween(c.a, c.b);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, c.want) << Show(c.a) << " .. " << Show(c.b);
  }
}

TEST(WorkingCalendarTest, NextWorkingInstant) {
  const WorkingCalendar cal = Fixture();
  struct Case {
    absl::Time t, want;
  };
  const Case cases[] = {
      {Vn(2026, 3, 9, 10, 0), Vn(2026, 3, 9, 10, 0)},    // inside
      {Vn(2026, 3, 9, 12, 0), Vn(2026, 3, 9, 13, 0)},    // lunch
      {Vn(2026, 3, 9, 7, 0), Vn(2026, 3, 9, 8, 0)},      // early
      {Vn(2026, 3, 6, 17, 0), Vn(2026, 3, 9, 8, 0)},     // Fri evening
      {Vn(2026, 2, 13, 17, 30), Vn(2026, 2, 23, 8, 0)},  // Tết
      {Vn(2025, 4, 25, 20, 0), Vn(2025, 4, 26, 8, 0)},   // make-up Sat
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Show(cal.NextWorkingInstant(c.t)), Show(c.want)) << Show(c.t);
  }
}

TEST(WorkingCalendarTest, NextWorkingDaySkipsWeekendsAndHolidays) {
  const WorkingCalendar cal = Fixture();
  struct Case {
    absl::CivilDay from, want;
  };
  const Case cases[] = {
      {absl::CivilDay(2026, 3, 6), absl::CivilDay(2026, 3, 9)},    // Fri
      {absl::CivilDay(2026, 2, 13), absl::CivilDay(2026, 2, 23)},  // Tết
      {absl::CivilDay(2025, 4, 25), absl::CivilDay(2025, 4, 26)},  // make-up
      {absl::CivilDay(2025, 4, 29), absl::CivilDay(2025, 5, 5)},   // bridge
  };
  for (const Case& c : cases) {
    EXPECT_EQ(cal.NextWorkingDay(c.from), c.want) << "from " << c.from;
  }
  EXPECT_EQ(cal.KindOf(absl::CivilDay(2025, 4, 26)), DayKind::kMakeUp);
  EXPECT_EQ(cal.KindOf(absl::CivilDay(2026, 2, 17)), DayKind::kHoliday);
  EXPECT_EQ(cal.KindOf(absl::CivilDay(2026, 3, 8)), DayKind::kWeekend);
  EXPECT_EQ(cal.KindOf(absl::CivilDay(2026, 3, 9)), DayKind::kWorking);
  ASSERT_NE(cal.HolidayOn(absl::CivilDay(2026, 2, 17)), nullptr);
  EXPECT_EQ(cal.HolidayOn(absl::CivilDay(2026, 2, 17))->name,
            "Tết Nguyên đán Bính Ngọ");
}

TEST(WorkingCalendarTest, ReceptionHoursDifferFromWorkingHours) {
  const WorkingCalendar cal = Fixture();
  EXPECT_TRUE(cal.IsReceptionOpen(Vn(2026, 3, 7, 9, 0)));     // Sat morning
  EXPECT_FALSE(cal.IsReceptionOpen(Vn(2026, 3, 7, 11, 30)));  // closed
  EXPECT_FALSE(cal.IsWorkingDay(absl::CivilDay(2026, 3, 7)));
  EXPECT_TRUE(cal.IsReceptionOpen(Vn(2026, 3, 9, 16, 59)));
  EXPECT_FALSE(cal.IsReceptionOpen(Vn(2026, 3, 9, 12, 30)));  // lunch
  EXPECT_FALSE(cal.IsReceptionOpen(Vn(2026, 2, 16, 9, 0)));   // Tết
  EXPECT_TRUE(cal.IsReceptionOpen(Vn(2025, 4, 26, 14, 0)));   // make-up Sat
}

TEST(WorkingCalendarTest, CountingStartAppliesCutoff) {
  const WorkingCalendar cal = Fixture();
  AddOptions cutoff;
  cutoff.cutoff_minute = kCutoff15;
  EXPECT_EQ(Show(*cal.CountingStart(Vn(2026, 3, 9, 15, 1), cutoff)),
            Show(Vn(2026, 3, 10, 8, 0)));
  EXPECT_EQ(Show(*cal.CountingStart(Vn(2026, 3, 9, 15, 1))),
            Show(Vn(2026, 3, 9, 15, 1)));
}

// A calendar's default cut-off counts where the caller (the procedure)
// names none; the caller's own wins over it.
TEST(WorkingCalendarTest, TheDefaultCutoffAppliesWhenTheCallerNamesNone) {
  CalendarData data = testing::FixtureData();
  data.default_cutoff_minute = kCutoff15;
  const absl::StatusOr<WorkingCalendar> cal = WorkingCalendar::Create(data);
  ASSERT_TRUE(cal.ok()) << cal.status();
  struct Case {
    const char* what;
    absl::Time start;
    absl::optional<int> cutoff;
    absl::Time want;
  };
  const Case cases[] = {
      {"15:01, none named: the default's next day", Vn(2026, 3, 9, 15, 1),
       absl::nullopt, Vn(2026, 3, 10, 17, 0)},
      {"15:00:00, none named: today", Vn(2026, 3, 9, 15, 0), absl::nullopt,
       Vn(2026, 3, 10, 15, 0)},
      {"Fri 15:30, none named: Monday", Vn(2026, 3, 6, 15, 30), absl::nullopt,
       Vn(2026, 3, 9, 17, 0)},
      {"15:30, the procedure's 16:00 wins: today", Vn(2026, 3, 9, 15, 30),
       16 * 60, Vn(2026, 3, 10, 15, 30)},
      {"16:30, the procedure's 16:00: next day", Vn(2026, 3, 9, 16, 30),
       16 * 60, Vn(2026, 3, 10, 17, 0)},
  };
  for (const Case& c : cases) {
    AddOptions options;
    options.cutoff_minute = c.cutoff;
    absl::StatusOr<absl::Time> due =
        cal->AddWorkingDuration(c.start, WorkingDuration::Days(1), options);
    ASSERT_TRUE(due.ok()) << c.what << ": " << due.status();
    EXPECT_EQ(Show(*due), Show(c.want)) << c.what;
  }
  // The explanation names the cut-off that applied.
  absl::StatusOr<Explanation> e =
      cal->Explain(Vn(2026, 3, 9, 15, 1), WorkingDuration::Days(1));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(
      e->skipped,
      ::testing::Contains(::testing::AllOf(
          ::testing::Field(&SkippedSpan::reason, SkipReason::kAfterCutoff),
          ::testing::Field(&SkippedSpan::detail, "15:00"))));
  // Outside the day it is no cut-off.
  data.default_cutoff_minute = kMinutesPerDay;
  EXPECT_EQ(WorkingCalendar::Create(data).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WorkingCalendarTest, RejectsNegativeDuration) {
  const WorkingCalendar cal = Fixture();
  EXPECT_EQ(cal.AddWorkingDuration(Vn(2026, 3, 9, 10, 0),
                                   WorkingDuration::Of(-absl::Minutes(1)))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WorkingCalendarTest, RefusesInstantsOutsideYears1To9999) {
  const WorkingCalendar cal = Fixture();
  const absl::Time far_future = absl::FromUnixSeconds(int64_t{1} << 62);
  const absl::Time far_past = absl::FromUnixSeconds(-(int64_t{1} << 62));
  const absl::Time year_20000 =
      absl::FromCivil(absl::CivilSecond(20000, 1, 3, 9, 0, 0), cal.time_zone());
  const absl::Time year_0 =
      absl::FromCivil(absl::CivilSecond(0, 6, 1, 9, 0, 0), cal.time_zone());
  const absl::Time in_range = Vn(2026, 3, 9, 10, 0);
  for (absl::Time t : {far_future, far_past, year_20000, year_0,
                       absl::InfiniteFuture(), absl::InfinitePast()}) {
    EXPECT_EQ(
        cal.AddWorkingDuration(t, WorkingDuration::Days(2)).status().code(),
        absl::StatusCode::kInvalidArgument)
        << t;
    EXPECT_EQ(cal.CountingStart(t).status().code(),
              absl::StatusCode::kInvalidArgument)
        << t;
    EXPECT_EQ(cal.Explain(t, WorkingDuration::Days(2)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << t;
    EXPECT_EQ(cal.WorkingTimeBetween(in_range, t).status().code(),
              absl::StatusCode::kInvalidArgument)
        << t;
    EXPECT_EQ(cal.WorkingTimeBetween(t, in_range).status().code(),
              absl::StatusCode::kInvalidArgument)
        << t;
  }
  // Within range, but the due time would leave it.
  EXPECT_EQ(
      cal.AddWorkingDuration(Vn(9999, 12, 31, 16, 0), WorkingDuration::Days(2))
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      cal.AddWorkingDuration(Vn(9999, 12, 1, 9, 0), WorkingDuration::Days(2))
          .ok());
  EXPECT_TRUE(
      cal.AddWorkingDuration(Vn(1, 1, 2, 9, 0), WorkingDuration::Days(2)).ok());
}

TEST(WorkingCalendarTest, WorkingTimeBetweenIsBoundedByTheHorizon) {
  const WorkingCalendar cal = Fixture();
  const absl::Time a = Vn(2026, 1, 1, 0, 0);
  // Thousands of years apart, both in range: refused at once, not counted
  // day by day.
  EXPECT_EQ(cal.WorkingTimeBetween(a, Vn(9999, 12, 31, 0, 0)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cal.WorkingTimeBetween(Vn(9999, 12, 31, 0, 0), a).status().code(),
            absl::StatusCode::kInvalidArgument);
  const absl::CivilDay last =
      absl::CivilDay(2026, 1, 1) + kHorizonDays;  // still measured
  const absl::StatusOr<absl::Duration> whole =
      cal.WorkingTimeBetween(a, cal.StartOfDay(last));
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_GT(*whole, absl::Hours(8 * 250 * 19));
  EXPECT_EQ(cal.WorkingTimeBetween(a, cal.StartOfDay(last + 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WorkingCalendarTest, RefusesDurationsNoHorizonCouldHold) {
  const WorkingCalendar cal = Fixture();
  const absl::Time start = Vn(2026, 3, 9, 8, 0);
  for (WorkingDuration d :
       {WorkingDuration::Days(INT64_MAX), WorkingDuration::Hours(INT64_MAX),
        WorkingDuration::Of(absl::InfiniteDuration()),
        WorkingDuration::Days(kHorizonDays * 3 + 1)}) {
    EXPECT_EQ(cal.AddWorkingDuration(start, d).status().code(),
              absl::StatusCode::kInvalidArgument)
        << d.working_time();
  }
  EXPECT_EQ(cal.AddWorkingDuration(start, WorkingDuration::Days(INT64_MIN))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(cal.AddWorkingDuration(start, WorkingDuration::Days(1000)).ok());
}

TEST(WorkingCalendarTest, RefusesACutoffOutsideTheDay) {
  const WorkingCalendar cal = Fixture();
  for (int minute : {-60, -1, kMinutesPerDay, kMinutesPerDay + 30}) {
    AddOptions options;
    options.cutoff_minute = minute;
    EXPECT_EQ(cal.AddWorkingDuration(Vn(2026, 3, 9, 7, 0),
                                     WorkingDuration::Hours(1), options)
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument)
        << minute;
    EXPECT_EQ(cal.CountingStart(Vn(2026, 3, 9, 7, 0), options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << minute;
  }
  AddOptions midnight;
  midnight.cutoff_minute = 0;
  EXPECT_TRUE(cal.AddWorkingDuration(Vn(2026, 3, 9, 7, 0),
                                     WorkingDuration::Hours(1), midnight)
                  .ok());
}

TEST(WorkingCalendarTest, ParsesOnlyTwoDigitsColonTwoDigits) {
  for (const char* bad :
       {" 8:00", "+8:00", "-8:00", "08:+5", "08: 5", "08:-0", "8:00", "08:0",
        "08:000", "0800", "08.00", "08:60", "24:01", "25:00", "99:99", "08:0 ",
        "\t8:00", "０8:00", ""}) {
    int minute = -1;
    EXPECT_FALSE(ParseMinuteOfDay(bad, &minute).ok()) << "'" << bad << "'";
    EXPECT_EQ(minute, -1) << bad;
  }
  struct Case {
    const char* text;
    int want;
  };
  for (const Case& c : {Case{"00:00", 0}, Case{"08:05", 485},
                        Case{"23:59", 1439}, Case{"24:00", 1440}}) {
    int minute = -1;
    ASSERT_TRUE(ParseMinuteOfDay(c.text, &minute).ok()) << c.text;
    EXPECT_EQ(minute, c.want) << c.text;
  }
  Segment s;
  EXPECT_FALSE(ParseSegment(" 8:00-12:00", &s).ok());
  EXPECT_FALSE(ParseSegment("08:00-+9:00", &s).ok());
  EXPECT_TRUE(ParseSegment("08:00-12:00", &s).ok());
}

TEST(WorkingCalendarTest, CoversThroughTheLastYearWithHolidayData) {
  // The fixture's last entry is Tết 2026.
  const WorkingCalendar cal = Fixture();
  ASSERT_TRUE(cal.covered_through().has_value());
  EXPECT_EQ(*cal.covered_through(), absl::CivilDay(2026, 12, 31));
  EXPECT_FALSE(cal.BeyondCoverage(Vn(2026, 12, 31, 23, 59)));
  EXPECT_TRUE(cal.BeyondCoverage(Vn(2027, 1, 1, 0, 0)));
  // A make-up day counts as data for its year.
  CalendarData data = testing::FixtureData();
  data.make_up_days.push_back(
      {absl::CivilDay(2028, 1, 8), {{8 * 60, 12 * 60}}, "Làm bù", "", false});
  absl::StatusOr<WorkingCalendar> later = WorkingCalendar::Create(data);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(*later->covered_through(), absl::CivilDay(2028, 12, 31));
  // No holiday data at all: nothing to run past.
  data.holidays.clear();
  data.make_up_days.clear();
  absl::StatusOr<WorkingCalendar> none = WorkingCalendar::Create(data);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->covered_through().has_value());
  EXPECT_FALSE(none->BeyondCoverage(Vn(2100, 1, 1, 0, 0)));
}

TEST(WorkingCalendarTest, FallsBackToFixedZoneForVietnam) {
  absl::TimeZone tz;
  ASSERT_TRUE(LoadCalendarTimeZone("Asia/Ho_Chi_Minh", &tz));
  // 2026-01-01T00:00Z; (before 1975 the zone's offset differed.)
  EXPECT_EQ(absl::FormatTime("%H:%M", absl::FromUnixSeconds(1767225600), tz),
            "07:00");
  EXPECT_FALSE(LoadCalendarTimeZone("Mars/Olympus_Mons", &tz));
}

TEST(WorkingCalendarTest, LoadsOnlyIanaZoneNames) {
  absl::TimeZone tz;
  // absl loads these from the process's TZ or files; never for a calendar.
  for (const char* name :
       {"localtime", "/etc/localtime", "file:/etc/localtime",
        "../../../etc/localtime", "posix/Asia/Ho_Chi_Minh", "posixrules",
        "Asia/../Asia/Ho_Chi_Minh", "Asia//Ho_Chi_Minh", "Asia/Ho_Chi_Minh/",
        "", " UTC", "utc"}) {
    EXPECT_FALSE(LoadCalendarTimeZone(name, &tz)) << "'" << name << "'";
    EXPECT_FALSE(IsIanaZoneName(name)) << "'" << name << "'";
  }
  for (const char* name :
       {"UTC", "Asia/Ho_Chi_Minh", "Asia/Saigon", "Etc/GMT-7",
        "America/Argentina/Buenos_Aires", "EST5EDT"}) {
    EXPECT_TRUE(IsIanaZoneName(name)) << name;
  }
  EXPECT_TRUE(LoadCalendarTimeZone("UTC", &tz));
  EXPECT_TRUE(LoadCalendarTimeZone("Asia/Ho_Chi_Minh", &tz));
}

}  // namespace
}  // namespace lienthong::calendar
