// Delivery end to end on a real PostgreSQL and the REAL sinks: each channel
// delivers; a sink failing 3 times then succeeding gives exactly one
// message; a sender that dies between send and mark loses nothing and the
// receiver sees no duplicate delivery; quiet hours hold citizen SMS until
// morning. Dead letters: notify_dead_letter_test.cc.

#include <memory>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "libs/db/migrations.h"
#include "libs/db/transaction.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"
#include "notify_migrations.h"
#include "services/notify/default_templates.h"
#include "services/notify/enqueuer.h"
#include "services/notify/sender.h"
#include "tests/integration/notify_delivery_fixture.h"
#include "tests/integration/notify_sinks.h"
#include "tests/integration/notify_store_fixture.h"

namespace lienthong::notify {
namespace {

using ::lienthong::testing::StatusHasReason;
using ::testing::HasSubstr;

using testing::Hcm;

using testing::DeliveryTest;

TEST_F(DeliveryTest, EachChannelDelivers) {
  absl::StatusOr<Webhook> hook =
      store_->SaveWebhook({.agency_code = "000.00.00.H26",
                           .url = http_->Url("/hooks/so-tu-phap"),
                           .secret = "bí-mật-webhook"},
                          "", clock_.Now(), {.action = "test"});
  ASSERT_TRUE(hook.ok()) << hook.status();
  std::vector<std::string> sms =
      Enqueue(Received("ev-1", {.phone = "0912345678"}));
  std::vector<std::string> mail =
      Enqueue(Received("ev-2", {.phone = "0912345678",
                                .email = "nguyen.van.an@example.vn",
                                .preferred = Channel::kEmail}));
  ASSERT_EQ(sms.size(), 2u);   // citizen SMS + the city's webhook
  ASSERT_EQ(mail.size(), 2u);  // citizen e-mail + the webhook
  absl::StatusOr<SendCounts> c = NewSender()->RunOnce();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sent, 4);

  nlohmann::json http = http_->Messages();
  int sms_count = 0;
  int hooks = 0;
  for (const auto& m : http) {
    if (m["path"] == "/sms") {
      ++sms_count;
      nlohmann::json b = nlohmann::json::parse(m["body"].get<std::string>());
      EXPECT_EQ(b["to"], "0912345678");
      EXPECT_EQ(b["text"],
                "Hồ sơ 000.00.14.H26-260312-0042 đã được tiếp nhận. Hẹn trả "
                "kết quả: 16:30 ngày 18/03/2026. Tra cứu trên Cổng dịch vụ "
                "công.");
    } else {
      ++hooks;
      EXPECT_TRUE(m["signature_valid"].get<bool>());
      nlohmann::json b = nlohmann::json::parse(m["body"].get<std::string>());
      EXPECT_EQ(b["event_type"], "dossier_received");
      EXPECT_EQ(b["delivery_id"], m["key"]);
      EXPECT_THAT(b["text"].get<std::string>(),
                  HasSubstr("Đã tiếp nhận hồ sơ 000.00.14.H26-260312-0042"));
      // Citizens' contacts never go to agencies' webhooks.
      EXPECT_THAT(m["body"].get<std::string>(),
                  ::testing::Not(HasSubstr("0912345678")));
    }
  }
  EXPECT_EQ(sms_count, 1);
  EXPECT_EQ(hooks, 2);
  nlohmann::json mails = smtp_->Messages();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["subject"],
            "Đã tiếp nhận hồ sơ 000.00.14.H26-260312-0042");
  // Greeted without the masked name the event carries; the text
  // alternative says the same as the HTML.
  EXPECT_THAT(mails[0]["html"].get<std::string>(),
              HasSubstr("<p>Kính gửi Ông/Bà,</p>"));
  EXPECT_THAT(mails[0]["html"].get<std::string>(),
              ::testing::Not(HasSubstr("N***")));
  EXPECT_THAT(mails[0]["text"].get<std::string>(),
              HasSubstr("Kính gửi Ông/Bà,\r\n\r\nBộ phận một cửa đã tiếp "
                        "nhận hồ sơ 000.00.14.H26-260312-0042"));
  EXPECT_THAT(mails[0]["text"].get<std::string>(),
              ::testing::Not(HasSubstr("<")));
  EXPECT_EQ(mails[0]["message_id"],
            absl::StrCat("<", mail[0], "@hanoi.gov.vn>"));

