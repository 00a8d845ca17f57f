// The channels against the REAL local sinks (tools/sinks): SMS over the HTTP
// gateway API, e-mail over SMTP with AUTH, signed webhooks; failures,
// timeouts and TLS enforcement (STARTTLS, and HTTPS for the gateway and
// webhooks: verified by default, trusted through ca_file / --tls_ca_file).

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "services/notify/transport.h"
#include "services/notify/webhook_signature.h"
#include "tests/integration/notify_sinks.h"

namespace lienthong::notify {
namespace {

using ::testing::HasSubstr;
using testing::Sink;

class TransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::ScratchDir());
  }
  static std::string* dir_;
  common::RealClock& clock_ = common::RealClock::Get();
};
std::string* TransportTest::dir_ = nullptr;

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

// An SMTP server that answers from a script: a greeting, then for each
// command the reply given for its verb (EHLO, AUTH, MAIL, RCPT, DATA, and
// "." for the message). The sink cannot refuse at every step; this can.
class ScriptedSmtp {
 public:
  explicit ScriptedSmtp(std::map<std::string, std::string> script) {
    replies_ = {{"greeting", "220 scripted ESMTP"},
                {"EHLO", "250-scripted\r\n250 AUTH PLAIN LOGIN"},
                {"HELO", "250 scripted"},
                {"AUTH", "235 2.7.0 ok"},
                {"MAIL", "250 2.1.0 ok"},
                {"RCPT", "250 2.1.5 ok"},
                {"DATA", "354 go ahead"},
                {".", "250 2.0.0 queued"},
                {"RSET", "250 ok"},
                {"QUIT", "221 bye"}};
    for (auto& [k, v] : script) replies_[k] = v;
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 4);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedSmtp() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string Url() const { return absl::StrCat("smtp://127.0.0.1:", port_); }

 private:
  void Serve() {
    while (true) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      Converse(c);
      close(c);
    }
  }

  static void Send(int c, const std::string& reply) {
    const std::string line = absl::StrCat(reply, "\r\n");
    (void)!write(c, line.data(), line.size());
  }

  std::string Reply(const std::string& verb) const {
    auto it = replies_.find(verb);
    return it != replies_.end() ? it->second : "502 5.5.2 unknown command";
  }

  void Converse(int c) {
    Send(c, Reply("greeting"));
    std::string buf;
    bool in_data = false;
    char chunk[4096];
    while (true) {
      const ssize_t n = read(c, chunk, sizeof(chunk));
      if (n <= 0) return;
      buf.append(chunk, static_cast<size_t>(n));
      size_t eol;
      while ((eol = buf.find("\r\n")) != std::string::npos) {
        const std::string line = buf.substr(0, eol);
        buf.erase(0, eol + 2);
        if (in_data) {
          if (line == ".") {
            in_data = false;
            Send(c, Reply("."));
          }
          continue;
        }
        std::string verb =
            absl::AsciiStrToUpper(line.substr(0, line.find_first_of(" :")));
        const std::string reply = Reply(verb);
        Send(c, reply);
        if (verb == "DATA" && absl::StartsWith(reply, "354")) in_data = true;
        if (verb == "QUIT") return;
      }
    }
  }

  std::map<std::string, std::string> replies_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// Which step a refusal answers decides: the channel (greeting, AUTH, our
