// E-mail against REAL SMTP (the local sink in tools/sinks, and a scripted
// server): AUTH, Vietnamese headers, which refusals are permanent, and
// STARTTLS enforcement (required and verified by default, trusted through
// ca_file / --tls_ca_file).

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/notify/transport.h"
#include "tests/integration/notify_sinks.h"
#include "tests/integration/notify_transport_fixture.h"

namespace lienthong::notify {
namespace {

using ::testing::HasSubstr;
using testing::Sink;
using testing::TransportTest;

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

}  // namespace
}  // namespace lienthong::notify