  DeliveryRecord d = Get(sms[0]);
  EXPECT_EQ(d.state, DeliveryState::kSent);
  EXPECT_EQ(d.masked_recipient, "******5678");
  EXPECT_EQ(d.sms_segments, 2);
  ASSERT_EQ(d.attempt_log.size(), 1u);
  EXPECT_TRUE(d.attempt_log[0].success);
  EXPECT_EQ(d.attempt_log[0].response_code, 200);
  EXPECT_EQ(Get(mail[0]).attempt_log[0].response_code, 250);

  // The same event again queues nothing new.
  EXPECT_EQ(Enqueue(Received("ev-1", {.phone = "0912345678"})), sms);
  EXPECT_EQ(NewSender()->RunOnce()->claimed, 0);
}

TEST_F(DeliveryTest, SinkFailingThreeTimesThenSucceedingGivesOneMessage) {
  http_->FailNext(3);
  std::vector<std::string> ids =
      Enqueue(Received("ev-3", {.phone = "0912345678"}));
  ASSERT_EQ(ids.size(), 1u);
  auto sender = NewSender();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<SendCounts> c = sender->RunOnce();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->failed, 1) << i;
    DeliveryRecord d = Get(ids[0]);
    EXPECT_EQ(d.state, DeliveryState::kFailed);
    // Not due before its backoff.
    EXPECT_EQ(sender->RunOnce()->claimed, 0);
    clock_.Set(d.next_attempt_time);
  }
  EXPECT_EQ(sender->RunOnce()->sent, 1);
  EXPECT_EQ(sender->RunOnce()->claimed, 0);
  DeliveryRecord d = Get(ids[0]);
  EXPECT_EQ(d.state, DeliveryState::kSent);
  ASSERT_EQ(d.attempt_log.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(d.attempt_log[i].success);
    EXPECT_EQ(d.attempt_log[i].response_code, 503);
    EXPECT_EQ(d.attempt_log[i].error, "HTTP 503");
  }
  // Backoff grows: 10 s, 20 s, 40 s (± 20 %).
  const absl::Duration gap1 = d.attempt_log[1].time - d.attempt_log[0].time;
  const absl::Duration gap3 = d.attempt_log[3].time - d.attempt_log[2].time;
  EXPECT_GE(gap1, absl::Seconds(8));
  EXPECT_LE(gap1, absl::Seconds(12));
  EXPECT_GE(gap3, absl::Seconds(32));
  EXPECT_LE(gap3, absl::Seconds(48));
  nlohmann::json stats = http_->Stats();
  EXPECT_EQ(stats["accepted"], 1);
  EXPECT_EQ(stats["failed"], 3);
  EXPECT_EQ(stats["duplicates"], 0);
}

