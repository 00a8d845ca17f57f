// NotifyService over real gRPC on 127.0.0.1, a real PostgreSQL and the real
// sinks: events become Vietnamese messages once; SendNotification is
// idempotent; templates are validated and versioned; webhooks are signed;
// dead letters list and replay.

#include "services/notify/notify_server.h"

#include <memory>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "libs/common/errors.h"
#include "libs/common/uuid.h"
#include "libs/db/migrations.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "libs/testing/in_process_server.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"
#include "lienthong/deadline/v1/events.pb.h"
#include "lienthong/intake/v1/events.pb.h"
#include "lienthong/routing/v1/events.pb.h"
#include "notify_migrations.h"
#include "services/notify/default_templates.h"
#include "services/notify/sender.h"
#include "services/notify/webhook_signature.h"
#include "tests/integration/notify_sinks.h"
#include "tests/integration/notify_store_fixture.h"

namespace lienthong::notify {
namespace {

using ::lienthong::testing::GrpcStatusIs;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusHasReason;
using ::testing::HasSubstr;
using testing::Sink;

using testing::Hcm;

class NotifyServerTest : public testing::NotifyStoreTest {
 protected:
  void SetUp() override {
    SetUpStore();
    if (HasFatalFailure()) return;
    // Webhook secrets sealed at rest, as in production.
    secrets_ = SecretBox::FromKey(std::string(64, 'a')).value();
    server_ = std::make_unique<NotifyServer>(
        *store_, *enqueuer_, clock_,
        ServerOptions{.insecure_dev_auth = true,
                      .allow_http_webhooks = true,
                      .secrets = secrets_});
    grpc_ = std::make_unique<lienthong::testing::InProcessServer>(
        std::vector<grpc::Service*>{server_.get()});
    stub_ = v1::NotifyService::NewStub(grpc_->NewChannel());
    http_ = Sink::Http(dir_, "khoa-bi-mat-cua-webhook");
    TransportOptions t;
    t.sms_gateway_url = http_->Url("/sms");
    transport_ = NewCurlTransport(t, common::RealClock::Get());
    SenderOptions so;
    so.backoff.max_attempts = 2;
    so.secrets = secrets_;
    sender_ = std::make_unique<Sender>(*store_, *transport_, clock_, so);
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& role,
                                          const std::string& agency = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("x-lienthong-role", role);
    ctx->AddMetadata("x-lienthong-subject", "test-" + role);
    if (!agency.empty()) ctx->AddMetadata("x-lienthong-agency", agency);
    return ctx;
  }

  std::string StoredWebhookSecret() {
    return db::WithTransaction(
               *pool_,
               [](pqxx::work& tx) -> absl::StatusOr<std::string> {
                 return tx.exec1("SELECT secret FROM notify.webhooks")[0]
                     .as<std::string>();
               })
        .value_or("");
  }

  common::v1::Event ReceivedEvent(const std::string& id) {
    intake::v1::DossierReceived m;
    m.set_dossier("dossiers/000.00.14.H26-260312-0042");
    m.mutable_receiving_agency()->set_display_name(
        "Bộ phận một cửa Phường Tây Mỗ");
    m.mutable_applicant_contact()->set_phone("0912345678");
    m.set_masked_applicant_name("N*** V*** A***");
    grpc_util::ToProto(Hcm(2026, 3, 18, 16, 30), m.mutable_appointment_time());
    m.add_agency_ancestor_codes("000.00.00.H26");
    common::v1::Event e;
    e.set_event_id(id);
    e.set_type("lienthong.intake.v1.DossierReceived");
    e.set_source("intake");
    e.set_dossier(m.dossier());
    grpc_util::ToProto(clock_.Now(), e.mutable_occur_time());
    e.mutable_payload()->PackFrom(m);
    return e;
  }

