#pragma once

// Legal working time: office hours in the calendar's time zone, minus
// weekends and public holidays, plus make-up working days. Pure: no I/O, no
// clock; every answer depends only on the CalendarData and the arguments.
//
// How "N working days" ends: a working day is 8 working hours, and counting
// starts at the instant the dossier is received (or the next working instant
// when it arrives outside office hours or after the procedure's cut-off). So
//   received Mon 10:00 + 1 day  -> due Tue 10:00
//   received Mon 08:00 + 1 day  -> due Mon 17:00 (not Tue 08:00)
//   received Fri 16:00 + 1 day  -> due Mon 16:00
//   received Sat 09:00 (reception only) + 1 day -> counting starts Mon 08:00,
//   due Mon 17:00.
// A due time that falls exactly at the end of a segment (12:00, 17:00) stays
// there; it never rolls to the next segment.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "libs/calendar/calendar_data.h"

namespace lienthong::calendar {

// One working day in duration arithmetic.
inline constexpr absl::Duration kWorkingDay = absl::Hours(8);

// How far a walk over the calendar goes (20 years of civil days). No legal
// time limit spans anywhere near this; it only stops a walk over a calendar
// whose holidays cover every day, and bounds WorkingTimeBetween.
inline constexpr int kHorizonDays = 366 * 20;

// The instants the calendar counts with: local civil years 0001 to 9999 (the
// range of google.protobuf.Timestamp). Anything outside is a caller's bug
// (an unvalidated timestamp) and is refused, never walked.
inline constexpr int kMinYear = 1;
inline constexpr int kMaxYear = 9999;

// A legal time limit: "15 working days" or "4 working hours".
class WorkingDuration {
 public:
  enum class Unit { kDays, kHours, kExact };
  static WorkingDuration Days(int64_t n) {
    return WorkingDuration(Unit::kDays, n, kWorkingDay * n);
  }
  static WorkingDuration Hours(int64_t n) {
    return WorkingDuration(Unit::kHours, n, absl::Hours(n));
  }
  // Exact working time, e.g. what is left of a paused clock.
  static WorkingDuration Of(absl::Duration working_time) {
    return WorkingDuration(Unit::kExact, 0, working_time);
  }
  absl::Duration working_time() const { return working_time_; }
  Unit unit() const { return unit_; }
  int64_t count() const { return count_; }

 private:
  WorkingDuration(Unit u, int64_t n, absl::Duration d)
      : unit_(u), count_(n), working_time_(d) {}
  Unit unit_;
  int64_t count_;
  absl::Duration working_time_;
};

struct AddOptions {
  // Per-procedure afternoon cut-off in minutes since local midnight (15:00 is
  // 900), within [0, kMinutesPerDay). A dossier received strictly after it on
  // a working day counts from the next working day; one received at exactly
  // 15:00:00 counts today. nullopt: the calendar's default
  // (CalendarData::default_cutoff_minute), if it has one.
  absl::optional<int> cutoff_minute;
};

// Why a span of time did not count.
enum class SkipReason {
  kWeekend,            // a weekday without office hours (Sat, Sun)
  kHoliday,            // detail: the holiday's name
  kAfterCutoff,        // received after the cut-off (the procedure's,
                       // else the calendar's default)
  kBeforeOfficeHours,  // received before the first segment of the day
  kAfterOfficeHours,   // received after the last segment of the day
  kLunchBreak,         // between two segments of one day
};

// "WEEKEND", "HOLIDAY", … (stable, for APIs).
const char* SkipReasonName(SkipReason r);

struct CountedSpan {
  absl::CivilDay day;
  absl::Time start;
  absl::Time end;
};

struct SkippedSpan {
  absl::CivilDay day;
  absl::Time start;
  absl::Time end;
  SkipReason reason;
  std::string detail;          // holiday name; the cut-off "15:00"
  std::string description_vi;  // "Nghỉ lễ, Tết: Tết Nguyên đán"
};

struct Explanation {
  absl::Time received;
  absl::Time counting_starts;
  absl::Time due;
  absl::Duration working_time;  // the limit that was added
  std::vector<CountedSpan> counted;
  std::vector<SkippedSpan> skipped;  // in time order
};

enum class DayKind { kWorking, kMakeUp, kWeekend, kHoliday };

class WorkingCalendar {
 public:
  // Validates `data` (see Validate) and loads its time zone.
  static absl::StatusOr<WorkingCalendar> Create(CalendarData data);

  const CalendarData& data() const { return state_->data; }
  absl::TimeZone time_zone() const { return state_->tz; }

