#include "libs/db/outbox.h"

#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "libs/common/uuid.h"
#include "libs/db/migrations.h"
#include "libs/db/outbox_test_fixture.h"
#include "libs/db/transaction.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"

namespace lienthong::db {
namespace {

using namespace testing_support;  // NOLINT

TEST_F(OutboxTest, CommittedEventIsDeliveredOnceRolledBackEmitsNothing) {
  Receiver receiver(pool_);
  std::vector<std::string> payloads;
  OutboxRelay relay(pool_, clock_, Options(),
                    [&](const std::vector<OutboxRecord>& rs) {
                      for (const auto& r : rs) payloads.push_back(r.payload);
                      return receiver.Deliver(rs);
                    });
  const std::string committed = Change(true);
  Change(false);
  absl::StatusOr<int> n = relay.RunOnce();
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 1);
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_EQ(payloads[0], "payload-" + committed);
  EXPECT_EQ(receiver.Effects(), 1);
  // Nothing left.
  EXPECT_EQ(*relay.RunOnce(), 0);
  EXPECT_EQ(relay.Stats()->pending, 0);
}

TEST_F(OutboxTest, RelayKilledBetweenDeliverAndMarkRedeliversAppliedOnce) {
  Receiver receiver(pool_);
  Change(true);
  {
    OutboxRelay dying(pool_, clock_, Options(),
                      [&](const auto& rs) { return receiver.Deliver(rs); });
    dying.SetBeforeMarkHookForTesting([] { return false; });  // "crash"
    EXPECT_FALSE(dying.RunOnce().ok());
  }
  EXPECT_EQ(receiver.Effects(), 1);
  OutboxRelay restarted(pool_, clock_, Options(),
                        [&](const auto& rs) { return receiver.Deliver(rs); });
  EXPECT_EQ(*restarted.RunOnce(), 1);  // redelivered...
  EXPECT_EQ(receiver.calls, 2);
  EXPECT_EQ(receiver.Effects(), 1);  // ...and applied once
  EXPECT_EQ(*restarted.RunOnce(), 0);
}

TEST_F(OutboxTest, FailedDeliveryBacksOffExponentially) {
  int calls = 0;
  OutboxRelay relay(pool_, clock_, Options(), [&](const auto&) {
    ++calls;
    return absl::UnavailableError("peer down");
  });
  Change(true);
  EXPECT_EQ(*relay.RunOnce(), 0);
  EXPECT_EQ(calls, 1);
  // Not due again until the backoff has passed.
  EXPECT_EQ(*relay.RunOnce(), 0);
  EXPECT_EQ(calls, 1);
  clock_.Advance(relay.BackoffFor(1));
  EXPECT_EQ(*relay.RunOnce(), 0);
  EXPECT_EQ(calls, 2);
  clock_.Advance(relay.BackoffFor(1));  // half of the second backoff
  EXPECT_EQ(*relay.RunOnce(), 0);
  EXPECT_EQ(calls, 2);
  clock_.Advance(relay.BackoffFor(1));
  EXPECT_EQ(*relay.RunOnce(), 0);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(relay.BackoffFor(2), 2 * relay.BackoffFor(1));
  EXPECT_LE(relay.BackoffFor(100), Options().max_backoff);
  EXPECT_EQ(relay.Stats()->pending, 1);
}

TEST_F(OutboxTest, AfterAnOutageEventsArriveInTheOrderTheyWereWritten) {
  std::vector<std::string> order;
  bool down = true;
  OutboxRelay relay(pool_, clock_, Options(), [&](const auto& rs) {
    if (down) return absl::UnavailableError("receiver away");
    for (const OutboxRecord& r : rs) order.push_back(r.event_id);
    return absl::OkStatus();
  });
  const std::string dispatched = Change(true);
  ASSERT_EQ(*relay.RunOnce(), 0);  // UNAVAILABLE: it backs off
  // Written while the first waits out its backoff, due at once.
  const std::string completed = Change(true);
  down = false;
  EXPECT_EQ(*relay.RunOnce(), 0);  // it waits behind the first
  EXPECT_TRUE(order.empty());
  clock_.Advance(relay.BackoffFor(1));
  EXPECT_EQ(*relay.RunOnce(), 2);
  EXPECT_EQ(order, (std::vector<std::string>{dispatched, completed}));
}

TEST_F(OutboxTest, OneRelayAtATimeDeliversADestination) {
  Change(true);
  int calls = 0;
  OutboxRelay relay(pool_, clock_, Options(), [&](const auto&) {
    ++calls;
    return absl::OkStatus();
  });
  // Another replica's relay holds the destination's lock in its round.
  pqxx::connection c(dsn_);
  pqxx::work holder(c);
  holder.exec("SELECT pg_advisory_xact_lock(hashtext('send.recv'))");
  EXPECT_EQ(*relay.RunOnce(), 0);
  EXPECT_EQ(calls, 0);
  holder.abort();
  EXPECT_EQ(*relay.RunOnce(), 1);
  EXPECT_EQ(calls, 1);
}

TEST_F(OutboxTest, ARejectedEventBacksOffAloneWithoutHoldingOthersBack) {
  Receiver receiver(pool_);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Change(true));
  const std::string poison = ids[1];
  int calls = 0;
  OutboxRelay relay(pool_, clock_, Options(), [&](const auto& rs) {
    ++calls;
    for (const OutboxRecord& r : rs) {
      if (r.event_id == poison) {
        return absl::FailedPreconditionError("receiver rejects this one");
      }
    }
    return receiver.Deliver(rs);
  });
  absl::StatusOr<int> n = relay.RunOnce();
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 4);
  EXPECT_EQ(calls, 1 + 5);  // the batch, then one by one
  EXPECT_EQ(receiver.Effects(), 4);
  absl::StatusOr<std::string> code = WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<std::string> {
        return tx
            .exec_params(
                "SELECT last_error_code FROM send.outbox WHERE "
                "delivered_at IS NULL AND event_id = $1",
                poison)[0][0]
            .as<std::string>();
      });
  ASSERT_THAT(code, IsOk());
  EXPECT_EQ(*code, "FAILED_PRECONDITION");
  EXPECT_EQ(relay.Stats()->pending, 1);
  // Only the rejected one comes back, after its backoff.
  clock_.Advance(relay.BackoffFor(1));
  calls = 0;
  EXPECT_EQ(*relay.RunOnce(), 0);
  EXPECT_EQ(calls, 1);
}