TEST_F(DeliveryTest, SenderDyingBetweenSendAndMarkLosesAndDuplicatesNothing) {
  std::vector<std::string> all;
  for (int i = 0; i < 5; ++i) {
    for (const std::string& id :
         Enqueue(Received(absl::StrCat("ev-crash-", i),
                          {.phone = absl::StrCat("091234567", i)}))) {
      all.push_back(id);
    }
  }
  ASSERT_EQ(all.size(), 5u);
  {
    auto doomed = NewSender();
    doomed->SetAfterSendHookForTest([] { return false; });  // "crash"
    ASSERT_TRUE(doomed->RunOnce().ok());
  }  // destroyed with the whole batch claimed and one message sent
  EXPECT_EQ(http_->Stats()["accepted"], 1);
  auto sender = NewSender();
  EXPECT_EQ(sender->RunOnce()->claimed, 0);  // leases still held
  clock_.Advance(options_.lease + absl::Seconds(1));
  absl::StatusOr<SendCounts> c = sender->RunOnce();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->sent, 5);
  for (const std::string& id : all) {
    EXPECT_EQ(Get(id).state, DeliveryState::kSent);
  }
  // The receiver got each delivery id once; the one resent after the crash
  // was recognised by its X-Lienthong-Delivery / Idempotency-Key.
  nlohmann::json stats = http_->Stats();
  EXPECT_EQ(stats["accepted"], 5);
  EXPECT_EQ(stats["duplicates"], 1);
  std::set<std::string> keys;
  for (const auto& m : http_->Messages()) keys.insert(m["key"]);
  EXPECT_EQ(keys, std::set<std::string>(all.begin(), all.end()));
}

// Two replicas' senders at once: SKIP LOCKED hands each due delivery to
// exactly one of them, so the gateway sees every delivery id once and
// nothing is offered twice.
TEST_F(DeliveryTest, ConcurrentSendersShareTheWorkWithoutDuplicates) {
  constexpr int kMessages = 24;
  std::set<std::string> all;
  for (int i = 0; i < kMessages; ++i) {
    for (const std::string& id :
         Enqueue(Received(absl::StrCat("ev-replica-", i),
                          {.phone = absl::StrCat("09123456", 10 + i)}))) {
      all.insert(id);
    }
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(kMessages));
  options_.batch_size = 3;
  http_->Delay(20);  // keep the claims overlapping
  int sent[2] = {0, 0};
  std::vector<std::thread> replicas;
  for (int r = 0; r < 2; ++r) {
    replicas.emplace_back([this, r, &sent] {
      auto sender = NewSender();
      while (true) {
        absl::StatusOr<SendCounts> c = sender->RunOnce();
        if (!c.ok() || c->claimed == 0) return;
        sent[r] += c->sent;
      }
    });
  }
  for (std::thread& t : replicas) t.join();
  EXPECT_EQ(sent[0] + sent[1], kMessages);
  EXPECT_GT(sent[0], 0);  // both replicas took part
  EXPECT_GT(sent[1], 0);
  nlohmann::json stats = http_->Stats();
  EXPECT_EQ(stats["received"], kMessages);  // nothing offered twice
  EXPECT_EQ(stats["duplicates"], 0);
  std::set<std::string> keys;
  for (const auto& m : http_->Messages()) keys.insert(m["key"]);
  EXPECT_EQ(keys, all);
}

TEST_F(DeliveryTest, BatchPastHalfItsLeaseGivesTheRestBack) {
  std::set<std::string> all;
  for (int i = 0; i < 3; ++i) {
    for (const std::string& id :
         Enqueue(Received(absl::StrCat("ev-slow-", i),
                          {.phone = absl::StrCat("098765432", i)}))) {
      all.insert(id);
    }
  }
  auto sender = NewSender();
  // The first send takes longer than half the lease (a slow gateway).
  bool slow = true;
  sender->SetAfterSendHookForTest([&] {
    if (slow) clock_.Advance(options_.lease / 2 + absl::Seconds(1));
    slow = false;
    return true;
  });
  absl::StatusOr<SendCounts> c = sender->RunOnce();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->claimed, 3);
  EXPECT_EQ(c->sent, 1);
  EXPECT_EQ(c->held, 2);
  // Given back due now, without an attempt: the next pass sends them.
  c = sender->RunOnce();
  EXPECT_EQ(c->sent, 2);
  for (const std::string& id : all) {
    DeliveryRecord d = Get(id);
    EXPECT_EQ(d.state, DeliveryState::kSent);
    EXPECT_EQ(d.attempt_log.size(), 1u);
  }
  EXPECT_EQ(http_->Stats()["received"], 3);
}

