#include "libs/calendar/calendar_data.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/errors.h"
#include "libs/common/utf8.h"

namespace lienthong::calendar {
namespace {

using common::FieldViolation;

std::string DayText(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

void CheckSegments(const std::vector<Segment>& segments,
                   const std::string& field, std::vector<FieldViolation>& out) {
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& s = segments[i];
    const std::string f = absl::StrCat(field, "[", i, "]");
    if (s.start_minute < 0 || s.end_minute > kMinutesPerDay ||
        s.start_minute >= s.end_minute) {
      out.push_back({f, "segment must satisfy 00:00 <= start < end <= 24:00"});
      continue;
    }
    if (i > 0 && segments[i - 1].end_minute > s.start_minute) {
      out.push_back(
          {f, "segments must be in order and must not overlap the previous"});
    }
  }
}

void CheckText(const std::string& text, const std::string& field, bool required,
               std::vector<FieldViolation>& out) {
  if (required && text.empty()) {
    out.push_back({field, "required"});
  } else if (!common::IsValidUtf8(text)) {
    out.push_back({field, "must be valid UTF-8"});
  }
}

}  // namespace

int WeekdayIndex(absl::Weekday w) {
  switch (w) {
    case absl::Weekday::monday:
      return 0;
    case absl::Weekday::tuesday:
      return 1;
    case absl::Weekday::wednesday:
      return 2;
    case absl::Weekday::thursday:
      return 3;
    case absl::Weekday::friday:
      return 4;
    case absl::Weekday::saturday:
      return 5;
    case absl::Weekday::sunday:
      return 6;
  }
  return 0;
}

int WeekdayIndex(absl::CivilDay d) { return WeekdayIndex(absl::GetWeekday(d)); }

const char* WeekdayKey(int index) {
  static constexpr const char* kKeys[] = {"monday",   "tuesday", "wednesday",
                                          "thursday", "friday",  "saturday",
                                          "sunday"};
  return (index >= 0 && index < 7) ? kKeys[index] : "";
}

WeeklyHours StandardOfficeHours() {
  WeeklyHours h;
  for (int d = 0; d < 5; ++d) h[d] = {{8 * 60, 12 * 60}, {13 * 60, 17 * 60}};
  return h;
}

absl::Status ParseMinuteOfDay(const std::string& text, int* minute) {
  // Byte by byte: sscanf's %d would also take " 8", "+8" and "-0".
  const auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() != 5 || !digit(0) || !digit(1) || text[2] != ':' ||
      !digit(3) || !digit(4)) {
    return absl::InvalidArgumentError("time of day must be HH:MM");
  }
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0)) {
    return absl::InvalidArgumentError("time of day must be HH:MM");
  }
  *minute = h * 60 + m;
  return absl::OkStatus();
}

std::string FormatMinuteOfDay(int minute) {
  return absl::StrFormat("%02d:%02d", minute / 60, minute % 60);
}

absl::Status ParseSegment(const std::string& text, Segment* segment) {
  if (text.size() != 11 || text[5] != '-') {
    return absl::InvalidArgumentError("segment must be HH:MM-HH:MM");
  }
  Segment s;
  if (!ParseMinuteOfDay(text.substr(0, 5), &s.start_minute).ok() ||
      !ParseMinuteOfDay(text.substr(6), &s.end_minute).ok()) {
    return absl::InvalidArgumentError("segment must be HH:MM-HH:MM");
  }
  *segment = s;
  return absl::OkStatus();
}

std::string FormatSegment(const Segment& s) {
  return absl::StrCat(FormatMinuteOfDay(s.start_minute), "-",
                      FormatMinuteOfDay(s.end_minute));
}

bool IsIanaZoneName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  bool component_start = true;
  for (char c : name) {
    if (c == '/') {
      if (component_start) return false;  // "", "//", leading '/'
      component_start = true;
      continue;
    }
    if (component_start) {
      if (c < 'A' || c > 'Z') return false;
      component_start = false;
      continue;
    }
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '+';
    if (!ok) return false;
  }
  return !component_start;  // not ending in '/'
}

