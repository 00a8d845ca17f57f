#pragma once

// The deadline service over the in-memory store, on a fake clock at Monday
// 9/3/2026 10:00 in Hà Nội, with the national calendar seeded: the fixture
// of the service's unit tests (deadline_service_test.cc,
// deadline_leg_clock_test.cc for how a leg's clock follows its dossier's,
// and deadline_calendar_choice_test.cc for which calendar a clock counts
// in).

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "libs/calendar/test_calendars.h"
#include "libs/common/clock.h"
#include "libs/common/uuid.h"
#include "services/deadline/deadline_service.h"
#include "services/deadline/memory_deadline_store.h"
#include "services/deadline/test_agencies.h"

namespace lienthong::deadline {

class DeadlineServiceTest : public ::testing::Test {
 protected:
  DeadlineServiceTest()
      : clock_(calendar::testing::Vn(2026, 3, 9, 10, 0)),
        service_(store_, clock_, [](const ClockNotice& n) {
          return OutgoingEvent{
              absl::StrCat("ev-", n.clock.name, "-", UrgencyName(n.urgency)),
              UrgencyName(n.urgency),
              n.clock.name,
              {"notify", "intake"}};
        }) {}

  void SetUp() override { ASSERT_TRUE(service_.EnsureDefaultCalendar().ok()); }

  // An administrator's UpdateCalendar of `id`: vn.json with each of
  // `days_off` a holiday called `name`, in force since 1/1/2026.
  void AddCalendar(const std::string& id,
                   const std::vector<absl::CivilDay>& days_off,
                   const std::string& name) {
    ASSERT_TRUE(
        service_
            .UpdateCalendar(
                id, calendar::testing::VnJsonWithDaysOff(id, days_off, name),
                calendar::testing::Vn(2026, 1, 1, 0, 0), "admin", "")
            .ok());
  }

  // Events are named in tests ("sup-1"); their ids are UUIDs made of the
  // name, as the stores require, so the same name again is a redelivery.
  InboundEvent Received(const std::string& code, const AgencyRef& agency,
                        absl::Time at, int days = 5) {
    InboundEvent e;
    e.event_id = common::Version8Uuid(absl::StrCat("recv-", code));
    e.kind = InboundKind::kDossierReceived;
    e.occurred_at = at;
    e.dossier_code = code;
    e.agency = agency;
    e.procedure_code = "1.001193";
    e.limit = absl::Hours(8 * days);
    return e;
  }
  InboundEvent Simple(const std::string& id, InboundKind kind,
                      const std::string& code, absl::Time at,
                      const std::string& leg = "") {
    InboundEvent e;
    e.event_id = common::Version8Uuid(id);
    e.kind = kind;
    e.dossier_code = code;
    e.occurred_at = at;
    e.leg_id = leg;
    return e;
  }

  MemoryDeadlineStore store_;
  common::FakeClock clock_;
  DeadlineService service_;
};

}  // namespace lienthong::deadline
