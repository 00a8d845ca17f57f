#pragma once
// notify's metrics, by channel (docs/notify.md):
//   lienthong_notify_deliveries_total{channel,result}  every recorded attempt,
//       result sent | failed (will retry) | dead_lettered (gave up);
//   lienthong_notify_send_errors_total{channel,reason}  every failed attempt
//       by why (send_error.h: auth, endpoint, network, tls, throttled,
//       server, rejected), so a wrong credential or URL shows at once;
//   lienthong_notify_dead_letters{channel}              dead letters now;
//   lienthong_notify_queue_age_seconds{channel}         oldest due, unsent;
//   lienthong_notify_deliveries_purged_total{table}     rows deleted after
//       --delivery_retention, table deliveries | attempts.
// Labels come only from the fixed channel, result and reason sets, never a
// recipient. Observe() is the Sender's observer; Update() refreshes the
// gauges from the store and PurgeExpired() runs the retention purge (main
// runs both on loops).

#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/notify/channel.h"
#include "services/notify/notify_store.h"
#include "services/notify/send_error.h"
#include "services/notify/sender.h"

namespace lienthong::notify {

class NotifyMetrics {
 public:
  // In the process-wide registry (served on /metrics).
  NotifyMetrics();
  // In `registry` (tests: a fresh one each).
  explicit NotifyMetrics(prometheus::Registry& registry);

  void Observe(Channel channel, DeliveryState state,
               std::optional<SendErrorReason> error);
  // For Sender's constructor.
  Sender::Observer Observer() {
    return [this](Channel c, DeliveryState s,
                  std::optional<SendErrorReason> e) { Observe(c, s, e); };
  }

  // Reads dead letters and queue age per channel from the store.
  absl::Status Update(PgNotifyStore& store, absl::Time now);

  // Deletes deliveries sent or dead-lettered more than `retention` before
  // `now`, with their attempts (PgNotifyStore::PurgeFinished), counts them
  // and logs event=deliveries_purged when any went.
  absl::Status PurgeExpired(PgNotifyStore& store, absl::Time now,
                            absl::Duration retention,
                            const std::function<bool()>& stopping = nullptr);

 private:
  void AddSeries();

  prometheus::Family<prometheus::Counter>& deliveries_;
  prometheus::Family<prometheus::Counter>& send_errors_;
  prometheus::Family<prometheus::Gauge>& dead_letters_;
  prometheus::Family<prometheus::Gauge>& queue_age_;
  prometheus::Family<prometheus::Counter>& purged_;
};

}  // namespace lienthong::notify
