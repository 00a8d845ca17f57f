#include "services/intake/calendar_cache.h"

#include <utility>

#include "libs/calendar/calendar_json.h"
#include "libs/common/status_macros.h"

namespace lienthong::intake {

CalendarCache::CalendarCache(
    std::shared_ptr<const calendar::WorkingCalendar> initial,
    std::string version) {
  current_.calendar = std::move(initial);
  current_.version = std::move(version);
}

CalendarSnapshot CalendarCache::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

absl::Status CalendarCache::Install(const CalendarCopy& copy) {
  LT_ASSIGN_OR_RETURN(calendar::CalendarData data,
                      calendar::ParseCalendarJson(copy.json));
  LT_ASSIGN_OR_RETURN(calendar::WorkingCalendar cal,
                      calendar::WorkingCalendar::Create(std::move(data)));
  auto next = std::make_shared<const calendar::WorkingCalendar>(std::move(cal));
  std::lock_guard<std::mutex> lock(mu_);
  current_.calendar = std::move(next);
  current_.version = copy.version;
  return absl::OkStatus();
}

absl::StatusOr<bool> CalendarRefresher::RunOnce() const {
  LT_ASSIGN_OR_RETURN(CalendarCopy copy, fetch());
  if (copy.version == cache->Snapshot().version) return false;
  LT_RETURN_IF_ERROR(cache->Install(copy));
  if (persist) LT_RETURN_IF_ERROR(persist(copy));
  return true;
}

}  // namespace lienthong::intake
