#include "services/deadline/deadline_logic.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/calendar/test_calendars.h"

namespace lienthong::deadline {
namespace {

using calendar::WorkingCalendar;
using calendar::testing::Fixture;
using calendar::testing::FixtureData;
using calendar::testing::Vn;

std::string Show(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M %a", t,
                          absl::FixedTimeZone(7 * 3600));
}

StartParams Params(absl::Time received, absl::Duration limit,
                   SupplementPolicy policy = SupplementPolicy::kRestart) {
  StartParams p;
  p.name = "dossiers/000.00.00.H26-260309-0001";
  p.dossier_code = "000.00.00.H26-260309-0001";
  p.agency = {"000.00.00.H26", Tier::kProvince, {}};
  p.procedure_code = "1.001193";
  p.limit = limit;
  p.supplement_policy = policy;
  p.received_at = received;
  return p;
}

class DeadlineLogicTest : public ::testing::Test {
 protected:
  Clock FiveDays(SupplementPolicy policy = SupplementPolicy::kRestart) {
    absl::StatusOr<Clock> c = rules_.Start(
        Params(Vn(2026, 3, 9, 10, 0), absl::Hours(40), policy), cal_);
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }
  WorkingCalendar cal_ = Fixture();
  DeadlineRules rules_;
};

TEST(DueSoonThresholdTest, MaxOfFractionAndFloorCappedAtHalf) {
  const DueSoonPolicy p;  // 20 % or 4 working hours
  EXPECT_EQ(DueSoonThreshold(p, absl::Hours(8)), absl::Hours(4));
  EXPECT_EQ(DueSoonThreshold(p, absl::Hours(4)), absl::Hours(2));
  EXPECT_EQ(DueSoonThreshold(p, absl::Hours(120)), absl::Hours(24));
  EXPECT_EQ(DueSoonThreshold(p, absl::Hours(40)), absl::Hours(8));
}

TEST_F(DeadlineLogicTest, StartComputesDueAndDueSoon) {
  const Clock c = FiveDays();
  EXPECT_EQ(c.state, ClockState::kRunning);
  EXPECT_EQ(Show(c.due_at), Show(Vn(2026, 3, 16, 10, 0)));
  EXPECT_EQ(c.original_due_at, c.due_at);
  // 8 working hours before the due time.
  EXPECT_EQ(Show(c.due_soon_at), Show(Vn(2026, 3, 13, 10, 0)));
  EXPECT_EQ(c.next_fire_at, c.due_soon_at);
  EXPECT_EQ(c.urgency(), Urgency::kOnTrack);
}

TEST_F(DeadlineLogicTest, StartAppliesCutoff) {
  StartParams p = Params(Vn(2026, 3, 9, 16, 0), absl::Hours(8));
  p.cutoff_minute = 15 * 60;
  absl::StatusOr<Clock> c = rules_.Start(p, cal_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Show(c->counting_starts), Show(Vn(2026, 3, 10, 8, 0)));
  EXPECT_EQ(Show(c->due_at), Show(Vn(2026, 3, 10, 17, 0)));
}

TEST_F(DeadlineLogicTest, StartRejectsBadInput) {
  StartParams p = Params(Vn(2026, 3, 9, 16, 0), absl::ZeroDuration());
  p.agency.code.clear();
  EXPECT_EQ(rules_.Start(p, cal_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DeadlineLogicTest, FiresDueSoonThenOverdueOnce) {
  Clock c = FiveDays();
  EXPECT_FALSE(rules_.Fire(c, Vn(2026, 3, 13, 9, 59)).has_value());
  absl::optional<Firing> f = rules_.Fire(c, Vn(2026, 3, 13, 10, 0));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->urgency, Urgency::kDueSoon);
  // Overdue from the first instant past the due time: at it, a dossier
  // finished is on time (Stop), so the clock is not overdue yet either.
  EXPECT_EQ(c.next_fire_at, c.due_at + absl::Microseconds(1));
  EXPECT_FALSE(rules_.Fire(c, Vn(2026, 3, 16, 9, 0)).has_value());
  EXPECT_FALSE(rules_.Fire(c, c.due_at).has_value());
  EXPECT_EQ(c.next_fire_at, c.due_at + absl::Microseconds(1));
  f = rules_.Fire(c, c.due_at + absl::Microseconds(1));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->urgency, Urgency::kOverdue);
  EXPECT_EQ(f->scheduled, c.due_at);
  EXPECT_EQ(c.next_fire_at, absl::nullopt);
  EXPECT_FALSE(rules_.Fire(c, Vn(2026, 3, 20, 10, 0)).has_value());
  EXPECT_EQ(c.urgency(), Urgency::kOverdue);
}

TEST_F(DeadlineLogicTest, OverdueSupersedesAnUnfiredDueSoon) {
  Clock c = FiveDays();
  absl::optional<Firing> f = rules_.Fire(c, Vn(2026, 3, 17, 8, 0));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->urgency, Urgency::kOverdue);
  EXPECT_TRUE(c.due_soon_fired);
  EXPECT_FALSE(rules_.Fire(c, Vn(2026, 3, 17, 9, 0)).has_value());
}

