#include "libs/calendar/coverage_watch.h"

#include <utility>

namespace lienthong::calendar {

bool CoverageWatch::Check(const WorkingCalendar& cal, absl::string_view version,
                          absl::Time due) {
  if (!report_ || !cal.BeyondCoverage(due)) return false;
  {
    absl::MutexLock lock(&mu_);
    if (!reported_.emplace(version).second) return false;
  }
  // Outside the lock: the report logs and counts.
  report_(CoverageExceeded{cal.data().id, std::string(version),
                           *cal.covered_through(), due});
  return true;
}

}  // namespace lienthong::calendar
