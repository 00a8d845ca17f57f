// A leg's clock counts as its dossier's does: in the dossier clock's
// calendar, with the procedure's rule on supplement and its cut-off,
// whichever of routing's TaskDispatched and intake's DossierReceived
// arrives first (neither names what the other knows). Over real PostgreSQL
// and restarts: pg_leg_clock_test.cc.

#include "gtest/gtest.h"
#include "libs/calendar/test_calendars.h"
#include "services/deadline/deadline_service_fixture.h"

namespace lienthong::deadline {
namespace {

using calendar::testing::Vn;

// Routing's TaskDispatched names neither the procedure's supplement rule
// nor its calendar: a leg counts by its dossier's clock, so after a
// supplement under the resume rule it keeps what it had used, in the
// procedure's calendar, as the dossier does.
TEST_F(DeadlineServiceTest, ALegFollowsItsDossiersSupplementRuleAndCalendar) {
  // The procedure's calendar takes Tue 10/3 off; vn (the leg agency's) not.
  AddCalendar("vn-ho-tich", {absl::CivilDay(2026, 3, 10)}, "Nghỉ vn-ho-tich");
  InboundEvent received = Received("D1", kWardA, Vn(2026, 3, 9, 10, 0));
  received.calendar_id = "vn-ho-tich";
  received.supplement_policy = SupplementPolicy::kResume;
  ASSERT_TRUE(service_.HandleEvent(received).ok());
  InboundEvent leg = Simple("disp-1", InboundKind::kLegDispatched, "D1",
                            Vn(2026, 3, 9, 11, 0), "ho-tich");
  leg.agency = kWardB;
  leg.procedure_code = "1.001193";
  leg.limit = absl::Hours(8 * 2);
  ASSERT_TRUE(service_.HandleEvent(leg).ok());
  Clock l = *service_.GetClock("dossiers/D1/legs/ho-tich");
  EXPECT_EQ(l.calendar_id, "vn-ho-tich");
  EXPECT_EQ(l.supplement_policy, SupplementPolicy::kResume);
  EXPECT_EQ(l.due_at, Vn(2026, 3, 12, 11, 0));  // 10/3 off

  // Asked Wed 11/3 11:00: one working day used (vn would count two).
  ASSERT_TRUE(
      service_
          .HandleEvent(Simple("sup-1", InboundKind::kSupplementRequested, "D1",
                              Vn(2026, 3, 11, 11, 0), "ho-tich"))
          .ok());
  ASSERT_TRUE(service_
                  .HandleEvent(Simple("sup-2", InboundKind::kSupplemented, "D1",
                                      Vn(2026, 3, 12, 9, 0), "ho-tich"))
                  .ok());
  // The day left, from Thu 12/3 09:00 (a restart would give 16/3, resuming
  // in vn 12/3 09:00).
  l = *service_.GetClock("dossiers/D1/legs/ho-tich");
  EXPECT_EQ(l.state, ClockState::kRunning);
  EXPECT_EQ(l.due_at, Vn(2026, 3, 13, 9, 0));
  // The dossier resumed likewise: 9 of its 40 working hours used.
  EXPECT_EQ(service_.GetClock("dossiers/D1")->due_at, Vn(2026, 3, 17, 17, 0));
}

// Routing's line can run ahead of intake's: a leg dispatched before its
// dossier's clock started takes the dossier's rule and calendar with it.
TEST_F(DeadlineServiceTest, ALegDispatchedFirstTakesItsDossiersRulesLater) {
  AddCalendar("vn-ho-tich", {absl::CivilDay(2026, 3, 10)}, "Nghỉ vn-ho-tich");
  InboundEvent leg = Simple("disp-1", InboundKind::kLegDispatched, "D1",
                            Vn(2026, 3, 9, 11, 0), "ho-tich");
  leg.agency = kWardB;
  leg.procedure_code = "1.001193";
  leg.limit = absl::Hours(8 * 2);
  ASSERT_TRUE(service_.HandleEvent(leg).ok());
  EXPECT_EQ(service_.GetClock("dossiers/D1/legs/ho-tich")->calendar_id, "vn");

  InboundEvent received = Received("D1", kWardA, Vn(2026, 3, 9, 10, 0));
  received.calendar_id = "vn-ho-tich";
  received.supplement_policy = SupplementPolicy::kResume;
  ASSERT_TRUE(service_.HandleEvent(received).ok());
  Clock l = *service_.GetClock("dossiers/D1/legs/ho-tich");
  EXPECT_EQ(l.calendar_id, "vn-ho-tich");
  EXPECT_EQ(l.calendar_version, 1);
  EXPECT_EQ(l.supplement_policy, SupplementPolicy::kResume);
  EXPECT_EQ(l.due_at, Vn(2026, 3, 12, 11, 0));  // 10/3 off
  EXPECT_EQ(l.original_due_at, l.due_at);

  ASSERT_TRUE(
      service_
          .HandleEvent(Simple("sup-1", InboundKind::kSupplementRequested, "D1",
                              Vn(2026, 3, 11, 11, 0), "ho-tich"))
          .ok());
  ASSERT_TRUE(service_
                  .HandleEvent(Simple("sup-2", InboundKind::kSupplemented, "D1",
                                      Vn(2026, 3, 12, 9, 0), "ho-tich"))
                  .ok());
  EXPECT_EQ(service_.GetClock("dossiers/D1/legs/ho-tich")->due_at,
            Vn(2026, 3, 13, 9, 0));  // the day it had left
}

// A run begun after the procedure's afternoon cut-off counts from the next
// working day, at the counter and for each leg alike: a leg dispatched or
// supplemented after it too, though no dispatch names the cut-off.
TEST_F(DeadlineServiceTest, ALegFollowsItsDossiersCutoff) {
  InboundEvent received = Received("D1", kWardA, Vn(2026, 3, 9, 10, 0));
  received.cutoff_minute = 15 * 60;
  ASSERT_TRUE(service_.HandleEvent(received).ok());
  InboundEvent leg = Simple("disp-1", InboundKind::kLegDispatched, "D1",
                            Vn(2026, 3, 9, 16, 0), "ho-tich");
  leg.agency = kWardB;
  leg.procedure_code = "1.001193";
  leg.limit = absl::Hours(8 * 2);
  ASSERT_TRUE(service_.HandleEvent(leg).ok());
  Clock l = *service_.GetClock("dossiers/D1/legs/ho-tich");
  EXPECT_EQ(l.cutoff_minute, 15 * 60);
  // From Tue 10/3 08:00 (from Mon 16:00 it would be due Wed 16:00).
  EXPECT_EQ(l.counting_starts, Vn(2026, 3, 10, 8, 0));
  EXPECT_EQ(l.due_at, Vn(2026, 3, 11, 17, 0));

  // Asked Tue 10:00, supplemented Tue 16:00: both count again (the
  // restart rule) from Wed 11/3 08:00.
  ASSERT_TRUE(
      service_
          .HandleEvent(Simple("sup-1", InboundKind::kSupplementRequested, "D1",
                              Vn(2026, 3, 10, 10, 0), "ho-tich"))
          .ok());
  ASSERT_TRUE(service_
                  .HandleEvent(Simple("sup-2", InboundKind::kSupplemented, "D1",
                                      Vn(2026, 3, 10, 16, 0)))
                  .ok());
  const Clock d = *service_.GetClock("dossiers/D1");
  EXPECT_EQ(d.counting_starts, Vn(2026, 3, 11, 8, 0));
  EXPECT_EQ(d.due_at, Vn(2026, 3, 17, 17, 0));
  l = *service_.GetClock("dossiers/D1/legs/ho-tich");
  EXPECT_EQ(l.counting_starts, Vn(2026, 3, 11, 8, 0));
  EXPECT_EQ(l.due_at, Vn(2026, 3, 12, 17, 0));  // from Tue 16:00: Thu 16:00
}

// Dispatched before the dossier's clock started, a leg had no cut-off; it
// takes the dossier's with its clock, and is counted again by it.
TEST_F(DeadlineServiceTest, ALegDispatchedFirstTakesItsDossiersCutoffLater) {
  InboundEvent leg = Simple("disp-1", InboundKind::kLegDispatched, "D1",
                            Vn(2026, 3, 9, 16, 0), "ho-tich");
  leg.agency = kWardB;
  leg.procedure_code = "1.001193";
  leg.limit = absl::Hours(8 * 2);
  ASSERT_TRUE(service_.HandleEvent(leg).ok());
  Clock l = *service_.GetClock("dossiers/D1/legs/ho-tich");
  EXPECT_FALSE(l.cutoff_minute.has_value());
  EXPECT_EQ(l.due_at, Vn(2026, 3, 11, 16, 0));

  InboundEvent received = Received("D1", kWardA, Vn(2026, 3, 9, 15, 30));
  received.cutoff_minute = 15 * 60;
  ASSERT_TRUE(service_.HandleEvent(received).ok());
  EXPECT_EQ(service_.GetClock("dossiers/D1")->due_at, Vn(2026, 3, 16, 17, 0));
  l = *service_.GetClock("dossiers/D1/legs/ho-tich");
  EXPECT_EQ(l.cutoff_minute, 15 * 60);
  EXPECT_EQ(l.counting_starts, Vn(2026, 3, 10, 8, 0));
  EXPECT_EQ(l.due_at, Vn(2026, 3, 11, 17, 0));
  EXPECT_EQ(l.original_due_at, l.due_at);
}

}  // namespace
}  // namespace lienthong::deadline
