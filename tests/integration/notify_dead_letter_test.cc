// Dead letters on a real PostgreSQL and the REAL sinks: a sink that always
// fails ends in a dead letter that replays (once per request id); a
// permanent refusal of the message (HTTP 400, a 550 to the message, a
// webhook deleted meanwhile) dead-letters at once, a 429 does not, nor does
// a misconfigured channel (401, 404, a refused SMTP password).

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "tests/integration/notify_delivery_fixture.h"

namespace lienthong::notify {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusHasReason;
using testing::DeliveryTest;

TEST_F(DeliveryTest, AlwaysFailingSinkEndsInDeadLetterThatReplays) {
  smtp_->FailNext(-1);
  std::vector<std::string> ids =
      Enqueue(Received("ev-4", {.email = "tran.thi.binh@example.vn",
                                .preferred = Channel::kEmail}));
  ASSERT_EQ(ids.size(), 1u);
  auto sender = NewSender();
  for (int i = 0; i < options_.backoff.max_attempts; ++i) {
    ASSERT_TRUE(sender->RunOnce().ok());
    clock_.Advance(absl::Hours(2));
  }
  DeliveryRecord d = Get(ids[0]);
  EXPECT_EQ(d.state, DeliveryState::kDeadLetter);
  EXPECT_EQ(d.attempt_log.size(), 5u);
  EXPECT_EQ(d.attempt_log.back().response_code, 451);
  EXPECT_EQ(sender->RunOnce()->claimed, 0);  // dead letters stay put
  absl::StatusOr<std::vector<ChannelStats>> stats = store_->Stats(clock_.Now());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ((*stats)[1].channel, Channel::kEmail);
  EXPECT_EQ((*stats)[1].dead_letters, 1);

  // Only dead letters replay; a replay retried with its request id is fine.
  EXPECT_THAT(store_->Replay(ids[0], "r-1", clock_.Now(), {.action = "test"}),
              IsOk());
  EXPECT_THAT(store_->Replay(ids[0], "r-1", clock_.Now(), {.action = "test"}),
              IsOk());
  EXPECT_THAT(store_->Replay(ids[0], "r-2", clock_.Now(), {.action = "test"}),
              StatusHasReason(absl::StatusCode::kFailedPrecondition,
                              "NOT_DEAD_LETTER"));
  smtp_->Reset();
  EXPECT_EQ(sender->RunOnce()->sent, 1);
  d = Get(ids[0]);
  EXPECT_EQ(d.state, DeliveryState::kSent);
  EXPECT_EQ(d.attempt_log.size(), 6u);
  EXPECT_EQ(smtp_->Stats()["accepted"], 1);
}

TEST_F(DeliveryTest, PermanentRefusalsDeadLetterAtOnce) {
  const auto hook_at = [&](const std::string& path) {
    absl::StatusOr<Webhook> hook =
        store_->SaveWebhook({.agency_code = "000.00.14.H26",
                             .url = http_->Url(path),
                             .secret = "s"},
                            "", clock_.Now(), {.action = "test"});
    EXPECT_TRUE(hook.ok()) << hook.status();
    return hook.ok() ? hook->id : "";
  };
  const auto agencies_only = [&](const std::string& event_id) {
    NotificationPlan p = Received(event_id, {});
    p.citizen.reset();
    return p;
  };
  // A webhook deleted before the event hears nothing.
  const std::string gone = hook_at("/gone");
  ASSERT_THAT(store_->DeleteWebhook(gone, clock_.Now(), {.action = "test"}),
              IsOk());
  EXPECT_TRUE(Enqueue(agencies_only("ev-5")).empty());

  // One deleted after its delivery was queued (its endpoint may have gone
  // to someone else): a dead letter, nothing sent.
  const std::string retired = hook_at("/retired");
  const std::vector<std::string> queued = Enqueue(agencies_only("ev-6"));
  ASSERT_EQ(queued.size(), 1u);
  ASSERT_THAT(store_->DeleteWebhook(retired, clock_.Now(), {.action = "test"}),
              IsOk());
  auto sender = NewSender();
  absl::StatusOr<SendCounts> c = sender->RunOnce();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dead_lettered, 1);
  EXPECT_EQ(c->sent, 0);
  DeliveryRecord d = Get(queued[0]);
  EXPECT_EQ(d.state, DeliveryState::kDeadLetter);
  EXPECT_EQ(d.attempt_log.size(), 1u);
  EXPECT_EQ(http_->Stats()["received"], 0);

