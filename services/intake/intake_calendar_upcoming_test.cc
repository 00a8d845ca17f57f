// intake's stored copies of calendar versions that take effect later: used
// from their time without a refresh, kept across a restart while the
// deadline service is down, pruned when withdrawn, never older than the
// version in force.

#include <vector>

#include "gmock/gmock.h"
#include "libs/common/errors.h"
#include "libs/grpc_util/proto_time.h"
#include "services/intake/calendar_source.h"
#include "services/intake/intake_calendar_fixture.h"

namespace lienthong::intake {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace testing_support;  // NOLINT

TEST_F(IntakeCalendarTest, AVersionIsInstalledOnceItsEffectiveTimeHasCome) {
  deadline_.Add("vn", 3, Doc("vn"));
  // Announced at 09:00 on Monday for 10:00, with Tuesday off.
  deadline_.Add("vn-H26", 1, Doc("vn-H26", true), Vn(23, 10));
  auto cache = Restart();
  CalendarRefresher refresher = Refresher(cache.get());
  absl::StatusOr<CalendarRefresh> got = refresher.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn@3"));
  EXPECT_THAT(got->upcoming, ElementsAre("vn-H26@1"));
  EXPECT_EQ(cache->Snapshot(kTayMo).version, "vn@3");
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn vn@3",
                                    "calendars/vn-H26 vn-H26@1 from 23 10:00"));

  // Dossiers follow it from its time on, as deadline's clocks do, before
  // intake's next refresh.
  IntakeOptions options = Replica::Options();
  options.calendars = cache;
  Replica r(dsn_, clock_, options);
  EXPECT_EQ(SubmitAt(r, kTayMo, kTayMo).calendar_version(), "vn@3");
  clock_.Set(Vn(23, 10));
  const v1::Dossier d = SubmitAt(r, kTayMo, kTayMo);
  EXPECT_EQ(d.calendar_version(), "vn-H26@1");
  EXPECT_EQ(grpc_util::FromProto(d.appointment_time()), Vn(27, 10));

  got = refresher.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn-H26@1"));
  EXPECT_THAT(got->upcoming, IsEmpty());
  EXPECT_EQ(cache->Snapshot(kTayMo).version, "vn-H26@1");
  // Stored in force now, no longer as upcoming.
  EXPECT_THAT(Stored(),
              ElementsAre("calendars/vn vn@3", "calendars/vn-H26 vn-H26@1"));
}

TEST_F(IntakeCalendarTest,
       AnUpcomingVersionTimesDossiersFromItsTimeAfterARestartWithDeadlineDown) {
  deadline_.Add("vn", 3, Doc("vn"));
  // Announced at 09:00 on Monday for 10:00, with Tuesday off.
  deadline_.Add("vn", 4, Doc("vn", /*day_off=*/true), Vn(23, 10));
  {
    auto cache = Restart();
    absl::StatusOr<CalendarRefresh> got = Refresher(cache.get()).RunOnce();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_THAT(got->installed, ElementsAre("vn@3"));
    EXPECT_THAT(got->upcoming, ElementsAre("vn@4"));
  }
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn vn@3",
                                    "calendars/vn vn@4 from 23 10:00"));

  // Intake restarts while the deadline service is down: the stored
  // versions, the upcoming one included.
  deadline_.down = true;
  auto restarted = Restart();
  EXPECT_EQ(Refresher(restarted.get()).RunOnce().status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_THAT(Held(*restarted), ElementsAre("vn@3"));
  EXPECT_THAT(HeldUpcoming(*restarted), ElementsAre("vn@4 from 23 10:00"));
  IntakeOptions options = Replica::Options();
  options.calendars = restarted;
  Replica r(dsn_, clock_, options);
  // Before its time: vn@3, Monday 09:00 + 3 working days.
  const v1::Dossier before = SubmitAt(r, kTayMo, kTayMo);
  EXPECT_EQ(before.calendar_version(), "vn@3");
  EXPECT_EQ(grpc_util::FromProto(before.appointment_time()), Vn(26, 9));
  // From its time on, still without the deadline service: vn@4, which
  // takes Tuesday off.
  clock_.Advance(absl::Hours(2));
  const v1::Dossier after = SubmitAt(r, kTayMo, kTayMo);
  EXPECT_EQ(after.calendar_version(), "vn@4");
  EXPECT_EQ(grpc_util::FromProto(after.appointment_time()), Vn(27, 11));
  const v1::Dossier stored = GetAsAdmin(r, after.name());
  EXPECT_EQ(stored.calendar_version(), "vn@4");
  EXPECT_EQ(grpc_util::FromProto(stored.appointment_time()), Vn(27, 11));

  // The deadline service back, vn@4 in force: stored as such, its
  // upcoming row and vn@3's gone.
  deadline_.down = false;
  absl::StatusOr<CalendarRefresh> got = Refresher(restarted.get()).RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn@4"));
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn vn@4"));
  EXPECT_THAT(HeldUpcoming(*restarted), IsEmpty());
}

