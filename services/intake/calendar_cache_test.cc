// intake's calendar copies without I/O: each dossier's calendar chosen by
// its receiving agency, several calendars held at once, which version of
// each is in force, and what one refresh installs, skips and drops.

#include "services/intake/calendar_cache.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/calendar/calendar_json.h"
#include "libs/calendar/test_calendars.h"
#include "libs/common/errors.h"
#include "libs/testing/status_matchers.h"

namespace lienthong::intake {
namespace {

using ::lienthong::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kWardH26[] = "001.08.19.H26";  // Tây Mỗ one-stop unit
constexpr char kCommuneT01[] = "001.01.00.T01";
// A Tuesday that is a working day nationally; the province calendar in
// these tests takes it off.
constexpr absl::CivilDay kLocalDayOff(2026, 11, 24);

// Calendar `id`'s document; with `day_off`, one more holiday.
std::string Doc(const std::string& id, bool day_off = false) {
  calendar::CalendarData d = calendar::testing::FixtureData();
  d.id = id;
  if (day_off) {
    d.holidays.push_back(
        {kLocalDayOff, kLocalDayOff, "Nghỉ địa phương", "", false});
  }
  return calendar::ToJson(d);
}

CalendarCopy Copy(const std::string& id, int version, bool day_off = false) {
  return {id, Doc(id, day_off), absl::StrCat(id, "@", version)};
}

CalendarCache Bundled() {
  return CalendarCache(std::make_shared<const calendar::WorkingCalendar>(
                           calendar::testing::Fixture()),
                       "vn@bundled");
}

std::vector<std::string> HeldVersions(const CalendarCache& cache) {
  std::vector<std::string> out;
  const std::shared_ptr<const CalendarSet> held = cache.Calendars();
  for (const auto& [id, s] : held->by_id()) {
    out.push_back(s.version);
  }
  return out;
}

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
}

// A refresher over an in-memory "deadline service" and "table".
struct FakeSource {
  CalendarRefresher Refresher(CalendarCache* cache) {
    CalendarRefresher r;
    r.cache = cache;
    r.fetch = [this]() -> absl::StatusOr<std::vector<CalendarCopy>> {
      if (!fetch_status.ok()) return fetch_status;
      return listed;
    };
    r.persist = [this](const CalendarCopy& c) {
      if (!persist_status.ok()) return persist_status;
      stored[c.id] = c.version;
      return absl::OkStatus();
    };
    r.forget = [this](const std::string& id) {
      stored.erase(id);
      forgotten.push_back(id);
      return absl::OkStatus();
    };
    return r;
  }
  std::vector<CalendarCopy> listed;
  absl::Status fetch_status, persist_status;
  std::map<std::string, std::string> stored;  // id -> version
  std::vector<std::string> forgotten;
};

TEST(CalendarRefresherTest, HoldsUpcomingVersionsWithoutStoringThem) {
  CalendarCache cache = Bundled();
  FakeSource src;
  const absl::Time from = absl::FromUnixSeconds(1'800'000'000);
  CalendarCopy next = Copy("vn-H26", 1, true);
  next.takes_effect = from;
  CalendarCopy broken = Copy("vn-T01", 1);
  broken.json = "{";
  broken.takes_effect = from;
  src.listed = {Copy("vn", 3), next, broken};
  CalendarRefresher r = src.Refresher(&cache);
  absl::StatusOr<CalendarRefresh> got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn@3"));
  EXPECT_THAT(got->upcoming, ElementsAre("vn-H26@1"));
  ASSERT_EQ(got->invalid.size(), 1u);
  EXPECT_EQ(got->invalid[0].version, "vn-T01@1");
  EXPECT_EQ(src.stored, (std::map<std::string, std::string>{{"vn", "vn@3"}}));
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn-H26@1");
  // The next listing no longer has it upcoming (it was withdrawn, or it is
  // in force and comes as such): not held for later any more.
  src.listed = {Copy("vn", 3)};
  ASSERT_TRUE(r.RunOnce().ok());
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn@3");
}

TEST(CalendarRefresherTest, AnUpcomingVersionNowInForceIsNeverLetGo) {
  CalendarCache cache = Bundled();
  FakeSource src;
  const absl::Time from = absl::FromUnixSeconds(1'800'000'000);
  CalendarCopy next = Copy("vn-H26", 1, true);
  next.takes_effect = from;
  src.listed = {Copy("vn", 3), next};
  CalendarRefresher r = src.Refresher(&cache);
  ASSERT_TRUE(r.RunOnce().ok());
  // Its time has come; the next listing has it in force, but storing it
  // fails: dossiers keep following it, and it is stored next time.
  src.listed = {Copy("vn", 3), Copy("vn-H26", 1, true)};
  src.persist_status = absl::UnavailableError("database away");
  absl::StatusOr<CalendarRefresh> got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->storage_failed.size(), 1u);
  EXPECT_EQ(got->storage_failed[0].version, "vn-H26@1");
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn-H26@1");
  src.persist_status = absl::OkStatus();
  got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn-H26@1"));
  EXPECT_EQ(src.stored.at("vn-H26"), "vn-H26@1");
  EXPECT_TRUE(cache.Calendars()->upcoming().empty());
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn-H26@1");
}

TEST(CalendarRefresherTest, InstallsAndStoresNewVersionsOnly) {
  CalendarCache cache = Bundled();
  FakeSource src;
  src.listed = {Copy("vn", 3), Copy("vn-H26", 1, true)};
  CalendarRefresher r = src.Refresher(&cache);
  absl::StatusOr<CalendarRefresh> got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn@3", "vn-H26@1"));
  EXPECT_THAT(got->invalid, IsEmpty());
  EXPECT_THAT(got->removed, IsEmpty());
  EXPECT_EQ(src.stored, (std::map<std::string, std::string>{
                            {"vn", "vn@3"}, {"vn-H26", "vn-H26@1"}}));
  EXPECT_EQ(cache.Snapshot(kWardH26).version, "vn-H26@1");
  EXPECT_EQ(cache.Snapshot(kCommuneT01).version, "vn@3");

  // Nothing new: nothing installed or stored again.
  src.stored.clear();
  got = r.RunOnce();
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(got->installed, IsEmpty());
  EXPECT_TRUE(src.stored.empty());

  src.listed[1] = Copy("vn-H26", 2);
  got = r.RunOnce();
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(got->installed, ElementsAre("vn-H26@2"));
  EXPECT_EQ(cache.Snapshot(kWardH26).version, "vn-H26@2");
}

TEST(CalendarRefresherTest, AnInvalidCalendarIsSkippedAndTheOthersInstall) {
  CalendarCache cache = Bundled();
  ASSERT_TRUE(cache.Install(Copy("vn-H26", 1, true)).ok());
  FakeSource src;
  src.listed = {Copy("vn", 3),
                {"vn-H26", R"({"id": "vn-H26", "holiday": []})", "vn-H26@2"},
                Copy("vn-T01", 1)};
  absl::StatusOr<CalendarRefresh> got = src.Refresher(&cache).RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn@3", "vn-T01@1"));
  ASSERT_EQ(got->invalid.size(), 1u);
  EXPECT_EQ(got->invalid[0].version, "vn-H26@2");
  EXPECT_THAT(got->invalid[0].status,
              StatusIs(absl::StatusCode::kInvalidArgument));
  // The valid copy it held stays, in memory and (untouched) in the table.
  EXPECT_EQ(cache.Snapshot(kWardH26).version, "vn-H26@1");
  EXPECT_EQ(src.stored.count("vn-H26"), 0u);
  EXPECT_THAT(src.forgotten, IsEmpty());
  EXPECT_THAT(HeldVersions(cache), ElementsAre("vn@3", "vn-H26@1", "vn-T01@1"));
}

TEST(CalendarRefresherTest, ACopyThatCouldNotBeStoredIsRetriedNextTime) {
  CalendarCache cache = Bundled();
  FakeSource src;
  src.listed = {Copy("vn", 3), Copy("vn-H26", 1)};
  src.persist_status = absl::UnavailableError("database away");
  CalendarRefresher r = src.Refresher(&cache);
  absl::StatusOr<CalendarRefresh> got = r.RunOnce();
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(got->installed, IsEmpty());
  EXPECT_EQ(got->storage_failed.size(), 2u);
  EXPECT_THAT(HeldVersions(cache), ElementsAre("vn@bundled"));

  src.persist_status = absl::OkStatus();
  got = r.RunOnce();
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(got->installed, ElementsAre("vn@3", "vn-H26@1"));
  EXPECT_EQ(src.stored.size(), 2u);
}

TEST(CalendarRefresherTest, ACalendarNoLongerListedIsDroppedButVnStays) {
  CalendarCache cache = Bundled();
  FakeSource src;
  src.listed = {Copy("vn", 3), Copy("vn-H26", 1, true)};
  CalendarRefresher r = src.Refresher(&cache);
  ASSERT_TRUE(r.RunOnce().ok());

  // Deleted on the deadline side: its agencies follow "vn" again, and its
  // stored copy goes too (a restart does not bring it back).
  src.listed = {Copy("vn", 3)};
  absl::StatusOr<CalendarRefresh> got = r.RunOnce();
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(got->removed, ElementsAre("vn-H26"));
  EXPECT_THAT(src.forgotten, ElementsAre("vn-H26"));
  EXPECT_EQ(src.stored.count("vn-H26"), 0u);
  EXPECT_EQ(cache.Snapshot(kWardH26).version, "vn@3");

  // A list without "vn" keeps the "vn" held: agencies need a calendar.
  src.listed.clear();
  got = r.RunOnce();
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(got->removed, IsEmpty());
  EXPECT_THAT(HeldVersions(cache), ElementsAre("vn@3"));
}

TEST(CalendarRefresherTest, AFailedFetchChangesNothing) {
  CalendarCache cache = Bundled();
  ASSERT_TRUE(cache.Install(Copy("vn-H26", 1)).ok());
  FakeSource src;
  src.fetch_status = absl::UnavailableError("deadline away");
  EXPECT_THAT(src.Refresher(&cache).RunOnce().status(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(HeldVersions(cache), ElementsAre("vn@bundled", "vn-H26@1"));
  EXPECT_THAT(src.forgotten, IsEmpty());
}

}  // namespace
}  // namespace lienthong::intake
