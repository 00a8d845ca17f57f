// lienthong-notify: Vietnamese notifications over SMS, e-mail and signed
// webhooks, at least once and never lost, with a readable delivery log.
//
// Flags, wiring, signals; nothing else. The shared runtime does flags with
// LIENTHONG_* overrides, logging, /metrics, the pool and migrations, the
// server (health, reflection, TLS), the EventSinkService and SIGTERM ->
// drain -> exit 0. Channel settings are below (docs/notify.md).

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "libs/config/config.h"
#include "libs/logging/logging.h"
#include "libs/runtime/service_runtime.h"
#include "notify_migrations.h"
#include "services/notify/default_templates.h"
#include "services/notify/enqueuer.h"
#include "services/notify/notify_metrics.h"
#include "services/notify/notify_server.h"
#include "services/notify/sender.h"
#include "services/notify/templates.h"
#include "services/notify/transport.h"

ABSL_FLAG(std::string, sms_gateway_url, "",
          "SMS gateway endpoint (HTTP POST); SMS fail and retry when empty");
ABSL_FLAG(std::string, sms_auth_header, "",
          "whole header line sent to the gateway, e.g. 'Authorization: "
          "Bearer ...'");
ABSL_FLAG(std::string, sms_auth_header_file, "",
          "file holding --sms_auth_header (wins over the flag)");
ABSL_FLAG(
    std::string, sms_body_template,
    R"({"to":"{{phone}}","text":"{{text}}","client_ref":"{{delivery_id}}"})",
    "Mustache body for the gateway; values phone, text, delivery_id, "
    "segments are JSON-escaped");
ABSL_FLAG(int, sms_max_segments, 3,
          "longest SMS (in segments) a template may need; longer texts are "
          "cut");
ABSL_FLAG(std::string, smtp_url, "",
          "smtp://host:587 (STARTTLS) or smtps://host:465");
ABSL_FLAG(std::string, smtp_user, "", "SMTP user (AUTH when set)");
ABSL_FLAG(std::string, smtp_password_file, "", "file holding the password");
ABSL_FLAG(std::string, smtp_from, "Bộ phận một cửa <mot-cua@localhost>",
          "From: of citizens' e-mail");
ABSL_FLAG(std::string, smtp_tls, "required",
          "STARTTLS: required (default), try (local sinks only) or none");
ABSL_FLAG(absl::Duration, sms_timeout, absl::Seconds(10), "gateway timeout");
ABSL_FLAG(absl::Duration, smtp_timeout, absl::Seconds(30), "SMTP timeout");
ABSL_FLAG(absl::Duration, webhook_timeout, absl::Seconds(10),
          "webhook timeout");
ABSL_FLAG(bool, tls_verify, true, "verify TLS peers (gateway, SMTP, hooks)");
ABSL_FLAG(std::string, tls_ca_file, "",
          "CA bundle (PEM) for channel peers, read instead of the system one");
ABSL_FLAG(bool, allow_http_webhooks, false,
          "accept http:// webhook URLs (dev only)");
ABSL_FLAG(std::string, webhook_allow_cidrs, "",
          "comma-separated CIDRs of non-public addresses webhooks may reach "
          "(e.g. a government private network); loopback, private, "
          "link-local, CGNAT, multicast and reserved addresses are refused "
          "otherwise");
ABSL_FLAG(std::string, webhook_secret_key_file, "",
          "file with the 32-byte key (raw, hex or base64) that encrypts "
          "webhook secrets at rest (AES-256-GCM); plaintext when empty");
ABSL_FLAG(absl::Duration, webhook_secret_overlap, absl::Hours(24),
          "after a webhook's secret changes, how long the one it replaced "
          "still signs deliveries (a second v1=), so the receiver can switch");
ABSL_FLAG(std::string, quiet_hours, "21:00-07:00",
          "Asia/Ho_Chi_Minh hours when citizen SMS wait, or 'off'");
ABSL_FLAG(int, max_attempts, 8, "attempts before a dead letter");
ABSL_FLAG(absl::Duration, retry_initial, absl::Seconds(30),
          "first retry delay (doubles, ±20% jitter)");
