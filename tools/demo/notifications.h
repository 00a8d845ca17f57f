// The notification half of the demo: registers the ward one-stop unit's
// webhook with the notify service, and after the dossiers finish prints
// what notify delivered (ListDeliveries) and what landed in the local sinks.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "lienthong/notify/v1/notify_service.grpc.pb.h"

namespace lienthong::demo {

struct NotifyDemoOptions {
  std::string counter;  // receiving agency code (001.08.19.H26)
  std::string webhook_url;
  std::string webhook_secret;  // empty: no webhook is registered
  std::string sinks_dir;       // sms.jsonl, mail.jsonl, webhook.jsonl
};

// What notify did about one dossier, as the demo checks it.
struct DossierNotifications {
  int landed = 0;              // messages about it that landed in the sinks
  int invalid_signatures = 0;  // of those, webhooks whose signature failed
  std::string unsettled;       // why notify is not done with it; "" if done
};

struct NotificationReport {
  std::string error;  // a failed call to notify (RpcError); "" if none
  std::vector<DossierNotifications> dossiers;  // in the order asked
};

// Registers the counter agency's webhook unless one with the same URL
// exists. Returns the failed call (RpcError) when notify cannot be reached
// or refuses the webhook, "" otherwise (also when no webhook is asked for).
std::string EnsureWebhook(notify::v1::NotifyService::Stub& notify,
                          const NotifyDemoOptions& options);

// Why notify is not yet done with one dossier's deliveries; "" when it is.
// Done means: the delivery of how the dossier ended exists
// (`ready_for_return`, or `dossier_refused`), and every delivery is sent or
// a dead letter. Right after READY_FOR_RETURN the event may still sit in
// intake's outbox, so "nothing pending" alone is not done.
std::string NotYetSettled(const std::vector<notify::v1::Delivery>& deliveries);

// Waits (up to `wait`) until notify is done with every dossier, then prints
// the delivery log and the sink contents that mention the dossiers' codes.
NotificationReport PrintNotifications(
    notify::v1::NotifyService::Stub& notify, const NotifyDemoOptions& options,
    const std::vector<std::string>& dossier_names,
    const std::vector<std::string>& dossier_codes, absl::Duration wait);

}  // namespace lienthong::demo
