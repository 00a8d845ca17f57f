// Retention over a real PostgreSQL: delivered outbox rows and inbox
// records go after their retention, never an undelivered event, and a
// purge stops between batches when told to.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/db/outbox_test_fixture.h"

namespace lienthong::db {
namespace {

using namespace testing_support;  // NOLINT

// Ids in `table` (outbox: "event_id/destination"), sorted.
std::vector<std::string> Ids(Pool& pool, const std::string& table) {
  const bool outbox = absl::EndsWith(table, ".outbox");
  return WithTransaction(
             pool,
             [&](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
               std::vector<std::string> out;
               for (const auto& row :
                    tx.exec(absl::StrCat("SELECT event_id::text",
                                         outbox ? " || '/' || destination" : "",
                                         " FROM ", table, " ORDER BY 1"))) {
                 out.push_back(row[0].as<std::string>());
               }
               return out;
             })
      .value_or(std::vector<std::string>{"error"});
}

TEST_F(OutboxTest, PurgeDeletesDeliveredRowsAndInboxRecordsPastRetentionOnly) {
  Receiver receiver(pool_);
  OutboxRelay relay(pool_, clock_, Options(),
                    [&](const auto& rs) { return receiver.Deliver(rs); });
  // Three events delivered on day 0.
  const absl::Time day0 = clock_.Now();
  for (int i = 0; i < 3; ++i) Change(true);
  ASSERT_EQ(*relay.RunOnce(), 3);
  // One for a destination nobody delivers to: pending for good.
  const std::string stuck = common::NewUuid();
  ASSERT_THAT(WithTransaction(pool_,
                              [&](pqxx::work& tx) {
                                return AppendOutbox(
                                    tx, "send", {stuck, "test.Changed", "s"},
                                    {"away"}, day0);
                              }),
              IsOk());
  // Eight days later, one more, delivered then.
  clock_.Advance(absl::Hours(24 * 8));
  const std::string recent = Change(true);
  ASSERT_EQ(*relay.RunOnce(), 1);
  // The receiver's inbox records its receipt time from PostgreSQL's clock;
  // put the three old ones on day 0 and the recent one on day 8.
  ASSERT_THAT(
      WithTransaction(pool_,
                      [&](pqxx::work& tx) {
                        tx.exec_params(
                            "UPDATE recv.inbox SET received_at = "
                            "CASE WHEN event_id = $1 THEN $2::timestamptz "
                            "ELSE $3::timestamptz END",
                            recent, absl::FormatTime(clock_.Now()),
                            absl::FormatTime(day0));
                        return absl::OkStatus();
                      }),
      IsOk());

  // Zero retention keeps everything.
  absl::StatusOr<PurgeCounts> none =
      PurgeEvents(pool_, {.schema = "send"}, clock_.Now());
  ASSERT_THAT(none, IsOk());
  EXPECT_EQ(none->outbox, 0);
  EXPECT_EQ(Ids(pool_, "send.outbox").size(), 5u);

  // A week's retention on both sides, two rows per transaction; a purge
  // told to stop (the process is shutting down) ends after a batch, and
  // the next one goes on.
  absl::StatusOr<PurgeCounts> cut =
      PurgeEvents(pool_,
                  {.schema = "send",
                   .outbox_retention = absl::Hours(24 * 7),
                   .inbox_retention = absl::Hours(24 * 7),
                   .batch = 2,
                   .stopping = [] { return true; }},
                  clock_.Now());
  ASSERT_THAT(cut, IsOk());
  EXPECT_EQ(cut->outbox, 2);
  absl::StatusOr<PurgeCounts> sent =
      PurgeEvents(pool_,
                  {.schema = "send",
                   .outbox_retention = absl::Hours(24 * 7),
                   .inbox_retention = absl::Hours(24 * 7),
                   .batch = 2},
                  clock_.Now());
  ASSERT_THAT(sent, IsOk());
  EXPECT_EQ(cut->outbox + sent->outbox,
            3);               // day 0's delivered; not the pending one
  EXPECT_EQ(sent->inbox, 0);  // the sender's inbox is empty
  std::vector<std::string> kept = {stuck + "/away", recent + "/recv"};
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(Ids(pool_, "send.outbox"), kept);
  // Their payloads went with their last rows; the kept rows' stay.
  EXPECT_EQ(cut->outbox_payloads + sent->outbox_payloads, 3);
  std::vector<std::string> kept_payloads = {stuck, recent};
  std::sort(kept_payloads.begin(), kept_payloads.end());
  EXPECT_EQ(Ids(pool_, "send.outbox_payloads"), kept_payloads);

  absl::StatusOr<PurgeCounts> received =
      PurgeEvents(pool_,
                  {.schema = "recv",
                   .outbox_retention = absl::Hours(24 * 7),
                   .inbox_retention = absl::Hours(24 * 7),
                   .batch = 2},
                  clock_.Now());
  ASSERT_THAT(received, IsOk());
  EXPECT_EQ(received->inbox, 3);
  EXPECT_EQ(Ids(pool_, "recv.inbox"), std::vector<std::string>{recent});
  // The effects stay: only the bookkeeping went.
  EXPECT_EQ(receiver.Effects(), 4);
}

TEST_F(OutboxTest, AnEventsPayloadIsStoredOnceAndKeptWhileARowNeedsIt) {
  const std::string id = common::NewUuid();
  ASSERT_THAT(WithTransaction(pool_,
                              [&](pqxx::work& tx) {
                                return AppendOutbox(
                                    tx, "send", {id, "test.Changed", "p-" + id},
                                    {"recv", "away"}, clock_.Now());
                              }),
              IsOk());
  EXPECT_EQ(Ids(pool_, "send.outbox_payloads"), std::vector<std::string>{id});
  std::vector<std::string> got;
  OutboxRelay relay(pool_, clock_, Options(), [&](const auto& rs) {
    for (const auto& r : rs) got.push_back(r.payload);
    return absl::OkStatus();
  });
  ASSERT_EQ(*relay.RunOnce(), 1);
  EXPECT_EQ(got, std::vector<std::string>{"p-" + id});

  // Long after: "recv"'s row goes, "away" has not had its event yet, so
  // the payload stays for it.
  clock_.Advance(absl::Hours(24 * 30));
  const PurgeOptions week = {.schema = "send",
                             .outbox_retention = absl::Hours(24 * 7)};
  absl::StatusOr<PurgeCounts> n = PurgeEvents(pool_, week, clock_.Now());
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(n->outbox, 1);
  EXPECT_EQ(n->outbox_payloads, 0);
  EXPECT_EQ(Ids(pool_, "send.outbox_payloads"), std::vector<std::string>{id});

  RelayOptions away = Options();
  away.destination = "away";
  std::vector<std::string> got_away;
  OutboxRelay late(pool_, clock_, away, [&](const auto& rs) {
    for (const auto& r : rs) got_away.push_back(r.payload);
    return absl::OkStatus();
  });
  ASSERT_EQ(*late.RunOnce(), 1);
  EXPECT_EQ(got_away, std::vector<std::string>{"p-" + id});
  clock_.Advance(absl::Hours(24 * 8));
  n = PurgeEvents(pool_, week, clock_.Now());
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(n->outbox, 1);
  EXPECT_EQ(n->outbox_payloads, 1);
  EXPECT_TRUE(Ids(pool_, "send.outbox_payloads").empty());
}

}  // namespace
}  // namespace lienthong::db
