// The DeadlineStore contract for calendar versions, on both stores
// (store_contract_fixture.h).

#include <string>
#include <utility>
#include <vector>

#include "services/deadline/store_contract_fixture.h"

namespace lienthong::deadline::contract {
namespace {

using CalendarStoreContractTest = StoreContractTest;
using Found = absl::optional<CalendarVersion>;

const absl::Time kJan1 = Vn(2026, 1, 1, 0, 0);
const absl::Time kApr1 = Vn(2026, 4, 1, 0, 0);

// Every member away from its default.
CalendarVersion FullVersion() {
  CalendarVersion v = Version("vn-H26", 2, kJan1 + absl::Microseconds(17));
  v.applied = true;
  v.request_id = common::Version8Uuid("update-vn-H26-2");
  v.moved = {
      {"dossiers/D1", "D1", kT0 + absl::Hours(1),
       kT0 + absl::Hours(25) + absl::Microseconds(1), ClockKind::kDossier},
      {"dossiers/D1/legs/ho-tich", "D1", kT0, kT0 + absl::Hours(24),
       ClockKind::kLeg}};
  return v;
}

std::vector<std::pair<std::string, int64_t>> Keys(
    const std::vector<CalendarVersion>& vs) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const CalendarVersion& v : vs)
    out.emplace_back(v.calendar_id, v.version);
  return out;
}

TEST_P(CalendarStoreContractTest, InsertedVersionReadsBackWhole) {
  const CalendarVersion v = FullVersion();
  InsertCalendars({v});
  EXPECT_THAT(store().ListCalendars(), OkAnd(ElementsAre(SameCalendar(v))));
  EXPECT_THAT(store().LatestCalendar(v.calendar_id, kT0),
              OkAnd(::testing::Optional(SameCalendar(v))));
  EXPECT_THAT(Read<Found>([&](DeadlineTx& tx) {
                return tx.LatestCalendar(v.calendar_id, kT0);
              }),
              ::testing::Optional(SameCalendar(v)));
  EXPECT_THAT(store().CalendarByRequestId(v.request_id),
              OkAnd(::testing::Optional(SameCalendar(v))));
}

TEST_P(CalendarStoreContractTest, InsertCalendarSaysWhichRowIsTaken) {
  CalendarVersion first = Version("vn", 1, kJan1);
  first.request_id = common::Version8Uuid("first");
  InsertCalendars({first});
  CalendarVersion other_request = first;
  other_request.request_id = common::Version8Uuid("second");
  CalendarVersion same_request = Version("vn", 2, kJan1);
  same_request.request_id = first.request_id;
  CalendarVersion next = Version("vn", 2, kJan1);
  next.request_id = common::Version8Uuid("third");
  ASSERT_THAT(
      Tx([&](DeadlineTx& tx) -> absl::Status {
        EXPECT_THAT(tx.InsertCalendar(other_request),
                    StatusHasReason(absl::StatusCode::kAlreadyExists,
                                    kCalendarVersionExists));
        EXPECT_THAT(
            tx.InsertCalendar(same_request),
            StatusHasReason(absl::StatusCode::kAlreadyExists, kRequestIdTaken));
        EXPECT_THAT(
            tx.InsertCalendar(first),  // both taken: the request id
            StatusHasReason(absl::StatusCode::kAlreadyExists, kRequestIdTaken));
        // The transaction goes on, and commits what follows.
        EXPECT_THAT(tx.InsertCalendar(next), IsOk());
        return tx.AppendAudit({"admin", "UpdateCalendar", "calendars/vn",
                               "{\"version\":2}", kT0});
      }),
      IsOk());
  EXPECT_THAT(
      store().ListCalendars(),
      OkAnd(UnorderedElementsAre(SameCalendar(first), SameCalendar(next))));
  EXPECT_THAT(harness_->Audit(), ::testing::SizeIs(1));
}

