#pragma once

// The transactional outbox. A state change and the event it causes commit
// together: AppendOutbox writes the event's payload once and one row per
// destination in the caller's transaction. A relay per destination (one at a
// time across replicas, under an advisory lock) takes the due rows at the front
// of the destination's line, in the order they were written, hands them to a
// deliverer (the next service's EventSinkService), and marks them delivered;
// failures back off exponentially with jitter, and an event waiting out a
// backoff holds back those written after it (unless the receiver rejected
// it outright: that one backs off alone). NOTIFY <schema>_outbox, sent
// after commit (notifier.h), only wakes relays early; polling is what
// carries events. Receivers call
// RecordInbox in the transaction that applies the event, so a redelivery is
// applied once.

#include <atomic>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "libs/db/pool.h"
#include "pqxx/pqxx"

namespace lienthong::db {

struct OutboxMessage {
  std::string event_id;    // UUID
  std::string event_type;  // full proto name of the payload
  std::string payload;     // serialized lienthong.common.v1.Event
};

absl::Status AppendOutbox(pqxx::work& tx, absl::string_view schema,
                          const OutboxMessage& message,
                          const std::vector<std::string>& destinations,
                          absl::Time now);

// Several events to the same destinations in one statement (a batch of
// state changes committing together), in their order per destination.
absl::Status AppendOutboxBatch(pqxx::work& tx, absl::string_view schema,
                               const std::vector<OutboxMessage>& messages,
                               const std::vector<std::string>& destinations,
                               absl::Time now);

// One event and where it goes, for AppendOutboxEach.
struct OutboxEntry {
  OutboxMessage message;
  std::vector<std::string> destinations;
};

// Events with destinations of their own (a transaction's events collected
// as it ran) in one statement, in their order per destination.
absl::Status AppendOutboxEach(pqxx::work& tx, absl::string_view schema,
                              const std::vector<OutboxEntry>& entries,
                              absl::Time now);

// AppendOutboxBatch's inserts as SQL for a caller's own statement: two
// data-modifying WITH items, `outbox_payloads_in` (each payload once) and
// `outbox_rows_in` (a row per message and destination), so a state change
// and its events take one round trip. `param(i, k)` names message i's
// parameter k (0 event id as text, 1 event type as text, 2 payload as
// bytea); `at` and `destinations` name the time and the text[] of
// destinations. The caller wakes the relays:
// NotifyAfterCommit(OutboxChannel(schema)).
std::string OutboxWithItems(
    absl::string_view schema, int n,
    const std::function<std::string(int i, int k)>& param, absl::string_view at,
    absl::string_view destinations);
std::string OutboxChannel(absl::string_view schema);

// True the first time `event_id` is recorded (apply the effect), false when
// it was applied before (acknowledge, do nothing).
absl::StatusOr<bool> RecordInbox(pqxx::work& tx, absl::string_view schema,
                                 absl::string_view event_id);
// The same for a delivered batch, in one statement: true for each id
// recorded now (its first occurrence in the batch), false for one applied
// before or repeated earlier in the batch.
absl::StatusOr<std::vector<bool>> RecordInboxBatch(
    pqxx::work& tx, absl::string_view schema,
    const std::vector<std::string>& event_ids);

// Retention. Delivered outbox rows and inbox records are kept for a while
// (to look into what was sent and received, and so that a sender that
// lost an acknowledgement and delivers again is still recognised), then
// deleted, `batch` rows per transaction so no long lock or huge
// transaction builds up. Undelivered rows are never deleted. A retention
// of zero keeps that table's rows for good. Several replicas may purge at
// once (rows another one is deleting are skipped).
struct PurgeOptions {
  std::string schema;
  absl::Duration outbox_retention;  // after delivered_at
  absl::Duration inbox_retention;   // after received_at
  int batch = 5000;
  // Asked between batches: true ends the purge there (a process shutting
  // down does not wait for a backlog; the next purge goes on).
  std::function<bool()> stopping;
};
struct PurgeCounts {
  int64_t outbox = 0;
  int64_t outbox_payloads = 0;  // payloads no outbox row points to any more
  int64_t inbox = 0;
};
absl::StatusOr<PurgeCounts> PurgeEvents(Pool& pool, const PurgeOptions& o,
                                        absl::Time now);

struct OutboxRecord {
  std::string event_id;
  std::string event_type;
  std::string payload;
  int attempts = 0;
};

struct OutboxStats {
  int64_t pending = 0;
  absl::Duration oldest_age;  // zero when nothing is pending
};

struct RelayOptions {
  std::string schema;
  std::string destination;
  int batch_size = 100;
  // A batch's payloads stop at this many bytes (one event always goes):
  // the receiver takes requests up to gRPC's 4 MiB. An event larger than
  // max_event_bytes alone is never sent; it fails OUT_OF_RANGE and backs
  // off alone, holding nothing back.
  size_t max_batch_bytes = 3 << 20;
  size_t max_event_bytes = (4 << 20) - (64 << 10);
  absl::Duration min_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Minutes(5);
  absl::Duration poll_interval = absl::Milliseconds(500);
  double jitter = 0.2;  // +/- fraction of the backoff
};

// Delivers a batch; OK means every record was accepted. When a batch of
// several fails with a code that is not transient (anything but UNAVAILABLE,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED), the relay delivers its
// records one by one in the same round, so one event the receiver rejects
// backs off alone instead of holding every event behind it.
using Deliverer =
    std::function<absl::Status(const std::vector<OutboxRecord>& records)>;

class OutboxRelay {
 public:
  OutboxRelay(Pool& pool, const common::Clock& clock, RelayOptions options,
              Deliverer deliverer);
  ~OutboxRelay();

  // One round: claim due rows, deliver, mark. Returns how many were
  // delivered; failed ones are rescheduled with their status code stored
  // in last_error_code.
  absl::StatusOr<int> RunOnce();

  // Backoff before attempt `attempts + 1` (without jitter).
  absl::Duration BackoffFor(int attempts) const;

  absl::StatusOr<OutboxStats> Stats();

  // Runs rounds on a thread until Stop(): immediately again after a full
  // batch, else after the poll interval or a NOTIFY, whichever first.
  void Start();
  void Stop();

  // Test seam: called after a successful delivery and before marking, to
  // simulate a crash there (return false to abandon the round unmarked).
  void SetBeforeMarkHookForTesting(std::function<bool()> hook) {
    before_mark_ = std::move(hook);
  }

 private:
  void Loop();
  // Whether a round claimed a full batch (more may be due right away).
  bool last_round_full_ = false;

  Pool& pool_;
  const common::Clock& clock_;
  const RelayOptions options_;
  Deliverer deliverer_;
  std::function<bool()> before_mark_;
  std::mt19937 rng_{std::random_device{}()};
  std::atomic<bool> stop_{false};
  std::unique_ptr<std::thread> thread_;
};

}  // namespace lienthong::db