// The receiver takes requests up to gRPC's 4 MiB: batches stop short of
// it by bytes, and an event too large for any request backs off alone
// instead of coming back at the front of the line for ever.
TEST_F(OutboxTest, BatchesStopShortOfTheReceiversRequestLimit) {
  Receiver receiver(pool_);
  const auto append = [&](size_t bytes) {
    const std::string id = common::NewUuid();
    EXPECT_THAT(WithTransaction(pool_,
                                [&](pqxx::work& tx) {
                                  return AppendOutbox(tx, "send",
                                                      {id, "test.Changed",
                                                       std::string(bytes, 'x')},
                                                      {"recv"}, clock_.Now());
                                }),
                IsOk());
    return id;
  };
  const std::string huge = append(5 << 20);
  for (int i = 0; i < 3; ++i) append(1536 << 10);  // 1.5 MiB each
  std::vector<size_t> batches;
  OutboxRelay relay(pool_, clock_, Options(), [&](const auto& rs) {
    batches.push_back(rs.size());
    return receiver.Deliver(rs);
  });
  // The huge one is not sent, and does not hold the others back.
  ASSERT_THAT(relay.RunOnce(), IsOk());
  EXPECT_TRUE(batches.empty());
  absl::StatusOr<int> n = relay.RunOnce();
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 2);  // 3 MiB: two of them
  n = relay.RunOnce();
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(batches, (std::vector<size_t>{2, 1}));
  EXPECT_EQ(receiver.Effects(), 3);
  absl::StatusOr<std::string> code = WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<std::string> {
        return tx
            .exec_params(
                "SELECT last_error_code FROM send.outbox WHERE "
                "event_id = $1 AND delivered_at IS NULL",
                huge)[0][0]
            .as<std::string>();
      });
  ASSERT_THAT(code, IsOk());
  EXPECT_EQ(*code, "OUT_OF_RANGE");
}

