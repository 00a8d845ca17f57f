// What one refresh of intake's calendar copies installs, stores, skips,
// retries and drops, against a fake deadline listing and a fake store.
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "services/intake/calendar_cache.h"
#include "services/intake/calendar_test_copies.h"

namespace lienthong::intake {
namespace {

using ::lienthong::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace calendar_testing;  // NOLINT

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
      if (!prune_status.ok()) return prune_status;
      pruned_with.push_back(l.size());
      return absl::OkStatus();
    };
    return r;
  }
  std::vector<CalendarCopy> listed;
  absl::Status fetch_status, persist_status, forget_status, prune_status;
  std::map<std::string, std::string> stored;  // id -> version in force
  std::vector<std::string> stored_upcoming;   // each upcoming one persisted
  std::vector<std::string> forgotten;
  std::vector<size_t> pruned_with;  // per prune, the copies listed
};

TEST(CalendarRefresherTest, StoresUpcomingVersionsBeforeHoldingThem) {
  CalendarCache cache = Bundled();
  FakeSource src;
  const absl::Time from = absl::FromUnixSeconds(1'800'000'000);
  const CalendarCopy next = Stored("vn-H26", 1, from, /*day_off=*/true);
  CalendarCopy broken = Stored("vn-T01", 1, from);
  broken.json = "{";
  src.listed = {Copy("vn", 3), next, broken};
  CalendarRefresher r = src.Refresher(&cache);
  absl::StatusOr<CalendarRefresh> got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn@3"));
  EXPECT_THAT(got->upcoming, ElementsAre("vn-H26@1"));
  ASSERT_EQ(got->invalid.size(), 1u);
  EXPECT_EQ(got->invalid[0].version, "vn-T01@1");
  // An invalid copy is not retried sooner: fetching it again would not
  // mend it.
  EXPECT_TRUE(got->Complete());
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
  const CalendarCopy next = Stored("vn", 4, from, /*day_off=*/true);
  src.listed = {next};
  src.persist_status = absl::UnavailableError("database away");
  CalendarRefresher r = src.Refresher(&cache);
  absl::StatusOr<CalendarRefresh> got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->storage_failed.size(), 1u);
  EXPECT_EQ(got->storage_failed[0].version, "vn@4");
  EXPECT_FALSE(got->Complete());  // the loop tries again soon
  EXPECT_THAT(got->upcoming, IsEmpty());
  // Not held, as a version in force that could not be stored is not.
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn@bundled");

  src.persist_status = absl::OkStatus();
  got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->Complete());
  EXPECT_THAT(got->upcoming, ElementsAre("vn@4"));
  EXPECT_THAT(src.stored_upcoming, ElementsAre("vn@4"));
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", from).version, "vn@4");
}

TEST(CalendarRefresherTest, AVersionInForceNotStoredYetBringsBackNoOlderOne) {
  CalendarCache cache = Bundled();
  FakeSource src;
  const absl::Time from = absl::FromUnixSeconds(1'800'000'000);
  const absl::Time after = from + absl::Hours(1);
  // vn@3 in force, vn@4 held for `from`.
  src.listed = {Copy("vn", 3), Stored("vn", 4, from, /*day_off=*/true)};
  CalendarRefresher r = src.Refresher(&cache);
  ASSERT_TRUE(r.RunOnce().ok());
  ASSERT_EQ(cache.Calendars()->For(kWardH26, "", after).version, "vn@4");

  // After `from`, vn@5 comes into force at once; storing it fails. Until
  // it is stored vn@4 still times dossiers, not vn@3 which both replaced,
  // and the stored vn@4 is not pruned (the listing no longer has it).
  src.listed = {Copy("vn", 5)};
  src.persist_status = absl::UnavailableError("database away");
  absl::StatusOr<CalendarRefresh> got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->Complete());
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", after).version, "vn@4");
  EXPECT_THAT(src.pruned_with, ElementsAre(2u, 0u));

  // The same while vn@5 does not parse on this binary.
  src.persist_status = absl::OkStatus();
  CalendarCopy broken = Copy("vn", 5);
  broken.json = "{";
  src.listed = {broken};
  got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->invalid.size(), 1u);
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", after).version, "vn@4");
  EXPECT_THAT(src.pruned_with, ElementsAre(2u, 0u, 0u));

  src.listed = {Copy("vn", 5)};
  got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->Complete());
  EXPECT_EQ(cache.Calendars()->For(kWardH26, "", after).version, "vn@5");
  EXPECT_THAT(src.pruned_with, ElementsAre(2u, 0u, 0u, 1u));
}

TEST(CalendarRefresherTest, AFailedPruneAsksForAnotherRefreshSoon) {
  CalendarCache cache = Bundled();
  FakeSource src;
  src.listed = {Copy("vn", 3)};
  src.prune_status = absl::UnavailableError("database away");
  CalendarRefresher r = src.Refresher(&cache);
  absl::StatusOr<CalendarRefresh> got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  // What was listed is held all the same; only the stored leftovers wait.
  EXPECT_THAT(got->installed, ElementsAre("vn@3"));
  EXPECT_EQ(got->pruned.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(got->Complete());

  src.prune_status = absl::OkStatus();
  got = r.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->Complete());
  EXPECT_THAT(src.pruned_with, ElementsAre(1u));
}

TEST(CalendarRefresherTest,
     ACalendarDeletedWithOnlyUpcomingVersionsIsForgotten) {
  CalendarCache cache = Bundled();
  FakeSource src;
  const absl::Time from = absl::FromUnixSeconds(1'800'000'000);
  const CalendarCopy next = Stored("vn-H26", 1, from, /*day_off=*/true);
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
  const CalendarCopy next = Stored("vn-H26", 1, from, /*day_off=*/true);
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
