#pragma once

// The national default calendar (data/calendars/vn.json), compiled into the
// library so that a service can start — and intake can print an appointment
// on a receipt — before any calendar has been stored or fetched. The deadline
// service seeds its calendar table from it; afterwards the stored, versioned
// calendar wins.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/calendar/working_calendar.h"

namespace lienthong::calendar {

// The text of data/calendars/vn.json as of this build.
absl::string_view DefaultCalendarJson();

// Parsed and validated once; OK unless vn.json itself is broken (a test
// guards that).
absl::StatusOr<WorkingCalendar> DefaultCalendar();

}  // namespace lienthong::calendar
