#include "services/notify/send_error.h"

namespace lienthong::notify {

absl::string_view SendErrorReasonName(SendErrorReason reason) {
  switch (reason) {
    case SendErrorReason::kAuth:
      return "auth";
    case SendErrorReason::kEndpoint:
      return "endpoint";
    case SendErrorReason::kNetwork:
      return "network";
    case SendErrorReason::kTls:
      return "tls";
    case SendErrorReason::kThrottled:
      return "throttled";
    case SendErrorReason::kServer:
      return "server";
    case SendErrorReason::kRejected:
      return "rejected";
  }
  return "server";
}

SendErrorClass ClassifyHttpStatus(int status) {
  using R = SendErrorReason;
  switch (status) {
    // The request itself is refused: this message (or its recipient, which
    // is in the body) will be refused again, whoever sends it.
    case 400:  // Bad Request
    case 413:  // Content Too Large
    case 422:  // Unprocessable Content
      return {R::kRejected, true};
    case 401:  // Unauthorized
    case 403:  // Forbidden
    case 407:  // Proxy Authentication Required
      return {R::kAuth, false};
    case 408:  // Request Timeout
    case 429:  // Too Many Requests
      return {R::kThrottled, false};
    default:
      break;
  }
  if (status >= 500 && status < 600) return {R::kServer, false};
  // 404, 405, 410, 415, redirects (not followed), anything unexpected: the
  // URL or the gateway's settings are wrong, for every message alike.
  return {R::kEndpoint, false};
}

SendErrorClass ClassifySmtpReply(SmtpStage stage, int code) {
  using R = SendErrorReason;
  // "Authentication required" can come at MAIL FROM as well as after AUTH.
  if (stage == SmtpStage::kAuth || code == 530) return {R::kAuth, false};
  if (stage == SmtpStage::kStartTls) return {R::kTls, false};
  const bool temporary = code >= 400 && code < 500;
  if (temporary) return {R::kThrottled, false};
  switch (stage) {
    case SmtpStage::kGreeting:
    case SmtpStage::kHello:
    case SmtpStage::kMailFrom:
      // The server will not talk to us, or refuses our sender address:
      // every message would be refused alike.
      return {R::kEndpoint, false};
    case SmtpStage::kRcptTo:
    case SmtpStage::kData:
    case SmtpStage::kEndOfData:
      switch (code) {
        case 550:  // mailbox unavailable, or refused by policy
        case 551:  // user not local
        case 553:  // mailbox name not allowed
        case 554:  // transaction failed (no valid recipients, content)
          return {R::kRejected, true};
        case 552:
          // After the message: too large for this server, like HTTP 413.
          // To RCPT TO it means "too many recipients", which RFC 5321
          // (4.5.3.1.10) says to treat as temporary.
          if (stage == SmtpStage::kEndOfData) return {R::kRejected, true};
          return {R::kThrottled, false};
        default:
          // 500-504 and the like: a command the server did not take, a
          // protocol problem rather than a verdict on the message.
          return {R::kServer, false};
      }
    case SmtpStage::kStartTls:
    case SmtpStage::kAuth:
      break;  // handled above
  }
  return {R::kServer, false};
}

}  // namespace lienthong::notify
