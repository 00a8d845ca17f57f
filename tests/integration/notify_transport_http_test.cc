// The HTTP channels against the REAL local sinks (tools/sinks): SMS over the
// gateway API and signed webhooks; failures, timeouts, which addresses a
// webhook may reach, and HTTPS (verified by default, trusted through
// ca_file / --tls_ca_file).

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/notify/transport.h"
#include "services/notify/webhook_signature.h"
#include "tests/integration/notify_sinks.h"
#include "tests/integration/notify_transport_fixture.h"

namespace lienthong::notify {
namespace {

using ::testing::HasSubstr;
using testing::Sink;
using testing::TransportTest;
using testing::Webhook;

TEST_F(TransportTest, SmsReachesTheGatewayAsJsonWithAuthAndKey) {
  auto sink = Sink::Http(*dir_);
  TransportOptions o;
  o.sms_gateway_url = sink->Url("/sms");
  o.sms_auth_header = "Authorization: Bearer gateway-token";
  auto t = NewCurlTransport(o, clock_);
  SendResult r = t->Send({.delivery_id = "d-sms-1",
                          .channel = Channel::kSms,
                          .event_type = "dossier_received",
                          .recipient = "0912345678",
                          .body = "Hồ sơ \"X\" đã được tiếp nhận."});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response_code, 200);
  nlohmann::json m = sink->Messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["path"], "/sms");
  EXPECT_EQ(m[0]["key"], "d-sms-1");
  EXPECT_TRUE(m[0]["authorization"].get<bool>());
  nlohmann::json body = nlohmann::json::parse(m[0]["body"].get<std::string>());
  EXPECT_EQ(body["to"], "0912345678");
  EXPECT_EQ(body["text"], "Hồ sơ \"X\" đã được tiếp nhận.");
  EXPECT_EQ(body["client_ref"], "d-sms-1");
}

TEST_F(TransportTest, GatewayErrorsAreRetryableAndCarryTheStatus) {
  auto sink = Sink::Http(*dir_);
  sink->FailNext(1);
  TransportOptions o;
  o.sms_gateway_url = sink->Url("/sms");
  auto t = NewCurlTransport(o, clock_);
  SendResult r = t->Send({.delivery_id = "d-sms-2",
                          .channel = Channel::kSms,
                          .recipient = "0912345678",
                          .body = "x"});
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.permanent);
  EXPECT_EQ(r.response_code, 503);
  EXPECT_EQ(r.error, "HTTP 503");
  EXPECT_EQ(r.reason, SendErrorReason::kServer);
  EXPECT_THAT(r.error, ::testing::Not(HasSubstr("0912345678")));
}

// A wrong token or URL refuses every SMS alike: those are retried with
// backoff (and counted by reason), only a refusal of the message itself is
// permanent.
TEST_F(TransportTest, GatewayAuthAndUrlErrorsAreRetriedRefusalsAreNot) {
  auto sink = Sink::Http(*dir_);
  TransportOptions o;
  o.sms_gateway_url = sink->Url("/sms");
  auto t = NewCurlTransport(o, clock_);
  struct Case {
    int status;
    bool permanent;
    SendErrorReason reason;
  };
  for (const Case& c : {Case{401, false, SendErrorReason::kAuth},
                        Case{403, false, SendErrorReason::kAuth},
                        Case{404, false, SendErrorReason::kEndpoint},
                        Case{407, false, SendErrorReason::kAuth},
                        Case{408, false, SendErrorReason::kThrottled},
                        Case{429, false, SendErrorReason::kThrottled},
                        Case{400, true, SendErrorReason::kRejected},
                        Case{413, true, SendErrorReason::kRejected},
                        Case{422, true, SendErrorReason::kRejected}}) {
    sink->FailNext(1, c.status);
    SendResult r = t->Send({.delivery_id = absl::StrCat("d-", c.status),
                            .channel = Channel::kSms,
                            .recipient = "0912345678",
                            .body = "x"});
    EXPECT_FALSE(r.ok) << c.status;
    EXPECT_EQ(r.response_code, c.status);
    EXPECT_EQ(r.permanent, c.permanent) << c.status;
    EXPECT_EQ(r.reason, c.reason) << c.status;
  }
  // A gateway URL nobody listens on is the network's problem: retried.
  o.sms_gateway_url =
      absl::StrCat("http://127.0.0.1:", testing::FreePort(), "/sms");
  SendResult r = NewCurlTransport(o, clock_)->Send(
      {.delivery_id = "d", .channel = Channel::kSms, .body = "x"});
  EXPECT_FALSE(r.permanent);
  EXPECT_EQ(r.reason, SendErrorReason::kNetwork);
}

