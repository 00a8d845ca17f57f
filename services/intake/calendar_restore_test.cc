// intake's stored calendar copies after a restart (RestoreCalendars) and
// which of them a deadline listing no longer has (StoredNotListed).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/intake/calendar_cache.h"
#include "services/intake/calendar_test_copies.h"

namespace lienthong::intake {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace calendar_testing;  // NOLINT

std::vector<std::string> Labels(const CalendarSet::Upcoming& upcoming,
                                absl::Time origin) {
  std::vector<std::string> out;
  for (const auto& [id, versions] : upcoming) {
    for (const TimedSnapshot& t : versions) {
      out.push_back(absl::StrCat(t.snapshot.version, " ",
                                 absl::ToInt64Hours(t.from - origin)));
    }
  }
  return out;
}

TEST(RestoreCalendarsTest, HoldsTheStoredUpcomingVersionsFromTheirTime) {
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  RestoredCalendars got = RestoreCalendars({
      Stored("vn", 3),
      Stored("vn", 4, t, /*day_off=*/true),
      Stored("vn", 5, t + absl::Hours(24)),
      Stored("vn-H26", 1),
      // A calendar whose first version is not in force yet.
      Stored("vn-T01", 1, t + absl::Hours(1)),
  });
  EXPECT_THAT(got.invalid, IsEmpty());
  ASSERT_EQ(got.in_force.size(), 2u);
  EXPECT_EQ(got.in_force.at("vn").version, "vn@3");
  EXPECT_EQ(got.in_force.at("vn-H26").version, "vn-H26@1");
  EXPECT_THAT(Labels(got.upcoming, t),
              ElementsAre("vn@4 0", "vn@5 24", "vn-T01@1 1"));

  const CalendarSet set(got.in_force, got.upcoming);
  EXPECT_EQ(set.For(kCommuneT01, "", t - absl::Seconds(1)).version, "vn@3");
  const CalendarSnapshot& at_t = set.For(kCommuneT01, "", t);
  EXPECT_EQ(at_t.version, "vn@4");
  EXPECT_FALSE(at_t.calendar->IsWorkingDay(kLocalDayOff));
  EXPECT_EQ(set.For(kCommuneT01, "", t + absl::Hours(1)).version, "vn-T01@1");
  EXPECT_EQ(set.For(kWardH26, "", t + absl::Hours(30)).version, "vn-H26@1");
  EXPECT_EQ(set.At("vn", t + absl::Hours(30))->version, "vn@5");
}

TEST(RestoreCalendarsTest, AnUpcomingVersionNoLaterThanOneBeforeItIsIgnored) {
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  RestoredCalendars got = RestoreCalendars({
      Stored("vn", 5),
      // Stored late, by a replica that listed before 5 came into force.
      Stored("vn", 4, t),
      Stored("vn", 5, t + absl::Hours(1)),
      // 7 takes over first; 6, after it, never does.
      Stored("vn", 7, t + absl::Hours(2)),
      Stored("vn", 6, t + absl::Hours(3)),
      // Two at the same instant: the higher one.
      Stored("vn-H26", 2, t),
      Stored("vn-H26", 1, t),
      // Numbers, not text: 10 is after 9.
      Stored("vn-T01", 9),
      Stored("vn-T01", 10, t),
  });
  EXPECT_THAT(Labels(got.upcoming, t),
              ElementsAre("vn@7 2", "vn-H26@2 0", "vn-T01@10 0"));
  EXPECT_EQ(got.in_force.at("vn").version, "vn@5");
}

TEST(RestoreCalendarsTest, ACopyThatDoesNotParseIsSkippedTheOthersHeld) {
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  CalendarCopy broken_vn = Stored("vn", 3);
  broken_vn.json = "{ not json";
  CalendarCopy broken_next = Stored("vn-H26", 2, t);
  broken_next.json = Doc("vn");  // another calendar's document
  RestoredCalendars got = RestoreCalendars({
      broken_vn,
      Stored("vn", 4, t),
      Stored("vn-H26", 1),
      broken_next,
      Stored("vn-H26", 3, t + absl::Hours(1)),
  });
  ASSERT_EQ(got.invalid.size(), 2u);
  EXPECT_EQ(got.invalid[0].version, "vn@3");
  EXPECT_EQ(got.invalid[1].version, "vn-H26@2");
  EXPECT_EQ(got.in_force.count("vn"), 0u);  // the bundled one stays
  EXPECT_EQ(got.in_force.at("vn-H26").version, "vn-H26@1");
  EXPECT_THAT(Labels(got.upcoming, t), ElementsAre("vn@4 0", "vn-H26@3 1"));
}

TEST(StoredNotListedTest, DropsWhatTheListingNoLongerHasToTakeOver) {
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  // Every row stored at `stored`; the listing fetched after it, or (a
  // replica's, listed earlier and pruning late) before it.
  const absl::Time stored = t - absl::Hours(48);
  const absl::Time after = stored + absl::Minutes(5);
  const absl::Time before = stored - absl::Minutes(5);
  struct Case {
    const char* what;
    std::vector<CalendarCopy> stored, listed;
    absl::Time listed_at;
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"listed as stored: nothing to drop",
       {Stored("vn", 3), Stored("vn", 4, t)},
       {Stored("vn", 3), Stored("vn", 4, t)},
       after,
       {}},
      {"withdrawn, a later one listed instead",
       {Stored("vn", 3), Stored("vn", 4, t)},
       {Stored("vn", 3), Stored("vn", 5, t)},
       after,
       {"vn@4"}},
      {"replaced, judged by its number from an older listing too",
       {Stored("vn", 3), Stored("vn", 4, t)},
       {Stored("vn", 3), Stored("vn", 5, t)},
       before,
       {"vn@4"}},
      {"withdrawn, the latest: the listing is later than the row",
       {Stored("vn", 3), Stored("vn", 4, t)},
       {Stored("vn", 3)},
       after,
       {"vn@4"}},
      {"maybe published after an older listing: a later one judges it",
       {Stored("vn", 3), Stored("vn", 4, t)},
       {Stored("vn", 3)},
       before,
       {}},
      {"stored seconds before the listing by another replica's clock, which "
       "may run ahead: a later listing judges it",
       {Stored("vn", 3), Stored("vn", 4, t)},
       {Stored("vn", 3)},
       stored + absl::Seconds(30),
       {}},
      {"superseded by the version now in force",
       {Stored("vn", 3), Stored("vn", 4, t), Stored("vn", 5, t)},
       {Stored("vn", 5)},
       before,
       {"vn@4"}},
      {"in force now: stays until stored as such",
       {Stored("vn", 3), Stored("vn", 4, t)},
       {Stored("vn", 4)},
       after,
       {}},
      {"the copy in force stays beside a newer one listed",
       {Stored("vn", 3)},
       {Stored("vn", 5)},
       after,
       {}},
      {"withdrawn, an earlier one still upcoming",
       {Stored("vn", 3), Stored("vn", 4, t), Stored("vn", 5, t)},
       {Stored("vn", 3), Stored("vn", 5, t)},
       before,
       {"vn@4"}},
      {"nothing in force listed any more: the copy in force goes",
       {Stored("vn-H26", 1), Stored("vn-H26", 3, t)},
       {Stored("vn-H26", 3, t)},
       after,
       {"vn-H26@1"}},
      {"a calendar not listed is ForgetCalendar's",
       {Stored("vn-H26", 1), Stored("vn-H26", 2, t)},
       {Stored("vn", 3)},
       after,
       {}},
      {"numbers, not text",
       {Stored("vn", 10), Stored("vn", 9, t)},
       {Stored("vn", 10)},
       before,
       {"vn@9"}},
  };
  for (const Case& c : cases) {
    std::vector<StoredCopy> rows;
    for (const CalendarCopy& copy : c.stored) rows.push_back({copy, stored});
    std::vector<std::string> got;
    for (const StoredCopy& d : StoredNotListed(rows, c.listed, c.listed_at)) {
      got.push_back(d.copy.version);
    }
    EXPECT_EQ(got, c.want) << c.what;
  }
}

}  // namespace
}  // namespace lienthong::intake