TEST_F(OutboxTest, APeerThatIsDownIsNotAskedOncePerEvent) {
  for (int i = 0; i < 5; ++i) Change(true);
  int calls = 0;
  OutboxRelay relay(pool_, clock_, Options(), [&](const auto&) {
    ++calls;
    return absl::UnavailableError("peer down");
  });
  EXPECT_EQ(*relay.RunOnce(), 0);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(relay.Stats()->pending, 5);
}

// Two relays for one destination (two replicas): while one delivers a
// batch, the other's round delivers nothing (it neither takes rows nor
// waits on them), and together they deliver every event once, in order.
TEST_F(OutboxTest, ConcurrentRelaysNeverDeliverARowTwice) {
  Receiver receiver(pool_);
  std::vector<std::string> written;
  for (int i = 0; i < 40; ++i) written.push_back(Change(true));
  std::mutex mu;
  std::map<std::string, int> seen;
  std::vector<std::string> order;
  auto deliver = [&](const std::vector<OutboxRecord>& rs) {
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& r : rs) {
        ++seen[r.event_id];
        order.push_back(r.event_id);
      }
    }
    return receiver.Deliver(rs);
  };
  absl::Notification a_delivering, b_round_over;
  OutboxRelay a(pool_, clock_, Options(), [&](const auto& rs) {
    if (!a_delivering.HasBeenNotified()) {
      a_delivering.Notify();
      // Bounded, so that a relay b that waits on a's rows fails the test
      // instead of hanging it.
      EXPECT_TRUE(b_round_over.WaitForNotificationWithTimeout(
          absl::Seconds(20)))
          << "b's round waited for a's";
    }
    return deliver(rs);
  });
  OutboxRelay b(pool_, clock_, Options(), deliver);
  int b_during_a = -1;
  std::thread tb([&] {
    a_delivering.WaitForNotification();
    b_during_a = *b.RunOnce();
    b_round_over.Notify();
  });
  EXPECT_EQ(*a.RunOnce(), 10);  // Options().batch_size
  tb.join();
  EXPECT_EQ(b_during_a, 0);

  // Then both drain the rest side by side.
  std::thread ta([&] {
    while (*a.RunOnce() > 0) {
    }
  });
  tb = std::thread([&] {
    while (*b.RunOnce() > 0) {
    }
  });
  ta.join();
  tb.join();
  // A round that found the other relay busy returns 0 and its loop ends:
  // finish what is left (none when they overlapped at the end).
  while (*a.RunOnce() > 0) {
  }
  EXPECT_EQ(seen.size(), 40u);
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(order, written);
  EXPECT_EQ(receiver.Effects(), 40);
}

TEST_F(OutboxTest, BackgroundLoopDeliversAfterNotify) {
  Receiver receiver(pool_);
  absl::Mutex mu;
  int delivered = 0;
  RelayOptions o = Options();
  o.poll_interval = absl::Seconds(30);  // only NOTIFY can wake it in time
  OutboxRelay relay(pool_, clock_, o, [&](const auto& rs) {
    absl::Status s = receiver.Deliver(rs);
    absl::MutexLock lock(&mu);
    delivered += static_cast<int>(rs.size());
    return s;
  });
  relay.Start();
  Change(true);
  absl::MutexLock lock(&mu);
  auto done = [&] { return delivered >= 1; };
  EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(10)));
  mu.Unlock();
  relay.Stop();
  mu.Lock();
  EXPECT_EQ(receiver.Effects(), 1);
}

