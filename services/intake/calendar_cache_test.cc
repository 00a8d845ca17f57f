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
      if (c.takes_effect.has_value()) {
        stored_upcoming.push_back(c.version);
      } else {
        stored[c.id] = c.version;
      }
      return absl::OkStatus();
    };
    r.forget = [this](const std::string& id) {
      if (!forget_status.ok()) return forget_status;
      stored.erase(id);
      forgotten.push_back(id);
      return absl::OkStatus();
    };
    r.prune = [this](const std::vector<CalendarCopy>& l, absl::Time) {
      pruned_with.push_back(l.size());
      return absl::OkStatus();
    };
    return r;
  }
  std::vector<CalendarCopy> listed;
  absl::Status fetch_status, persist_status, forget_status;
  std::map<std::string, std::string> stored;  // id -> version in force
  std::vector<std::string> stored_upcoming;   // each upcoming one persisted
  std::vector<std::string> forgotten;
  std::vector<size_t> pruned_with;  // per prune, the copies listed
};

TEST(CalendarRefresherTest, StoresUpcomingVersionsBeforeHoldingThem) {
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
  EXPECT_THAT(src.stored_upcoming, ElementsAre("vn-H26@1"));
  EXPECT_THAT(src.pruned_with, ElementsAre(3u));
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn-H26@1");
  // Held, so stored already: not stored again.
  ASSERT_TRUE(r.RunOnce().ok());
  EXPECT_THAT(src.stored_upcoming, ElementsAre("vn-H26@1"));
  // The next listing no longer has it upcoming (it was withdrawn, or it is
  // in force and comes as such): not held for later any more, and the
  // listing goes to `prune`, which drops its row.
  src.listed = {Copy("vn", 3)};
  ASSERT_TRUE(r.RunOnce().ok());
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn@3");
  EXPECT_THAT(src.pruned_with, ElementsAre(3u, 3u, 1u));
}

TEST(CalendarRefresherTest, AnUpcomingVersionThatCouldNotBeStoredIsRetried) {
  CalendarCache cache = Bundled();
  FakeSource src;
  const absl::Time from = absl::FromUnixSeconds(1'800'000'000);
  CalendarCopy next = Copy("vn", 4, true);
  next.takes_effect = from;
  src.listed = {next};
  src.persist_status = absl::UnavailableError("database away");
  CalendarRefresher r = src.Refresher(&cache);
  absl::StatusOr<CalendarRefresh> got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->storage_failed.size(), 1u);
  EXPECT_EQ(got->storage_failed[0].version, "vn@4");
  EXPECT_THAT(got->upcoming, IsEmpty());
  // Not held, as a version in force that could not be stored is not.
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn@bundled");

  src.persist_status = absl::OkStatus();
  got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->upcoming, ElementsAre("vn@4"));
  EXPECT_THAT(src.stored_upcoming, ElementsAre("vn@4"));
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn@4");
}

TEST(CalendarRefresherTest,
     ACalendarDeletedWithOnlyUpcomingVersionsIsForgotten) {
  CalendarCache cache = Bundled();
  FakeSource src;
  const absl::Time from = absl::FromUnixSeconds(1'800'000'000);
  CalendarCopy next = Copy("vn-H26", 1, true);
  next.takes_effect = from;
  src.listed = {Copy("vn", 3), next};
  CalendarRefresher r = src.Refresher(&cache);
  ASSERT_TRUE(r.RunOnce().ok());

  // Deleted before it took effect: every stored version of it goes; while
  // that fails it stays held, and is forgotten next time.
  src.listed = {Copy("vn", 3)};
  src.forget_status = absl::UnavailableError("database away");
  absl::StatusOr<CalendarRefresh> got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->storage_failed.size(), 1u);
  EXPECT_EQ(got->storage_failed[0].version, "vn-H26@1");
  EXPECT_THAT(got->removed, IsEmpty());
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn-H26@1");

  src.forget_status = absl::OkStatus();
  got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->removed, ElementsAre("vn-H26"));
  EXPECT_THAT(src.forgotten, ElementsAre("vn-H26"));
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

// A stored copy of calendar `id`: in force when `from` is unset.
CalendarCopy Stored(const std::string& id, int version,
                    absl::optional<absl::Time> from = absl::nullopt,
                    bool day_off = false) {
  CalendarCopy c = Copy(id, version, day_off);
  c.takes_effect = from;
  return c;
}

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

TEST(VersionNumberTest, IsTheNumberAfterTheAt) {
  EXPECT_EQ(VersionNumber("vn@3"), 3);
  EXPECT_EQ(VersionNumber("vn-H26@12"), 12);
  EXPECT_EQ(VersionNumber("vn@bundled"), -1);
  EXPECT_EQ(VersionNumber("vn"), -1);
  EXPECT_EQ(VersionNumber("vn@-2"), -1);
}

}  // namespace
}  // namespace lienthong::intake
