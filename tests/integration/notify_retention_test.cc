// What notify keeps, and what its gauges read (PostgreSQL):
//  - the retention purge deletes sent and dead-lettered deliveries, with
//    their attempts, once --delivery_retention has passed since they got
//    there; pending, failed and sending ones stay whatever their age;
//  - Stats(), which now reads only unsent and dead-lettered rows, reports
//    what a scan of the whole table reports.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/db/transaction.h"
#include "libs/testing/status_matchers.h"
#include "prometheus/registry.h"
#include "services/notify/notify_metrics.h"
#include "tests/integration/notify_store_fixture.h"

namespace lienthong::notify {
namespace {

using ::lienthong::testing::IsOk;

class RetentionTest : public testing::NotifyStoreTest {
 protected:
  void SetUp() override { SetUpStore(); }

  // A delivery in `state` on `channel`, created `age` ago, due at
  // now + `due_in`, reaching its final state (sent/dead letter) `final_age`
  // ago, with `attempts` attempts; its id.
  std::string Insert(const std::string& channel, const std::string& state,
                     absl::Duration age, absl::Duration final_age,
                     absl::Duration due_in = absl::ZeroDuration(),
                     int attempts = 1) {
    const std::string id = absl::StrCat("00000000-0000-4000-8000-",
                                        absl::Dec(++n_, absl::kZeroPad12));
    const absl::Time now = clock_.Now();
    EXPECT_THAT(
        db::WithTransaction(*pool_,
                            [&](pqxx::work& tx) -> absl::Status {
                              tx.exec_params(
                                  "INSERT INTO notify.deliveries (id, "
                                  "event_id, event_type, channel, recipient, "
                                  "masked_recipient, citizen, body, state, "
                                  "next_attempt_time, create_time, sent_time, "
                                  "dead_letter_time, lease_until) VALUES "
                                  "($1::uuid, $1, 'ad_hoc', $2, $1, 'x', true, "
                                  "'body', $3, $4::timestamptz, "
                                  "$5::timestamptz, CASE WHEN $3 = 'sent' "
                                  "THEN $6::timestamptz END, CASE WHEN $3 = "
                                  "'dead_letter' THEN $6::timestamptz END, "
                                  "CASE WHEN $3 = 'sending' THEN "
                                  "$4::timestamptz END)",
                                  id, channel, state, pg::Ts(now + due_in),
                                  pg::Ts(now - age), pg::Ts(now - final_age));
                              for (int i = 1; i <= attempts; ++i) {
                                tx.exec_params(
                                    "INSERT INTO notify.attempts "
                                    "(delivery_id, n, attempt_time, "
                                    "response_code, latency_us, error, "
                                    "success) VALUES ($1::uuid, $2, "
                                    "$3::timestamptz, 503, 1000, 'e', false)",
                                    id, i, pg::Ts(now - age));
                              }
                              return absl::OkStatus();
                            }),
        IsOk());
    return id;
  }

  bool Exists(const std::string& id) {
    absl::StatusOr<DeliveryRecord> d = store_->Get(id);
    return d.ok();
  }

  int64_t Count(const std::string& sql) {
    absl::StatusOr<int64_t> n = db::WithTransaction(
        *pool_, [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
          return tx.exec(sql)[0][0].as<int64_t>();
        });
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }

  int n_ = 0;
};

constexpr absl::Duration kDay = absl::Hours(24);
constexpr absl::Duration kRetention = absl::Hours(24 * 90);

TEST_F(RetentionTest, PurgesOnlyFinishedDeliveriesPastRetention) {
  const std::string old_sent =
      Insert("sms", "sent", 100 * kDay, 100 * kDay, {}, 3);
  const std::string old_dead =
      Insert("email", "dead_letter", 95 * kDay, 91 * kDay, {}, 8);
  // Created long ago, replayed, and sent (or dead-lettered) lately: the
  // retention counts from then.
  const std::string replayed_sent =
      Insert("webhook", "sent", 200 * kDay, 89 * kDay);
  const std::string replayed_dead =
      Insert("sms", "dead_letter", 200 * kDay, 10 * kDay);
  const std::string recent_sent = Insert("sms", "sent", kDay, kDay);
  // Not final: kept whatever their age.
  const std::string old_pending =
      Insert("sms", "pending", 300 * kDay, 300 * kDay, {}, 0);
  const std::string old_failed =
      Insert("email", "failed", 300 * kDay, 300 * kDay);
  const std::string old_sending =
      Insert("webhook", "sending", 300 * kDay, 300 * kDay);

  prometheus::Registry registry;
  NotifyMetrics m(registry);
  ASSERT_THAT(m.PurgeExpired(*store_, clock_.Now(), kRetention), IsOk());

  EXPECT_FALSE(Exists(old_sent));
  EXPECT_FALSE(Exists(old_dead));
  for (const std::string& kept : {replayed_sent, replayed_dead, recent_sent,
                                  old_pending, old_failed, old_sending}) {
    EXPECT_TRUE(Exists(kept)) << kept;
  }
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM notify.attempts WHERE "
                               "delivery_id IN ('",
                               old_sent, "', '", old_dead, "')")),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM notify.attempts"), 1 + 1 + 1 + 1 + 1);