ABSL_FLAG(absl::Duration, retry_max, absl::Hours(1), "longest retry delay");
ABSL_FLAG(double, sms_rate, 20, "SMS a second per replica (0 = no limit)");
ABSL_FLAG(double, email_rate, 10, "e-mails a second per replica");
ABSL_FLAG(double, webhook_rate, 50, "webhook calls a second per replica");
ABSL_FLAG(int, send_batch, 20, "deliveries claimed per sender pass");
ABSL_FLAG(absl::Duration, send_interval, absl::Milliseconds(200),
          "pause between sender passes");
ABSL_FLAG(absl::Duration, send_lease, absl::Minutes(2),
          "how long a claimed delivery is ours before another replica may "
          "take it over");
ABSL_FLAG(absl::Duration, delivery_retention, absl::Hours(24 * 90),
          "sent and dead-lettered deliveries (phone numbers, e-mail "
          "addresses, texts) and their attempts are deleted this long after "
          "they got there (0 = keep them for good); longer than "
          "--inbox_retention. Pending, failed and sending ones are kept");

namespace lienthong::notify {
namespace {

std::string ReadSecretFile(const std::string& path, const char* flag) {
  if (path.empty()) return "";
  std::ifstream in(path);
  if (!in) config::Fatal("notify", absl::StrCat("cannot read --", flag));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace
}  // namespace lienthong::notify

int main(int argc, char** argv) {
  using namespace lienthong;
  using namespace lienthong::notify;
  runtime::Start(argc, argv,
                 "lienthong-notify: Vietnamese SMS, e-mail and signed "
                 "webhooks with retries and dead letters");
  absl::StatusOr<QuietHours> quiet =
      ParseQuietHours(absl::GetFlag(FLAGS_quiet_hours), VietnamZone());
  config::Require(quiet.ok(),
                  "--quiet_hours must look like 21:00-07:00 or off");
  const std::string tls = absl::GetFlag(FLAGS_smtp_tls);
  config::Require(tls == "required" || tls == "try" || tls == "none",
                  "--smtp_tls must be required, try or none");
  config::Require(absl::GetFlag(FLAGS_sms_max_segments) >= 1,
                  "--sms_max_segments must be at least 1");
  config::Require(absl::GetFlag(FLAGS_max_attempts) >= 1,
                  "--max_attempts must be at least 1");
  config::Require(absl::GetFlag(FLAGS_send_batch) > 0,
                  "--send_batch must be positive");
  config::Require(
      absl::GetFlag(FLAGS_webhook_secret_overlap) >= absl::ZeroDuration(),
      "--webhook_secret_overlap must not be negative");
  for (const auto* flag :
       {&FLAGS_sms_timeout, &FLAGS_smtp_timeout, &FLAGS_webhook_timeout,
        &FLAGS_retry_initial, &FLAGS_retry_max, &FLAGS_send_interval,
        &FLAGS_send_lease}) {
    config::RequirePositive(*flag);
  }
  // A redelivered event must still be recognised: by the inbox while it
  // remembers the event id, then by the delivery's UNIQUE (event, recipient,
  // channel), so deliveries outlive the inbox's memory of their event.
  const absl::Duration delivery_retention =
      absl::GetFlag(FLAGS_delivery_retention);
  const absl::Duration inbox_retention = absl::GetFlag(FLAGS_inbox_retention);
  config::Require(
      delivery_retention == absl::ZeroDuration() ||
          (inbox_retention > absl::ZeroDuration()
               ? delivery_retention > inbox_retention
               : delivery_retention >= absl::Hours(24)),
      absl::StrCat("--delivery_retention must be 0 (keep) or longer than "
                   "--inbox_retention (",
                   absl::FormatDuration(inbox_retention),
                   "), so a redelivered event is still recognised"));
  // A pass stops sending once half its lease is used, but a send begun
  // just before runs to its channel's timeout: the lease must outlast twice
  // the longest one, or another replica could claim and send it again.
  const absl::Duration longest_send = std::max(
      {absl::GetFlag(FLAGS_sms_timeout), absl::GetFlag(FLAGS_smtp_timeout),
       absl::GetFlag(FLAGS_webhook_timeout)});
  config::Require(absl::GetFlag(FLAGS_send_lease) > 2 * longest_send,
                  absl::StrCat("--send_lease must be longer than twice the "
                               "longest channel timeout (",
                               absl::FormatDuration(2 * longest_send), ")"));

  TransportOptions t;
  t.sms_gateway_url = absl::GetFlag(FLAGS_sms_gateway_url);
  t.sms_auth_header = absl::GetFlag(FLAGS_sms_auth_header);
  if (std::string h = ReadSecretFile(absl::GetFlag(FLAGS_sms_auth_header_file),
                                     "sms_auth_header_file");
      !h.empty()) {
    t.sms_auth_header = h;
  }
  t.sms_body_template = absl::GetFlag(FLAGS_sms_body_template);
  // A template that cannot render would fail every SMS alike.
  config::Require(
      RenderText(t.sms_body_template,
                 {{"phone", "0912345678"}, {"text", "x"}, {"delivery_id", "d"}},
                 Escape::kJson)
          .ok(),
      "--sms_body_template does not render (Mustache)");
  t.smtp_url = absl::GetFlag(FLAGS_smtp_url);
  t.smtp_user = absl::GetFlag(FLAGS_smtp_user);
  t.smtp_password = ReadSecretFile(absl::GetFlag(FLAGS_smtp_password_file),
                                   "smtp_password_file");
  t.smtp_from = absl::GetFlag(FLAGS_smtp_from);
  // Its domain is also that of every Message-ID. (Not fields::IsEmail: the
  // local stack's default, mot-cua@localhost, has a dotless domain.)
  const std::string from_address = BareAddress(t.smtp_from);
  const size_t at = from_address.find('@');
  config::Require(
      at != std::string::npos && at > 0 && at + 1 < from_address.size() &&
          from_address.find_first_of(" <>@", at + 1) == std::string::npos,
      "--smtp_from must be an address, e.g. 'Bộ phận một cửa "
      "<mot-cua@phuong.hanoi.gov.vn>'");
  t.smtp_tls = tls == "required" ? SmtpTls::kRequired
               : tls == "try"    ? SmtpTls::kTry
                                 : SmtpTls::kNone;
  t.sms_timeout = absl::GetFlag(FLAGS_sms_timeout);
  t.smtp_timeout = absl::GetFlag(FLAGS_smtp_timeout);
  t.webhook_timeout = absl::GetFlag(FLAGS_webhook_timeout);
  t.verify_tls = absl::GetFlag(FLAGS_tls_verify);
  t.ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  absl::StatusOr<std::vector<Cidr>> allow_cidrs =
      ParseCidrs(absl::GetFlag(FLAGS_webhook_allow_cidrs));
  config::Require(allow_cidrs.ok(),
                  "--webhook_allow_cidrs must be comma-separated CIDRs, e.g. "
                  "10.20.0.0/16,fd00:1::/48");
  t.webhook_allow_cidrs = *allow_cidrs;

  SecretBox secrets;
  if (const std::string key = absl::GetFlag(FLAGS_webhook_secret_key_file);
      !key.empty()) {
    absl::StatusOr<SecretBox> box = SecretBox::FromKeyFile(key);
    if (!box.ok()) {
      config::Fatal("webhook_secret_key_file",
                    std::string(box.status().message()));
    }
    secrets = *std::move(box);
  }

  std::unique_ptr<PgNotifyStore> store;
  std::unique_ptr<Enqueuer> enqueuer;
  grpc_util::EventHandler handler;
  runtime::ServiceSpec spec;
  spec.label = "notify";
  spec.schema = "notify";
  spec.domain = "lienthong.notify";
  spec.service_names = {"lienthong.notify.v1.NotifyService",
                        "lienthong.common.v1.EventSinkService"};
  spec.migrations = Migrations();
  // Events arrive only once Serve() runs, after `handler` is set below.
  spec.event_handler = [&handler](const common::v1::Event& e) {
    return handler(e);
  };
  std::unique_ptr<runtime::ServiceRuntime> rt =
      runtime::ServiceRuntime::Init(std::move(spec));

  store = std::make_unique<PgNotifyStore>(rt->pool());
  if (absl::Status s =
          store->SeedTemplates(DefaultTemplates(), rt->clock().Now());
      !s.ok()) {
    config::Fatal("notify", absl::StrCat("default templates: ", s.message()));
  }
  EnqueueOptions eo;
  eo.sms_max_segments = absl::GetFlag(FLAGS_sms_max_segments);
  eo.quiet_hours = *quiet;
  enqueuer = std::make_unique<Enqueuer>(*store, rt->clock(), eo);
  handler = MakeEventHandler(*store, *enqueuer);

  std::unique_ptr<Transport> transport = NewCurlTransport(t, rt->clock());
  NotifyMetrics m;
  SenderOptions so;
  so.batch_size = absl::GetFlag(FLAGS_send_batch);
  so.lease = absl::GetFlag(FLAGS_send_lease);
  so.backoff.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  so.backoff.initial = absl::GetFlag(FLAGS_retry_initial);
  so.backoff.max_delay = absl::GetFlag(FLAGS_retry_max);
  so.quiet_hours = *quiet;
  so.secrets = secrets;
  so.rate_limits[Channel::kSms] = {absl::GetFlag(FLAGS_sms_rate),
                                   absl::GetFlag(FLAGS_sms_rate)};
  so.rate_limits[Channel::kEmail] = {absl::GetFlag(FLAGS_email_rate),
                                     absl::GetFlag(FLAGS_email_rate)};
  so.rate_limits[Channel::kWebhook] = {absl::GetFlag(FLAGS_webhook_rate),
                                       absl::GetFlag(FLAGS_webhook_rate)};
  so.stopping = [&rt] { return rt->stopping(); };
  // One sender, on its own thread, per channel: a webhook endpoint that
  // times out (10 s a call) then holds up only the webhooks behind it, not
  // citizens' SMS and e-mail due after them.
  std::vector<std::unique_ptr<Sender>> senders;
  for (Channel channel : kAllChannels) {
    SenderOptions one = so;
    one.channel = channel;
    Sender& sender = *senders.emplace_back(std::make_unique<Sender>(
        *store, *transport, rt->clock(), one, m.Observer()));
    rt->AddLoop(
        absl::StrCat("sender_", ChannelName(channel)),
        [&sender, &rt, channel] {
          // Keep going while there is a full batch of work (and no
          // SIGTERM).
          for (int i = 0; i < 50 && !rt->stopping(); ++i) {
            absl::StatusOr<SendCounts> c = sender.RunOnce();
            if (!c.ok()) {
              logging::Event("send_pass_failed")
                  .With("channel", std::string(ChannelName(channel)))
                  .With("code", absl::StatusCodeToString(c.status().code()))
                  .Warn();
              return;
            }
            if (c->claimed < absl::GetFlag(FLAGS_send_batch)) return;
          }
        },
        absl::GetFlag(FLAGS_send_interval));
  }
  rt->AddLoop(
      "notify_gauges",
      [&m, &store, &rt] {
        // A failed read leaves the last values; the next pass retries.
        (void)m.Update(*store, rt->clock().Now());
      },
      absl::Seconds(15));

  if (delivery_retention > absl::ZeroDuration()) {
    rt->AddLoop(
        "delivery_purge",
        [&m, &store, &rt, delivery_retention] {
          // A failure is logged; the next pass tries again.
          (void)m.PurgeExpired(*store, rt->clock().Now(), delivery_retention,
                               [&rt] { return rt->stopping(); });
        },
        absl::GetFlag(FLAGS_event_purge_interval));
  }

  ServerOptions server_options;
  server_options.insecure_dev_auth = rt->insecure_dev_auth();
  server_options.allow_http_webhooks = absl::GetFlag(FLAGS_allow_http_webhooks);
  server_options.webhook_allow_cidrs = *allow_cidrs;
  server_options.sms_max_segments = absl::GetFlag(FLAGS_sms_max_segments);
  server_options.secrets = secrets;
  server_options.webhook_secret_overlap =
      absl::GetFlag(FLAGS_webhook_secret_overlap);
  if (!secrets.has_key()) {
    logging::Event("webhook_secrets_in_plaintext")
        .With("hint", "set --webhook_secret_key_file outside development")
        .Warn();
  }
  NotifyServer server(*store, *enqueuer, rt->clock(), server_options);
  return rt->Serve({&server, rt->event_sink()});
}
