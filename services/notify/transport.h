#pragma once
// Sending one message over its real protocol, through libcurl:
//   SMS     HTTP POST to a configurable gateway (URL, auth header, body
//           template rendered with JSON escaping);
//   e-mail  SMTP with STARTTLS (required by default) and authentication;
//   webhook HTTP POST of the JSON payload, signed (webhook_signature.h).
// Every call has a timeout; TLS peers are verified unless told otherwise.
// Errors never contain the recipient.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "services/notify/channel.h"
#include "services/notify/email_message.h"
#include "services/notify/send_error.h"
#include "services/notify/webhook_address.h"

namespace lienthong::notify {

struct OutgoingMessage {
  std::string delivery_id;  // idempotency key the receiver dedupes on
  Channel channel = Channel::kSms;
  std::string event_type;
  std::string recipient;  // phone, e-mail address or webhook URL
  std::string subject;    // e-mail
  std::string body;       // SMS text, e-mail HTML or webhook JSON
  std::string webhook_secret;
  // During a secret rotation, the secret the current one replaced: the
  // webhook carries a v1= signature under each.
  std::string webhook_previous_secret;
};

struct SendResult {
  bool ok = false;
  int response_code = 0;  // HTTP status or SMTP reply, 0 if none
  absl::Duration latency;
  std::string error;       // short, never the recipient
  bool permanent = false;  // retrying cannot help (e.g. HTTP 400, SMTP 550)
  // Why, when not ok: one of a small fixed set (send_error.h).
  SendErrorReason reason = SendErrorReason::kServer;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual SendResult Send(const OutgoingMessage& message) = 0;
};

enum class SmtpTls { kNone, kTry, kRequired };

// A host name's addresses; UNAVAILABLE when it has none.
using HostResolver = std::function<absl::StatusOr<std::vector<IpAddress>>(
    const std::string& host)>;

// The system's resolver (getaddrinfo).
absl::StatusOr<std::vector<IpAddress>> SystemResolve(const std::string& host);

struct TransportOptions {
  // SMS gateway.
  std::string sms_gateway_url;
  std::string sms_auth_header;  // a whole header line, e.g.
                                // "Authorization: Bearer ..."
  // Mustache, JSON-escaped values: phone, text, delivery_id, segments.
  std::string sms_body_template =
      R"({"to":"{{phone}}","text":"{{text}}","client_ref":"{{delivery_id}}"})";
  std::string sms_content_type = "application/json";
  // SMTP.
  std::string smtp_url;  // smtp://host:587 or smtps://host:465
  std::string smtp_user;
  std::string smtp_password;
  std::string smtp_from;  // "Bộ phận một cửa <mot-cua@hanoi.gov.vn>"
  SmtpTls smtp_tls = SmtpTls::kRequired;
  // All.
  absl::Duration sms_timeout = absl::Seconds(10);
  absl::Duration smtp_timeout = absl::Seconds(30);
  absl::Duration webhook_timeout = absl::Seconds(10);
  absl::Duration connect_timeout = absl::Seconds(5);
  bool verify_tls = true;
  std::string ca_file;  // CA bundle (PEM) used instead of the system one
  // Non-public addresses a webhook may still reach (webhook_address.h).
  std::vector<Cidr> webhook_allow_cidrs;
  // Resolves webhook hosts for the check (and the pin); SystemResolve when
  // empty. Tests give a name the addresses they need.
  HostResolver resolve_host;
};

// A URL's host and port as libcurl reads them, and the host's addresses
// (the literal itself, or what the resolver answers).
struct ResolvedUrl {
  std::string host;  // IPv6 literals without brackets
  int port = 0;
  bool literal = false;
  std::vector<IpAddress> addresses;
};
// INVALID_ARGUMENT for a URL libcurl cannot parse, UNAVAILABLE when the
// name does not resolve (through `resolve`).
absl::StatusOr<ResolvedUrl> ResolveUrl(
    const std::string& url, const HostResolver& resolve = SystemResolve);

// At registration: why `url` may not be a webhook's, or nullopt. Refused:
// a host that is a non-public address literal, or a name that resolves
// only to non-public addresses, none inside `allowed`. A name that does
// not resolve (yet) passes: every send checks its addresses again.
std::optional<std::string> WebhookUrlRefusal(const std::string& url,
                                             const std::vector<Cidr>& allowed);

// The libcurl implementation. Thread-safe (one easy handle per call).
std::unique_ptr<Transport> NewCurlTransport(TransportOptions options,
                                            const common::Clock& clock);

}  // namespace lienthong::notify
