#include "libs/calendar/working_calendar.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace lienthong::calendar {
namespace {

const std::vector<Segment>& NoHours() {
  static const std::vector<Segment>* const kEmpty = new std::vector<Segment>();
  return *kEmpty;
}

}  // namespace

const char* SkipReasonName(SkipReason r) {
  switch (r) {
    case SkipReason::kWeekend:
      return "WEEKEND";
    case SkipReason::kHoliday:
      return "HOLIDAY";
    case SkipReason::kAfterCutoff:
      return "AFTER_CUTOFF";
    case SkipReason::kBeforeOfficeHours:
      return "BEFORE_OFFICE_HOURS";
    case SkipReason::kAfterOfficeHours:
      return "AFTER_OFFICE_HOURS";
    case SkipReason::kLunchBreak:
      return "LUNCH_BREAK";
  }
  return "UNKNOWN";
}

bool LoadCalendarTimeZone(const std::string& name, absl::TimeZone* tz) {
  // absl would also load "localtime" (the process's TZ) and file paths.
  if (!IsIanaZoneName(name)) return false;
  if (absl::LoadTimeZone(name, tz)) return true;
  if (name == "Asia/Ho_Chi_Minh" || name == "Asia/Saigon") {
    *tz = absl::FixedTimeZone(7 * 60 * 60);
    return true;
  }
  return false;
}

absl::StatusOr<WorkingCalendar> WorkingCalendar::Create(CalendarData data) {
  LT_RETURN_IF_ERROR(Validate(data));
  auto state = std::make_shared<State>();
  if (!LoadCalendarTimeZone(data.time_zone, &state->tz)) {
    return common::InvalidArgument("CALENDAR_INVALID",
                                   {{"time_zone", "unknown time zone"}},
                                   "calendar data is invalid");
  }
  for (size_t i = 0; i < data.holidays.size(); ++i) {
    for (absl::CivilDay d = data.holidays[i].first; d <= data.holidays[i].last;
         ++d) {
      state->holiday_index[d] = i;
    }
  }
  for (size_t i = 0; i < data.make_up_days.size(); ++i) {
    state->make_up_index[data.make_up_days[i].day] = i;
  }
  absl::optional<absl::CivilYear> last_year;
  auto cover = [&](absl::CivilDay d) {
    const absl::CivilYear y(d);
    if (!last_year.has_value() || y > *last_year) last_year = y;
  };
  if (!state->holiday_index.empty()) {
    cover(state->holiday_index.rbegin()->first);
  }
  if (!state->make_up_index.empty()) {
    cover(state->make_up_index.rbegin()->first);
  }
  if (last_year.has_value()) {
    state->covered_through = absl::CivilDay(*last_year + 1) - 1;
  }
  state->data = std::move(data);
  return WorkingCalendar(std::move(state));
}

const Holiday* WorkingCalendar::HolidayOn(absl::CivilDay d) const {
  auto it = state_->holiday_index.find(d);
  return it == state_->holiday_index.end() ? nullptr
                                           : &state_->data.holidays[it->second];
}

DayKind WorkingCalendar::KindOf(absl::CivilDay d) const {
  if (state_->make_up_index.count(d) > 0) return DayKind::kMakeUp;
  if (HolidayOn(d) != nullptr) return DayKind::kHoliday;
  if (state_->data.office_hours[WeekdayIndex(d)].empty()) {
    return DayKind::kWeekend;
  }
  return DayKind::kWorking;
}

const std::vector<Segment>& WorkingCalendar::OfficeHoursOn(
    absl::CivilDay d) const {
  if (auto it = state_->make_up_index.find(d);
      it != state_->make_up_index.end()) {
    return state_->data.make_up_days[it->second].hours;
  }
  if (HolidayOn(d) != nullptr) return NoHours();
  return state_->data.office_hours[WeekdayIndex(d)];
}

absl::CivilDay WorkingCalendar::NextWorkingDay(absl::CivilDay d) const {
  for (int i = 0; i < kHorizonDays; ++i) {
    ++d;
    if (IsWorkingDay(d)) return d;
  }
  return d;
}

