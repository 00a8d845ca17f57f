#pragma once

// Notices due times counted past the end of a calendar's holiday data
// (WorkingCalendar::covered_through): that year's public holidays were
// counted as working days, so the data needs the next year. The services
// report it (a warning line and a counter) once per calendar version and
// process: a missing year shows up at the first dossier that reaches it,
// not when a citizen comes back on a holiday. Thread-safe.

#include <functional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/calendar/working_calendar.h"

namespace lienthong::calendar {

struct CoverageExceeded {
  std::string calendar_id;       // "vn"
  std::string calendar_version;  // "vn@3", "vn@bundled"
  absl::CivilDay covered_through;
  absl::Time due;  // the first due time seen past it
};

class CoverageWatch {
 public:
  using Report = std::function<void(const CoverageExceeded&)>;

  // Reports nothing until SetReport.
  CoverageWatch() = default;
  explicit CoverageWatch(Report report) : report_(std::move(report)) {}
  CoverageWatch(const CoverageWatch&) = delete;
  CoverageWatch& operator=(const CoverageWatch&) = delete;

  // Call before the first Check (not synchronised with it).
  void SetReport(Report report) { report_ = std::move(report); }

  // Reports `due`, counted with `cal` (version label `version`), when it
  // falls after cal.covered_through() and this version has not been
  // reported yet. True when it reported.
  bool Check(const WorkingCalendar& cal, absl::string_view version,
             absl::Time due);

 private:
  Report report_;
  absl::Mutex mu_;
  std::set<std::string, std::less<>> reported_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::calendar
