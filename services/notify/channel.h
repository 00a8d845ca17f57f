#pragma once
// The notification channels and their names, shared by every layer.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::notify {

enum class Channel { kSms, kEmail, kWebhook };

inline constexpr Channel kAllChannels[] = {Channel::kSms, Channel::kEmail,
                                           Channel::kWebhook};

// "sms", "email", "webhook": stored in the database and used as the
// metrics' `channel` label.
absl::string_view ChannelName(Channel channel);

// The inverse of ChannelName; INVALID_ARGUMENT for anything else.
absl::StatusOr<Channel> ParseChannel(absl::string_view name);

}  // namespace lienthong::notify