// SIGTERM during a batch: what is not sent yet goes back at once, due now,
// for the next replica (not sent past the grace period and again later).
TEST_F(DeliveryTest, ShuttingDownGivesTheRestOfTheBatchBack) {
  std::set<std::string> all;
  for (int i = 0; i < 3; ++i) {
    for (const std::string& id :
         Enqueue(Received(absl::StrCat("ev-stop-", i),
                          {.phone = absl::StrCat("098765431", i)}))) {
      all.insert(id);
    }
  }
  bool stopping = false;
  options_.stopping = [&] { return stopping; };
  auto sender = NewSender();
  bool first = true;
  sender->SetAfterSendHookForTest([&] {
    if (first) stopping = true;  // SIGTERM arrives during the first send
    first = false;
    return true;
  });
  absl::StatusOr<SendCounts> c = sender->RunOnce();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sent, 1);
  EXPECT_EQ(c->held, 2);
  EXPECT_EQ(http_->Stats()["received"], 1);
  // Another replica (or this one restarted) sends them now.
  stopping = false;
  c = sender->RunOnce();
  EXPECT_EQ(c->sent, 2);
  for (const std::string& id : all) {
    EXPECT_EQ(Get(id).attempt_log.size(), 1u) << id;
  }
}

TEST_F(DeliveryTest, QuietHoursHoldCitizenSmsUntilSevenButNotEmail) {
  clock_.Set(Hcm(2026, 3, 12, 22, 15));
  std::vector<std::string> sms =
      Enqueue(Received("ev-6", {.phone = "0912345678"}));
  std::vector<std::string> mail = Enqueue(Received(
      "ev-7", {.email = "a@example.vn", .preferred = Channel::kEmail}));
  ASSERT_EQ(sms.size(), 1u);
  EXPECT_EQ(Get(sms[0]).next_attempt_time, Hcm(2026, 3, 13, 7, 0));
  auto sender = NewSender();
  absl::StatusOr<SendCounts> c = sender->RunOnce();
  EXPECT_EQ(c->sent, 1);  // the e-mail
  EXPECT_EQ(http_->Stats()["received"], 0);
  clock_.Set(Hcm(2026, 3, 13, 6, 59));
  EXPECT_EQ(sender->RunOnce()->claimed, 0);
  clock_.Set(Hcm(2026, 3, 13, 7, 0));
  EXPECT_EQ(sender->RunOnce()->sent, 1);
  EXPECT_EQ(http_->Stats()["accepted"], 1);
}