// sender address) is retried; this recipient or this message is not.
TEST_F(TransportTest, SmtpRefusalsArePermanentOnlyForTheRecipientOrMessage) {
  struct Case {
    const char* verb;
    const char* reply;
    int code;
    bool permanent;
    SendErrorReason reason;
  };
  const Case cases[] = {
      {"greeting", "554 5.7.1 no service for you", 554, false,
       SendErrorReason::kEndpoint},
      {"greeting", "421 4.3.2 busy", 421, false, SendErrorReason::kThrottled},
      {"AUTH", "535 5.7.8 authentication failed", 535, false,
       SendErrorReason::kAuth},
      {"MAIL", "553 5.7.1 sender not allowed", 553, false,
       SendErrorReason::kEndpoint},
      {"MAIL", "530 5.7.0 authentication required", 530, false,
       SendErrorReason::kAuth},
      {"RCPT", "452 4.5.3 too many recipients", 452, false,
       SendErrorReason::kThrottled},
      {"RCPT", "550 5.1.1 no such user", 550, true, SendErrorReason::kRejected},
      {"RCPT", "553 5.1.3 bad address", 553, true, SendErrorReason::kRejected},
      {"DATA", "554 5.5.1 no valid recipients", 554, true,
       SendErrorReason::kRejected},
      {".", "554 5.7.1 message refused as spam", 554, true,
       SendErrorReason::kRejected},
      {".", "552 5.3.4 message too big", 552, true, SendErrorReason::kRejected},
      {".", "451 4.3.0 try later", 451, false, SendErrorReason::kThrottled},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.verb, " ", c.reply));
    ScriptedSmtp server(std::map<std::string, std::string>{{c.verb, c.reply}});
    TransportOptions o;
    o.smtp_url = server.Url();
    o.smtp_from = "mot-cua@hanoi.gov.vn";
    o.smtp_tls = SmtpTls::kNone;
    if (std::string(c.verb) == "AUTH") {
      o.smtp_user = "notify";
      o.smtp_password = "sai";
    }
    SendResult r = NewCurlTransport(o, clock_)->Send(
        {.delivery_id = "d-scripted",
         .channel = Channel::kEmail,
         .recipient = "nguyen.van.an@example.vn",
         .subject = "Hồ sơ",
         .body = "<p>x</p>"});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.response_code, c.code);
    EXPECT_EQ(r.permanent, c.permanent);
    EXPECT_EQ(r.reason, c.reason);
    EXPECT_THAT(r.error, ::testing::Not(HasSubstr("nguyen.van.an")));
  }
  // The same server saying yes throughout: sent.
  ScriptedSmtp ok(std::map<std::string, std::string>{});
  TransportOptions o;
  o.smtp_url = ok.Url();
  o.smtp_from = "mot-cua@hanoi.gov.vn";
  o.smtp_tls = SmtpTls::kNone;
  SendResult r = NewCurlTransport(o, clock_)->Send({.delivery_id = "d-ok",
                                                    .channel = Channel::kEmail,
                                                    .recipient = "a@example.vn",
                                                    .subject = "s",
                                                    .body = "b"});
  EXPECT_TRUE(r.ok) << r.error;
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