  DayKind KindOf(absl::CivilDay d) const;
  // The holiday covering `d`, or nullptr.
  const Holiday* HolidayOn(absl::CivilDay d) const;
  // Office-hours segments of `d` (empty on a non-working day).
  const std::vector<Segment>& OfficeHoursOn(absl::CivilDay d) const;
  bool IsWorkingDay(absl::CivilDay d) const {
    return !OfficeHoursOn(d).empty();
  }
  // The first working day strictly after `d`.
  absl::CivilDay NextWorkingDay(absl::CivilDay d) const;

  // `t` itself when it lies inside office hours, else the start of the next
  // segment. InfiniteFuture() if none within the search horizon (20 years).
  absl::Time NextWorkingInstant(absl::Time t) const;

  // Whether counters accept dossiers at `t` (reception hours; on a make-up
  // day its hours; never on a holiday).
  bool IsReceptionOpen(absl::Time t) const;

  // Where the legal clock starts for a dossier received at `received`.
  absl::StatusOr<absl::Time> CountingStart(
      absl::Time received, const AddOptions& options = {}) const;

  // The due instant: `duration` of working time counted from
  // CountingStart(start, options). INVALID_ARGUMENT for a negative duration
  // or one longer than kHorizonDays, a start outside years
  // kMinYear..kMaxYear (or a due time that would pass kMaxYear), a cut-off
  // outside the day; FAILED_PRECONDITION when the calendar runs out of
  // working days within kHorizonDays.
  absl::StatusOr<absl::Time> AddWorkingDuration(
      absl::Time start, WorkingDuration duration,
      const AddOptions& options = {}) const;

  // Working time inside [a, b); negative when b < a. No cut-off applies
  // (neither a procedure's nor the calendar's default), so
  // WorkingTimeBetween(s, AddWorkingDuration(s, d)) == d only when s is
  // before the cut-off AddWorkingDuration applied. INVALID_ARGUMENT
  // when either instant lies outside years kMinYear..kMaxYear or the two are
  // more than kHorizonDays apart (it counts day by day).
  absl::StatusOr<absl::Duration> WorkingTimeBetween(absl::Time a,
                                                    absl::Time b) const;

  // What AddWorkingDuration did, step by step.
  absl::StatusOr<Explanation> Explain(absl::Time start,
                                      WorkingDuration duration,
                                      const AddOptions& options = {}) const;

  // The last day the holiday data covers: 31 December of the latest year
  // with a holiday or make-up day (the data is entered a year at a time, so
  // a year with any entry is taken as complete). nullopt for a calendar that
  // lists neither (it claims no public holidays at all).
  absl::optional<absl::CivilDay> covered_through() const {
    return state_->covered_through;
  }
  // Whether `t` falls after covered_through(): a due time there was counted
  // as if that year had no public holidays (the data needs the next year).
  bool BeyondCoverage(absl::Time t) const {
    return state_->covered_through.has_value() &&
           LocalDay(t) > *state_->covered_through;
  }

  // Local midnight of `d` and the instant of a minute of `d`.
  absl::Time StartOfDay(absl::CivilDay d) const;
  absl::Time At(absl::CivilDay d, int minute_of_day) const;
  absl::CivilDay LocalDay(absl::Time t) const {
    return absl::ToCivilDay(t, state_->tz);
  }

 private:
  struct State {
    CalendarData data;
    absl::TimeZone tz;
    std::map<absl::CivilDay, size_t> holiday_index;  // every covered day
    std::map<absl::CivilDay, size_t> make_up_index;
    absl::optional<absl::CivilDay> covered_through;
  };
  explicit WorkingCalendar(std::shared_ptr<const State> s)
      : state_(std::move(s)) {}
  // OK when `t` lies within years kMinYear..kMaxYear here, else
  // INVALID_ARGUMENT naming `field`.
  absl::Status CheckInRange(absl::Time t, const char* field) const;
  absl::StatusOr<absl::Time> Walk(absl::Time received, absl::Duration need,
                                  const AddOptions& options,
                                  Explanation* explanation) const;

  // Shared so that copies (caches, per-clock snapshots) are cheap.
  std::shared_ptr<const State> state_;
};

// Loads `name`; for Asia/Ho_Chi_Minh (or Asia/Saigon) falls back to a fixed
// UTC+07:00 zone when tzdata is missing (containers), since Vietnam keeps no
// DST. False for any other unknown zone, and for anything but an IANA zone
// name (IsIanaZoneName).
bool LoadCalendarTimeZone(const std::string& name, absl::TimeZone* tz);

}  // namespace lienthong::calendar
