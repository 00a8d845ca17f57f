// ExplainDueTime explains a clock with the calendar version its due time
// was counted with, whatever version is in force since: the service over
// the in-memory store.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/calendar/test_calendars.h"
#include "libs/common/errors.h"
#include "services/deadline/deadline_service_fixture.h"

namespace lienthong::deadline {
namespace {

using calendar::testing::Vn;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::Not;

// The spans version 1 (vn.json) counts for one working day from Monday
// 9/3/2026 10:00: the rest of Monday, then Tuesday 08:00-10:00.
MATCHER_P2(Span, start, end, "") {
  return arg.start == start && arg.end == end;
}

TEST_F(DeadlineServiceTest, AStoppedClockIsExplainedWithItsOwnVersion) {
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0), 1))
          .ok());
  ASSERT_TRUE(service_
                  .HandleEvent(Simple("done-1", InboundKind::kDossierCompleted,
                                      "D1", Vn(2026, 3, 10, 9, 0)))
                  .ok());
  // Version 2 makes Tuesday 10/3 a day off: counted with it, the clock
  // would be due on Wednesday. A stopped clock is not counted again.
  AddCalendar("vn", {absl::CivilDay(2026, 3, 10)}, "Nghỉ đột xuất");
  ASSERT_EQ(service_.CalendarWithVersion("vn")->second, 2);
  const Clock c = *service_.GetClock("dossiers/D1");
  ASSERT_EQ(c.calendar_version, 1);
  ASSERT_EQ(c.due_at, Vn(2026, 3, 10, 10, 0));

  absl::StatusOr<calendar::Explanation> e =
      service_.ExplainDueTime("dossiers/D1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->due, c.due_at);
  EXPECT_THAT(e->counted,
              ElementsAre(Span(Vn(2026, 3, 9, 10, 0), Vn(2026, 3, 9, 12, 0)),
                          Span(Vn(2026, 3, 9, 13, 0), Vn(2026, 3, 9, 17, 0)),
                          Span(Vn(2026, 3, 10, 8, 0), Vn(2026, 3, 10, 10, 0))));
  EXPECT_THAT(e->skipped,
              Not(::testing::Contains(Field(&calendar::SkippedSpan::reason,
                                            calendar::SkipReason::kHoliday))));
}

TEST_F(DeadlineServiceTest, APausedClockIsExplainedWithItsOwnVersion) {
  // Five working days from Monday 9/3 10:00: due Monday 16/3 10:00.
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0))).ok());
  ASSERT_TRUE(
      service_
          .HandleEvent(Simple("sup-1", InboundKind::kSupplementRequested, "D1",
                              Vn(2026, 3, 11, 10, 0)))
          .ok());
  // Version 2 takes Tuesday 10/3 off, inside the part already counted: a
  // paused clock keeps its due time and version.
  clock_.Advance(absl::Hours(1));
  AddCalendar("vn", {absl::CivilDay(2026, 3, 10)}, "Nghỉ đột xuất");
  const Clock c = *service_.GetClock("dossiers/D1");
  ASSERT_EQ(c.state, ClockState::kPaused);
  ASSERT_EQ(c.calendar_version, 1);
  ASSERT_EQ(c.due_at, Vn(2026, 3, 16, 10, 0));

  absl::StatusOr<calendar::Explanation> e =
      service_.ExplainDueTime("dossiers/D1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->due, c.due_at);
  EXPECT_EQ(e->counted.front().start, Vn(2026, 3, 9, 10, 0));
  EXPECT_THAT(e->skipped,
              Not(::testing::Contains(Field(&calendar::SkippedSpan::reason,
                                            calendar::SkipReason::kHoliday))));
}

TEST_F(DeadlineServiceTest, AClockCountedWithTheVersionInForceIsExplained) {
  AddCalendar("vn", {absl::CivilDay(2026, 3, 10)}, "Nghỉ đột xuất");
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0), 1))
          .ok());
  const Clock c = *service_.GetClock("dossiers/D1");
  ASSERT_EQ(c.calendar_version, 2);
  absl::StatusOr<calendar::Explanation> e =
      service_.ExplainDueTime("dossiers/D1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->due, Vn(2026, 3, 11, 10, 0));
  EXPECT_THAT(e->skipped,
              ::testing::Contains(
                  Field(&calendar::SkippedSpan::detail, "Nghỉ đột xuất")));
}

TEST_F(DeadlineServiceTest, AClockWhoseVersionIsNotStoredIsNotExplained) {
  ASSERT_TRUE(
      service_.HandleEvent(Received("D1", kWardA, Vn(2026, 3, 9, 10, 0), 1))
          .ok());
  // A clock naming a version the store does not hold (a damaged copy of
  // the database, say) is not explained with another version.
  ASSERT_TRUE(store_
                  .InTransaction([](DeadlineTx& tx) -> absl::Status {
                    absl::StatusOr<std::vector<Clock>> cs =
                        tx.LockDossierClocks("D1");
                    if (!cs.ok()) return cs.status();
                    Clock c = cs->front();
                    c.calendar_version = 7;
                    return tx.UpdateClock(c);
                  })
                  .ok());
  const absl::StatusOr<calendar::Explanation> e =
      service_.ExplainDueTime("dossiers/D1");
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInternal) << e.status();
  EXPECT_EQ(common::GetErrorDetails(e.status()).reason,
            "CALENDAR_VERSION_MISSING");
}

}  // namespace
}  // namespace lienthong::deadline
