#pragma once
// The other services' events, as notifications: which event type, which
// template values, which citizen contact and which agencies' webhooks.
// Events notify does not tell anyone about map to nullopt (they are still
// recorded in the inbox).

#include <optional>

#include "absl/status/statusor.h"
#include "lienthong/common/v1/common.pb.h"
#include "services/notify/enqueuer.h"

namespace lienthong::notify {

absl::StatusOr<std::optional<NotificationPlan>> PlanFromEvent(
    const common::v1::Event& event);

// Domain <-> proto for contacts.
Contact ContactFromProto(const common::v1::Contact& c);
std::optional<Channel> ChannelFromProto(common::v1::ContactChannel c);
common::v1::ContactChannel ChannelToProto(Channel c);

// "dossiers/000.00.14.H26-260312-0042" -> "000.00.14.H26" (the receiving
// agency's code); empty when the name has another shape.
std::string ReceivingAgencyOf(absl::string_view dossier_name);

}  // namespace lienthong::notify
