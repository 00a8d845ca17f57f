#pragma once

// The working-time calendar as plain data: what an administrator edits (via
// the deadline service's admin RPC) and what ParseCalendarJson/ToJson carry.
// WorkingCalendar (working_calendar.h) answers questions about it.

#include <array>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"

namespace lienthong::calendar {

inline constexpr int kMinutesPerDay = 24 * 60;

// A half-open span [start_minute, end_minute) of local wall-clock time within
// one day, in minutes since midnight: 08:00–12:00 is {480, 720}.
struct Segment {
  int start_minute = 0;
  int end_minute = 0;
  bool operator==(const Segment&) const = default;
};

// Segments for each weekday, indexed by WeekdayIndex() (Monday = 0).
using WeeklyHours = std::array<std::vector<Segment>, 7>;

// A public holiday (or an officially swapped day off) covering the civil days
// [first, last], both inclusive, e.g. Tết Nguyên đán 14/2–22/2/2026.
struct Holiday {
  absl::CivilDay first;
  absl::CivilDay last;
  std::string name;  // Vietnamese, with diacritics: "Tết Nguyên đán".
  // Free text: the decision it comes from, or why it is not yet certain.
  std::string note;
  bool tentative = false;  // true when not yet confirmed by decision
  bool operator==(const Holiday&) const = default;
};

// A day without office hours in the week (a Saturday or Sunday) declared a
// working day, e.g. to make up for a bridge day; it has its own hours.
struct MakeUpDay {
  absl::CivilDay day;
  std::vector<Segment> hours;
  std::string name;  // "Làm bù cho thứ Sáu 02/5/2025"
  std::string note;
  bool tentative = false;
  bool operator==(const MakeUpDay&) const = default;
};

struct CalendarData {
  std::string id;    // "vn", or a province override such as "vn-H26"
  std::string name;  // "Lịch làm việc quốc gia"
  // IANA name (IsIanaZoneName): never "localtime" or a path, which would
  // follow each process's TZ or files. Vietnam has had no DST since 1975; if
  // tzdata is missing the calendar falls back to a fixed UTC+07:00 zone.
  std::string time_zone = "Asia/Ho_Chi_Minh";
  WeeklyHours office_hours;     // legal working time (clocks count these)
  WeeklyHours reception_hours;  // when counters accept dossiers
  std::vector<Holiday> holidays;
  std::vector<MakeUpDay> make_up_days;
  std::string source;  // where the holiday list comes from
  // The afternoon cut-off, in minutes since local midnight, of every count
  // whose caller names none (a procedure without a cut-off of its own, and
  // so its legs); nullopt: none. A caller's cut-off wins over it.
  absl::optional<int> default_cutoff_minute;
  bool operator==(const CalendarData&) const = default;
};

// Monday = 0 … Sunday = 6.
int WeekdayIndex(absl::Weekday w);
int WeekdayIndex(absl::CivilDay d);

// "monday" … "sunday"; the JSON keys.
const char* WeekdayKey(int index);

// 08:00–12:00 and 13:00–17:00 on Monday to Friday, no reception on weekends.
WeeklyHours StandardOfficeHours();

// At most this many holiday days in one calendar (each range counted whole):
// a hundred years of every day. Real data lists some 15 a year; the cap
// keeps a small document from expanding into an index of millions of days.
inline constexpr int kMaxHolidayDays = 36600;

// Checks the data: an IANA time zone name, segments inside the day, sorted
// and not overlapping, holidays well-formed (at most 366 days each,
// kMaxHolidayDays in all) and not overlapping each other, make-up days on
// days without weekly office hours, not on holidays and not duplicated,
// names valid UTF-8 and present, at least one weekday with office hours,
// a default cut-off within the day (00:00 to 23:59).
// INVALID_ARGUMENT with one field violation per problem (reason
// CALENDAR_INVALID).
absl::Status Validate(const CalendarData& data);

// Whether `name` has the shape of an IANA time zone name: "UTC" or
// "Asia/Ho_Chi_Minh", "Etc/GMT+7" — components of ASCII letters, digits,
// '_', '-' and '+', each starting with a capital letter. Refuses
// "localtime" (the process's TZ), paths ("/etc/localtime", "../x",
// "file:…") and the tzdata directories that are not zones ("posix/…").
// Whether the zone exists is for LoadCalendarTimeZone.
bool IsIanaZoneName(const std::string& name);

// "08:00" <-> 480. Parsing fails on anything but exactly two digits, ':',
// two digits, with 00 <= HH <= 24 and 00 <= MM <= 59 (24:00 only as 24:00).
absl::Status ParseMinuteOfDay(const std::string& text, int* minute);
std::string FormatMinuteOfDay(int minute);
// "08:00-12:00" <-> {480, 720}.
absl::Status ParseSegment(const std::string& text, Segment* segment);
std::string FormatSegment(const Segment& segment);

}  // namespace lienthong::calendar
