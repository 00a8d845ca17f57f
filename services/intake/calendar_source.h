#pragma once

// Where intake's calendar copies come from and are kept: the deadline
// service's ListCalendars (every calendar, "vn" and the province ones) and
// the table intake.calendar_cache: per calendar (`calendars/{id}`) the
// version in force when stored, and the versions listed to take over
// later, each with its time.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "libs/db/pool.h"
#include "lienthong/deadline/v1/deadline_service.grpc.pb.h"
#include "services/intake/calendar_cache.h"

namespace lienthong::intake {

// The wake-up channel of the calendar refresh loop (NotifyAfterCommit):
// sent when deadline's CalendarPublished arrives, heard by every replica.
inline constexpr char kCalendarsPublishedChannel[] = "intake_calendars";

// `calendars/{id}`: how the deadline service and intake.calendar_cache name
// calendar `id`.
std::string CalendarName(absl::string_view id);

// Every calendar the deadline service has, each in the version in force at
// `now` (InForce), labelled "<id>@<version>", then the versions that take
// over later (Upcoming, `takes_effect` set): ListCalendars, page after
// page, each page within `timeout`. UNAVAILABLE/DEADLINE_EXCEEDED etc. pass
// through: then nothing is known, not "no calendars".
absl::StatusOr<std::vector<CalendarCopy>> FetchDeadlineCalendars(
    deadline::v1::DeadlineService::StubInterface& stub, absl::Duration timeout,
    absl::Time now);

// The stored copies, by id, each calendar's copy in force first, then its
// upcoming ones (`takes_effect` set) in time order.
absl::StatusOr<std::vector<CalendarCopy>> LoadStoredCalendars(db::Pool& pool);
// Stores `copy` as calendar `copy.id`'s. A copy in force replaces the
// stored one unless that one's version is the same or later (stored by
// another replica), and drops the upcoming ones numbered up to it (in
// force now, or never). An upcoming copy (`takes_effect`) is added unless
// a version as late is stored in force.
absl::Status StoreCalendar(db::Pool& pool, const common::Clock& clock,
                           const CalendarCopy& copy);
// Drops every stored version of calendar `id` (deleted on the deadline
// side).
absl::Status ForgetCalendar(db::Pool& pool, const std::string& id);
// Drops the stored versions a listing (`listed`, fetched from
// `listed_at`) no longer has (StoredNotListed): withdrawn or superseded
// upcoming versions.
absl::Status PruneStoredCalendars(db::Pool& pool,
                                  const std::vector<CalendarCopy>& listed,
                                  absl::Time listed_at);

// The cache to start with: `bundled` as "vn", then the stored copies
// (RestoreCalendars): each calendar's copy in force, and the upcoming ones
// that take over from their time on. One that does not parse is logged
// and skipped: for "vn" the bundled copy stays, a province's agencies
// follow "vn" until a refresh brings it, an upcoming one is not switched
// to.
std::shared_ptr<CalendarCache> InitialCalendarCache(
    db::Pool& pool, const calendar::WorkingCalendar& bundled,
    const std::string& bundled_version);

}  // namespace lienthong::intake
