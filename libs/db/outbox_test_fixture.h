#pragma once

// The fixture of the outbox's tests over a real PostgreSQL
// (outbox_test.cc: delivery; outbox_purge_test.cc: retention): a sending
// schema whose state changes write events, and a receiving one.

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "libs/common/uuid.h"
#include "libs/db/migrations.h"
#include "libs/db/outbox.h"
#include "libs/db/transaction.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"

namespace lienthong::db::testing_support {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::PgCluster;

// A receiving service: its own schema, applying each event once in a
// transaction that records the event id in its inbox.
class Receiver {
 public:
  explicit Receiver(Pool& pool) : pool_(pool) {
    EXPECT_THAT(Migrate(pool_, "recv",
                        {{1, "effects",
                          "CREATE TABLE recv.effects (event_id uuid, n int)"}}),
                IsOk());
  }
  absl::Status Deliver(const std::vector<OutboxRecord>& records) {
    ++calls;
    for (const OutboxRecord& r : records) {
      absl::Status s = WithTransaction(pool_, [&](pqxx::work& tx) {
        absl::StatusOr<bool> first = RecordInbox(tx, "recv", r.event_id);
        if (!first.ok()) return first.status();
        if (*first) {
          tx.exec_params("INSERT INTO recv.effects VALUES ($1, 1)", r.event_id);
        }
        return absl::OkStatus();
      });
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  int64_t Effects() {
    return WithTransaction(
               pool_,
               [](pqxx::work& tx) -> absl::StatusOr<int64_t> {
                 return tx.exec("SELECT count(*) FROM recv.effects")[0][0]
                     .as<int64_t>();
               })
        .value_or(-1);
  }
  int calls = 0;

 private:
  Pool& pool_;
};

class OutboxTest : public ::testing::Test {
 protected:
  OutboxTest() : dsn_(PgCluster::Get().NewDatabase()), pool_({dsn_, 4}) {
    EXPECT_THAT(Migrate(pool_, "send",
                        {{1, "state", "CREATE TABLE send.state (v text)"}}),
                IsOk());
  }
  // A state change and its event in one transaction; `commit` false rolls
  // both back.
  std::string Change(bool commit) {
    const std::string id = common::NewUuid();
    absl::Status s = WithTransaction(pool_, [&](pqxx::work& tx) {
      tx.exec_params("INSERT INTO send.state VALUES ($1)", id);
      absl::Status a =
          AppendOutbox(tx, "send", {id, "test.Changed", "payload-" + id},
                       {"recv"}, clock_.Now());
      if (!a.ok()) return a;
      return commit ? absl::OkStatus() : absl::AbortedError("rolled back");
    });
    EXPECT_EQ(s.ok(), commit);
    return id;
  }
  RelayOptions Options() {
    RelayOptions o;
    o.schema = "send";
    o.destination = "recv";
    o.batch_size = 10;
    o.jitter = 0;
    return o;
  }

  std::string dsn_;
  common::FakeClock clock_;
  Pool pool_;
};

}  // namespace lienthong::db::testing_support
