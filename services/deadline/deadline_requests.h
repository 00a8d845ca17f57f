#pragma once

// What a DeadlineService request may carry, checked before the service sees
// it: times a protobuf Timestamp (and PostgreSQL) holds, page sizes and
// opaque page tokens, agency and calendar names, a report's period. Every
// refusal is INVALID_ARGUMENT naming the field, never a database error.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/calendar/working_calendar.h"
#include "lienthong/deadline/v1/deadline_service.pb.h"

namespace lienthong::deadline {

// The page size a list answers with: 50 for none (0 or less), at most 500.
int PageSize(int requested);

// Within what a protobuf Timestamp (and PostgreSQL) holds: years 1-9999.
bool InTimestampRange(absl::Time t);

// A time from a request, refused (INVALID_TIME on `field`) unless a
// Timestamp holds it: past that, PostgreSQL's conversion overflows
// (INTERNAL, which pages) or stores a time no answer can represent.
absl::StatusOr<absl::Time> RequestTime(const google::protobuf::Timestamp& ts,
                                       const char* field);

// Opaque page tokens: web-safe base64 of "<a>\x1f<b>". ParseToken refuses
// (INVALID_PAGE_TOKEN) what Token did not make.
std::string Token(absl::string_view a, absl::string_view b);
absl::Status ParseToken(const std::string& token, std::string* a,
                        std::string* b);

// The code in `agencies/{code}` (INVALID_AGENCY when there is none).
absl::StatusOr<std::string> AgencyCode(const std::string& name);
// The id in `calendars/{id}`, named by `field` (INVALID_NAME otherwise).
absl::StatusOr<std::string> CalendarId(const std::string& name,
                                       const char* field);

// A report's period [start, end): both given, within years 0001-9999, the
// end after the start (INVALID_PERIOD otherwise).
struct ReportPeriod {
  absl::Time start;
  absl::Time end;
};
absl::StatusOr<ReportPeriod> RequestedPeriod(
    const v1::GetOnTimeReportRequest& req);
// INVALID_PERIOD unless both ends are midnights in `cal`'s zone: counters
// are per local day, so a boundary inside a day would count that day in
// both periods it separates.
absl::Status CheckWholeLocalDays(const ReportPeriod& p,
                                 const calendar::WorkingCalendar& cal);

}  // namespace lienthong::deadline
