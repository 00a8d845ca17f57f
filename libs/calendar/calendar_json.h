#pragma once

// CalendarData <-> JSON (the format of data/calendars/*.json and of the
// deadline service's calendar admin RPCs). String in, string out: no I/O.
//
//   {
//     "id": "vn", "name": "…", "time_zone": "Asia/Ho_Chi_Minh",
//     "source": "…",
//     "office_hours": {"monday": ["08:00-12:00", "13:00-17:00"], …},
//     "reception_hours": {"saturday": ["08:00-11:30"], …},
//     "holidays": [{"name": "Tết Nguyên đán", "from": "2026-02-14",
//                   "to": "2026-02-22", "note": "…", "tentative": false}],
//     "make_up_days": [{"date": "2025-04-26", "name": "…",
//                       "hours": ["08:00-12:00", "13:00-17:00"]}],
//     "default_cutoff_local_time": "15:00"
//   }
//
// Missing weekdays have no hours; no "default_cutoff_local_time", no default
// cut-off. Unknown keys are rejected so that a typo
// ("holiday") does not silently drop data, and so is a key repeated in one
// object (JSON parsers keep only one of the two).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/calendar/calendar_data.h"

namespace lienthong::calendar {

// Parses and validates. INVALID_ARGUMENT (reason CALENDAR_INVALID) with a
// field violation per problem: malformed JSON, bad dates or segments,
// overlapping holiday ranges, …
absl::StatusOr<CalendarData> ParseCalendarJson(absl::string_view json);

// Pretty-printed (2-space indent), UTF-8 kept as is; round-trips through
// ParseCalendarJson.
std::string ToJson(const CalendarData& data);

// "2026-02-14" <-> CivilDay; false on anything else.
bool ParseDay(absl::string_view text, absl::CivilDay* day);
std::string FormatDay(absl::CivilDay day);

}  // namespace lienthong::calendar