TEST_F(TransportTest, TimeoutsEndSlowCalls) {
  auto sink = Sink::Http(*dir_);
  sink->Delay(3000);
  TransportOptions o;
  o.sms_gateway_url = sink->Url("/sms");
  o.sms_timeout = absl::Milliseconds(300);
  auto t = NewCurlTransport(o, clock_);
  SendResult r = t->Send({.delivery_id = "d-sms-3",
                          .channel = Channel::kSms,
                          .recipient = "0912345678",
                          .body = "x"});
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("imeout"));
  EXPECT_LT(r.latency, absl::Seconds(2));
}

TEST_F(TransportTest, UnreachableGatewayFails) {
  TransportOptions o;
  o.sms_gateway_url =
      absl::StrCat("http://127.0.0.1:", testing::FreePort(), "/sms");
  auto t = NewCurlTransport(o, clock_);
  SendResult r = t->Send({.delivery_id = "d",
                          .channel = Channel::kSms,
                          .recipient = "0912345678",
                          .body = "x"});
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.error.empty());
}

TEST_F(TransportTest, WebhookSignatureVerifiesAndTamperingFails) {
  auto sink = Sink::Http(*dir_, "webhook-secret");
  auto t =
      NewCurlTransport({.webhook_allow_cidrs = testing::SinkCidrs()}, clock_);
  const std::string body =
      R"({"event_type":"clock_overdue","dossier":"dossiers/X","text":"Quá hạn"})";
  SendResult r = t->Send({.delivery_id = "d-hook-1",
                          .channel = Channel::kWebhook,
                          .event_type = "clock_overdue",
                          .recipient = sink->Url("/hooks/agency"),
                          .body = body,
                          .webhook_secret = "webhook-secret"});
  ASSERT_TRUE(r.ok) << r.error;
  nlohmann::json m = sink->Messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0]["signature_valid"].get<bool>());  // checked by Python
  EXPECT_EQ(m[0]["event"], "clock_overdue");
  const std::string header = m[0]["signature"];
  const std::string got = m[0]["body"];
  EXPECT_EQ(got, body);
  EXPECT_TRUE(VerifyWebhook("webhook-secret", header, got, clock_.Now()).ok());
  std::string tampered = got;
  tampered.replace(tampered.find("Quá hạn"), 3, "Đúng");
  EXPECT_FALSE(
      VerifyWebhook("webhook-secret", header, tampered, clock_.Now()).ok());

  // Signed with another secret: the receiver flags it.
  ASSERT_TRUE(t->Send({.delivery_id = "d-hook-2",
                       .channel = Channel::kWebhook,
                       .recipient = sink->Url("/hooks/agency"),
                       .body = body,
                       .webhook_secret = "wrong"})
                  .ok);
  EXPECT_FALSE(sink->Messages()[1]["signature_valid"].get<bool>());
}

TEST_F(TransportTest, WebhookClientErrorIsPermanentAndOnlyHttpAllowed) {
  auto t = NewCurlTransport({}, clock_);
  SendResult r = t->Send({.delivery_id = "d",
                          .channel = Channel::kWebhook,
                          .recipient = "file:///etc/passwd",
                          .body = "{}"});
  EXPECT_FALSE(r.ok);
}

