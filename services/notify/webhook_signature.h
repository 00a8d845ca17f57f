#pragma once
// Webhook signatures (docs/notify.md). The header
//
//   X-Lienthong-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=...]
//
// carries HMAC-SHA256(secret, "<t>." + body), and while a webhook's secret
// is being changed a second v1= under the secret it replaced. A receiver
// recomputes it over the raw body, compares in constant time, and rejects
// timestamps more than the tolerance away from its clock (replays of an old
// request fail).

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace lienthong::notify {

inline constexpr char kSignatureHeader[] = "X-Lienthong-Signature";
inline constexpr char kDeliveryHeader[] = "X-Lienthong-Delivery";
inline constexpr char kEventTypeHeader[] = "X-Lienthong-Event";

// Lower-case hex of HMAC-SHA256(secret, message).
std::string HmacSha256Hex(absl::string_view secret, absl::string_view message);

// The header value for `body` sent at `t`. With `previous_secret` (a
// rotation in progress, and not the same as `secret`) a second v1= follows,
// under it: a receiver accepts if any matches.
std::string SignWebhook(absl::string_view secret, absl::Time t,
                        absl::string_view body,
                        absl::string_view previous_secret = "");

// OK when `header` holds a v1 signature of `body` under `secret` whose
// timestamp is within `tolerance` of `now`; UNAUTHENTICATED otherwise
// (reason BAD_SIGNATURE, STALE_SIGNATURE or MALFORMED_SIGNATURE).
absl::Status VerifyWebhook(absl::string_view secret, absl::string_view header,
                           absl::string_view body, absl::Time now,
                           absl::Duration tolerance = absl::Minutes(5));

}  // namespace lienthong::notify
