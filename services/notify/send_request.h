#pragma once

// What a SendNotification asks for, checked before anything is read or
// written: every violation at once (INVALID_ARGUMENT with field
// violations and a Vietnamese message naming missing values).

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "lienthong/notify/v1/notify_service.pb.h"
#include "services/notify/notify_events.h"
#include "services/notify/templates.h"

namespace lienthong::notify {

struct CheckedSend {
  std::string event_type;  // "ad_hoc" when the request names none
  Contact contact;
  std::optional<Channel> channel;  // none: the contact's preferred one
  std::string dossier_code;        // empty when no dossier is named
  Values values;                   // the request's, and dossier_code
};

absl::StatusOr<CheckedSend> CheckSendRequest(
    const v1::SendNotificationRequest& req);

}  // namespace lienthong::notify
