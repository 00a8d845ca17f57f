#include "libs/calendar/calendar_choice.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace lienthong::calendar {

std::string ProvinceCalendarId(absl::string_view agency_code) {
  const size_t dot = agency_code.rfind('.');
  if (dot == absl::string_view::npos || dot + 1 == agency_code.size()) {
    return std::string();
  }
  return absl::StrCat("vn-", agency_code.substr(dot + 1));
}

std::string ChooseCalendarId(
    absl::string_view agency_code,
    absl::FunctionRef<bool(absl::string_view calendar_id)> exists) {
  std::string province = ProvinceCalendarId(agency_code);
  if (!province.empty() && exists(province)) return province;
  return std::string(kNationalCalendarId);
}

std::string ChooseCalendarId(
    absl::string_view procedure_calendar_id, absl::string_view agency_code,
    absl::FunctionRef<bool(absl::string_view calendar_id)> exists) {
  if (!procedure_calendar_id.empty() && exists(procedure_calendar_id)) {
    return std::string(procedure_calendar_id);
  }
  return ChooseCalendarId(agency_code, exists);
}

absl::string_view CalendarIdOfName(absl::string_view name) {
  return absl::StripPrefix(name, "calendars/");
}

}  // namespace lienthong::calendar
