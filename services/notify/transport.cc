#include "services/notify/transport.h"

#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"
#include "services/notify/sms.h"
#include "services/notify/templates.h"
#include "services/notify/webhook_signature.h"

namespace lienthong::notify {
namespace {

std::string NoNewlines(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"\r", " "}, {"\n", " "}});
}

// Feeds a string to libcurl's upload.
struct Upload {
  absl::string_view data;
  size_t pos = 0;
};

size_t ReadUpload(char* buf, size_t size, size_t n, void* userp) {
  auto* u = static_cast<Upload*>(userp);
  const size_t len = std::min(size * n, u->data.size() - u->pos);
  std::copy_n(u->data.data() + u->pos, len, buf);
  u->pos += len;
  return len;
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

struct Slist {
  curl_slist* list = nullptr;
  void Add(const std::string& s) { list = curl_slist_append(list, s.c_str()); }
  ~Slist() { curl_slist_free_all(list); }
};

// A failure without a protocol answer.
SendErrorReason ReasonOfCurlError(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return SendErrorReason::kEndpoint;
    case CURLE_LOGIN_DENIED:
      return SendErrorReason::kAuth;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return SendErrorReason::kTls;
    default:
      return SendErrorReason::kNetwork;
  }
}

// The step of the SMTP conversation, from the commands libcurl sends
// (its debug callback; nothing is kept or logged: RCPT TO names the
// recipient and AUTH carries the password).
struct SmtpProgress {
  SmtpStage stage = SmtpStage::kGreeting;
};

int TrackSmtp(CURL*, curl_infotype type, char* data, size_t size, void* userp) {
  auto* p = static_cast<SmtpProgress*>(userp);
  const absl::string_view text(data, size);
  const auto starts = [&](absl::string_view prefix) {
    return absl::StartsWithIgnoreCase(text, prefix);
  };
  if (type == CURLINFO_DATA_OUT ||
      (type == CURLINFO_HEADER_IN && p->stage == SmtpStage::kData &&
       starts("354"))) {
    if (p->stage == SmtpStage::kData) p->stage = SmtpStage::kEndOfData;
    return 0;
  }
  if (type != CURLINFO_HEADER_OUT) return 0;
  // AUTH continuation lines are base64: only MAIL FROM (which has a
  // space, never in base64) ends that step.
  if (p->stage == SmtpStage::kAuth) {
    if (starts("MAIL FROM:")) p->stage = SmtpStage::kMailFrom;
    return 0;
  }
  if (starts("EHLO") || starts("HELO")) {
    p->stage = SmtpStage::kHello;
  } else if (starts("STARTTLS")) {
    p->stage = SmtpStage::kStartTls;
  } else if (starts("AUTH")) {
    p->stage = SmtpStage::kAuth;
  } else if (starts("MAIL FROM:")) {
    p->stage = SmtpStage::kMailFrom;
  } else if (starts("RCPT TO:")) {
    p->stage = SmtpStage::kRcptTo;
  } else if (starts("DATA")) {
    p->stage = SmtpStage::kData;
  }
  return 0;
}

// Frees what curl_url_get() returned.
struct CurlString {
  char* p = nullptr;
  ~CurlString() { curl_free(p); }
};

// What is wrong with sending to `r` (any of its addresses not allowed),
// or nullopt.
std::optional<absl::string_view> AnyRefused(const ResolvedUrl& r,
                                            const std::vector<Cidr>& allowed) {
  for (const IpAddress& a : r.addresses) {
    if (std::optional<absl::string_view> why =
            WebhookAddressRefusal(a, allowed);
        why.has_value()) {
      return why;
    }
  }
  return std::nullopt;
}

TransportOptions WithDefaults(TransportOptions o) {
  if (!o.resolve_host) o.resolve_host = SystemResolve;
  return o;
}

class CurlTransport final : public Transport {
 public:
  CurlTransport(TransportOptions options, const common::Clock& clock)
      : options_(WithDefaults(std::move(options))), clock_(clock) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  SendResult Send(const OutgoingMessage& m) override {
    switch (m.channel) {
      case Channel::kSms:
        return SendSms(m);
      case Channel::kEmail:
        return SendEmail(m);
      case Channel::kWebhook:
        return SendWebhook(m);
    }
    return SendResult{.error = "unknown channel",
                      .permanent = true,
                      .reason = SendErrorReason::kEndpoint};
  }

