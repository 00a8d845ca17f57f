// The one walk over the calendar behind CountingStart, AddWorkingDuration and
// Explain, so that what Explain shows is exactly what the due time came from.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/calendar/working_calendar.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace lienthong::calendar {
namespace {

std::string WeekendText(absl::CivilDay d) {
  switch (absl::GetWeekday(d)) {
    case absl::Weekday::saturday:
      return "Nghỉ cuối tuần (Thứ Bảy)";
    case absl::Weekday::sunday:
      return "Nghỉ cuối tuần (Chủ nhật)";
    default:
      return "Ngày không làm việc";
  }
}

}  // namespace

absl::StatusOr<absl::Time> WorkingCalendar::Walk(absl::Time received,
                                                 absl::Duration need,
                                                 const AddOptions& options,
                                                 Explanation* ex) const {
  if (need < absl::ZeroDuration()) {
    return common::InvalidArgument("NEGATIVE_DURATION",
                                   {{"duration", "must not be negative"}},
                                   "working duration must not be negative");
  }
  // More than the horizon could hold even if every hour counted (e.g.
  // WorkingDuration::Days(INT64_MAX), which saturates to infinity): the
  // caller's mistake, not the calendar running out.
  if (need > absl::Hours(24) * kHorizonDays) {
    return common::InvalidArgument(
        "DURATION_TOO_LONG",
        {{"duration", absl::StrCat("must be at most ", kHorizonDays,
                                   " days of working time")}},
        "working duration too long");
  }
  LT_RETURN_IF_ERROR(CheckInRange(received, "start"));
  // The caller's cut-off (the procedure's), else the calendar's default.
  const absl::optional<int> cutoff_minute =
      options.cutoff_minute.has_value() ? options.cutoff_minute
                                        : state_->data.default_cutoff_minute;
  if (cutoff_minute.has_value() &&
      (*cutoff_minute < 0 || *cutoff_minute >= kMinutesPerDay)) {
    return common::InvalidArgument(
        "INVALID_CUTOFF", {{"cutoff", "must be a time of day, 00:00 to 23:59"}},
        "cut-off outside the day");
  }
  auto skip = [&](absl::CivilDay day, absl::Time from, absl::Time to,
                  SkipReason reason, std::string detail, std::string text) {
    if (ex == nullptr || from >= to) return;
    ex->skipped.push_back(
        {day, from, to, reason, std::move(detail), std::move(text)});
  };
  auto skip_day = [&](absl::CivilDay day, absl::Time from) {
    if (ex == nullptr) return;
    const absl::Time to = StartOfDay(day + 1);
    if (const Holiday* h = HolidayOn(day)) {
      skip(day, from, to, SkipReason::kHoliday, h->name,
           absl::StrCat("Nghỉ lễ, Tết: ", h->name));
    } else {
      skip(day, from, to, SkipReason::kWeekend, "", WeekendText(day));
    }
  };

  // Where counting starts on the day of receipt.
  absl::CivilDay day = LocalDay(received);
  absl::Time cur = received;
  const std::vector<Segment>& first = OfficeHoursOn(day);
  if (first.empty()) {
    skip_day(day, received);
    ++day;
    cur = StartOfDay(day);
  } else {
    const absl::Time first_start = At(day, first.front().start_minute);
    const absl::Time last_end = At(day, first.back().end_minute);
    if (cutoff_minute.has_value() && received > At(day, *cutoff_minute) &&
        received < last_end) {
      // After the afternoon cut-off the legal clock starts on the next
      // working day, not the next calendar day.
      const std::string cutoff = FormatMinuteOfDay(*cutoff_minute);
      skip(day, received, StartOfDay(day + 1), SkipReason::kAfterCutoff, cutoff,
           absl::StrCat("Tiếp nhận sau ", cutoff,
                        ", tính từ ngày làm việc tiếp theo"));
      ++day;
      cur = StartOfDay(day);
    } else if (received >= last_end) {
      skip(day, received, StartOfDay(day + 1), SkipReason::kAfterOfficeHours,
           "", "Sau giờ làm việc, tính từ ngày làm việc tiếp theo");
      ++day;
      cur = StartOfDay(day);
    } else if (received < first_start) {
      skip(day, received, first_start, SkipReason::kBeforeOfficeHours, "",
           "Trước giờ làm việc");
    } else {
      for (size_t i = 1; i < first.size(); ++i) {
        const absl::Time gap_from = At(day, first[i - 1].end_minute);
        const absl::Time gap_to = At(day, first[i].start_minute);
        if (gap_from <= received && received < gap_to) {
          skip(day, received, gap_to, SkipReason::kLunchBreak, "", "Nghỉ trưa");
        }
      }
    }
  }

  bool started = false;
  absl::Duration remaining = need;
  for (int i = 0; i < kHorizonDays; ++i, ++day) {
    if (day.year() > kMaxYear) {
      return common::InvalidArgument(
          "INVALID_TIME",
          {{"start",
            absl::StrCat("the due time would fall after year ", kMaxYear)}},
          "time outside the calendar's range");
    }
    const std::vector<Segment>& hours = OfficeHoursOn(day);
    if (hours.empty()) {
      if (started || cur <= StartOfDay(day)) skip_day(day, StartOfDay(day));
      continue;
    }
    absl::Time prev_end = absl::InfinitePast();
    for (const Segment& s : hours) {
      const absl::Time end = At(day, s.end_minute);
      if (end <= cur) continue;
      const absl::Time from = std::max(cur, At(day, s.start_minute));
      if (!started) {
        started = true;
        if (ex != nullptr) ex->counting_starts = from;
      } else if (prev_end != absl::InfinitePast()) {
        skip(day, prev_end, from, SkipReason::kLunchBreak, "", "Nghỉ trưa");
      }
      const absl::Duration available = end - from;
      if (remaining <= available) {
        const absl::Time due = from + remaining;
        if (ex != nullptr && due > from)
          ex->counted.push_back({day, from, due});
        return due;
      }
      remaining -= available;
      if (ex != nullptr) ex->counted.push_back({day, from, end});
      prev_end = end;
      cur = end;
    }
  }
  return common::FailedPrecondition(
      "CALENDAR_EXHAUSTED", "no working time left within the calendar horizon");
}

}  // namespace lienthong::calendar