TEST_P(CalendarStoreContractTest, VersionsWithoutRequestIdDoNotCollide) {
  InsertCalendars({Version("vn", 1, kJan1), Version("vn", 2, kJan1),
                   Version("vn-H26", 1, kJan1)});
  EXPECT_THAT(store().ListCalendars(), OkAnd(::testing::SizeIs(3)));
  EXPECT_THAT(store().CalendarByRequestId(""),
              OkAnd(::testing::Eq(absl::nullopt)));
  EXPECT_THAT(store().CalendarByRequestId(common::Version8Uuid("none")),
              OkAnd(::testing::Eq(absl::nullopt)));
}

// A given version, in force or not yet (ExplainDueTime, GetCalendar).
TEST_P(CalendarStoreContractTest, CalendarVersionOfReadsAnyStoredVersion) {
  const CalendarVersion full = FullVersion();
  InsertCalendars({Version("vn", 1, kJan1), Version("vn", 2, kApr1), full});
  EXPECT_THAT(store().CalendarVersionOf("vn-H26", 2),
              OkAnd(::testing::Optional(SameCalendar(full))));
  absl::StatusOr<Found> later = store().CalendarVersionOf("vn", 2);
  ASSERT_THAT(later, IsOk());
  ASSERT_TRUE(later->has_value());
  EXPECT_EQ((*later)->effective_from, kApr1);
  for (const auto& [id, version] : {std::pair<std::string, int64_t>{"vn", 3},
                                    {"vn-H26", 1},
                                    {"vn-HN", 1}}) {
    EXPECT_THAT(store().CalendarVersionOf(id, version),
                OkAnd(::testing::Eq(absl::nullopt)))
        << id << " version " << version;
  }
}

// The latest version effective at a time: a version published ahead of
// time counts from its effective_from, a later version before it.
TEST_P(CalendarStoreContractTest, LatestCalendarIsTheNewestInForce) {
  InsertCalendars({Version("vn", 1, kJan1), Version("vn", 2, kApr1),
                   Version("vn-H26", 1, kJan1), Version("vn-H26", 2, kApr1),
                   Version("vn-H26", 3, kJan1 + absl::Hours(24))});
  struct Case {
    std::string id;
    absl::Time at;
    int64_t want;  // 0: none
  };
  const Case cases[] = {
      {"vn", kJan1 - absl::Microseconds(1), 0},
      {"vn", kJan1, 1},
      {"vn", kApr1 - absl::Microseconds(1), 1},
      {"vn", kApr1, 2},
      {"vn", absl::InfiniteFuture(), 2},
      {"vn-H26", kJan1 + absl::Hours(1), 1},
      {"vn-H26", kJan1 + absl::Hours(24), 3},
      {"vn-H26", kApr1, 3},  // 3 supersedes 2 although 2 is effective later
      {"vn-HN", kApr1, 0},
  };
  for (const Case& c : cases) {
    auto version = [](const Found& v) { return v ? v->version : 0; };
    absl::StatusOr<Found> outside = store().LatestCalendar(c.id, c.at);
    ASSERT_THAT(outside, IsOk());
    EXPECT_EQ(version(*outside), c.want) << c.id << " at " << c.at;
    const Found inside = Read<Found>(
        [&](DeadlineTx& tx) { return tx.LatestCalendar(c.id, c.at); });
    EXPECT_EQ(version(inside), c.want) << c.id << " at " << c.at;
    if (c.at != absl::InfiniteFuture()) {
      EXPECT_EQ(Read<int64_t>([&](DeadlineTx& tx) {
                  return tx.ShareCalendar(c.id, c.at);
                }),
                c.want)
          << c.id << " at " << c.at;
    }
  }
}

TEST_P(CalendarStoreContractTest, LockedCalendarCanChangeInItsTransaction) {
  InsertCalendars({Version("vn", 1, kJan1)});
  ASSERT_THAT(Tx([&](DeadlineTx& tx) -> absl::Status {
                EXPECT_THAT(tx.LockCalendar("vn"), IsOk());
                EXPECT_THAT(tx.LatestCalendar("vn", absl::InfiniteFuture()),
                            OkAnd(::testing::Optional(::testing::Field(
                                &CalendarVersion::version, 1))));
                return tx.InsertCalendar(Version("vn", 2, kJan1));
              }),
              IsOk());
  // Released at its end: a clock counts with the new version.
  EXPECT_EQ(Read<int64_t>(
                [&](DeadlineTx& tx) { return tx.ShareCalendar("vn", kT0); }),
            2);
}