TEST_F(DeliveryTest, RateLimitSpreadsABurst) {
  options_.rate_limits[Channel::kSms] = {1.0, 2.0};  // 1/s, burst 2
  for (int i = 0; i < 4; ++i) {
    Enqueue(Received(absl::StrCat("ev-rate-", i),
                     {.phone = absl::StrCat("098765432", i)}));
  }
  auto sender = NewSender();
  absl::StatusOr<SendCounts> c = sender->RunOnce();
  EXPECT_EQ(c->sent, 2);
  EXPECT_EQ(c->held, 2);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(sender->RunOnce()->sent, 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(sender->RunOnce()->sent, 1);
  EXPECT_EQ(http_->Stats()["accepted"], 4);
}

TEST_F(DeliveryTest, ListDeliveriesPaginatesNewestFirstWithFilters) {
  for (int i = 0; i < 5; ++i) {
    Enqueue(Received(absl::StrCat("ev-list-", i), {.phone = "0912345678"}));
    clock_.Advance(absl::Seconds(1));
  }
  std::vector<std::string> seen;
  std::string token;
  do {
    absl::StatusOr<Page<DeliveryRecord>> p =
        store_->List({.recipient = "0912345678"}, 2, token);
    ASSERT_TRUE(p.ok()) << p.status();
    for (const auto& d : p->items) seen.push_back(d.event_id);
    token = p->next_page_token;
  } while (!token.empty());
  EXPECT_THAT(seen,
              ::testing::ElementsAre("ev-list-4", "ev-list-3", "ev-list-2",
                                     "ev-list-1", "ev-list-0"));
  absl::StatusOr<Page<DeliveryRecord>> sent =
      store_->List({.state = DeliveryState::kSent}, 10, "");
  EXPECT_TRUE(sent->items.empty());
  absl::StatusOr<Page<DeliveryRecord>> pending =
      store_->List({.state = DeliveryState::kPending}, 10, "");
  EXPECT_EQ(pending->items.size(), 5u);
  // By dossier: another dossier's delivery is not listed.
  NotificationPlan other = Received("ev-list-other", {.phone = "0912345678"});
  other.dossier = "dossiers/000.00.15.H26-260312-0001";
  Enqueue(other);
  absl::StatusOr<Page<DeliveryRecord>> mine =
      store_->List({.dossier = "dossiers/000.00.14.H26-260312-0042"}, 10, "");
  EXPECT_EQ(mine->items.size(), 5u);
  absl::StatusOr<Page<DeliveryRecord>> theirs =
      store_->List({.dossier = other.dossier}, 10, "");
  ASSERT_EQ(theirs->items.size(), 1u);
  EXPECT_EQ(theirs->items[0].event_id, "ev-list-other");
  EXPECT_TRUE(store_->List({.recipient = "0900000000"}, 10, "")->items.empty());
  EXPECT_THAT(store_->List({}, 10, "not-a-token!"),
              StatusHasReason(absl::StatusCode::kInvalidArgument,
                              "INVALID_PAGE_TOKEN"));
}

// main runs one sender per channel: webhooks queued earlier (an endpoint
// timing out on each, say) are not in the way of a citizen's SMS or e-mail,
// and each channel's sender takes only its own.
TEST_F(DeliveryTest, EachChannelsSenderTakesOnlyItsOwnDeliveries) {
  absl::StatusOr<Webhook> hook =
      store_->SaveWebhook({.agency_code = "000.00.14.H26",
                           .url = http_->Url("/hooks/slow"),
                           .secret = "bí-mật-webhook"},
                          "", clock_.Now(), {.action = "test"});
  ASSERT_TRUE(hook.ok()) << hook.status();
  std::vector<std::string> hooks;
  for (int i = 0; i < 6; ++i) {
    NotificationPlan p = Received(absl::StrCat("ev-hook-", i), {});
    p.citizen.reset();
    for (const std::string& id : Enqueue(p)) hooks.push_back(id);
  }
  ASSERT_EQ(hooks.size(), 6u);
  clock_.Advance(absl::Seconds(1));  // the citizen's messages come after
  NotificationPlan sms_plan = Received("ev-sms", {.phone = "0912345678"});
  sms_plan.agency_codes.clear();
  NotificationPlan mail_plan = Received(
      "ev-mail",
      {.email = "nguyen.van.an@example.vn", .preferred = Channel::kEmail});
  mail_plan.agency_codes.clear();
  const std::vector<std::string> sms = Enqueue(sms_plan);
  const std::vector<std::string> mail = Enqueue(mail_plan);
  ASSERT_EQ(sms.size(), 1u);
  ASSERT_EQ(mail.size(), 1u);

  options_.batch_size = 2;  // fewer than the webhooks ahead
  const auto sender_for = [&](Channel c) {
    SenderOptions o = options_;
    o.channel = c;
    return std::make_unique<Sender>(*store_, *transport_, clock_, o);
  };
  absl::StatusOr<SendCounts> c = sender_for(Channel::kSms)->RunOnce();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->claimed, 1);
  EXPECT_EQ(c->sent, 1);
  c = sender_for(Channel::kEmail)->RunOnce();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->claimed, 1);
  EXPECT_EQ(c->sent, 1);
  EXPECT_EQ(Get(sms[0]).state, DeliveryState::kSent);
  EXPECT_EQ(Get(mail[0]).state, DeliveryState::kSent);
  for (const std::string& id : hooks) {
    EXPECT_EQ(Get(id).state, DeliveryState::kPending);  // untouched
  }
  // The webhooks' own sender takes them, oldest first.
  auto webhooks = sender_for(Channel::kWebhook);
  for (int pass = 0; pass < 3; ++pass) {
    c = webhooks->RunOnce();
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->claimed, 2);
    EXPECT_EQ(c->sent, 2);
  }
  EXPECT_EQ(webhooks->RunOnce()->claimed, 0);
  EXPECT_EQ(http_->Stats()["accepted"], 7);  // 6 webhooks and the SMS
}

