// Agencies and supervisors hear through their webhooks, over real gRPC, a
// real PostgreSQL and the real HTTP sink: URLs on our own network refused
// at registration; signed bodies that carry no secret; a secret sealed at rest
// that a replica without the key cannot use; a changed secret signing alongside
// the old one for a day; a cancelled task told to its own agency only; overdue
// clocks told to the supervisors above the agency.

#include <algorithm>

#include "tests/integration/notify_server_fixture.h"

namespace lienthong::notify {
namespace {

using ::lienthong::testing::GrpcStatusIs;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusHasReason;
using ::testing::HasSubstr;
using testing::Hcm;
using testing::Sink;

// The agency chooses the URL and sees every attempt's outcome: a URL on
// our side (loopback, private, link-local, CGNAT, unspecified, multicast)
// would make notify a port scanner for it. Refused unless ops allowed the
// range (the fixture's server allows 127.0.0.0/8 for the sinks).
TEST_F(NotifyServerTest, RegisterWebhookRefusesNonPublicAddresses) {
  NotifyServer strict(*store_, *enqueuer_, clock_,
                      ServerOptions{.insecure_dev_auth = true,
                                    .allow_http_webhooks = true,
                                    .secrets = secrets_});
  lienthong::testing::InProcessServer grpc({&strict});
  auto stub = v1::NotifyService::NewStub(grpc.NewChannel());
  const auto reg = [&](const std::string& url) {
    v1::RegisterWebhookRequest req;
    req.mutable_webhook()->set_agency("agencies/000.00.14.H26");
    req.mutable_webhook()->set_url(url);
    req.mutable_webhook()->set_secret("khoa-bi-mat-cua-webhook");
    v1::RegisterWebhookResponse resp;
    return grpc_util::FromGrpcStatus(stub->RegisterWebhook(
        As("agency_system", "000.00.14.H26").get(), req, &resp));
  };
  for (const std::string& url :
       {http_->Url("/hooks/x"), std::string("https://localhost/h"),
        std::string("https://10.0.0.5/h"),
        std::string("https://169.254.169.254/latest/meta-data/"),
        std::string("https://[::1]:8443/h"), std::string("https://[fe80::1]/h"),
        std::string("https://[fd00::1]/h"), std::string("https://100.64.0.1/h"),
        std::string("https://0.0.0.0/h"), std::string("https://239.1.1.1/h"),
        std::string("https://172.16.5.5/h"),
        std::string("https://192.168.0.1/h")}) {
    const absl::Status s = reg(url);
    EXPECT_THAT(s, StatusHasReason(absl::StatusCode::kInvalidArgument,
                                   "INVALID_WEBHOOK"))
        << url;
    const common::ErrorDetails d = common::GetErrorDetails(s);
    ASSERT_EQ(d.field_violations.size(), 1u) << url;
    EXPECT_EQ(d.field_violations[0].field, "webhook.url");
    EXPECT_THAT(d.field_violations[0].description,
                HasSubstr("--webhook_allow_cidrs"));
  }
  EXPECT_THAT(common::GetErrorDetails(reg(http_->Url("/h")))
                  .field_violations[0]
                  .description,
              HasSubstr("is a loopback address"));
  v1::ListWebhooksResponse hooks;
  ASSERT_TRUE(stub->ListWebhooks(As("admin").get(), {}, &hooks).ok());
  EXPECT_EQ(hooks.webhooks_size(), 0);
  // A public address is fine (nothing is sent to it here).
  EXPECT_THAT(reg("https://203.162.4.190/hooks/x"), IsOk());
  // And the sinks' loopback, on the fixture's server that allows it.
  v1::RegisterWebhookRequest req;
  req.mutable_webhook()->set_agency("agencies/000.00.14.H26");
  req.mutable_webhook()->set_url(http_->Url("/hooks/x"));
  req.mutable_webhook()->set_secret("khoa-bi-mat-cua-webhook");
  v1::RegisterWebhookResponse resp;
  EXPECT_TRUE(stub_
                  ->RegisterWebhook(As("agency_system", "000.00.14.H26").get(),
                                    req, &resp)
                  .ok());
}

TEST_F(NotifyServerTest, WebhookHearsOverdueClocksSignedAndWithoutSecret) {
  v1::RegisterWebhookRequest reg;
  reg.set_request_id(common::NewUuid());
  reg.mutable_webhook()->set_agency("agencies/000.00.14.H26");
  reg.mutable_webhook()->set_url(http_->Url("/hooks/phuong-tay-mo"));
  reg.mutable_webhook()->set_secret("khoa-bi-mat-cua-webhook");
  reg.mutable_webhook()->add_event_types("clock_overdue");
  v1::RegisterWebhookResponse hook;
  EXPECT_THAT(stub_->RegisterWebhook(As("agency_system", "000.00.15.H26").get(),
                                     reg, &hook),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  ASSERT_TRUE(stub_
                  ->RegisterWebhook(As("agency_system", "000.00.14.H26").get(),
                                    reg, &hook)
                  .ok());
  EXPECT_TRUE(hook.webhook().secret().empty());
  v1::ListWebhooksResponse hooks;
  ASSERT_TRUE(stub_->ListWebhooks(As("admin").get(), {}, &hooks).ok());
  ASSERT_EQ(hooks.webhooks_size(), 1);
  EXPECT_TRUE(hooks.webhooks(0).secret().empty());
  // At rest the secret is sealed: a dump of notify.webhooks does not show it.
  const std::string stored = StoredWebhookSecret();
  EXPECT_EQ(stored.rfind("aesgcm1:", 0), 0u) << stored;
  EXPECT_EQ(stored.find("khoa-bi-mat"), std::string::npos);

  deadline::v1::ClockOverdue m;
  m.mutable_clock()->set_dossier("dossiers/000.00.14.H26-260312-0042");
  m.mutable_clock()->set_kind(deadline::v1::CLOCK_KIND_DOSSIER);
  m.mutable_clock()->set_agency("agencies/000.00.14.H26");
  grpc_util::ToProto(Hcm(2026, 3, 18, 16, 30),
                     m.mutable_clock()->mutable_due_time());
  common::v1::Event e;
  e.set_event_id(common::NewUuid());
  e.set_type("lienthong.deadline.v1.ClockOverdue");
  e.mutable_payload()->PackFrom(m);
  ASSERT_TRUE(MakeEventHandler(*store_, *enqueuer_)(e).ok());
  // An event type it did not ask for is not sent to it.
  ASSERT_TRUE(
      MakeEventHandler(*store_, *enqueuer_)(ReceivedEvent(common::NewUuid()))
          .ok());
  ASSERT_TRUE(sender_->RunOnce().ok());
  nlohmann::json got = http_->Messages();
  std::vector<nlohmann::json> hooks_got;
  for (const auto& x : got) {
    if (x["path"] == "/hooks/phuong-tay-mo") hooks_got.push_back(x);
  }
  ASSERT_EQ(hooks_got.size(), 1u);
  EXPECT_TRUE(hooks_got[0]["signature_valid"].get<bool>());
  nlohmann::json body =
      nlohmann::json::parse(hooks_got[0]["body"].get<std::string>());
  EXPECT_EQ(body["event_type"], "clock_overdue");
  EXPECT_EQ(body["text"],
            "Quá hạn: hồ sơ 000.00.14.H26-260312-0042 (hồ sơ), hạn 16:30 ngày "
            "18/03/2026.");

  v1::DeleteWebhookRequest del;
  del.set_name(hook.webhook().name());
  v1::DeleteWebhookResponse none;
  ASSERT_TRUE(stub_->DeleteWebhook(As("admin").get(), del, &none).ok());
  ASSERT_TRUE(stub_->ListWebhooks(As("admin").get(), {}, &hooks).ok());
  EXPECT_EQ(hooks.webhooks_size(), 0);
  // Deleting again changes nothing and is not recorded again.
  ASSERT_TRUE(stub_->DeleteWebhook(As("admin").get(), del, &none).ok());
  EXPECT_EQ(
      AuditTrail(),
      (std::vector<std::string>{
          "RegisterWebhook PERMISSION_DENIED agencies/000.00.14.H26  "
          "agency_system@000.00.15.H26",
          absl::StrCat("RegisterWebhook OK ", hook.webhook().name(), " ",
                       reg.request_id(), " agency_system@000.00.14.H26"),
          absl::StrCat("DeleteWebhook OK ", hook.webhook().name(), "  admin@"),
      }));
}

TEST_F(NotifyServerTest, SealedWebhookSecretWithoutTheKeyFailsAndRetries) {
  v1::RegisterWebhookRequest reg;
  reg.mutable_webhook()->set_agency("agencies/000.00.14.H26");
  reg.mutable_webhook()->set_url(http_->Url("/hooks/phuong-tay-mo"));
  reg.mutable_webhook()->set_secret("khoa-bi-mat-cua-webhook");
  v1::RegisterWebhookResponse hook;
  ASSERT_TRUE(stub_->RegisterWebhook(As("admin").get(), reg, &hook).ok());
  ASSERT_TRUE(
      MakeEventHandler(*store_, *enqueuer_)(ReceivedEvent(common::NewUuid()))
          .ok());
  // A replica started without --webhook_secret_key_file cannot sign: it
  // sends nothing unsigned, records why, and leaves the delivery to retry.
  SenderOptions keyless;
  keyless.backoff.max_attempts = 5;
  Sender sender(*store_, *transport_, clock_, keyless);
  ASSERT_TRUE(sender.RunOnce().ok());
  for (const auto& x : http_->Messages()) {
    EXPECT_NE(x["path"], "/hooks/phuong-tay-mo");
  }
  v1::ListDeliveriesRequest q;
  q.set_state(v1::DELIVERY_STATE_FAILED);
  v1::ListDeliveriesResponse failed;
  ASSERT_TRUE(stub_->ListDeliveries(As("admin").get(), q, &failed).ok());
  ASSERT_EQ(failed.deliveries_size(), 1);
  EXPECT_EQ(failed.deliveries(0).channel(),
            common::v1::CONTACT_CHANNEL_WEBHOOK);
  EXPECT_THAT(failed.deliveries(0).attempts(0).error(),
              HasSubstr("webhook_secret_key_file"));
}

// An agency changing its webhook's secret (RegisterWebhook with a new one)
// does not lock itself out while its receiver switches: for a day
// (--webhook_secret_overlap) every delivery carries a v1= under the new
// secret and one under the old; then only the new one.
TEST_F(NotifyServerTest, AChangedSecretSignsAlongsideTheOldOneForADay) {
  const std::string old_secret = "khoa-bi-mat-cua-webhook";  // the sink's
  const std::string new_secret = "khoa-moi-cua-webhook-2026";
  v1::RegisterWebhookRequest reg;
  reg.mutable_webhook()->set_agency("agencies/000.00.14.H26");
  reg.mutable_webhook()->set_url(http_->Url("/hooks/phuong-tay-mo"));
  reg.mutable_webhook()->set_secret(old_secret);
  reg.mutable_webhook()->add_event_types("dossier_received");
  v1::RegisterWebhookResponse hook;
  ASSERT_TRUE(stub_
                  ->RegisterWebhook(As("agency_system", "000.00.14.H26").get(),
                                    reg, &hook)
                  .ok());
  const auto hook_messages = [&] {
    std::vector<nlohmann::json> out;
    for (const auto& x : http_->Messages()) {
      if (x["path"] == "/hooks/phuong-tay-mo") out.push_back(x);
    }
    return out;
  };
  const auto deliver_one = [&] {
    ASSERT_TRUE(
        MakeEventHandler(*store_, *enqueuer_)(ReceivedEvent(common::NewUuid()))
            .ok());
    ASSERT_TRUE(sender_->RunOnce().ok());
  };
  const auto signatures = [](const std::string& header) {
    return std::count(header.begin(), header.end(), '=') - 1;  // t= aside
  };
  deliver_one();
  ASSERT_EQ(hook_messages().size(), 1u);
  EXPECT_EQ(signatures(hook_messages()[0]["signature"]), 1);

  // The agency changes the secret; its receiver still has the old one.
  reg.mutable_webhook()->set_name(hook.webhook().name());
  reg.mutable_webhook()->set_secret(new_secret);
  ASSERT_TRUE(stub_
                  ->RegisterWebhook(As("agency_system", "000.00.14.H26").get(),
                                    reg, &hook)
                  .ok());
  EXPECT_EQ(StoredWebhookSecret().rfind("aesgcm1:", 0), 0u);  // both sealed
  clock_.Advance(absl::Hours(23));
  deliver_one();
  std::vector<nlohmann::json> got = hook_messages();
  ASSERT_EQ(got.size(), 2u);
  const std::string both = got[1]["signature"];
  const std::string body = got[1]["body"];
  EXPECT_EQ(signatures(both), 2) << both;
  EXPECT_TRUE(got[1]["signature_valid"].get<bool>());  // the old secret
  EXPECT_THAT(VerifyWebhook(new_secret, both, body, absl::Now()), IsOk());
  EXPECT_THAT(VerifyWebhook(old_secret, both, body, absl::Now()), IsOk());

  // A day on, only the new secret signs: the old receiver refuses it.
  clock_.Advance(absl::Hours(2));
  deliver_one();
  got = hook_messages();
  ASSERT_EQ(got.size(), 3u);
  const std::string one = got[2]["signature"];
  EXPECT_EQ(signatures(one), 1) << one;
  EXPECT_FALSE(got[2]["signature_valid"].get<bool>());
  EXPECT_THAT(VerifyWebhook(new_secret, one, got[2]["body"].get<std::string>(),
                            absl::Now()),
              IsOk());

  // Changing something else (the URL) keeps the secret and no overlap.
  reg.mutable_webhook()->set_secret("");
  reg.mutable_webhook()->set_url(http_->Url("/hooks/phuong-tay-mo"));
  ASSERT_TRUE(stub_
                  ->RegisterWebhook(As("agency_system", "000.00.14.H26").get(),
                                    reg, &hook)
                  .ok());
  deliver_one();
  got = hook_messages();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(signatures(got[3]["signature"]), 1);
}

v1::RegisterWebhookResponse RegisterAs(v1::NotifyService::Stub& stub,
                                       const std::string& agency,
                                       const std::string& url,
                                       std::vector<std::string> event_types) {
  v1::RegisterWebhookRequest reg;
  reg.set_request_id(common::NewUuid());
  reg.mutable_webhook()->set_agency("agencies/" + agency);
  reg.mutable_webhook()->set_url(url);
  reg.mutable_webhook()->set_secret("khoa-bi-mat-cua-webhook");
  for (const std::string& t : event_types) {
    reg.mutable_webhook()->add_event_types(t);
  }
  v1::RegisterWebhookResponse resp;
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-lienthong-role", "admin");
  grpc::Status s = stub.RegisterWebhook(&ctx, reg, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp;
}

std::vector<nlohmann::json> ArrivedAt(Sink& sink, const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const auto& x : sink.Messages()) {
    if (x["path"] == path) out.push_back(x);
  }
  return out;
}

// Issue 5: "a refusal ... cancels the other legs and tells their agencies".
// Routing sends one TaskCancelled per cancelled leg; each leg's agency
// system hears of it on its own webhook, signed; nobody else does.
TEST_F(NotifyServerTest, CancelledTaskTellsItsAgencyThroughItsWebhook) {
  RegisterAs(*stub_, "000.00.19.H26", http_->Url("/hooks/bhxh-quan"), {});
  RegisterAs(*stub_, "000.04.14.H26", http_->Url("/hooks/cong-an-phuong"), {});
  routing::v1::TaskCancelled m;
  m.set_dossier("dossiers/000.00.14.H26-260312-0042");
  m.set_task("tasks/7f0c2a");
  m.set_leg_id("health_insurance");
  m.set_agency("agencies/000.00.19.H26");
  m.set_reason("Hồ sơ bị từ chối ở bước đăng ký khai sinh");
  grpc_util::ToProto(clock_.Now(), m.mutable_cancel_time());
  common::v1::Event e;
  e.set_event_id(common::NewUuid());
  e.set_type("lienthong.routing.v1.TaskCancelled");
  e.set_source("routing");
  e.set_dossier(m.dossier());
  e.mutable_payload()->PackFrom(m);
  grpc_util::EventHandler handle = MakeEventHandler(*store_, *enqueuer_);
  ASSERT_THAT(handle(e), IsOk());
  ASSERT_THAT(handle(e), IsOk());  // redelivered: nothing new
  ASSERT_EQ(sender_->RunOnce()->sent, 1);
  std::vector<nlohmann::json> got = ArrivedAt(*http_, "/hooks/bhxh-quan");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0]["signature_valid"].get<bool>());
  nlohmann::json body =
      nlohmann::json::parse(got[0]["body"].get<std::string>());
  EXPECT_EQ(body["event_type"], "task_cancelled");
  EXPECT_EQ(body["data"]["task"], "tasks/7f0c2a");
  EXPECT_EQ(body["text"],
            "Đã hủy nhiệm vụ của hồ sơ 000.00.14.H26-260312-0042 (bước "
            "health_insurance): Hồ sơ bị từ chối ở bước đăng ký khai sinh. "
            "Xin dừng xử lý.");
  EXPECT_TRUE(ArrivedAt(*http_, "/hooks/cong-an-phuong").empty());
}

// Due-soon / overdue clocks name only the responsible agency; the
// supervisors above it (district, city) hear of them on their own agency's
// webhook, through the ancestors notify learned from DossierReceived.
TEST_F(NotifyServerTest, OverdueClockReachesTheSupervisorsAboveTheAgency) {
  RegisterAs(*stub_, "000.00.14.H26", http_->Url("/hooks/phuong"),
             {"clock_overdue"});
  RegisterAs(*stub_, "000.00.00.H26", http_->Url("/hooks/thanh-pho"),
             {"clock_overdue"});
  RegisterAs(*stub_, "000.00.99.H26", http_->Url("/hooks/quan-khac"),
             {"clock_overdue"});
  grpc_util::EventHandler handle = MakeEventHandler(*store_, *enqueuer_);
  deadline::v1::ClockOverdue m;
  m.mutable_clock()->set_dossier("dossiers/000.00.14.H26-260312-0042");
  m.mutable_clock()->set_kind(deadline::v1::CLOCK_KIND_DOSSIER);
  m.mutable_clock()->set_agency("agencies/000.00.14.H26");
  grpc_util::ToProto(Hcm(2026, 3, 18, 16, 30),
                     m.mutable_clock()->mutable_due_time());
  auto overdue = [&] {
    common::v1::Event e;
    e.set_event_id(common::NewUuid());
    e.set_type("lienthong.deadline.v1.ClockOverdue");
    e.mutable_payload()->PackFrom(m);
    return e;
  };
  // Before notify knows the ward's ancestors only the ward hears of it.
  ASSERT_THAT(handle(overdue()), IsOk());
  ASSERT_EQ(sender_->RunOnce()->sent, 1);
  EXPECT_EQ(ArrivedAt(*http_, "/hooks/phuong").size(), 1u);
  EXPECT_TRUE(ArrivedAt(*http_, "/hooks/thanh-pho").empty());

  // DossierReceived says the ward's ancestor is the city (000.00.00.H26).
  ASSERT_THAT(handle(ReceivedEvent(common::NewUuid())), IsOk());
  ASSERT_THAT(handle(overdue()), IsOk());
  ASSERT_TRUE(sender_->RunOnce().ok());
  EXPECT_EQ(ArrivedAt(*http_, "/hooks/phuong").size(), 2u);
  std::vector<nlohmann::json> city = ArrivedAt(*http_, "/hooks/thanh-pho");
  ASSERT_EQ(city.size(), 1u);
  EXPECT_TRUE(city[0]["signature_valid"].get<bool>());
  EXPECT_EQ(
      nlohmann::json::parse(city[0]["body"].get<std::string>())["event_type"],
      "clock_overdue");
  EXPECT_TRUE(ArrivedAt(*http_, "/hooks/quan-khac").empty());
}

}  // namespace
}  // namespace lienthong::notify