absl::Time WorkingCalendar::StartOfDay(absl::CivilDay d) const {
  return absl::FromCivil(absl::CivilSecond(d), state_->tz);
}

absl::Time WorkingCalendar::At(absl::CivilDay d, int minute_of_day) const {
  return absl::FromCivil(absl::CivilMinute(d) + minute_of_day, state_->tz);
}

absl::Time WorkingCalendar::NextWorkingInstant(absl::Time t) const {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return t;
  absl::CivilDay d = LocalDay(t);
  for (int i = 0; i < kHorizonDays; ++i, ++d) {
    for (const Segment& s : OfficeHoursOn(d)) {
      const absl::Time end = At(d, s.end_minute);
      if (end <= t) continue;
      return std::max(t, At(d, s.start_minute));
    }
  }
  return absl::InfiniteFuture();
}

bool WorkingCalendar::IsReceptionOpen(absl::Time t) const {
  const absl::CivilDay d = LocalDay(t);
  const std::vector<Segment>* hours =
      &state_->data.reception_hours[WeekdayIndex(d)];
  if (auto it = state_->make_up_index.find(d);
      it != state_->make_up_index.end()) {
    hours = &state_->data.make_up_days[it->second].hours;
  } else if (HolidayOn(d) != nullptr) {
    return false;
  }
  for (const Segment& s : *hours) {
    if (At(d, s.start_minute) <= t && t < At(d, s.end_minute)) return true;
  }
  return false;
}

absl::StatusOr<absl::Time> WorkingCalendar::CountingStart(
    absl::Time received, const AddOptions& options) const {
  return Walk(received, absl::ZeroDuration(), options, nullptr);
}

absl::StatusOr<absl::Time> WorkingCalendar::AddWorkingDuration(
    absl::Time start, WorkingDuration duration,
    const AddOptions& options) const {
  return Walk(start, duration.working_time(), options, nullptr);
}

absl::StatusOr<Explanation> WorkingCalendar::Explain(
    absl::Time start, WorkingDuration duration,
    const AddOptions& options) const {
  Explanation e;
  e.received = start;
  e.working_time = duration.working_time();
  LT_ASSIGN_OR_RETURN(e.due, Walk(start, duration.working_time(), options, &e));
  return e;
}

absl::Status WorkingCalendar::CheckInRange(absl::Time t,
                                           const char* field) const {
  // Infinite instants land far outside too.
  const absl::CivilDay d = LocalDay(t);
  if (d.year() < kMinYear || d.year() > kMaxYear) {
    return common::InvalidArgument(
        "INVALID_TIME",
        {{field,
          absl::StrCat("must lie within years ", kMinYear, " to ", kMaxYear)}},
        "time outside the calendar's range");
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> WorkingCalendar::WorkingTimeBetween(
    absl::Time a, absl::Time b) const {
  LT_RETURN_IF_ERROR(CheckInRange(a, "start"));
  LT_RETURN_IF_ERROR(CheckInRange(b, "end"));
  const bool negative = b < a;
  if (negative) std::swap(a, b);
  const absl::CivilDay last = LocalDay(b);
  // Day by day, so the span is bounded as a walk is: no caller measures
  // anything near it, and 9999 years of days would take seconds.
  if (last - LocalDay(a) > kHorizonDays) {
    return common::InvalidArgument(
        "SPAN_TOO_LONG",
        {{"end",
          absl::StrCat("must be within ", kHorizonDays, " days of start")}},
        "working time asked over too long a span");
  }
  absl::Duration total;
  for (absl::CivilDay d = LocalDay(a); d <= last; ++d) {
    for (const Segment& s : OfficeHoursOn(d)) {
      const absl::Time from = std::max(a, At(d, s.start_minute));
      const absl::Time to = std::min(b, At(d, s.end_minute));
      if (from < to) total += to - from;
    }
  }
  return negative ? -total : total;
}

}  // namespace lienthong::calendar