TEST_F(TransportTest, EmailOverSmtpWithAuthInVietnamese) {
  auto sink = Sink::Smtp(*dir_, "notify:mat-khau");
  TransportOptions o;
  o.smtp_url = sink->SmtpUrl();
  o.smtp_user = "notify";
  o.smtp_password = "mat-khau";
  o.smtp_from = "Bộ phận một cửa <mot-cua@hanoi.gov.vn>";
  o.smtp_tls = SmtpTls::kTry;  // the local sink offers no STARTTLS
  auto t = NewCurlTransport(o, clock_);
  SendResult r =
      t->Send({.delivery_id = "d-mail-1",
               .channel = Channel::kEmail,
               .recipient = "nguyen.van.an@example.vn",
               // Longer than one encoded-word: folded into several.
               .subject = "Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ "
                          "000.00.14.H26-260312-0042",
               .body = "<p>Mời Ông/Bà đến nhận kết quả &amp; giấy tờ.</p>"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response_code, 250);
  nlohmann::json m = sink->Messages();
  ASSERT_EQ(m.size(), 1u);
  // Python's e-mail parser reads the folded encoded-words back.
  EXPECT_EQ(m[0]["subject"],
            "Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ "
            "000.00.14.H26-260312-0042");
  // Under the sender's own domain, not a made-up one.
  EXPECT_EQ(m[0]["message_id"], "<d-mail-1@hanoi.gov.vn>");
  EXPECT_EQ(m[0]["rcpt_to"][0], "nguyen.van.an@example.vn");
  EXPECT_EQ(m[0]["mail_from"], "mot-cua@hanoi.gov.vn");
  EXPECT_THAT(m[0]["from"].get<std::string>(), HasSubstr("Bộ phận một cửa"));
  EXPECT_THAT(m[0]["html"].get<std::string>(),
              HasSubstr("Mời Ông/Bà đến nhận kết quả &amp; giấy tờ."));
  // The plain-text alternative says the same, unescaped.
  EXPECT_THAT(m[0]["text"].get<std::string>(),
              HasSubstr("Mời Ông/Bà đến nhận kết quả & giấy tờ."));
  EXPECT_TRUE(m[0]["authenticated"].get<bool>());
}

TEST_F(TransportTest, EmailWrongPasswordFails) {
  auto sink = Sink::Smtp(*dir_, "notify:mat-khau");
  TransportOptions o;
  o.smtp_url = sink->SmtpUrl();
  o.smtp_user = "notify";
  o.smtp_password = "sai";
  o.smtp_from = "mot-cua@hanoi.gov.vn";
  o.smtp_tls = SmtpTls::kTry;
  SendResult r = NewCurlTransport(o, clock_)->Send({.delivery_id = "d-mail-2",
                                                    .channel = Channel::kEmail,
                                                    .recipient = "a@example.vn",
                                                    .subject = "s",
                                                    .body = "b"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(sink->Stats()["accepted"], 0);
  // A wrong password refuses every message alike: retried (fixing the
  // secret delivers them), never a dead letter on the first attempt.
  EXPECT_EQ(r.response_code, 535);
  EXPECT_FALSE(r.permanent);
  EXPECT_EQ(r.reason, SendErrorReason::kAuth);
}

TEST_F(TransportTest, StartTlsRequiredByDefaultRefusesAPlainServer) {
  auto sink = Sink::Smtp(*dir_);
  TransportOptions o;  // smtp_tls defaults to kRequired
  o.smtp_url = sink->SmtpUrl();
  o.smtp_from = "mot-cua@hanoi.gov.vn";
  SendResult r = NewCurlTransport(o, clock_)->Send({.delivery_id = "d-mail-3",
                                                    .channel = Channel::kEmail,
                                                    .recipient = "a@example.vn",
                                                    .subject = "s",
                                                    .body = "b"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(sink->Stats()["received"], 0);
  EXPECT_FALSE(r.permanent);
  EXPECT_EQ(r.reason, SendErrorReason::kTls);
}

TEST_F(TransportTest, StartTlsWithAuthToATrustedServer) {
  ASSERT_TRUE(testing::MakeSelfSignedCert(*dir_, "smtp"));
  auto sink = Sink::Smtp(*dir_, "notify:mat-khau", *dir_ + "/smtp.crt",
                         *dir_ + "/smtp.key");
  TransportOptions o;  // STARTTLS required, peer verified (the defaults)
  o.smtp_url = sink->SmtpUrl();
  o.smtp_user = "notify";
  o.smtp_password = "mat-khau";
  o.smtp_from = "mot-cua@hanoi.gov.vn";
  o.ca_file = *dir_ + "/smtp.crt";
  SendResult r = NewCurlTransport(o, clock_)->Send(
      {.delivery_id = "d-mail-tls",
       .channel = Channel::kEmail,
       .recipient = "tran.thi.binh@example.vn",
       .subject = "Hồ sơ cần bổ sung",
       .body = "<p>Đề nghị Ông/Bà bổ sung giấy tờ.</p>"});
  ASSERT_TRUE(r.ok) << r.error;
  nlohmann::json m = sink->Messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0]["tls"].get<bool>());  // the message went over STARTTLS
  EXPECT_TRUE(m[0]["authenticated"].get<bool>());
  EXPECT_EQ(m[0]["subject"], "Hồ sơ cần bổ sung");
}

TEST_F(TransportTest, StartTlsToAnUntrustedCertificateIsRefused) {
  ASSERT_TRUE(testing::MakeSelfSignedCert(*dir_, "rogue"));
  auto sink = Sink::Smtp(*dir_, "", *dir_ + "/rogue.crt", *dir_ + "/rogue.key");
  TransportOptions o;  // verification on, the self-signed CA not trusted
  o.smtp_url = sink->SmtpUrl();
  o.smtp_from = "mot-cua@hanoi.gov.vn";
  SendResult r = NewCurlTransport(o, clock_)->Send({.delivery_id = "d-mail-x",
                                                    .channel = Channel::kEmail,
                                                    .recipient = "a@example.vn",
                                                    .subject = "s",
                                                    .body = "b"});
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("certificate"));  // refused by verification
  EXPECT_EQ(sink->Stats()["accepted"], 0);
}

TEST_F(TransportTest, SmtpTemporaryRefusalIsRetryable) {
  auto sink = Sink::Smtp(*dir_);
  sink->FailNext(1);
  TransportOptions o;
  o.smtp_url = sink->SmtpUrl();
  o.smtp_from = "mot-cua@hanoi.gov.vn";
  o.smtp_tls = SmtpTls::kNone;
  auto t = NewCurlTransport(o, clock_);
  OutgoingMessage m{.delivery_id = "d-mail-4",
                    .channel = Channel::kEmail,
                    .recipient = "a@example.vn",
                    .subject = "s",
                    .body = "b"};
  SendResult first = t->Send(m);
  EXPECT_FALSE(first.ok);
  EXPECT_EQ(first.response_code, 451);
  EXPECT_FALSE(first.permanent);
  EXPECT_EQ(first.reason, SendErrorReason::kThrottled);
  EXPECT_TRUE(t->Send(m).ok);
  EXPECT_EQ(sink->Stats()["accepted"], 1);
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

OutgoingMessage HttpsWebhook(const std::string& id, const std::string& url) {
  return {.delivery_id = id,
          .channel = Channel::kWebhook,
          .event_type = "clock_overdue",
          .recipient = url,
          .body = R"({"event_type":"clock_overdue","text":"Quá hạn"})",
          .webhook_secret = "webhook-secret-16+"};
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
          ->Send(HttpsWebhook("d-https-2", sink->Url("/hooks/agency")));
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
  SendResult hook =
      t->Send(HttpsWebhook("d-https-4", sink->Url("/hooks/agency")));
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