 private:
  void Common(CURL* c, absl::Duration timeout) const {
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(timeout)));
    curl_easy_setopt(
        c, CURLOPT_CONNECTTIMEOUT_MS,
        static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_file.empty()) {
      curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    }
  }

  // `smtp` is the conversation's progress for SMTP, null for HTTP.
  SendResult Perform(CURL* c, const SmtpProgress* smtp,
                     absl::Time start) const {
    SendResult r;
    const CURLcode code = curl_easy_perform(c);
    long response = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
    r.latency = clock_.Now() - start;
    r.response_code = static_cast<int>(response);
    if (code != CURLE_OK) {
      r.error = curl_easy_strerror(code);
      // An SMTP reply is the last one received: a refusal when >= 400,
      // else the failure came after it (a lost connection, TLS).
      const SendErrorClass k =
          smtp != nullptr && response >= 400
              ? ClassifySmtpReply(smtp->stage, static_cast<int>(response))
              : SendErrorClass{ReasonOfCurlError(code), false};
      r.reason = k.reason;
      r.permanent = k.permanent;
      return r;
    }
    if (smtp == nullptr && (response < 200 || response >= 300)) {
      r.error = absl::StrCat("HTTP ", response);
      const SendErrorClass k = ClassifyHttpStatus(static_cast<int>(response));
      r.reason = k.reason;
      r.permanent = k.permanent;
      return r;
    }
    r.ok = true;
    return r;
  }

  SendResult SendSms(const OutgoingMessage& m) {
    if (options_.sms_gateway_url.empty()) {
      return SendResult{.error = "no SMS gateway configured",
                        .reason = SendErrorReason::kEndpoint};
    }
    absl::StatusOr<std::string> body =
        RenderText(options_.sms_body_template,
                   {{"phone", m.recipient},
                    {"text", m.body},
                    {"delivery_id", m.delivery_id},
                    {"segments", absl::StrCat(SmsSegments(m.body))}},
                   Escape::kJson);
    if (!body.ok()) {
      // Our configuration, not the message: every SMS would fail alike
      // (main checks the template at start-up).
      return SendResult{.error = "bad SMS body template",
                        .reason = SendErrorReason::kEndpoint};
    }
    Slist headers;
    headers.Add(absl::StrCat("Content-Type: ", options_.sms_content_type));
    headers.Add(absl::StrCat("Idempotency-Key: ", m.delivery_id));
    if (!options_.sms_auth_header.empty()) {
      headers.Add(options_.sms_auth_header);
    }
    return Post(options_.sms_gateway_url, *body, headers, options_.sms_timeout);
  }

  SendResult SendWebhook(const OutgoingMessage& m) {
    Slist headers;
    headers.Add("Content-Type: application/json; charset=utf-8");
    headers.Add(absl::StrCat(kSignatureHeader, ": ",
                             SignWebhook(m.webhook_secret, clock_.Now(), m.body,
                                         m.webhook_previous_secret)));
    headers.Add(absl::StrCat(kDeliveryHeader, ": ", m.delivery_id));
    headers.Add(absl::StrCat("Idempotency-Key: ", m.delivery_id));
    headers.Add(absl::StrCat(kEventTypeHeader, ": ", NoNewlines(m.event_type)));
    // The agency chose the URL and sees each attempt's outcome: resolve
    // its host now, refuse if ANY address is not allowed (a name may have
    // been re-pointed at our network since it was registered), and make
    // curl connect to exactly the addresses checked, not resolve again.
    absl::StatusOr<ResolvedUrl> target =
        ResolveUrl(m.recipient, options_.resolve_host);
    if (!target.ok()) {
      return SendResult{
          .error = target.status().code() == absl::StatusCode::kUnavailable
                       ? "webhook host does not resolve"
                       : "bad webhook URL",
          .reason = target.status().code() == absl::StatusCode::kUnavailable
                        ? SendErrorReason::kNetwork
                        : SendErrorReason::kEndpoint};
    }
    if (std::optional<absl::string_view> why =
            AnyRefused(*target, options_.webhook_allow_cidrs);
        why.has_value()) {
      return SendResult{
          .error = absl::StrCat("webhook address not allowed (", *why, ")"),
          .reason = SendErrorReason::kEndpoint};
    }
    Slist pin;
    if (!target->literal) {
      std::string entry = absl::StrCat(target->host, ":", target->port, ":");
      for (size_t i = 0; i < target->addresses.size(); ++i) {
        const IpAddress& a = target->addresses[i];
        absl::StrAppend(&entry, i == 0 ? "" : ",", a.v6 ? "[" : "",
                        a.ToString(), a.v6 ? "]" : "");
      }
      pin.Add(entry);
    }
    return Post(m.recipient, m.body, headers, options_.webhook_timeout, &pin);
  }

  // `pin`, for webhooks: connect straight to the addresses it names (none
  // for an address literal), never through a proxy.
  SendResult Post(const std::string& url, const std::string& body,
                  const Slist& headers, absl::Duration timeout,
                  const Slist* pin = nullptr) {
    const absl::Time start = clock_.Now();
    CURL* c = curl_easy_init();
    if (c == nullptr) {
      return SendResult{.error = "curl init failed",
                        .reason = SendErrorReason::kServer};
    }
    Common(c, timeout);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "lienthong-notify/1");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.list);
    if (pin != nullptr) {
      // libcurl would otherwise take a proxy from http_proxy, https_proxy
      // or ALL_PROXY, and the proxy would resolve and reach the agency's
      // host itself, past the address check and the pin. The empty string
      // turns the environment's proxies off.
      curl_easy_setopt(c, CURLOPT_PROXY, "");
      if (pin->list != nullptr) curl_easy_setopt(c, CURLOPT_RESOLVE, pin->list);
    }
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Discard);
    SendResult r = Perform(c, /*smtp=*/nullptr, start);
    curl_easy_cleanup(c);
    return r;
  }

  SendResult SendEmail(const OutgoingMessage& m) {
    if (options_.smtp_url.empty()) {
      return SendResult{.error = "no SMTP server configured",
                        .reason = SendErrorReason::kEndpoint};
    }
    const std::string payload =
        ComposeEmail(options_.smtp_from, m.recipient, m.subject, m.body,
                     m.delivery_id, clock_.Now());
    const absl::Time start = clock_.Now();
    CURL* c = curl_easy_init();
    if (c == nullptr) {
      return SendResult{.error = "curl init failed",
                        .reason = SendErrorReason::kServer};
    }
    Common(c, options_.smtp_timeout);
    curl_easy_setopt(c, CURLOPT_URL, options_.smtp_url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    switch (options_.smtp_tls) {
      case SmtpTls::kNone:
        curl_easy_setopt(c, CURLOPT_USE_SSL,
                         static_cast<long>(CURLUSESSL_NONE));
        break;
      case SmtpTls::kTry:
        curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
        break;
      case SmtpTls::kRequired:
        curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
        break;
    }
    if (!options_.smtp_user.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, options_.smtp_user.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, options_.smtp_password.c_str());
    }
    const std::string from =
        absl::StrCat("<", BareAddress(options_.smtp_from), ">");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
    Slist rcpt;
    rcpt.Add(absl::StrCat("<", NoNewlines(BareAddress(m.recipient)), ">"));
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.list);
    Upload upload{payload};
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadUpload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    // Which step a refusal answers decides whether it is about this
    // message or about the channel (send_error.h).
    SmtpProgress progress;
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, TrackSmtp);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, &progress);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    SendResult r = Perform(c, &progress, start);
    curl_easy_cleanup(c);
    return r;
  }

  const TransportOptions options_;
  const common::Clock& clock_;
};

}  // namespace

