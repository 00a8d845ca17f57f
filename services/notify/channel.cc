#include "services/notify/channel.h"

#include "libs/common/errors.h"

namespace lienthong::notify {

absl::string_view ChannelName(Channel channel) {
  switch (channel) {
    case Channel::kSms:
      return "sms";
    case Channel::kEmail:
      return "email";
    case Channel::kWebhook:
      return "webhook";
  }
  return "sms";
}

absl::StatusOr<Channel> ParseChannel(absl::string_view name) {
  for (Channel c : kAllChannels) {
    if (ChannelName(c) == name) return c;
  }
  return common::InvalidArgument(
      "UNKNOWN_CHANNEL", {{"channel", "must be one of sms, email, webhook"}});
}

}  // namespace lienthong::notify
