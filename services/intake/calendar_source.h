#pragma once

// Where intake's calendar copy comes from and is kept: the deadline
// service's GetCalendar (calendars/vn) and the table intake.calendar_cache.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "libs/common/clock.h"
#include "libs/db/pool.h"
#include "lienthong/deadline/v1/deadline_service.grpc.pb.h"
#include "services/intake/calendar_cache.h"

namespace lienthong::intake {

inline constexpr char kCalendarName[] = "calendars/vn";

// The calendar version now in force, as a copy labelled "vn@<version>".
// UNAVAILABLE/DEADLINE_EXCEEDED etc. pass through; a version without its JSON
// document is FAILED_PRECONDITION.
absl::StatusOr<CalendarCopy> FetchDeadlineCalendar(
    deadline::v1::DeadlineService::StubInterface& stub, absl::Duration timeout);

// The stored copy, if any.
absl::StatusOr<absl::optional<CalendarCopy>> LoadStoredCalendar(db::Pool& pool);
absl::Status StoreCalendar(db::Pool& pool, const common::Clock& clock,
                           const CalendarCopy& copy);

// The cache to start with: the stored copy when it parses, else `bundled`.
std::shared_ptr<CalendarCache> InitialCalendarCache(
    db::Pool& pool, const calendar::WorkingCalendar& bundled,
    const std::string& bundled_version);

}  // namespace lienthong::intake
