#pragma once

// For tests only: a stored calendar version the service cannot read, as an
// older release or a hand edit could leave one (deadline_service_test.cc,
// deadline_server_input_test.cc).

#include "absl/status/status.h"
#include "absl/strings/str_replace.h"
#include "libs/calendar/default_calendar.h"
#include "libs/calendar/test_calendars.h"
#include "services/deadline/deadline_service.h"
#include "services/deadline/deadline_store.h"

namespace lienthong::deadline::test {

// Stores "vn" version 2, in force since 1/1/2026: vn.json naming a time
// zone that does not exist, so it parses but makes no calendar. `service`
// forgets its cached calendars, so its next use of vn reads this version.
inline absl::Status StoreUnreadableVnV2(DeadlineStore& store,
                                        DeadlineService& service) {
  const absl::Status stored = store.InTransaction([](DeadlineTx& tx) {
    CalendarVersion v;
    v.calendar_id = "vn";
    v.version = 2;
    v.effective_from = calendar::testing::Vn(2026, 1, 1, 0, 0);
    v.json = absl::StrReplaceAll(calendar::DefaultCalendarJson(),
                                 {{"Asia/Ho_Chi_Minh", "Asia/Nowhere"}});
    v.created_at = v.effective_from;
    v.applied = true;
    return tx.InsertCalendar(v);
  });
  service.ForgetCachedCalendars();
  return stored;
}

}  // namespace lienthong::deadline::test
