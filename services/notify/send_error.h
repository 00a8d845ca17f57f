#pragma once
// Why an attempt failed, and whether trying again can help. Pure: the
// transport hands in what the peer answered (an HTTP status, or an SMTP
// reply and the step of the conversation it answered).
//
// "Permanent" is only for a refusal of THIS message or recipient (HTTP 400,
// 413, 422; SMTP 550-554 to RCPT TO, DATA or the message). Anything that
// says the channel itself is wrong (credentials, URL, a server refusing
// the connection or our sender address, TLS, throttling, 5xx) would refuse
// every message alike: those are retried with backoff, so one bad secret
// or URL does not send the whole queue to the dead letters on its first
// attempt, and fixing the configuration delivers what waited.

#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::notify {

// A small fixed set: the `reason` label of
// lienthong_notify_send_errors_total.
enum class SendErrorReason {
  kAuth,       // credentials refused: HTTP 401/403/407, SMTP AUTH, 530
  kEndpoint,   // wrong or unwilling endpoint: HTTP 404/405/410, 3xx and
               // other 4xx, SMTP greeting/HELO/MAIL FROM refused, bad URL,
               // nothing configured, a webhook deleted or unreadable secret
  kNetwork,    // no answer: DNS, connect, timeout, connection reset
  kTls,        // TLS handshake, certificate verification, STARTTLS
  kThrottled,  // HTTP 408/429, SMTP 4xx: "later"
  kServer,     // HTTP 5xx, SMTP protocol errors (500-504, ...)
  kRejected,   // this message or recipient refused for good
};

inline constexpr SendErrorReason kAllSendErrorReasons[] = {
    SendErrorReason::kAuth,      SendErrorReason::kEndpoint,
    SendErrorReason::kNetwork,   SendErrorReason::kTls,
    SendErrorReason::kThrottled, SendErrorReason::kServer,
    SendErrorReason::kRejected};

// "auth", "endpoint", "network", "tls", "throttled", "server", "rejected".
absl::string_view SendErrorReasonName(SendErrorReason reason);

struct SendErrorClass {
  SendErrorReason reason = SendErrorReason::kServer;
  bool permanent = false;  // retrying cannot help: dead letter at once
  bool operator==(const SendErrorClass&) const = default;
};

// An HTTP answer other than 2xx from the SMS gateway or a webhook receiver.
SendErrorClass ClassifyHttpStatus(int status);

// The step of an SMTP conversation a reply answers.
enum class SmtpStage {
  kGreeting,   // the server's 220 on connect
  kHello,      // EHLO / HELO
  kStartTls,   // STARTTLS
  kAuth,       // AUTH and its continuations
  kMailFrom,   // MAIL FROM: our sender address
  kRcptTo,     // RCPT TO: the recipient
  kData,       // DATA (354 expected)
  kEndOfData,  // the reply to the message itself, after "."
};

// An SMTP reply `code` (4xx or 5xx) to `stage`.
SendErrorClass ClassifySmtpReply(SmtpStage stage, int code);

}  // namespace lienthong::notify