TEST_F(OutboxTest, ABatchOfEventsReachesEveryDestinationInOrder) {
  std::vector<OutboxMessage> messages;
  for (int i = 0; i < 5; ++i) {
    // Binary payloads (a NUL and high bytes) as serialized protos are.
    std::string payload = absl::StrCat("p", i);
    payload += '\0';
    payload += "\xff\x01";
    messages.push_back({common::NewUuid(), "test.Changed", payload});
  }
  ASSERT_THAT(WithTransaction(pool_,
                              [&](pqxx::work& tx) {
                                return AppendOutboxBatch(tx, "send", messages,
                                                         {"a", "b"},
                                                         clock_.Now());
                              }),
              IsOk());
  for (const char* dest : {"a", "b"}) {
    std::vector<OutboxRecord> got;
    RelayOptions o = Options();
    o.destination = dest;
    OutboxRelay relay(pool_, clock_, o, [&](const auto& rs) {
      got.insert(got.end(), rs.begin(), rs.end());
      return absl::OkStatus();
    });
    ASSERT_THAT(relay.RunOnce(), IsOk());
    ASSERT_EQ(got.size(), messages.size()) << dest;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].event_id, messages[i].event_id) << dest << " " << i;
      EXPECT_EQ(got[i].payload, messages[i].payload) << dest << " " << i;
      EXPECT_EQ(got[i].event_type, "test.Changed");
    }
  }
}

TEST_F(OutboxTest, EventsWithDestinationsOfTheirOwnGoInOneStatementInOrder) {
  const std::vector<OutboxEntry> entries = {
      {{common::NewUuid(), "test.First", "1"}, {"a", "b"}},
      {{common::NewUuid(), "test.Second", "2"}, {"b"}},
      {{common::NewUuid(), "test.Nowhere", "-"}, {}},
      {{common::NewUuid(), "test.Third", "3"}, {"a", "b"}}};
  ASSERT_THAT(WithTransaction(pool_,
                              [&](pqxx::work& tx) {
                                return AppendOutboxEach(tx, "send", entries,
                                                        clock_.Now());
                              }),
              IsOk());
  const std::map<std::string, std::vector<std::string>> want = {
      {"a", {"1", "3"}}, {"b", {"1", "2", "3"}}};
  for (const auto& [dest, payloads] : want) {
    std::vector<std::string> got;
    RelayOptions o = Options();
    o.destination = dest;
    OutboxRelay relay(pool_, clock_, o, [&](const auto& rs) {
      for (const auto& r : rs) got.push_back(r.payload);
      return absl::OkStatus();
    });
    ASSERT_THAT(relay.RunOnce(), IsOk());
    EXPECT_EQ(got, payloads) << dest;
  }
}

TEST_F(OutboxTest, AnInboxBatchRecordsEachIdOnceInOneStatement) {
  const std::string a = common::NewUuid(), b = common::NewUuid(),
                    c = common::NewUuid();
  ASSERT_THAT(WithTransaction(pool_,
                              [&](pqxx::work& tx) -> absl::Status {
                                return RecordInbox(tx, "send", c).status();
                              }),
              IsOk());
  auto first = WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<bool>> {
        return RecordInboxBatch(tx, "send", {a, b, a, c});
      });
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(*first, (std::vector<bool>{true, true, false, false}));
  auto again = WithTransaction(
      pool_, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<bool>> {
        return RecordInboxBatch(tx, "send", {b});
      });
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(*again, (std::vector<bool>{false}));
}

TEST_F(OutboxTest, ABatchRolledBackEmitsNothing) {
  std::vector<OutboxMessage> messages = {
      {common::NewUuid(), "test.Changed", "x"},
      {common::NewUuid(), "test.Changed", "y"}};
  absl::Status s = WithTransaction(pool_, [&](pqxx::work& tx) {
    absl::Status a =
        AppendOutboxBatch(tx, "send", messages, {"recv"}, clock_.Now());
    if (!a.ok()) return a;
    return absl::AbortedError("rolled back");
  });
  EXPECT_FALSE(s.ok());
  OutboxRelay relay(pool_, clock_, Options(),
                    [](const auto&) { return absl::OkStatus(); });
  EXPECT_EQ(*relay.RunOnce(), 0);
}

}  // namespace
}  // namespace lienthong::db