// An installation seeded before the greeting was fixed gets the corrected
// dossier_received e-mail as version 2 (migration 0007); one whose
// administrator already changed it keeps theirs.
TEST(TemplateMigrationTest, TheOldReceivedEmailIsCorrectedOnUpgrade) {
  const std::string old_body =
      "<p>Kính gửi Ông/Bà {{applicant_name}},</p>\n<p>{{#agency_name}}"
      "{{agency_name}} {{/agency_name}}đã tiếp nhận hồ sơ <strong>"
      "{{dossier_code}}</strong>{{#procedure_name}} ({{procedure_name}})"
      "{{/procedure_name}}{{#receive_time}} lúc {{receive_time}}"
      "{{/receive_time}}.</p>\n<p>Thời gian hẹn trả kết quả: <strong>"
      "{{appointment_time}}</strong>.</p>\n<p>Ông/Bà có thể tra cứu tình "
      "trạng hồ sơ bằng mã hồ sơ trên Cổng dịch vụ công.</p>\n<p>Trân "
      "trọng.</p>";
  const TemplateText* fixed = nullptr;
  for (const TemplateText& t : DefaultTemplates()) {
    if (t.event_type == "dossier_received" && t.channel == Channel::kEmail) {
      fixed = &t;
    }
  }
  ASSERT_NE(fixed, nullptr);
  std::vector<db::Migration> before;
  for (const db::Migration& m : Migrations()) {
    if (m.version < 7) before.push_back(m);
  }
  const absl::Time now = Hcm(2026, 3, 12, 9, 0);
  for (bool changed_by_admin : {false, true}) {
    SCOPED_TRACE(changed_by_admin);
    db::PoolOptions o;
    o.dsn = lienthong::testing::PgCluster::Get().NewDatabase();
    o.size = 2;
    db::Pool pool(o);
    ASSERT_THAT(db::Migrate(pool, "notify", before),
                lienthong::testing::IsOk());
    PgNotifyStore store(pool);
    TemplateText old = *fixed;
    old.body = old_body;
    ASSERT_THAT(store.SeedTemplates({old}, now), lienthong::testing::IsOk());
    if (changed_by_admin) {
      TemplateText mine = old;
      mine.body =
          "<p>Kính gửi Ông/Bà {{applicant_name}},</p>"
          "<p>{{dossier_code}}: {{appointment_time}}</p>";
      ASSERT_TRUE(
          store.AddTemplateVersion(mine, "", now, {.action = "test"}).ok());
    }
    ASSERT_THAT(db::Migrate(pool, "notify", Migrations()),
                lienthong::testing::IsOk());
    absl::StatusOr<StoredTemplate> t =
        store.GetTemplate("dossier_received", Channel::kEmail);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->version, 2);
    if (changed_by_admin) {
      EXPECT_THAT(t->text.body, HasSubstr("<p>{{dossier_code}}: "));
    } else {
      EXPECT_EQ(t->text.body, fixed->body);  // what new installs seed
      EXPECT_EQ(t->text.subject, fixed->subject);
    }
  }
}

}  // namespace
}  // namespace lienthong::notify