// An agency chooses its webhook's URL and sees each attempt's outcome: an
// address on our side (loopback here; private, link-local … alike, see
// webhook_address_test) gets no request unless ops allowed its range, and
// a name is judged by every address it resolves to, at each send.
TEST_F(TransportTest, WebhookToANonPublicAddressIsNotSent) {
  auto sink = Sink::Http(*dir_, "webhook-secret");
  const int port = sink->port();
  for (const std::string& url :
       {absl::StrCat("http://127.0.0.1:", port, "/hooks/agency"),
        absl::StrCat("http://localhost:", port, "/hooks/agency"),
        absl::StrCat("http://[::ffff:127.0.0.1]:", port, "/hooks/agency"),
        absl::StrCat("http://2130706433:", port, "/hooks/agency")}) {
    SendResult r = NewCurlTransport({}, clock_)
                       ->Send({.delivery_id = "d-ssrf",
                               .channel = Channel::kWebhook,
                               .recipient = url,
                               .body = "{}",
                               .webhook_secret = "webhook-secret"});
    EXPECT_FALSE(r.ok) << url;
    EXPECT_EQ(r.reason, SendErrorReason::kEndpoint) << url;
    EXPECT_FALSE(r.permanent) << url;  // allowing the range later sends it
    EXPECT_EQ(r.response_code, 0) << url;
    EXPECT_THAT(r.error, HasSubstr("not allowed (loopback)")) << url;
  }
  EXPECT_EQ(sink->Stats()["received"], 0);

  // A name resolving to an allowed and a refused address is refused:
  // localhost is 127.0.0.1 and (usually) ::1.
  absl::StatusOr<ResolvedUrl> local =
      ResolveUrl(absl::StrCat("http://localhost:", port, "/hooks/agency"));
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_FALSE(local->literal);
  EXPECT_EQ(local->port, port);
  const bool has_v6 =
      std::any_of(local->addresses.begin(), local->addresses.end(),
                  [](const IpAddress& a) { return a.v6; });
  SendResult v4_only =
      NewCurlTransport({.webhook_allow_cidrs = testing::SinkCidrs()}, clock_)
          ->Send({.delivery_id = "d-local-1",
                  .channel = Channel::kWebhook,
                  .recipient = absl::StrCat("http://localhost:", port, "/h"),
                  .body = "{}",
                  .webhook_secret = "webhook-secret"});
  EXPECT_EQ(v4_only.ok, !has_v6) << v4_only.error;

  // Allowed, by name: sent once, to the address that was checked.
  SendResult ok =
      NewCurlTransport({.webhook_allow_cidrs = *ParseCidrs("127.0.0.0/8,::1")},
                       clock_)
          ->Send({.delivery_id = "d-local-2",
                  .channel = Channel::kWebhook,
                  .recipient =
                      absl::StrCat("http://localhost:", port, "/hooks/agency"),
                  .body = "{}",
                  .webhook_secret = "webhook-secret"});
  EXPECT_TRUE(ok.ok) << ok.error;
  EXPECT_EQ(sink->Stats()["accepted"], has_v6 ? 1 : 2);
}

TEST(WebhookUrlRefusalTest, RefusesNonPublicLiteralsAndNamesOnly) {
  const std::vector<Cidr> none;
  for (const char* url :
       {"https://127.0.0.1/h", "https://10.1.2.3:8443/h",
        "https://169.254.169.254/latest/meta-data/", "https://[::1]/h",
        "https://[fe80::1]/h", "https://[fd00::5]/h", "https://100.64.1.1/h",
        "https://0.0.0.0/h", "https://224.0.0.1/h", "https://localhost/h",
        "https://user@192.168.1.1/h", "https://2130706433/h"}) {
    std::optional<std::string> why = WebhookUrlRefusal(url, none);
    EXPECT_TRUE(why.has_value()) << url;
  }
  EXPECT_THAT(*WebhookUrlRefusal("https://10.1.2.3/h", none),
              HasSubstr("is a private address"));
  EXPECT_EQ(WebhookUrlRefusal("https://10.1.2.3/h", *ParseCidrs("10.0.0.0/8")),
            std::nullopt);
  EXPECT_EQ(WebhookUrlRefusal("https://203.162.4.190/h", none), std::nullopt);
  EXPECT_EQ(WebhookUrlRefusal("https://[2001:ee0:4141::1]/h", none),
            std::nullopt);
  // Not resolvable (yet): accepted; every send resolves and checks.
  EXPECT_EQ(WebhookUrlRefusal("https://no-such-host.invalid/h", none),
            std::nullopt);
}

// HTTPS on the HTTP channels (SMS gateway, webhooks): the peer is verified
// by default, so a self-signed endpoint nobody said to trust gets nothing.
OutgoingMessage HttpsSms(const std::string& id) {
  return {.delivery_id = id,
          .channel = Channel::kSms,
          .recipient = "0912345678",
          .body = "Hồ sơ đã được tiếp nhận."};
}

