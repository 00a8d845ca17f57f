#pragma once

// The clock state machine and the due-soon rule: pure functions of a Clock,
// a WorkingCalendar and instants passed in. Storage and events live in
// DeadlineService; this file decides.
//
//   running --pause--> paused --resume/restart--> running
//   running|paused --stop--> stopped (outcome: early / on time / late)
//   running: on track --due_soon_at--> due soon --due_at--> overdue

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "libs/calendar/working_calendar.h"
#include "services/deadline/clock.h"

namespace lienthong::deadline {

// "Due soon" when what is left is at most max(fraction × limit,
// min_remaining), capped at half the limit so that a short limit does not
// start out due soon.
struct DueSoonPolicy {
  double fraction = 0.2;
  absl::Duration min_remaining = absl::Hours(4);
};

absl::Duration DueSoonThreshold(const DueSoonPolicy& p, absl::Duration limit);

struct StartParams {
  std::string name;
  ClockKind kind = ClockKind::kDossier;
  std::string dossier_code;
  std::string leg_id;
  AgencyRef agency;
  std::string procedure_code;
  std::string calendar_id = "vn";
  absl::Duration limit;
  absl::optional<int> cutoff_minute;
  SupplementPolicy supplement_policy = SupplementPolicy::kRestart;
  absl::Time received_at;
};

class DeadlineRules {
 public:
  explicit DeadlineRules(DueSoonPolicy policy = {}) : policy_(policy) {}

  const DueSoonPolicy& policy() const { return policy_; }

  // A running clock, counting from `received_at` (cut-off applied). Fires
  // nothing yet: the scanner does that. INVALID_ARGUMENT on a bad limit.
  absl::StatusOr<Clock> Start(const StartParams& p,
                              const calendar::WorkingCalendar& cal) const;

  // Supplement requested: the clock stops counting. Pausing a paused clock
  // is a no-op (two legs may ask at once); a stopped one is
  // FAILED_PRECONDITION (ILLEGAL_TRANSITION); an `at` the calendar cannot
  // measure to (outside years 0001-9999) INVALID_ARGUMENT.
  absl::Status Pause(Clock& c, absl::Time at,
                     const calendar::WorkingCalendar& cal) const;

  // Supplement received: restart from scratch or resume with what was left,
  // per c.supplement_policy. Resuming a running clock is a no-op.
  absl::Status Resume(Clock& c, absl::Time at,
                      const calendar::WorkingCalendar& cal) const;

  // Done, refused, withdrawn, cancelled. The outcome compares the finish
  // (or, if paused, the pause) with due_at: late after it, early when
  // finished on an earlier local day, else on time. Stopping a stopped
  // clock is a no-op.
  absl::Status Stop(Clock& c, absl::Time at, StopReason reason,
                    const calendar::WorkingCalendar& cal) const;

  // The transition due at `now`, if any, marking it fired; overdue
  // supersedes a due-soon not yet fired (one event, not two).
  absl::optional<Firing> Fire(Clock& c, absl::Time now) const;

  // Recomputes due times of a running clock after a calendar change. True
  // when due_at moved. A clock whose due time moves past `now` becomes
  // unfired again (the overdue flag is cleared).
  absl::StatusOr<bool> Recompute(Clock& c, absl::Time now,
                                 const calendar::WorkingCalendar& cal) const;

  // Working time left at `now` (negative once overdue). Paused clocks are
  // frozen; stopped clocks report what was left when they stopped. Where
  // the calendar cannot measure the run (more than calendar::kHorizonDays),
  // what was left when it began.
  absl::Duration Remaining(const Clock& c, absl::Time now,
                           const calendar::WorkingCalendar& cal) const;

 private:
  absl::Status Schedule(Clock& c, const calendar::WorkingCalendar& cal) const;
  DueSoonPolicy policy_;
};

// The report counters that move between `before` (nullptr for a new clock)
// and `after`.
ReportDelta DeltaOf(const Clock* before, const Clock& after);

// Which counters a clock contributes to right now.
ReportDelta Contribution(const Clock& c);

// Report counters are kept for the clock's agency and each ancestor (its
// scope), keyed also by `via`: the child of the scope on the way down to the
// clock's agency (the agency itself at its own scope). A subtree's total is
// then the rows of one scope, and "group by agency" groups them by via.
struct RollUpScope {
  std::string scope;
  std::string via;
};
std::vector<RollUpScope> RollUpScopes(const AgencyRef& agency);

}  // namespace lienthong::deadline
