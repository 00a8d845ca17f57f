#include "services/notify/send_error.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace lienthong::notify {
namespace {

using R = SendErrorReason;

TEST(ClassifyHttpStatusTest, OnlyARefusalOfTheMessageIsPermanent) {
  struct Case {
    int status;
    SendErrorClass want;
  };
  const Case cases[] = {
      // This message is refused: a dead letter at once.
      {400, {R::kRejected, true}},
      {413, {R::kRejected, true}},
      {422, {R::kRejected, true}},
      // A wrong token or URL would refuse every message alike: retried.
      {401, {R::kAuth, false}},
      {403, {R::kAuth, false}},
      {407, {R::kAuth, false}},
      {404, {R::kEndpoint, false}},
      {405, {R::kEndpoint, false}},
      {410, {R::kEndpoint, false}},
      {415, {R::kEndpoint, false}},
      {301, {R::kEndpoint, false}},
      {302, {R::kEndpoint, false}},
      {408, {R::kThrottled, false}},
      {429, {R::kThrottled, false}},
      {500, {R::kServer, false}},
      {502, {R::kServer, false}},
      {503, {R::kServer, false}},
      {504, {R::kServer, false}},
      {599, {R::kServer, false}},
  };
  for (const Case& c : cases) {
    const SendErrorClass got = ClassifyHttpStatus(c.status);
    EXPECT_EQ(got.reason, c.want.reason) << c.status;
    EXPECT_EQ(got.permanent, c.want.permanent) << c.status;
  }
  // Exhaustively: permanent exactly for 400, 413 and 422.
  for (int status = 100; status < 600; ++status) {
    if (status >= 200 && status < 300) continue;
    EXPECT_EQ(ClassifyHttpStatus(status).permanent,
              status == 400 || status == 413 || status == 422)
        << status;
  }
}

TEST(ClassifySmtpReplyTest, ChannelProblemsAreRetriedRecipientRefusalsNot) {
  struct Case {
    SmtpStage stage;
    int code;
    SendErrorClass want;
  };
  const Case cases[] = {
      // Connection-level refusals: no message could get through.
      {SmtpStage::kGreeting, 554, {R::kEndpoint, false}},
      {SmtpStage::kGreeting, 421, {R::kThrottled, false}},
      {SmtpStage::kHello, 550, {R::kEndpoint, false}},
      {SmtpStage::kHello, 501, {R::kEndpoint, false}},
      {SmtpStage::kStartTls, 454, {R::kTls, false}},
      {SmtpStage::kStartTls, 502, {R::kTls, false}},
      // Credentials: 535 and friends, and "authentication required".
      {SmtpStage::kAuth, 535, {R::kAuth, false}},
      {SmtpStage::kAuth, 534, {R::kAuth, false}},
      {SmtpStage::kAuth, 454, {R::kAuth, false}},
      {SmtpStage::kAuth, 504, {R::kAuth, false}},
      {SmtpStage::kMailFrom, 530, {R::kAuth, false}},
      {SmtpStage::kRcptTo, 530, {R::kAuth, false}},
      // Our sender address refused: every message alike.
      {SmtpStage::kMailFrom, 550, {R::kEndpoint, false}},
      {SmtpStage::kMailFrom, 553, {R::kEndpoint, false}},
      {SmtpStage::kMailFrom, 451, {R::kThrottled, false}},
      // This recipient or this message refused: permanent.
      {SmtpStage::kRcptTo, 550, {R::kRejected, true}},
      {SmtpStage::kRcptTo, 551, {R::kRejected, true}},
      {SmtpStage::kRcptTo, 553, {R::kRejected, true}},
      {SmtpStage::kRcptTo, 554, {R::kRejected, true}},
      {SmtpStage::kData, 554, {R::kRejected, true}},
      {SmtpStage::kEndOfData, 550, {R::kRejected, true}},
      {SmtpStage::kEndOfData, 554, {R::kRejected, true}},
      {SmtpStage::kEndOfData, 552, {R::kRejected, true}},
      // "Too many recipients" and temporary replies: later.
      {SmtpStage::kRcptTo, 552, {R::kThrottled, false}},
      {SmtpStage::kRcptTo, 450, {R::kThrottled, false}},
      {SmtpStage::kRcptTo, 452, {R::kThrottled, false}},
      {SmtpStage::kEndOfData, 451, {R::kThrottled, false}},
      // Commands the server did not take: a protocol problem.
      {SmtpStage::kRcptTo, 500, {R::kServer, false}},
      {SmtpStage::kRcptTo, 501, {R::kServer, false}},
      {SmtpStage::kData, 503, {R::kServer, false}},
      {SmtpStage::kEndOfData, 555, {R::kServer, false}},
  };
  for (const Case& c : cases) {
    const SendErrorClass got = ClassifySmtpReply(c.stage, c.code);
    EXPECT_EQ(got.reason, c.want.reason)
        << static_cast<int>(c.stage) << " " << c.code;
    EXPECT_EQ(got.permanent, c.want.permanent)
        << static_cast<int>(c.stage) << " " << c.code;
  }
  // Exhaustively: nothing before RCPT TO is ever permanent, and no 4xx is.
  for (SmtpStage stage :
       {SmtpStage::kGreeting, SmtpStage::kHello, SmtpStage::kStartTls,
        SmtpStage::kAuth, SmtpStage::kMailFrom, SmtpStage::kRcptTo,
        SmtpStage::kData, SmtpStage::kEndOfData}) {
    for (int code = 400; code < 600; ++code) {
      const bool message_stage = stage == SmtpStage::kRcptTo ||
                                 stage == SmtpStage::kData ||
                                 stage == SmtpStage::kEndOfData;
      const bool refusal = code == 550 || code == 551 || code == 553 ||
                           code == 554 ||
                           (code == 552 && stage == SmtpStage::kEndOfData);
      EXPECT_EQ(ClassifySmtpReply(stage, code).permanent,
                message_stage && refusal)
          << static_cast<int>(stage) << " " << code;
    }
  }
}

TEST(SendErrorReasonTest, NamesAreASmallFixedSet) {
  std::set<std::string> names;
  for (SendErrorReason r : kAllSendErrorReasons) {
    names.insert(std::string(SendErrorReasonName(r)));
  }
  EXPECT_EQ(names, (std::set<std::string>{"auth", "endpoint", "network", "tls",
                                          "throttled", "server", "rejected"}));
}

}  // namespace
}  // namespace lienthong::notify