  SecretBox secrets_;
  std::unique_ptr<NotifyServer> server_;
  std::unique_ptr<lienthong::testing::InProcessServer> grpc_;
  std::unique_ptr<v1::NotifyService::Stub> stub_;
  std::unique_ptr<Sink> http_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Sender> sender_;
};

TEST_F(NotifyServerTest, EventBecomesOneVietnameseSmsAndIsAppliedOnce) {
  grpc_util::EventHandler handle = MakeEventHandler(*store_, *enqueuer_);
  const std::string id = common::NewUuid();
  absl::StatusOr<bool> first = handle(ReceivedEvent(id));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  absl::StatusOr<bool> again = handle(ReceivedEvent(id));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  ASSERT_EQ(sender_->RunOnce()->sent, 1);
  nlohmann::json m = http_->Messages();
  ASSERT_EQ(m.size(), 1u);
  nlohmann::json body = nlohmann::json::parse(m[0]["body"].get<std::string>());
  EXPECT_EQ(body["text"],
            "Hồ sơ 000.00.14.H26-260312-0042 đã được tiếp nhận. Hẹn trả kết "
            "quả: 16:30 ngày 18/03/2026. Tra cứu trên Cổng dịch vụ công.");

  v1::ListDeliveriesRequest req;
  req.set_dossier("dossiers/000.00.14.H26-260312-0042");
  v1::ListDeliveriesResponse resp;
  ASSERT_TRUE(stub_
                  ->ListDeliveries(As("counter_officer", "000.00.14.H26").get(),
                                   req, &resp)
                  .ok());
  ASSERT_EQ(resp.deliveries_size(), 1);
  const v1::Delivery& d = resp.deliveries(0);
  EXPECT_EQ(d.state(), v1::DELIVERY_STATE_SENT);
  EXPECT_EQ(d.masked_recipient(), "******5678");
  EXPECT_EQ(d.event_type(), "dossier_received");
  ASSERT_EQ(d.attempts_size(), 1);
  EXPECT_EQ(d.attempts(0).response_code(), 200);
  EXPECT_TRUE(d.attempts(0).success());
  EXPECT_EQ(grpc_util::FromProto(d.attempts(0).attempt_time()), clock_.Now());
  // A real HTTP round trip to the sink, timed on the real clock.
  EXPECT_GT(d.attempts(0).latency().seconds() * 1000000000LL +
                d.attempts(0).latency().nanos(),
            0);
  // Another agency's officer sees nothing of it.
  EXPECT_THAT(stub_->ListDeliveries(
                  As("counter_officer", "000.00.15.H26").get(), req, &resp),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_THAT(stub_->ListDeliveries(As("citizen").get(), req, &resp),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
}

TEST_F(NotifyServerTest, SendNotificationIsIdempotentByRequestId) {
  v1::SendNotificationRequest req;
  req.set_request_id(common::NewUuid());
  req.mutable_recipient()->set_phone("0987654321");
  (*req.mutable_values())["message"] = "Phường Tây Mỗ nghỉ làm việc ngày 2/9.";
  v1::SendNotificationResponse a, b;
  ASSERT_TRUE(stub_->SendNotification(As("supervisor").get(), req, &a).ok());
  ASSERT_TRUE(stub_->SendNotification(As("supervisor").get(), req, &b).ok());
  EXPECT_EQ(a.delivery().name(), b.delivery().name());
  EXPECT_EQ(a.delivery().rendered_preview(),
            "Phường Tây Mỗ nghỉ làm việc ngày 2/9.");
  EXPECT_EQ(a.delivery().sms_segments(), 1);
  ASSERT_EQ(sender_->RunOnce()->sent, 1);
  EXPECT_EQ(http_->Stats()["received"], 1);

  // The same request_id with another body is refused, not answered with
  // the first delivery: another recipient, another text, another dossier.
  const v1::SendNotificationRequest first = req;
  req.mutable_recipient()->set_phone("0911111111");
  EXPECT_THAT(grpc_util::FromGrpcStatus(
                  stub_->SendNotification(As("supervisor").get(), req, &b)),
              StatusHasReason(absl::StatusCode::kInvalidArgument,
                              "REQUEST_ID_REUSED"));
  req = first;
  (*req.mutable_values())["message"] = "Phường Tây Mỗ nghỉ làm việc ngày 3/9.";
  EXPECT_THAT(grpc_util::FromGrpcStatus(
                  stub_->SendNotification(As("supervisor").get(), req, &b)),
              StatusHasReason(absl::StatusCode::kInvalidArgument,
                              "REQUEST_ID_REUSED"));
  req = first;
  req.set_dossier("dossiers/000.00.14.H26-260312-0042");
  EXPECT_THAT(grpc_util::FromGrpcStatus(
                  stub_->SendNotification(As("supervisor").get(), req, &b)),
              StatusHasReason(absl::StatusCode::kInvalidArgument,
                              "REQUEST_ID_REUSED"));
  // Nothing more was queued by the refused retries, and the true retry
  // still answers with the first delivery.
  ASSERT_TRUE(stub_->SendNotification(As("supervisor").get(), first, &b).ok());
  EXPECT_EQ(b.delivery().name(), a.delivery().name());
  v1::ListDeliveriesResponse all;
  ASSERT_TRUE(stub_->ListDeliveries(As("admin").get(), {}, &all).ok());
  EXPECT_EQ(all.deliveries_size(), 1);
  v1::SendNotificationRequest bad;
  bad.set_request_id("not-a-uuid");
  (*bad.mutable_values())["citizen_id"] = "001203004567";
  EXPECT_THAT(stub_->SendNotification(As("supervisor").get(), bad, &b),
              GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
}

TEST_F(NotifyServerTest, TemplatesAreValidatedVersionedAndAdminOnly) {
  v1::UpsertTemplateRequest req;
  req.mutable_template_()->set_event_type("ready_for_return");
  req.mutable_template_()->set_channel(common::v1::CONTACT_CHANNEL_SMS);
  req.mutable_template_()->set_body("Kết quả hồ sơ đã có: {{so_ho_so}}");
  v1::UpsertTemplateResponse resp;
  grpc::Status s = stub_->UpsertTemplate(As("admin").get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("invalid"));

  req.mutable_template_()->set_body(
      "Hồ sơ {{dossier_code}} đã có kết quả, mời Ông/Bà đến nhận.");
  EXPECT_THAT(stub_->UpsertTemplate(As("counter_officer").get(), req, &resp),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  ASSERT_TRUE(stub_->UpsertTemplate(As("admin").get(), req, &resp).ok());
  EXPECT_EQ(resp.template_().version(), 2);
  EXPECT_EQ(resp.template_().name(), "templates/ready_for_return.sms");
  EXPECT_EQ(resp.sms_segments(), 1);

  v1::GetTemplateRequest get;
  get.set_name("templates/ready_for_return.sms");
  v1::GetTemplateResponse got;
  ASSERT_TRUE(stub_->GetTemplate(As("counter_officer").get(), get, &got).ok());
  EXPECT_EQ(got.template_().version(), 2);
  EXPECT_EQ(got.template_().body(), req.template_().body());

  v1::ListTemplatesRequest list;
  list.set_page_size(10);
  int total = 0;
  std::string token;
  do {
    list.set_page_token(token);
    v1::ListTemplatesResponse page;
    ASSERT_TRUE(stub_->ListTemplates(As("admin").get(), list, &page).ok());
    total += page.templates_size();
    token = page.next_page_token();
  } while (!token.empty());
  EXPECT_EQ(total, static_cast<int>(DefaultTemplates().size()));
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

TEST_F(NotifyServerTest, DeadLetterListsAndReplaysOverGrpc) {
  http_->FailNext(-1);
  ASSERT_TRUE(
      MakeEventHandler(*store_, *enqueuer_)(ReceivedEvent(common::NewUuid()))
          .ok());
  ASSERT_TRUE(sender_->RunOnce().ok());
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(sender_->RunOnce().ok());
  v1::ListDeliveriesRequest req;
  req.set_state(v1::DELIVERY_STATE_DEAD_LETTER);
  v1::ListDeliveriesResponse dead;
  ASSERT_TRUE(stub_->ListDeliveries(As("supervisor").get(), req, &dead).ok());
  ASSERT_EQ(dead.deliveries_size(), 1);
  EXPECT_EQ(dead.deliveries(0).attempts_size(), 2);
  EXPECT_EQ(dead.deliveries(0).attempts(1).response_code(), 503);

  http_->Reset();
  v1::ReplayDeliveryRequest replay;
  replay.set_name(dead.deliveries(0).name());
  replay.set_request_id(common::NewUuid());
  v1::ReplayDeliveryResponse r;
  ASSERT_TRUE(stub_->ReplayDelivery(As("supervisor").get(), replay, &r).ok());
  EXPECT_EQ(r.delivery().state(), v1::DELIVERY_STATE_PENDING);
  ASSERT_TRUE(stub_->ReplayDelivery(As("supervisor").get(), replay, &r).ok());
  replay.set_request_id(common::NewUuid());
  EXPECT_THAT(stub_->ReplayDelivery(As("supervisor").get(), replay, &r),
              GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(sender_->RunOnce()->sent, 1);
  EXPECT_EQ(http_->Stats()["accepted"], 1);
  v1::GetDeliveryRequest get;
  get.set_name(dead.deliveries(0).name());
  v1::GetDeliveryResponse d;
  ASSERT_TRUE(stub_->GetDelivery(As("admin").get(), get, &d).ok());
  EXPECT_EQ(d.delivery().state(), v1::DELIVERY_STATE_SENT);
  EXPECT_EQ(d.delivery().attempts_size(), 3);
}

v1::RegisterWebhookResponse RegisterAs(
    v1::NotifyService::Stub& stub, const std::string& agency,
    const std::string& url, std::vector<std::string> event_types) {
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
  nlohmann::json body = nlohmann::json::parse(got[0]["body"].get<std::string>());
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
  EXPECT_EQ(nlohmann::json::parse(city[0]["body"].get<std::string>())
                ["event_type"],
            "clock_overdue");
  EXPECT_TRUE(ArrivedAt(*http_, "/hooks/quan-khac").empty());
}

TEST_F(NotifyServerTest, AdminRetriesWithAnotherBodyAreRequestIdReused) {
  v1::UpsertTemplateRequest req;
  req.set_request_id(common::NewUuid());
  req.mutable_template_()->set_event_type("ready_for_return");
  req.mutable_template_()->set_channel(common::v1::CONTACT_CHANNEL_SMS);
  req.mutable_template_()->set_body("Hồ sơ {{dossier_code}} đã có kết quả.");
  v1::UpsertTemplateResponse a, b;
  ASSERT_TRUE(stub_->UpsertTemplate(As("admin").get(), req, &a).ok());
  ASSERT_TRUE(stub_->UpsertTemplate(As("admin").get(), req, &b).ok());
  EXPECT_EQ(b.template_().version(), a.template_().version());
  req.mutable_template_()->set_body("Hồ sơ {{dossier_code}} có kết quả rồi.");
  EXPECT_THAT(grpc_util::FromGrpcStatus(
                  stub_->UpsertTemplate(As("admin").get(), req, &b)),
              StatusHasReason(absl::StatusCode::kInvalidArgument,
                              "REQUEST_ID_REUSED"));

  v1::RegisterWebhookRequest reg;
  reg.set_request_id(common::NewUuid());
  reg.mutable_webhook()->set_agency("agencies/000.00.14.H26");
  reg.mutable_webhook()->set_url(http_->Url("/hooks/phuong"));
  reg.mutable_webhook()->set_secret("khoa-bi-mat-cua-webhook");
  v1::RegisterWebhookResponse w;
  ASSERT_TRUE(stub_->RegisterWebhook(As("admin").get(), reg, &w).ok());
  reg.mutable_webhook()->add_event_types("clock_overdue");
  EXPECT_THAT(grpc_util::FromGrpcStatus(
                  stub_->RegisterWebhook(As("admin").get(), reg, &w)),
              StatusHasReason(absl::StatusCode::kInvalidArgument,
                              "REQUEST_ID_REUSED"));
}

}  // namespace
}  // namespace lienthong::notify