  std::map<std::string, double> purged;
  for (const prometheus::MetricFamily& f : registry.Collect()) {
    if (f.name != "lienthong_notify_deliveries_purged_total") continue;
    for (const prometheus::ClientMetric& c : f.metric) {
      purged[c.label.at(0).value] = c.counter.value;
    }
  }
  EXPECT_EQ(purged["deliveries"], 2);
  EXPECT_EQ(purged["attempts"], 3 + 8);

  // A second pass finds nothing more; 0 keeps everything.
  ASSERT_THAT(m.PurgeExpired(*store_, clock_.Now(), kRetention), IsOk());
  ASSERT_THAT(
      m.PurgeExpired(*store_, clock_.Now() + 1000 * kDay, absl::ZeroDuration()),
      IsOk());
  EXPECT_EQ(Count("SELECT count(*) FROM notify.deliveries"), 6);
}

TEST_F(RetentionTest, PurgeGoesThroughEveryBatch) {
  for (int i = 0; i < 7; ++i) Insert("sms", "sent", 100 * kDay, 100 * kDay);
  for (int i = 0; i < 5; ++i) {
    Insert("webhook", "dead_letter", 100 * kDay, 100 * kDay, {}, 2);
  }
  Insert("sms", "sent", kDay, kDay);
  absl::StatusOr<DeliveryPurgeCounts> n =
      store_->PurgeFinished(clock_.Now() - kRetention, /*batch=*/2);
  ASSERT_THAT(n.status(), IsOk());
  EXPECT_EQ(n->deliveries, 12);
  EXPECT_EQ(n->attempts, 7 + 5 * 2);
  EXPECT_EQ(Count("SELECT count(*) FROM notify.deliveries"), 1);
}

// The query Stats() ran before it used the partial indexes: a scan of the
// whole table, grouped by channel. The figures must not change.
std::map<std::string, std::pair<int64_t, int64_t>> FullScanStats(
    db::Pool& pool, absl::Time now) {
  std::map<std::string, std::pair<int64_t, int64_t>> out;
  EXPECT_THAT(
      db::WithTransaction(
          pool,
          [&](pqxx::work& tx) -> absl::Status {
            for (const pqxx::row& r : tx.exec_params(
                     "SELECT channel, count(*) FILTER (WHERE state = "
                     "'dead_letter'), coalesce(min(notify.us("
                     "next_attempt_time)) FILTER (WHERE state IN ('pending', "
                     "'failed', 'sending') AND next_attempt_time <= "
                     "$1::timestamptz), 0) FROM notify.deliveries GROUP BY "
                     "channel",
                     pg::Ts(now))) {
              out[r[0].as<std::string>()] = {r[1].as<int64_t>(),
                                             r[2].as<int64_t>()};
            }
            return absl::OkStatus();
          }),
      IsOk());
  return out;
}

TEST_F(RetentionTest, StatsReportWhatAFullScanReports) {
  // sms: dead letters, a failed one due 2 h ago, a sending one due 3 h ago
  // (its lease has a while to go), sent ones older than all of them.
  Insert("sms", "dead_letter", 5 * kDay, 4 * kDay);
  Insert("sms", "dead_letter", 3 * kDay, 2 * kDay);
  Insert("sms", "failed", kDay, kDay, -absl::Hours(2));
  Insert("sms", "sending", kDay, kDay, -absl::Hours(3));
  Insert("sms", "sent", 50 * kDay, 50 * kDay, -absl::Hours(24 * 50));
  // email: a pending one due 10 min ago, one not yet due, one dead letter.
  Insert("email", "pending", absl::Hours(1), absl::Hours(1), -absl::Minutes(10),
         0);
  Insert("email", "pending", absl::Hours(1), absl::Hours(1), absl::Hours(1), 0);
  Insert("email", "dead_letter", kDay, kDay);
  // webhook: only sent and not-yet-due ones: nothing due, no dead letters.
  Insert("webhook", "sent", kDay, kDay, -kDay);
  Insert("webhook", "failed", kDay, kDay, absl::Minutes(5));

  const absl::Time now = clock_.Now();
  absl::StatusOr<std::vector<ChannelStats>> stats = store_->Stats(now);
  ASSERT_THAT(stats.status(), IsOk());
  const auto want = FullScanStats(*pool_, now);
  ASSERT_EQ(stats->size(), 3u);
  for (const ChannelStats& s : *stats) {
    const std::string ch(ChannelName(s.channel));
    const auto [dead, oldest_us] =
        want.count(ch) ? want.at(ch) : std::pair<int64_t, int64_t>{0, 0};
    EXPECT_EQ(s.dead_letters, dead) << ch;
    EXPECT_EQ(s.oldest_due_age, oldest_us > 0
                                    ? now - absl::FromUnixMicros(oldest_us)
                                    : absl::ZeroDuration())
        << ch;
  }
  // And the figures themselves, so the reference cannot drift with it.
  EXPECT_EQ((*stats)[0].channel, Channel::kSms);
  EXPECT_EQ((*stats)[0].dead_letters, 2);
  EXPECT_EQ((*stats)[0].oldest_due_age, absl::Hours(3));
  EXPECT_EQ((*stats)[1].dead_letters, 1);
  EXPECT_EQ((*stats)[1].oldest_due_age, absl::Minutes(10));
  EXPECT_EQ((*stats)[2].dead_letters, 0);
  EXPECT_EQ((*stats)[2].oldest_due_age, absl::ZeroDuration());
}

}  // namespace
}  // namespace lienthong::notify