absl::StatusOr<std::vector<IpAddress>> SystemResolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
    return absl::UnavailableError("the host does not resolve");
  }
  std::vector<IpAddress> out;
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    IpAddress a;
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      std::memcpy(a.bytes.data(), &sin->sin_addr, 4);
    } else if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      a.v6 = true;
      std::memcpy(a.bytes.data(), &sin6->sin6_addr, 16);
    } else {
      continue;
    }
    out.push_back(a);
  }
  freeaddrinfo(res);
  return out;
}

absl::StatusOr<ResolvedUrl> ResolveUrl(const std::string& url,
                                       const HostResolver& resolve) {
  CURLU* u = curl_url();
  if (u == nullptr) return absl::ResourceExhaustedError("curl_url failed");
  ResolvedUrl r;
  CurlString host, port;
  const bool parsed =
      curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host.p, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PORT, &port.p, CURLU_DEFAULT_PORT) ==
          CURLUE_OK &&
      absl::SimpleAtoi(port.p, &r.port);
  curl_url_cleanup(u);
  if (!parsed) {
    return common::InvalidArgument("BAD_URL", {{"url", "is not a URL"}});
  }
  absl::string_view h = host.p;
  if (absl::ConsumePrefix(&h, "[")) absl::ConsumeSuffix(&h, "]");
  r.host = std::string(h);
  if (std::optional<IpAddress> a = IpAddress::Parse(r.host); a.has_value()) {
    r.literal = true;
    r.addresses.push_back(*a);
    return r;
  }
  absl::StatusOr<std::vector<IpAddress>> found = resolve(r.host);
  if (!found.ok()) return absl::UnavailableError("the host does not resolve");
  for (const IpAddress& a : *found) {
    if (std::find(r.addresses.begin(), r.addresses.end(), a) ==
        r.addresses.end()) {
      r.addresses.push_back(a);
    }
  }
  if (r.addresses.empty()) {
    return absl::UnavailableError("the host does not resolve");
  }
  return r;
}

std::optional<std::string> WebhookUrlRefusal(const std::string& url,
                                             const std::vector<Cidr>& allowed) {
  absl::StatusOr<ResolvedUrl> r = ResolveUrl(url);
  if (!r.ok()) {
    if (r.status().code() == absl::StatusCode::kUnavailable) {
      return std::nullopt;  // checked again at every send
    }
    return "is not a URL";
  }
  std::optional<absl::string_view> first;
  for (const IpAddress& a : r->addresses) {
    std::optional<absl::string_view> why = WebhookAddressRefusal(a, allowed);
    if (!why.has_value()) return std::nullopt;  // one reachable address
    if (!first.has_value()) first = why;
  }
  return absl::StrCat(
      r->literal ? "is a " : "resolves only to ", r->literal ? "" : "", *first,
      r->literal ? " address" : " addresses",
      ", which webhooks may not reach (operators can allow a network with "
      "--webhook_allow_cidrs)");
}

std::unique_ptr<Transport> NewCurlTransport(TransportOptions options,
                                            const common::Clock& clock) {
  return std::make_unique<CurlTransport>(std::move(options), clock);
}

}  // namespace lienthong::notify
