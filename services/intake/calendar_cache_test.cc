// intake's calendar copies without I/O: each dossier's calendar chosen by
// its receiving agency, several calendars held at once, and which version
// of each is in force or takes over later.
#include "services/intake/calendar_cache.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/errors.h"
#include "libs/testing/status_matchers.h"
#include "services/intake/calendar_test_copies.h"

namespace lienthong::intake {
namespace {

using ::lienthong::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace calendar_testing;  // NOLINT

TEST(CalendarCacheTest, ChoosesTheReceivingAgencysProvinceCalendar) {
  CalendarCache cache = Bundled();
  EXPECT_EQ(cache.Snapshot(kWardH26).version, "vn@bundled");
  ASSERT_TRUE(cache.Install(Copy("vn-H26", 1, /*day_off=*/true)).ok());

  const CalendarSnapshot hn = cache.Snapshot(kWardH26);
  EXPECT_EQ(hn.version, "vn-H26@1");
  EXPECT_FALSE(hn.calendar->IsWorkingDay(kLocalDayOff));
  EXPECT_EQ(cache.Snapshot("000.00.00.H26").version, "vn-H26@1");
  // Another province, and a code without a province segment: "vn".
  for (const char* agency : {kCommuneT01, "H26", ""}) {
    const CalendarSnapshot s = cache.Snapshot(agency);
    EXPECT_EQ(s.version, "vn@bundled") << agency;
    EXPECT_TRUE(s.calendar->IsWorkingDay(kLocalDayOff)) << agency;
  }
}

TEST(CalendarCacheTest, HoldsSeveralCalendarsEachReplacedOnItsOwn) {
  CalendarCache cache = Bundled();
  ASSERT_TRUE(cache.Install(Copy("vn", 3)).ok());
  ASSERT_TRUE(cache.Install(Copy("vn-H26", 1)).ok());
  ASSERT_TRUE(cache.Install(Copy("vn-T01", 2)).ok());
  EXPECT_THAT(HeldVersions(cache), ElementsAre("vn@3", "vn-H26@1", "vn-T01@2"));
  EXPECT_EQ(cache.Snapshot(kCommuneT01).version, "vn-T01@2");

  // A set taken before a change keeps what it had: a submission batch
  // times all its dossiers by one set.
  const std::shared_ptr<const CalendarSet> before = cache.Calendars();
  ASSERT_TRUE(cache.Install(Copy("vn-H26", 2)).ok());
  EXPECT_THAT(HeldVersions(cache), ElementsAre("vn@3", "vn-H26@2", "vn-T01@2"));
  EXPECT_EQ(before->For(kWardH26).version, "vn-H26@1");
  EXPECT_EQ(cache.Calendars()->For(kWardH26).version, "vn-H26@2");
}

TEST(CalendarCacheTest, AnInvalidCopyDoesNotReplaceTheValidOne) {
  CalendarCache cache = Bundled();
  ASSERT_TRUE(cache.Install(Copy("vn-H26", 1, /*day_off=*/true)).ok());

  EXPECT_THAT(cache.Install({"vn-H26", "{ not json", "vn-H26@2"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cache.Install({"vn-H26", "", "vn-H26@2"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A valid document, but of another calendar.
  absl::Status s = cache.Install({"vn-H26", Doc("vn"), "vn-H26@2"});
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(common::GetErrorDetails(s).reason, "CALENDAR_ID_MISMATCH");
  EXPECT_EQ(cache.Snapshot(kWardH26).version, "vn-H26@1");
  EXPECT_FALSE(cache.Snapshot(kWardH26).calendar->IsWorkingDay(kLocalDayOff));

  // An invalid first copy of a calendar: its agencies stay on "vn".
  EXPECT_FALSE(cache.Install({"vn-T01", "{}", "vn-T01@1"}).ok());
  EXPECT_EQ(cache.Snapshot(kCommuneT01).version, "vn@bundled");
  // And "vn" itself keeps the bundled copy.
  EXPECT_FALSE(cache.Install({"vn", "[]", "vn@4"}).ok());
  EXPECT_THAT(HeldVersions(cache), ElementsAre("vn@bundled", "vn-H26@1"));
}

TEST(CalendarCacheTest, RemoveDropsAProvinceCalendarNeverTheNationalOne) {
  CalendarCache cache = Bundled();
  ASSERT_TRUE(cache.Install(Copy("vn-H26", 1)).ok());
  EXPECT_TRUE(cache.Remove("vn-H26"));
  EXPECT_EQ(cache.Snapshot(kWardH26).version, "vn@bundled");
  EXPECT_FALSE(cache.Remove("vn-H26"));
  EXPECT_FALSE(cache.Remove("vn"));
  EXPECT_THAT(HeldVersions(cache), ElementsAre("vn@bundled"));
}

TEST(CalendarCacheTest, InForceIsEachCalendarsHighestVersionAlreadyEffective) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  const absl::Time past = now - absl::Hours(24);
  const absl::Time later = now + absl::Hours(24);
  const std::vector<ListedCalendar> listed = {
      {"vn", 1, absl::UnixEpoch(), Doc("vn")},
      {"vn", 2, past, Doc("vn")},
      {"vn", 3, later, Doc("vn")},  // announced, not yet in force
      // The highest version wins even when an earlier one takes effect
      // later, as the deadline service picks.
      {"vn-H26", 1, past, Doc("vn-H26")},
      {"vn-H26", 2, past - absl::Hours(1), Doc("vn-H26", true)},
      {"vn-H26", 3, now, Doc("vn-H26")},    // in force from this instant
      {"vn-T01", 1, later, Doc("vn-T01")},  // nothing in force yet
  };
  const std::vector<CalendarCopy> got = InForce(listed, now);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, "vn");
  EXPECT_EQ(got[0].version, "vn@2");
  EXPECT_EQ(got[1].id, "vn-H26");
  EXPECT_EQ(got[1].version, "vn-H26@3");
  EXPECT_EQ(got[1].json, Doc("vn-H26"));
  EXPECT_THAT(InForce({}, now), IsEmpty());
}

TEST(CalendarCacheTest, UpcomingAreTheVersionsThatWillTakeOver) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  const absl::Time later = now + absl::Hours(24);
  const std::vector<ListedCalendar> listed = {
      {"vn", 2, now - absl::Hours(1), Doc("vn")},
      {"vn", 3, later, Doc("vn", true)},
      {"vn", 4, later + absl::Hours(24), Doc("vn")},
      {"vn-H26", 3, now, Doc("vn-H26")},  // in force: not upcoming
      // Numbered below a version effective before it: never in force.
      {"vn-X", 2, later, Doc("vn-X")},
      {"vn-X", 1, later + absl::Hours(1), Doc("vn-X")},
      // Two at the same instant: the higher one takes over.
      {"vn-Y", 1, later, Doc("vn-Y")},
      {"vn-Y", 2, later, Doc("vn-Y", true)},
  };
  std::vector<std::string> got;
  for (const CalendarCopy& c : Upcoming(listed, now)) {
    ASSERT_TRUE(c.takes_effect.has_value()) << c.version;
    got.push_back(absl::StrCat(c.version, " ",
                               absl::ToInt64Hours(*c.takes_effect - now)));
  }
  EXPECT_THAT(got, ElementsAre("vn@3 24", "vn@4 48", "vn-X@2 24", "vn-Y@2 24"));
  EXPECT_EQ(Upcoming(listed, now)[0].json, Doc("vn", true));
  EXPECT_THAT(Upcoming(listed, later + absl::Hours(48)), IsEmpty());
}

TEST(CalendarCacheTest, AnUpcomingVersionTimesDossiersOnceItsTimeHasCome) {
  CalendarCache cache = Bundled();
  const absl::Time from = absl::FromUnixSeconds(1'800'000'000);
  const auto parsed = [](const std::string& id, int version, bool day_off) {
    absl::StatusOr<CalendarSnapshot> s =
        ParseCalendarCopy(Copy(id, version, day_off));
    EXPECT_TRUE(s.ok()) << s.status();
    return *s;
  };
  cache.SetUpcoming({{"vn-H26", {{from, parsed("vn-H26", 1, true)}}},
                     {"vn",
                      {{from + absl::Hours(1), parsed("vn", 4, false)},
                       {from + absl::Hours(2), parsed("vn", 5, false)}}}});
  const std::shared_ptr<const CalendarSet> set = cache.Calendars();
  const absl::Time before = from - absl::Seconds(1);
  EXPECT_EQ(set->For(kWardH26, "", before).version, "vn@bundled");
  EXPECT_EQ(set->At("vn-H26", before), nullptr);
  EXPECT_EQ(set->For(kWardH26, "", from).version, "vn-H26@1");
  EXPECT_EQ(set->For(kCommuneT01, "", from).version, "vn@bundled");
  EXPECT_EQ(set->For(kCommuneT01, "", from + absl::Hours(1)).version, "vn@4");
  EXPECT_EQ(set->For(kCommuneT01, "", from + absl::Hours(3)).version, "vn@5");
  // A procedure's calendar that only takes effect later.
  EXPECT_EQ(set->For(kCommuneT01, "calendars/vn-H26", before).version,
            "vn@bundled");
  EXPECT_EQ(set->For(kCommuneT01, "calendars/vn-H26", from).version,
            "vn-H26@1");
  // What is in force when fetched is not replaced: Find, and the stored
  // copies, know only that.
  EXPECT_EQ(set->Find("vn-H26"), nullptr);
  // Installing a version keeps the upcoming ones, and the reverse.
  cache.Put("vn-T01", parsed("vn-T01", 1, false));
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn-H26@1");
  cache.SetUpcoming({});
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn@bundled");
  EXPECT_EQ(cache.Calendars()->For(kCommuneT01, "", from).version, "vn-T01@1");

  // A version held for later never takes over from a higher one in force
  // (between a refresh's install of vn@6 and its new upcoming list).
  cache.SetUpcoming({{"vn", {{from, parsed("vn", 5, false)}}}});
  cache.Put("vn", parsed("vn", 6, false));
  EXPECT_EQ(cache.Calendars()->At("vn", from)->version, "vn@6");
}

// A refresher over an in-memory "deadline service" and "table".

TEST(VersionNumberTest, IsTheNumberAfterTheAt) {
  EXPECT_EQ(VersionNumber("vn@3"), 3);
  EXPECT_EQ(VersionNumber("vn-H26@12"), 12);
  EXPECT_EQ(VersionNumber("vn@bundled"), -1);
  EXPECT_EQ(VersionNumber("vn"), -1);
  EXPECT_EQ(VersionNumber("vn@-2"), -1);
}

}  // namespace
}  // namespace lienthong::intake
