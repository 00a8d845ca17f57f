#pragma once
// Turns "something happened" into deliveries: picks the citizen's channel
// from their contact, finds the agencies' webhooks, renders the current
// template version for each channel, and inserts one delivery per (event,
// recipient, channel) in the caller's transaction (the one that records the
// event in the inbox, so an event is either fully queued or not at all).

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "pqxx/pqxx"
#include "services/notify/delivery_policy.h"
#include "services/notify/notify_store.h"
#include "services/notify/templates.h"

namespace lienthong::notify {

struct Contact {
  std::string phone;
  std::string email;
  std::optional<Channel> preferred;  // SMS when unset
};

// The channel and address to reach a citizen on: the preferred one when
// its address is known, else the other; nullopt when neither is.
struct Address {
  Channel channel = Channel::kSms;
  std::string address;
};
std::optional<Address> ChooseCitizenAddress(const Contact& c);

struct NotificationPlan {
  std::string event_id;  // or the SendNotification request id
  std::string event_type;
  std::string dossier;  // "dossiers/{code}" or empty
  absl::Time occur_time;
  Values values;
  std::optional<Contact> citizen;
  std::optional<Channel> citizen_channel;  // forces the channel
  std::vector<std::string> agency_codes;   // whose webhooks hear of it
  // Also the remembered ancestors of `agency_codes` (supervisors), for
  // events that do not carry them (deadline's clocks).
  bool with_ancestors = false;
  // Agency -> its ancestors, as the event told; remembered for later events.
  std::vector<std::pair<std::string, std::vector<std::string>>> ancestors;
  std::string request_id;    // SendNotification only
  std::string request_hash;  // SendNotification only
};

struct EnqueueOptions {
  int sms_max_segments = 3;
  QuietHours quiet_hours;
};

class Enqueuer {
 public:
  Enqueuer(PgNotifyStore& store, const common::Clock& clock,
           EnqueueOptions options)
      : store_(store), clock_(clock), options_(std::move(options)) {}

  // The ids of the deliveries queued (or already queued) for `plan`.
  absl::StatusOr<std::vector<std::string>> EnqueueInTx(
      pqxx::work& tx, const NotificationPlan& plan);

 private:
  absl::StatusOr<std::optional<NewDelivery>> Build(pqxx::work& tx,
                                                   const NotificationPlan& plan,
                                                   Channel channel,
                                                   absl::string_view recipient);

  PgNotifyStore& store_;
  const common::Clock& clock_;
  const EnqueueOptions options_;
};

}  // namespace lienthong::notify