TEST_F(DeadlineLogicTest, PauseThenResumeKeepsWhatWasLeft) {
  Clock c = FiveDays(SupplementPolicy::kResume);
  ASSERT_TRUE(rules_.Pause(c, Vn(2026, 3, 11, 10, 0), cal_).ok());
  EXPECT_EQ(c.state, ClockState::kPaused);
  EXPECT_EQ(c.consumed_before_run, absl::Hours(16));
  EXPECT_EQ(c.next_fire_at, absl::nullopt);
  EXPECT_EQ(rules_.Remaining(c, Vn(2026, 3, 20, 0, 0), cal_), absl::Hours(24));
  EXPECT_FALSE(rules_.Fire(c, Vn(2026, 3, 30, 0, 0)).has_value());
  ASSERT_TRUE(rules_.Resume(c, Vn(2026, 3, 16, 10, 0), cal_).ok());
  EXPECT_EQ(Show(c.due_at), Show(Vn(2026, 3, 19, 10, 0)));
  EXPECT_EQ(Show(c.original_due_at), Show(Vn(2026, 3, 16, 10, 0)));
  EXPECT_EQ(rules_.Remaining(c, Vn(2026, 3, 17, 10, 0), cal_), absl::Hours(16));
}

TEST_F(DeadlineLogicTest, RestartCountsTheWholeLimitAgain) {
  Clock c = FiveDays(SupplementPolicy::kRestart);
  ASSERT_TRUE(rules_.Fire(c, Vn(2026, 3, 13, 11, 0)).has_value());  // soon
  ASSERT_TRUE(rules_.Pause(c, Vn(2026, 3, 13, 11, 0), cal_).ok());
  ASSERT_TRUE(rules_.Resume(c, Vn(2026, 3, 16, 10, 0), cal_).ok());
  EXPECT_EQ(Show(c.due_at), Show(Vn(2026, 3, 23, 10, 0)));
  EXPECT_EQ(c.urgency(), Urgency::kOnTrack);
  EXPECT_EQ(c.next_fire_at, c.due_soon_at);
}

// Resumed outside office hours with nothing (or only the due-soon margin)
// left, the run's due-soon and due instants fall at the next opening, after
// the resume's own instant. The notices already sent stay sent: the clock's
// working time has not moved back, so it must not announce them again.
TEST_F(DeadlineLogicTest, ResumeAfterHoursKeepsNoticesAlreadySent) {
  Clock c = FiveDays(SupplementPolicy::kResume);
  ASSERT_TRUE(rules_.Fire(c, Vn(2026, 3, 17, 8, 0)).has_value());  // overdue
  ASSERT_TRUE(rules_.Pause(c, Vn(2026, 3, 18, 10, 0), cal_).ok());
  // Monday 19:00: counting starts, due-soon and due all at Tuesday 08:00.
  ASSERT_TRUE(rules_.Resume(c, Vn(2026, 3, 23, 19, 0), cal_).ok());
  EXPECT_EQ(Show(c.due_at), Show(Vn(2026, 3, 24, 8, 0)));
  EXPECT_TRUE(c.overdue_fired);
  EXPECT_TRUE(c.due_soon_fired);
  EXPECT_EQ(c.urgency(), Urgency::kOverdue);
  EXPECT_EQ(c.next_fire_at, absl::nullopt);
  // A calendar change before the run counts keeps them too.
  ASSERT_TRUE(rules_.Recompute(c, Vn(2026, 3, 23, 20, 0), cal_).ok());
  EXPECT_TRUE(c.overdue_fired);
  // So does a second supplement request before Tuesday's opening.
  ASSERT_TRUE(rules_.Pause(c, Vn(2026, 3, 23, 21, 0), cal_).ok());
  EXPECT_TRUE(c.overdue_fired);
  ASSERT_TRUE(rules_.Resume(c, Vn(2026, 3, 23, 22, 0), cal_).ok());
  EXPECT_TRUE(c.overdue_fired);
  EXPECT_FALSE(rules_.Fire(c, Vn(2026, 3, 24, 8, 1)).has_value());
}

