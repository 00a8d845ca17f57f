#pragma once

// The working-time calendar intake computes appointments with: a cached copy
// of the deadline service's calendar (calendars/vn), so a counter keeps
// receiving while the deadline service is away. Starts from the last copy
// intake stored, else the bundled data/calendars/vn.json; a refresher loop
// replaces it when the deadline service answers. Pure: the fetch and the
// storage are given as functions (calendar_source.h wires gRPC and
// PostgreSQL).

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/calendar/working_calendar.h"

namespace lienthong::intake {

// A calendar document and the label recorded on dossiers ("vn@3",
// "vn@bundled").
struct CalendarCopy {
  std::string json;
  std::string version;
};

// What a dossier is stamped with: the calendar and its version label.
struct CalendarSnapshot {
  std::shared_ptr<const calendar::WorkingCalendar> calendar;
  std::string version;
};

class CalendarCache {
 public:
  CalendarCache(std::shared_ptr<const calendar::WorkingCalendar> initial,
                std::string version);

  CalendarSnapshot Snapshot() const;

  // Parses and validates `copy`; replaces the current calendar when it is
  // valid (INVALID_ARGUMENT and no change otherwise).
  absl::Status Install(const CalendarCopy& copy);

 private:
  mutable std::mutex mu_;
  CalendarSnapshot current_;
};

// One refresh: `fetch` the authoritative copy; when it differs from the
// cached version, install it and `persist` it. On a failed fetch the cached
// copy stays (the status is returned for logging).
struct CalendarRefresher {
  CalendarCache* cache = nullptr;
  std::function<absl::StatusOr<CalendarCopy>()> fetch;
  std::function<absl::Status(const CalendarCopy&)> persist;

  // True when a new version was installed.
  absl::StatusOr<bool> RunOnce() const;
};

}  // namespace lienthong::intake