  // A receiver refusing for good: the SMS gateway's 400, the mail
  // server's 550. One attempt each.
  http_->FailNext(1, 400);
  smtp_->FailNext(1, 550);
  const std::vector<std::string> sms =
      Enqueue(Received("ev-7", {.phone = "0912345678"}));
  const std::vector<std::string> mail =
      Enqueue(Received("ev-8", {.email = "le.van.cuong@example.vn",
                                .preferred = Channel::kEmail}));
  ASSERT_EQ(sms.size(), 1u);
  ASSERT_EQ(mail.size(), 1u);
  c = sender->RunOnce();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dead_lettered, 2);
  for (const auto& [id, code] : {std::pair(sms[0], 400), {mail[0], 550}}) {
    d = Get(id);
    EXPECT_EQ(d.state, DeliveryState::kDeadLetter) << code;
    ASSERT_EQ(d.attempt_log.size(), 1u) << code;
    EXPECT_EQ(d.attempt_log[0].response_code, code);
  }

  // "Too many requests" is no refusal: tried again later.
  http_->FailNext(1, 429);
  const std::vector<std::string> later =
      Enqueue(Received("ev-9", {.phone = "0912345679"}));
  ASSERT_EQ(later.size(), 1u);
  c = sender->RunOnce();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->failed, 1);
  EXPECT_EQ(Get(later[0]).state, DeliveryState::kFailed);
}

// A wrong gateway token or URL, a wrong SMTP password: every message would
// fail alike, so none is a dead letter on its first attempt; they wait with
// backoff and go once the configuration is fixed.
TEST_F(DeliveryTest, AMisconfiguredChannelRetriesInsteadOfDeadLettering) {
  std::vector<std::string> sms;
  for (const char* phone : {"0912345601", "0912345602", "0912345603"}) {
    std::vector<std::string> one =
        Enqueue(Received(absl::StrCat("ev-conf-", phone), {.phone = phone}));
    ASSERT_EQ(one.size(), 1u);
    sms.push_back(one[0]);
  }
  auto sender = NewSender();
  for (int status : {401, 404}) {
    http_->FailNext(3, status);
    absl::StatusOr<SendCounts> c = sender->RunOnce();
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->failed, 3) << status;
    EXPECT_EQ(c->dead_lettered, 0) << status;
    for (const std::string& id : sms) {
      const DeliveryRecord d = Get(id);
      EXPECT_EQ(d.state, DeliveryState::kFailed) << status;
      EXPECT_EQ(d.attempt_log.back().response_code, status);
    }
    clock_.Advance(absl::Minutes(5));  // past the backoff
  }
  absl::StatusOr<SendCounts> c = sender->RunOnce();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sent, 3);

  // The SMTP server refusing our password (535).
  TransportOptions bad;
  bad.smtp_url = smtp_->SmtpUrl();
  bad.smtp_user = "notify";
  bad.smtp_password = "sai-mat-khau";
  bad.smtp_from = "mot-cua@hanoi.gov.vn";
  bad.smtp_tls = SmtpTls::kTry;
  std::unique_ptr<Transport> wrong =
      NewCurlTransport(bad, common::RealClock::Get());
  Sender misconfigured(*store_, *wrong, clock_, options_);
  const std::vector<std::string> mail =
      Enqueue(Received("ev-conf-mail", {.email = "le.van.cuong@example.vn",
                                        .preferred = Channel::kEmail}));
  ASSERT_EQ(mail.size(), 1u);
  c = misconfigured.RunOnce();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->failed, 1);
  EXPECT_EQ(c->dead_lettered, 0);
  EXPECT_EQ(Get(mail[0]).state, DeliveryState::kFailed);
  EXPECT_EQ(Get(mail[0]).attempt_log.back().response_code, 535);
  clock_.Advance(absl::Minutes(5));
  c = sender->RunOnce();  // the right password
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sent, 1);
  EXPECT_EQ(smtp_->Stats()["accepted"], 1);
}

TEST_F(DeliveryTest, AReplayRequestIdIsForOneDeliveryOnly) {
  smtp_->FailNext(-1);
  std::vector<std::string> ids;
  for (const char* ev : {"ev-10", "ev-11"}) {
    std::vector<std::string> one =
        Enqueue(Received(ev, {.email = "pham.thi.dung@example.vn",
                              .preferred = Channel::kEmail}));
    ASSERT_EQ(one.size(), 1u);
    ids.push_back(one[0]);
  }
  auto sender = NewSender();
  for (int i = 0; i < options_.backoff.max_attempts; ++i) {
    ASSERT_TRUE(sender->RunOnce().ok());
    clock_.Advance(absl::Hours(2));
  }
  ASSERT_EQ(Get(ids[0]).state, DeliveryState::kDeadLetter);
  ASSERT_EQ(Get(ids[1]).state, DeliveryState::kDeadLetter);
  EXPECT_THAT(store_->Replay(ids[0], "r-1", clock_.Now(), {.action = "test"}),
              IsOk());
  // The same id for the other dead letter is another request: refused,
  // and that delivery stays as it was.
  EXPECT_THAT(
      store_->Replay(ids[1], "r-1", clock_.Now(), {.action = "test"}),
      StatusHasReason(absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));
  EXPECT_EQ(Get(ids[1]).state, DeliveryState::kDeadLetter);
  // The first replay retried is still fine.
  EXPECT_THAT(store_->Replay(ids[0], "r-1", clock_.Now(), {.action = "test"}),
              IsOk());
}

}  // namespace
}  // namespace lienthong::notify