TEST_F(DeadlineLogicTest, ResumeAfterHoursKeepsADueSoonAlreadySent) {
  Clock c = FiveDays(SupplementPolicy::kResume);
  ASSERT_TRUE(rules_.Fire(c, Vn(2026, 3, 13, 11, 0)).has_value());  // soon
  ASSERT_TRUE(rules_.Pause(c, Vn(2026, 3, 13, 11, 0), cal_).ok());
  // 7 working hours left, under the 8-hour margin.
  ASSERT_TRUE(rules_.Resume(c, Vn(2026, 3, 16, 19, 0), cal_).ok());
  EXPECT_TRUE(c.due_soon_fired);
  EXPECT_FALSE(c.overdue_fired);
  EXPECT_EQ(c.next_fire_at, c.due_at + absl::Microseconds(1));
  EXPECT_FALSE(rules_.Fire(c, Vn(2026, 3, 17, 8, 0)).has_value());
  absl::optional<Firing> f = rules_.Fire(c, Vn(2026, 3, 18, 8, 0));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->urgency, Urgency::kOverdue);
}

// A clock that really gets its time back warns and fires again.
TEST_F(DeadlineLogicTest, RestartAfterHoursFiresAgain) {
  Clock c = FiveDays(SupplementPolicy::kRestart);
  ASSERT_TRUE(rules_.Fire(c, Vn(2026, 3, 17, 8, 0)).has_value());  // overdue
  ASSERT_TRUE(rules_.Pause(c, Vn(2026, 3, 18, 10, 0), cal_).ok());
  ASSERT_TRUE(rules_.Resume(c, Vn(2026, 3, 23, 19, 0), cal_).ok());
  EXPECT_EQ(c.urgency(), Urgency::kOnTrack);
  EXPECT_EQ(Show(c.due_at), Show(Vn(2026, 3, 30, 17, 0)));
  absl::optional<Firing> f = rules_.Fire(c, c.due_soon_at);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->urgency, Urgency::kDueSoon);
  f = rules_.Fire(c, c.due_at + absl::Microseconds(1));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->urgency, Urgency::kOverdue);
}

TEST_F(DeadlineLogicTest, TransitionTable) {
  enum Event { kPause, kResume, kStop };
  struct Case {
    ClockState from;
    Event event;
    absl::StatusCode code;
    ClockState to;
  };
  const Case cases[] = {
      {ClockState::kRunning, kPause, absl::StatusCode::kOk,
       ClockState::kPaused},
      {ClockState::kRunning, kResume, absl::StatusCode::kOk,
       ClockState::kRunning},
      {ClockState::kRunning, kStop, absl::StatusCode::kOk,
       ClockState::kStopped},
      {ClockState::kPaused, kPause, absl::StatusCode::kOk, ClockState::kPaused},
      {ClockState::kPaused, kResume, absl::StatusCode::kOk,
       ClockState::kRunning},
      {ClockState::kPaused, kStop, absl::StatusCode::kOk, ClockState::kStopped},
      {ClockState::kStopped, kPause, absl::StatusCode::kFailedPrecondition,
       ClockState::kStopped},
      {ClockState::kStopped, kResume, absl::StatusCode::kFailedPrecondition,
       ClockState::kStopped},
      {ClockState::kStopped, kStop, absl::StatusCode::kOk,
       ClockState::kStopped},
  };
  const absl::Time t0 = Vn(2026, 3, 10, 9, 0);
  const absl::Time t1 = Vn(2026, 3, 11, 9, 0);
  for (const Case& c : cases) {
    Clock clock = FiveDays();
    if (c.from == ClockState::kPaused) {
      ASSERT_TRUE(rules_.Pause(clock, t0, cal_).ok());
    } else if (c.from == ClockState::kStopped) {
      ASSERT_TRUE(rules_.Stop(clock, t0, StopReason::kDone, cal_).ok());
    }
    absl::Status s;
    switch (c.event) {
      case kPause:
        s = rules_.Pause(clock, t1, cal_);
        break;
      case kResume:
        s = rules_.Resume(clock, t1, cal_);
        break;
      case kStop:
        s = rules_.Stop(clock, t1, StopReason::kDone, cal_);
        break;
    }
    EXPECT_EQ(s.code(), c.code) << StateName(c.from) << " event " << c.event;
    EXPECT_EQ(clock.state, c.to) << StateName(c.from) << " event " << c.event;
  }
}

