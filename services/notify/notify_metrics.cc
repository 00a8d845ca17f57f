#include "services/notify/notify_metrics.h"

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/logging/logging.h"
#include "libs/metrics/metrics.h"

namespace lienthong::notify {
namespace {

constexpr const char* kDeliveriesName = "lienthong_notify_deliveries_total";
constexpr const char* kDeliveriesHelp =
    "Delivery attempts by channel and result";
constexpr const char* kSendErrorsName = "lienthong_notify_send_errors_total";
constexpr const char* kSendErrorsHelp =
    "Failed delivery attempts by channel and reason (auth, endpoint, "
    "network, tls, throttled, server, rejected)";
constexpr const char* kDeadLettersName = "lienthong_notify_dead_letters";
constexpr const char* kDeadLettersHelp = "Dead-lettered deliveries by channel";
constexpr const char* kQueueAgeName = "lienthong_notify_queue_age_seconds";
constexpr const char* kQueueAgeHelp = "Age of the oldest due, unsent delivery";
constexpr const char* kPurgedName = "lienthong_notify_deliveries_purged_total";
constexpr const char* kPurgedHelp =
    "Sent and dead-lettered deliveries (and their attempts) deleted after "
    "--delivery_retention, by table";
// Deliveries deleted per transaction.
constexpr int kPurgeBatch = 1000;

const char* ResultLabel(DeliveryState s) {
  switch (s) {
    case DeliveryState::kSent:
      return "sent";
    case DeliveryState::kFailed:
      return "failed";
    case DeliveryState::kDeadLetter:
      return "dead_lettered";
    default:
      return nullptr;  // not the outcome of an attempt
  }
}

}  // namespace

NotifyMetrics::NotifyMetrics()
    : deliveries_(metrics::Counter(kDeliveriesName, kDeliveriesHelp)),
      send_errors_(metrics::Counter(kSendErrorsName, kSendErrorsHelp)),
      dead_letters_(metrics::Gauge(kDeadLettersName, kDeadLettersHelp)),
      queue_age_(metrics::Gauge(kQueueAgeName, kQueueAgeHelp)),
      purged_(metrics::Counter(kPurgedName, kPurgedHelp)) {
  AddSeries();
}

NotifyMetrics::NotifyMetrics(prometheus::Registry& registry)
    : deliveries_(prometheus::BuildCounter()
                      .Name(kDeliveriesName)
                      .Help(kDeliveriesHelp)
                      .Register(registry)),
      send_errors_(prometheus::BuildCounter()
                       .Name(kSendErrorsName)
                       .Help(kSendErrorsHelp)
                       .Register(registry)),
      dead_letters_(prometheus::BuildGauge()
                        .Name(kDeadLettersName)
                        .Help(kDeadLettersHelp)
                        .Register(registry)),
      queue_age_(prometheus::BuildGauge()
                     .Name(kQueueAgeName)
                     .Help(kQueueAgeHelp)
                     .Register(registry)),
      purged_(prometheus::BuildCounter()
                  .Name(kPurgedName)
                  .Help(kPurgedHelp)
                  .Register(registry)) {
  AddSeries();
}

// Every series exists from the start, at zero, so rates and alerts work
// before the first attempt.
void NotifyMetrics::AddSeries() {
  for (Channel c : kAllChannels) {
    const std::string ch(ChannelName(c));
    for (const char* r : {"sent", "failed", "dead_lettered"}) {
      deliveries_.Add({{"channel", ch}, {"result", r}});
    }
    for (SendErrorReason r : kAllSendErrorReasons) {
      send_errors_.Add(
          {{"channel", ch}, {"reason", std::string(SendErrorReasonName(r))}});
    }
    dead_letters_.Add({{"channel", ch}});
    queue_age_.Add({{"channel", ch}});
  }
  for (const char* table : {"deliveries", "attempts"}) {
    purged_.Add({{"table", table}});
  }
}

void NotifyMetrics::Observe(Channel c, DeliveryState s,
                            std::optional<SendErrorReason> error) {
  const char* result = ResultLabel(s);
  if (result == nullptr) return;
  const std::string ch(ChannelName(c));
  deliveries_.Add({{"channel", ch}, {"result", result}}).Increment();
  if (error.has_value()) {
    send_errors_
        .Add({{"channel", ch},
              {"reason", std::string(SendErrorReasonName(*error))}})
        .Increment();
  }
}

absl::Status NotifyMetrics::Update(PgNotifyStore& store, absl::Time now) {
  absl::StatusOr<std::vector<ChannelStats>> stats = store.Stats(now);
  if (!stats.ok()) return stats.status();
  for (const ChannelStats& s : *stats) {
    const std::string ch(ChannelName(s.channel));
    dead_letters_.Add({{"channel", ch}})
        .Set(static_cast<double>(s.dead_letters));
    queue_age_.Add({{"channel", ch}})
        .Set(absl::ToDoubleSeconds(s.oldest_due_age));
  }
  return absl::OkStatus();
}

absl::Status NotifyMetrics::PurgeExpired(
    PgNotifyStore& store, absl::Time now, absl::Duration retention,
    const std::function<bool()>& stopping) {
  if (retention <= absl::ZeroDuration()) return absl::OkStatus();  // keep
  absl::StatusOr<DeliveryPurgeCounts> n =
      store.PurgeFinished(now - retention, kPurgeBatch, stopping);
  if (!n.ok()) {
    logging::Event("delivery_purge_failed")
        .With("code", absl::StatusCodeToString(n.status().code()))
        .Warn();
    return n.status();
  }
  purged_.Add({{"table", "deliveries"}})
      .Increment(static_cast<double>(n->deliveries));
  purged_.Add({{"table", "attempts"}})
      .Increment(static_cast<double>(n->attempts));
  if (n->deliveries > 0) {
    logging::Event("deliveries_purged")
        .With("deliveries", n->deliveries)
        .With("attempts", n->attempts)
        .With("retention", absl::FormatDuration(retention))
        .Info();
  }
  return absl::OkStatus();
}

}  // namespace lienthong::notify