TEST_F(TransportTest, HttpsGatewayWithAnUntrustedCertificateIsRefused) {
  ASSERT_TRUE(testing::MakeSelfSignedCert(*dir_, "gw-untrusted"));
  auto sink = Sink::Https(*dir_, *dir_ + "/gw-untrusted.crt",
                          *dir_ + "/gw-untrusted.key");
  TransportOptions o;  // tls verification on, no CA file: the defaults
  o.sms_gateway_url = sink->Url("/sms");
  SendResult r = NewCurlTransport(o, clock_)->Send(HttpsSms("d-https-1"));
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("certificate"));  // refused by verification
  EXPECT_FALSE(r.permanent);  // trusting the CA later fixes it: retry
  nlohmann::json stats = sink->StatsOnce("tls_failures", 1);
  EXPECT_EQ(stats["received"], 0);      // no request went over it
  EXPECT_GE(stats["tls_failures"], 1);  // the handshake was refused
}

TEST_F(TransportTest, HttpsWebhookWithAnUntrustedCertificateIsRefused) {
  ASSERT_TRUE(testing::MakeSelfSignedCert(*dir_, "hook-untrusted"));
  auto sink = Sink::Https(*dir_, *dir_ + "/hook-untrusted.crt",
                          *dir_ + "/hook-untrusted.key", "webhook-secret-16+");
  SendResult r =
      NewCurlTransport({.webhook_allow_cidrs = testing::SinkCidrs()}, clock_)
          ->Send(Webhook("d-https-2", sink->Url("/hooks/agency")));
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("certificate"));
  nlohmann::json stats = sink->StatsOnce("tls_failures", 1);
  EXPECT_EQ(stats["received"], 0);
  EXPECT_GE(stats["tls_failures"], 1);
}

TEST_F(TransportTest, HttpsToTheConfiguredCaFileDeliversOnce) {
  ASSERT_TRUE(testing::MakeSelfSignedCert(*dir_, "https-trusted"));
  auto sink = Sink::Https(*dir_, *dir_ + "/https-trusted.crt",
                          *dir_ + "/https-trusted.key", "webhook-secret-16+");
  TransportOptions o;  // verification stays on; the CA is now known
  o.sms_gateway_url = sink->Url("/sms");
  o.ca_file = *dir_ + "/https-trusted.crt";
  o.webhook_allow_cidrs = testing::SinkCidrs();
  auto t = NewCurlTransport(o, clock_);
  SendResult sms = t->Send(HttpsSms("d-https-3"));
  ASSERT_TRUE(sms.ok) << sms.error;
  EXPECT_EQ(sms.response_code, 200);
  SendResult hook = t->Send(Webhook("d-https-4", sink->Url("/hooks/agency")));
  ASSERT_TRUE(hook.ok) << hook.error;
  nlohmann::json m = sink->Messages();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]["path"], "/sms");
  EXPECT_EQ(m[0]["key"], "d-https-3");
  EXPECT_TRUE(m[0]["tls"].get<bool>());
  EXPECT_EQ(m[1]["path"], "/hooks/agency");
  EXPECT_EQ(m[1]["key"], "d-https-4");
  EXPECT_TRUE(m[1]["tls"].get<bool>());
  EXPECT_TRUE(m[1]["signature_valid"].get<bool>());
  nlohmann::json stats = sink->Stats();
  EXPECT_EQ(stats["received"], 2);  // each landed once
  EXPECT_EQ(stats["accepted"], 2);
  EXPECT_EQ(stats["duplicates"], 0);
  EXPECT_EQ(stats["tls_failures"], 0);
}

TEST_F(TransportTest, HttpsWithAnotherCaFileIsStillRefused) {
  ASSERT_TRUE(testing::MakeSelfSignedCert(*dir_, "https-real"));
  ASSERT_TRUE(testing::MakeSelfSignedCert(*dir_, "https-other"));
  auto sink =
      Sink::Https(*dir_, *dir_ + "/https-real.crt", *dir_ + "/https-real.key");
  TransportOptions o;
  o.sms_gateway_url = sink->Url("/sms");
  o.ca_file = *dir_ + "/https-other.crt";  // trusts someone else
  SendResult r = NewCurlTransport(o, clock_)->Send(HttpsSms("d-https-5"));
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("certificate"));
  EXPECT_EQ(sink->Stats()["received"], 0);
}

}  // namespace
}  // namespace lienthong::notify
