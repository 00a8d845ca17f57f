#pragma once

// Fixture data for the calendar tests: the standard office week plus the
// 2025/2026 holidays the hand-worked cases need, independent of vn.json so
// that an administrator's edit to the real data cannot change a test's answer.

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/calendar/calendar_data.h"
#include "libs/calendar/calendar_json.h"
#include "libs/calendar/default_calendar.h"
#include "libs/calendar/working_calendar.h"

namespace lienthong::calendar::testing {

inline CalendarData FixtureData() {
  CalendarData d;
  d.id = "test";
  d.name = "Lịch kiểm thử";
  d.office_hours = StandardOfficeHours();
  d.reception_hours = StandardOfficeHours();
  d.reception_hours[5] = {{8 * 60, 11 * 60 + 30}};  // Saturday morning
  d.holidays = {
      {absl::CivilDay(2025, 4, 30), absl::CivilDay(2025, 4, 30),
       "Ngày Chiến thắng 30/4", "", false},
      {absl::CivilDay(2025, 5, 1), absl::CivilDay(2025, 5, 1),
       "Ngày Quốc tế Lao động 1/5", "", false},
      {absl::CivilDay(2025, 5, 2), absl::CivilDay(2025, 5, 2),
       "Nghỉ hoán đổi dịp 30/4–1/5", "", false},
      {absl::CivilDay(2026, 2, 14), absl::CivilDay(2026, 2, 22),
       "Tết Nguyên đán Bính Ngọ", "", false},
  };
  d.make_up_days = {{absl::CivilDay(2025, 4, 26),
                     {{8 * 60, 12 * 60}, {13 * 60, 17 * 60}},
                     "Làm bù cho thứ Sáu 2/5/2025",
                     "",
                     false}};
  return d;
}

inline WorkingCalendar Fixture() {
  return *WorkingCalendar::Create(FixtureData());
}

// The bundled vn.json as calendar `id`, each of `days_off` one more
// holiday called `name`: the province and procedure calendars of the
// services' tests (a version an administrator would store).
inline std::string VnJsonWithDaysOff(
    const std::string& id, const std::vector<absl::CivilDay>& days_off,
    const std::string& name) {
  CalendarData d = *ParseCalendarJson(DefaultCalendarJson());
  d.id = id;
  for (absl::CivilDay day : days_off) {
    d.holidays.push_back({day, day, name, "", false});
  }
  return ToJson(d);
}

// A local (UTC+07:00) wall-clock instant.
inline absl::Time Vn(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::FixedTimeZone(7 * 3600));
}

}  // namespace lienthong::calendar::testing
