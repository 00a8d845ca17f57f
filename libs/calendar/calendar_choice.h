#pragma once

// Which working-time calendar a dossier follows: its procedure's when the
// procedure names one, else its receiving agency's.
// Shared by the deadline service (the clock's due time) and intake (the
// appointment printed on the receipt): the two must choose alike, or the
// citizen's appointment and the legal due time disagree. Pure: whether a
// calendar exists is asked of the caller.

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace lienthong::calendar {

// The national calendar: every agency without a province calendar follows
// it.
inline constexpr char kNationalCalendarId[] = "vn";

// The province calendar an agency code points to: "vn-" and the code's last
// dot-separated segment, the province in QCVN 102:2016 codes
// (`001.06.19.H26` -> "vn-H26"). Empty when the code has no dot or ends with
// one.
std::string ProvinceCalendarId(absl::string_view agency_code);

// The calendar for dossiers received by `agency_code`: its province
// calendar when `exists` says there is one, else kNationalCalendarId.
// `exists` is asked at most once, and only about the province calendar.
std::string ChooseCalendarId(
    absl::string_view agency_code,
    absl::FunctionRef<bool(absl::string_view calendar_id)> exists);

// The calendar for dossiers of a procedure naming `procedure_calendar_id`
// (a calendar id, empty when the procedure names none) received by
// `agency_code`: the procedure's calendar when it names one that `exists`,
// else as above. A procedure whose calendar is gone (intake refuses to
// name one it does not hold) falls back to the agency's, in both services
// alike.
std::string ChooseCalendarId(
    absl::string_view procedure_calendar_id, absl::string_view agency_code,
    absl::FunctionRef<bool(absl::string_view calendar_id)> exists);

// The calendar id in a `calendars/{id}` resource name ("" for "", and the
// name itself when it lacks the prefix).
absl::string_view CalendarIdOfName(absl::string_view name);

}  // namespace lienthong::calendar