TEST_P(CalendarStoreContractTest,
       SetCalendarMovedReplacesWhatThatVersionMoved) {
  CalendarVersion v1 = Version("vn", 1, kJan1);
  CalendarVersion v2 = Version("vn", 2, kJan1);
  v2.request_id = common::Version8Uuid("update-vn-2");
  InsertCalendars({v1, v2});
  v2.moved = FullVersion().moved;
  ASSERT_THAT(Tx([&](DeadlineTx& tx) {
                return tx.SetCalendarMoved("vn", 2, v2.moved);
              }),
              IsOk());
  EXPECT_THAT(store().CalendarByRequestId(v2.request_id),
              OkAnd(::testing::Optional(SameCalendar(v2))));
  EXPECT_THAT(store().ListCalendars(),
              OkAnd(UnorderedElementsAre(SameCalendar(v1), SameCalendar(v2))));

  v2.moved.pop_back();
  ASSERT_THAT(Tx([&](DeadlineTx& tx) {
                return tx.SetCalendarMoved("vn", 2, v2.moved);
              }),
              IsOk());
  EXPECT_THAT(store().LatestCalendar("vn", kT0),
              OkAnd(::testing::Optional(SameCalendar(v2))));
  // A version that is not there: nothing to record.
  ASSERT_THAT(Tx([&](DeadlineTx& tx) {
                return tx.SetCalendarMoved("vn", 3, v2.moved);
              }),
              IsOk());
  EXPECT_THAT(store().ListCalendars(), OkAnd(::testing::SizeIs(2)));
}

TEST_P(CalendarStoreContractTest, PendingVersionsAreClaimedUntilApplied) {
  CalendarVersion applied = Version("vn", 1, kJan1);
  applied.applied = true;
  InsertCalendars({applied, Version("vn", 2, kT0 - absl::Hours(1)),
                   Version("vn", 3, kApr1), Version("vn-H26", 1, kJan1),
                   Version("a-first", 1, kT0)});
  auto claim = [&](absl::Time now, const std::string& id) {
    return Keys(Read<std::vector<CalendarVersion>>(
        [&](DeadlineTx& tx) { return tx.ClaimPendingCalendars(now, id); }));
  };
  using Key = std::pair<std::string, int64_t>;
  EXPECT_THAT(claim(kT0, ""),
              ElementsAre(Key("a-first", 1), Key("vn", 2), Key("vn-H26", 1)));
  EXPECT_THAT(claim(kT0, "vn"), ElementsAre(Key("vn", 2)));
  EXPECT_THAT(claim(kT0, "vn-HN"), IsEmpty());
  EXPECT_THAT(claim(kApr1, "vn"), ElementsAre(Key("vn", 2), Key("vn", 3)));

  ASSERT_THAT(
      Tx([&](DeadlineTx& tx) { return tx.MarkCalendarApplied("vn", 2, kT0); }),
      IsOk());
  EXPECT_THAT(claim(kT0, "vn"), IsEmpty());
  EXPECT_THAT(claim(kApr1, ""),
              ElementsAre(Key("a-first", 1), Key("vn", 3), Key("vn-H26", 1)));
  absl::StatusOr<Found> v2 = store().LatestCalendar("vn", kT0);
  ASSERT_THAT(v2, IsOk());
  ASSERT_TRUE(v2->has_value());
  EXPECT_EQ((*v2)->version, 2);
  EXPECT_TRUE((*v2)->applied);
}

INSTANTIATE_TEST_SUITE_P(Stores, CalendarStoreContractTest,
                         ::testing::ValuesIn(Backends()), BackendName);

}  // namespace
}  // namespace lienthong::deadline::contract
