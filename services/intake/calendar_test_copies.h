#pragma once

// Calendar copies for intake's calendar tests without I/O
// (calendar_cache_test, calendar_refresher_test, calendar_restore_test).

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"
#include "libs/calendar/calendar_json.h"
#include "libs/calendar/test_calendars.h"
#include "services/intake/calendar_cache.h"

namespace lienthong::intake::calendar_testing {

inline constexpr char kWardH26[] = "001.08.19.H26";  // Tây Mỗ one-stop unit
inline constexpr char kCommuneT01[] = "001.01.00.T01";
// A Tuesday that is a working day nationally; the province calendar in
// these tests takes it off.
inline constexpr absl::CivilDay kLocalDayOff(2026, 11, 24);

// Calendar `id`'s document; with `day_off`, one more holiday.
inline std::string Doc(const std::string& id, bool day_off = false) {
  calendar::CalendarData d = calendar::testing::FixtureData();
  d.id = id;
  if (day_off) {
    d.holidays.push_back(
        {kLocalDayOff, kLocalDayOff, "Nghỉ địa phương", "", false});
  }
  return calendar::ToJson(d);
}

inline CalendarCopy Copy(const std::string& id, int version,
                         bool day_off = false) {
  return {id, Doc(id, day_off), absl::StrCat(id, "@", version)};
}

// A copy of calendar `id` as listed or stored: in force when `from` is
// unset, else taking over at `from`.
inline CalendarCopy Stored(const std::string& id, int version,
                           absl::optional<absl::Time> from = absl::nullopt,
                           bool day_off = false) {
  CalendarCopy c = Copy(id, version, day_off);
  c.takes_effect = from;
  return c;
}

inline CalendarCache Bundled() {
  return CalendarCache(std::make_shared<const calendar::WorkingCalendar>(
                           calendar::testing::Fixture()),
                       "vn@bundled");
}

inline std::vector<std::string> HeldVersions(const CalendarCache& cache) {
  std::vector<std::string> out;
  const std::shared_ptr<const CalendarSet> held = cache.Calendars();
  for (const auto& [id, s] : held->by_id()) {
    out.push_back(s.version);
  }
  return out;
}

}  // namespace lienthong::intake::calendar_testing
