// The notification half of the demo: registers the ward one-stop unit's
// webhook with the notify service, and after the dossiers finish prints
// what notify delivered (ListDeliveries) and what landed in the local sinks.
#pragma once

#include <string>
#include <vector>

#include "lienthong/notify/v1/notify_service.grpc.pb.h"

namespace lienthong::demo {

struct NotifyDemoOptions {
  std::string counter;  // receiving agency code (001.08.19.H26)
  std::string webhook_url;
  std::string webhook_secret;  // empty: no webhook is registered
  std::string sinks_dir;       // sms.jsonl, mail.jsonl, webhook.jsonl
};

// Registers the counter agency's webhook unless one with the same URL exists.
// Returns false (after printing why) when notify cannot be reached.
bool EnsureWebhook(notify::v1::NotifyService::Stub& notify,
                   const NotifyDemoOptions& options);

// Waits (up to `wait`) until every delivery about the dossiers is settled
// (sent or dead letter), then prints the delivery log and the sink contents
// that mention the dossiers' codes. Returns how many messages landed.
int PrintNotifications(notify::v1::NotifyService::Stub& notify,
                       const NotifyDemoOptions& options,
                       const std::vector<std::string>& dossier_names,
                       const std::vector<std::string>& dossier_codes,
                       absl::Duration wait);

}  // namespace lienthong::demo