absl::Status Validate(const CalendarData& data) {
  std::vector<FieldViolation> v;
  CheckText(data.id, "id", /*required=*/true, v);
  CheckText(data.name, "name", /*required=*/false, v);
  CheckText(data.source, "source", /*required=*/false, v);
  if (data.time_zone.empty()) {
    v.push_back({"time_zone", "required"});
  } else if (!IsIanaZoneName(data.time_zone)) {
    // "localtime" or a path would make each process count in its own zone.
    v.push_back({"time_zone",
                 "must be an IANA time zone name such as Asia/Ho_Chi_Minh"});
  }
  bool any_hours = false;
  for (int d = 0; d < 7; ++d) {
    CheckSegments(data.office_hours[d],
                  absl::StrCat("office_hours.", WeekdayKey(d)), v);
    CheckSegments(data.reception_hours[d],
                  absl::StrCat("reception_hours.", WeekdayKey(d)), v);
    any_hours = any_hours || !data.office_hours[d].empty();
  }
  if (!any_hours) {
    v.push_back({"office_hours", "at least one weekday needs office hours"});
  }
  if (data.default_cutoff_minute.has_value() &&
      (*data.default_cutoff_minute < 0 ||
       *data.default_cutoff_minute >= kMinutesPerDay)) {
    v.push_back({"default_cutoff_local_time",
                 "must be a time of day HH:MM, 00:00 to 23:59"});
  }

  // Holidays: each well-formed; ranges must not overlap (sorted copy).
  std::vector<std::pair<Holiday, size_t>> sorted;
  int64_t total_days = 0;
  for (size_t i = 0; i < data.holidays.size(); ++i) {
    const Holiday& h = data.holidays[i];
    const std::string f = absl::StrCat("holidays[", i, "]");
    CheckText(h.name, f + ".name", /*required=*/true, v);
    CheckText(h.note, f + ".note", /*required=*/false, v);
    if (h.last < h.first) {
      v.push_back({f + ".to", "must not be before `from`"});
    } else if (h.last - h.first + 1 > 366) {
      v.push_back({f + ".to", "a holiday range longer than a year"});
    } else {
      total_days += h.last - h.first + 1;
      sorted.emplace_back(h, i);
    }
  }
  if (total_days > kMaxHolidayDays) {
    v.push_back({"holidays", absl::StrCat("more than ", kMaxHolidayDays,
                                          " holiday days in all")});
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.first.first < b.first.first;
  });
  // Against the range reaching furthest so far, not only the previous one:
  // a long range can overlap several shorter ones after it.
  size_t reach = 0;
  for (size_t i = 1; i < sorted.size(); ++i) {
    const auto& [earlier, earlier_index] = sorted[reach];
    if (sorted[i].first.first <= earlier.last) {
      v.push_back({absl::StrCat("holidays[", sorted[i].second, "]"),
                   absl::StrCat("overlaps holidays[", earlier_index, "] (",
                                DayText(sorted[i].first.first), ")")});
    }
    if (sorted[i].first.last > earlier.last) reach = i;
  }

  for (size_t i = 0; i < data.make_up_days.size(); ++i) {
    const MakeUpDay& m = data.make_up_days[i];
    const std::string f = absl::StrCat("make_up_days[", i, "]");
    CheckText(m.name, f + ".name", /*required=*/true, v);
    CheckText(m.note, f + ".note", /*required=*/false, v);
    if (m.hours.empty()) v.push_back({f + ".hours", "required"});
    CheckSegments(m.hours, f + ".hours", v);
    // A make-up day turns a day off into a working day; on a day that has
    // office hours anyway it would silently replace them.
    if (!data.office_hours[WeekdayIndex(m.day)].empty()) {
      v.push_back(
          {f + ".date", absl::StrCat("is a ", WeekdayKey(WeekdayIndex(m.day)),
                                     ", which has office hours; a "
                                     "make-up day must be a day off")});
    }
    for (const auto& [h, hi] : sorted) {
      if (h.first <= m.day && m.day <= h.last) {
        v.push_back({f + ".date", absl::StrCat("falls on holidays[", hi, "]")});
      }
    }
    for (size_t j = 0; j < i; ++j) {
      if (data.make_up_days[j].day == m.day) {
        v.push_back({f + ".date", absl::StrCat("duplicates make_up_days[", j,
                                               "] (", DayText(m.day), ")")});
      }
    }
  }
  if (v.empty()) return absl::OkStatus();
  return common::InvalidArgument("CALENDAR_INVALID", std::move(v),
                                 "calendar data is invalid");
}

}  // namespace lienthong::calendar