TEST_F(IntakeCalendarTest, StoredUpcomingVersionsArePrunedWhenWithdrawn) {
  deadline_.Add("vn", 3, Doc("vn"));
  deadline_.Add("vn", 4, Doc("vn", true), Vn(24, 0));
  deadline_.Add("vn", 5, Doc("vn"), Vn(25, 0));
  deadline_.Add("vn-H26", 1, Doc("vn-H26", true), Vn(24, 0));
  auto cache = Restart();
  CalendarRefresher refresher = Refresher(cache.get());
  ASSERT_TRUE(refresher.RunOnce().ok());
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn vn@3",
                                    "calendars/vn vn@4 from 24 00:00",
                                    "calendars/vn vn@5 from 25 00:00",
                                    "calendars/vn-H26 vn-H26@1 from 24 00:00"));

  // vn@4 replaced by vn@6 at the same time; vn-H26, not yet in force,
  // deleted on the deadline side.
  deadline_.calendars.erase(deadline_.calendars.begin() + 1);
  deadline_.calendars.pop_back();
  deadline_.Add("vn", 6, Doc("vn"), Vn(24, 0));
  clock_.Advance(absl::Minutes(5));  // the next refresh
  absl::StatusOr<CalendarRefresh> got = refresher.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->pruned.ok()) << got->pruned;
  EXPECT_THAT(got->removed, ElementsAre("vn-H26"));
  // vn@5, numbered below vn@6 effective before it, would never take over.
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn vn@3",
                                    "calendars/vn vn@6 from 24 00:00"));
  EXPECT_THAT(HeldUpcoming(*cache), ElementsAre("vn@6 from 24 00:00"));
  EXPECT_THAT(HeldUpcoming(*Restart()), ElementsAre("vn@6 from 24 00:00"));

  // A replica's listing from before vn@6 was published, pruning late, can
  // not tell it from one withdrawn: it stays.
  {
    auto other = Restart();
    CalendarRefresher stale = Refresher(other.get());
    stale.fetch = [this] {
      std::vector<CalendarCopy> listed;
      listed.push_back({"vn", Doc("vn"), "vn@3"});
      return listed;
    };
    common::FakeClock before(Vn(23, 9));
    stale.clock = &before;
    ASSERT_TRUE(stale.RunOnce().ok());
    EXPECT_THAT(Stored(), ElementsAre("calendars/vn vn@3",
                                      "calendars/vn vn@6 from 24 00:00"));
  }

  // Withdrawn altogether (deleted by hand: the API has no call for it),
  // the latest version: the row goes, a restart does not bring it back.
  deadline_.calendars.resize(1);
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(refresher.RunOnce().ok());
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn vn@3"));
  EXPECT_THAT(HeldUpcoming(*Restart()), IsEmpty());
}

TEST_F(IntakeCalendarTest,
       AStoredUpcomingVersionIsNeverOlderThanTheOneInForce) {
  const auto store = [&](int version, absl::optional<absl::Time> from) {
    CalendarCopy c{"vn-H26", Doc("vn-H26"), absl::StrCat("vn-H26@", version),
                   from};
    ASSERT_TRUE(StoreCalendar(pool_, clock_, c).ok());
  };
  store(2, absl::nullopt);
  store(3, Vn(24, 0));
  store(10, Vn(25, 0));  // numbers, not text, are compared
  EXPECT_THAT(Stored(),
              ElementsAre("calendars/vn-H26 vn-H26@2",
                          "calendars/vn-H26 vn-H26@3 from 24 00:00",
                          "calendars/vn-H26 vn-H26@10 from 25 00:00"));
  // A replica that fetched before version 2 came into force, storing late.
  store(2, Vn(23, 12));
  store(1, Vn(23, 12));
  EXPECT_THAT(Stored(),
              ElementsAre("calendars/vn-H26 vn-H26@2",
                          "calendars/vn-H26 vn-H26@3 from 24 00:00",
                          "calendars/vn-H26 vn-H26@10 from 25 00:00"));
  // Version 3 in force: its upcoming row goes, version 10's stays.
  store(3, absl::nullopt);
  EXPECT_THAT(Stored(),
              ElementsAre("calendars/vn-H26 vn-H26@3",
                          "calendars/vn-H26 vn-H26@10 from 25 00:00"));
  // The other order: a replica storing late what it listed before version
  // 3 came into force changes nothing.
  store(2, absl::nullopt);
  store(3, Vn(24, 0));
  EXPECT_THAT(Stored(),
              ElementsAre("calendars/vn-H26 vn-H26@3",
                          "calendars/vn-H26 vn-H26@10 from 25 00:00"));
  store(10, absl::nullopt);
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn-H26 vn-H26@10"));
  store(10, Vn(25, 0));
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn-H26 vn-H26@10"));
}

}  // namespace
}  // namespace lienthong::intake