TEST_F(DeadlineLogicTest, OutcomesAgainstTheDueTime) {
  struct Case {
    absl::Time at;
    StopReason reason;
    Outcome want;
  };
  const Case cases[] = {
      {Vn(2026, 3, 13, 16, 0), StopReason::kDone, Outcome::kEarly},
      {Vn(2026, 3, 16, 9, 0), StopReason::kDone, Outcome::kOnTime},
      {Vn(2026, 3, 16, 10, 0), StopReason::kDone, Outcome::kOnTime},
      {Vn(2026, 3, 16, 10, 1), StopReason::kDone, Outcome::kLate},
      {Vn(2026, 3, 16, 10, 1), StopReason::kRefused, Outcome::kLate},
      {Vn(2026, 3, 12, 10, 0), StopReason::kRefused, Outcome::kEarly},
      {Vn(2026, 3, 20, 10, 0), StopReason::kWithdrawn, Outcome::kNone},
  };
  for (const Case& c : cases) {
    Clock clock = FiveDays();
    ASSERT_TRUE(rules_.Stop(clock, c.at, c.reason, cal_).ok());
    EXPECT_EQ(clock.outcome, c.want) << Show(c.at);
    EXPECT_EQ(clock.next_fire_at, absl::nullopt);
  }
}

TEST_F(DeadlineLogicTest, StoppedWhilePausedIsJudgedAtThePause) {
  Clock c = FiveDays();
  ASSERT_TRUE(rules_.Pause(c, Vn(2026, 3, 16, 9, 0), cal_).ok());
  ASSERT_TRUE(
      rules_.Stop(c, Vn(2026, 3, 30, 9, 0), StopReason::kRefused, cal_).ok());
  EXPECT_EQ(c.outcome, Outcome::kOnTime);
}

TEST_F(DeadlineLogicTest, CalendarChangeMovesTheDueTime) {
  Clock c = FiveDays();
  calendar::CalendarData data = FixtureData();
  data.holidays.push_back({absl::CivilDay(2026, 3, 12),
                           absl::CivilDay(2026, 3, 12), "Nghỉ đột xuất", "",
                           false});
  const WorkingCalendar changed = *WorkingCalendar::Create(data);
  absl::StatusOr<bool> moved =
      rules_.Recompute(c, Vn(2026, 3, 10, 0, 0), changed);
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE(*moved);
  EXPECT_EQ(Show(c.due_at), Show(Vn(2026, 3, 17, 10, 0)));
  EXPECT_EQ(c.original_due_at, c.due_at);
  EXPECT_FALSE(*rules_.Recompute(c, Vn(2026, 3, 10, 0, 0), changed));
}

TEST_F(DeadlineLogicTest, CalendarChangeCanUndoAnOverdue) {
  Clock c = FiveDays();
  const absl::Time now = Vn(2026, 3, 16, 11, 0);
  ASSERT_TRUE(rules_.Fire(c, now).has_value());
  ASSERT_EQ(c.urgency(), Urgency::kOverdue);
  calendar::CalendarData data = FixtureData();
  data.holidays.push_back({absl::CivilDay(2026, 3, 12),
                           absl::CivilDay(2026, 3, 13), "Nghỉ đột xuất", "",
                           false});
  ASSERT_TRUE(*rules_.Recompute(c, now, *WorkingCalendar::Create(data)));
  EXPECT_EQ(Show(c.due_at), Show(Vn(2026, 3, 18, 10, 0)));
  EXPECT_NE(c.urgency(), Urgency::kOverdue);
  EXPECT_TRUE(c.next_fire_at.has_value());
}

TEST_F(DeadlineLogicTest, ReportDeltasFollowTheClock) {
  Clock c = FiveDays();
  ReportDelta d = DeltaOf(nullptr, c);
  EXPECT_EQ(d.received, 1);
  EXPECT_EQ(d.open_on_time, 1);
  const Clock before = c;
  rules_.Fire(c, Vn(2026, 3, 17, 8, 0));
  d = DeltaOf(&before, c);
  EXPECT_EQ(d.received, 0);
  EXPECT_EQ(d.open_on_time, -1);
  EXPECT_EQ(d.open_overdue, 1);
  const Clock overdue = c;
  ASSERT_TRUE(
      rules_.Stop(c, Vn(2026, 3, 18, 8, 0), StopReason::kDone, cal_).ok());
  d = DeltaOf(&overdue, c);
  EXPECT_EQ(d.open_overdue, -1);
  EXPECT_EQ(d.finished_late, 1);
  const Clock stopped = c;
  EXPECT_TRUE(DeltaOf(&stopped, c).empty());

  Clock w = FiveDays();
  const Clock open = w;
  ASSERT_TRUE(
      rules_.Stop(w, Vn(2026, 3, 10, 8, 0), StopReason::kWithdrawn, cal_).ok());
  d = DeltaOf(&open, w);
  EXPECT_EQ(d.open_on_time, -1);
  EXPECT_EQ(d.finished_early + d.finished_on_time + d.finished_late, 0);
}

}  // namespace
}  // namespace lienthong::deadline
