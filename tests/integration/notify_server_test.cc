// NotifyService over real gRPC on 127.0.0.1, a real PostgreSQL and the real
// sinks: events become Vietnamese messages once; SendNotification is
// idempotent; templates are validated and versioned; dead letters list and
// replay. Webhooks are in notify_webhook_test.cc.

#include "tests/integration/notify_server_fixture.h"

namespace lienthong::notify {
namespace {

using ::lienthong::testing::GrpcStatusIs;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusHasReason;
using ::testing::HasSubstr;
using testing::Hcm;
using testing::Sink;

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
  ASSERT_TRUE(
      stub_->SendNotification(As("supervisor", "000.00.14.H26").get(), req, &a)
          .ok());
  ASSERT_TRUE(
      stub_->SendNotification(As("supervisor", "000.00.14.H26").get(), req, &b)
          .ok());
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
  EXPECT_THAT(
      grpc_util::FromGrpcStatus(stub_->SendNotification(
          As("supervisor", "000.00.14.H26").get(), req, &b)),
      StatusHasReason(absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));
  req = first;
  (*req.mutable_values())["message"] = "Phường Tây Mỗ nghỉ làm việc ngày 3/9.";
  EXPECT_THAT(
      grpc_util::FromGrpcStatus(stub_->SendNotification(
          As("supervisor", "000.00.14.H26").get(), req, &b)),
      StatusHasReason(absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));
  req = first;
  req.set_dossier("dossiers/000.00.14.H26-260312-0042");
  EXPECT_THAT(
      grpc_util::FromGrpcStatus(stub_->SendNotification(
          As("supervisor", "000.00.14.H26").get(), req, &b)),
      StatusHasReason(absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));
  // Nothing more was queued by the refused retries, and the true retry
  // still answers with the first delivery.
  ASSERT_TRUE(
      stub_
          ->SendNotification(As("supervisor", "000.00.14.H26").get(), first, &b)
          .ok());
  EXPECT_EQ(b.delivery().name(), a.delivery().name());
  v1::ListDeliveriesResponse all;
  ASSERT_TRUE(stub_->ListDeliveries(As("admin").get(), {}, &all).ok());
  EXPECT_EQ(all.deliveries_size(), 1);
  v1::SendNotificationRequest bad;
  bad.set_request_id("not-a-uuid");
  (*bad.mutable_values())["citizen_id"] = "001203004567";
  EXPECT_THAT(
      stub_->SendNotification(As("supervisor", "000.00.14.H26").get(), bad, &b),
      GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
}

// A request that could only produce a broken message, or one sent nowhere,
// is refused now (INVALID_ARGUMENT, a field violation each) rather than
// queued: no empty SMS, no "Hẹn trả kết quả: .", no dead letter later.
TEST_F(NotifyServerTest, SendNotificationRefusesWhatCouldNotBeDelivered) {
  const auto send =
      [&](const std::string& dossier, const std::string& event_type,
          const std::string& phone, const std::string& email,
          std::map<std::string, std::string> values) -> absl::Status {
    v1::SendNotificationRequest req;
    req.set_request_id(common::NewUuid());
    req.set_dossier(dossier);
    req.set_event_type(event_type);
    req.mutable_recipient()->set_phone(phone);
    req.mutable_recipient()->set_email(email);
    for (auto& [k, v] : values) (*req.mutable_values())[k] = v;
    v1::SendNotificationResponse resp;
    return grpc_util::FromGrpcStatus(stub_->SendNotification(
        As("supervisor", "000.00.14.H26").get(), req, &resp));
  };
  const auto fields = [](const absl::Status& s) {
    std::vector<std::string> out;
    for (const common::FieldViolation& f :
         common::GetErrorDetails(s).field_violations) {
      out.push_back(f.field);
    }
    return out;
  };
  constexpr char kDossier[] = "dossiers/000.00.14.H26-260312-0042";
  constexpr char kPhone[] = "0912345678";
  using ::testing::ElementsAre;

  // Required values: each missing one named, in Vietnamese for officers.
  absl::Status s = send("", "ad_hoc", kPhone, "", {});
  EXPECT_THAT(s, StatusHasReason(absl::StatusCode::kInvalidArgument,
                                 "INVALID_NOTIFICATION"));
  EXPECT_THAT(fields(s), ElementsAre("values[message]"));
  EXPECT_THAT(common::GetErrorDetails(s).localized_message,
              HasSubstr("nội dung thông báo"));
  EXPECT_THAT(fields(send("", "ad_hoc", kPhone, "", {{"message", "  "}})),
              ElementsAre("values[message]"));
  s = send(kDossier, "dossier_received", kPhone, "", {});
  EXPECT_THAT(fields(s), ElementsAre("values[appointment_time]"));
  EXPECT_THAT(common::GetErrorDetails(s).localized_message,
              HasSubstr("thời gian hẹn trả kết quả"));
  EXPECT_THAT(fields(send("", "dossier_received", kPhone, "", {})),
              ElementsAre("values[dossier_code]", "values[appointment_time]"));
  EXPECT_THAT(fields(send(kDossier, "dossier_refused", kPhone, "", {})),
              ElementsAre("values[reason]"));
  EXPECT_THAT(fields(send(kDossier, "dossier_received", kPhone, "",
                          {{"dossier_code", "000.00.15.H26-260312-0001"},
                           {"appointment_time", "16:30 ngày 18/03/2026"}})),
              ElementsAre("values[dossier_code]"));

  // Addresses: a phone that takes SMS, an e-mail address.
  for (const char* phone :
       {"0212345678", "12345", "+8491234567", "0912 345 678", "84912345678"}) {
    EXPECT_THAT(fields(send("", "ad_hoc", phone, "", {{"message", "x"}})),
                ElementsAre("recipient.phone"))
        << phone;
  }
  for (const char* email :
       {"not-an-email", "a@b", "x<y>@example.vn", "an@example..vn"}) {
    EXPECT_THAT(fields(send("", "ad_hoc", "", email, {{"message", "x"}})),
                ElementsAre("recipient.email"))
        << email;
  }
  // The dossier: dossiers/<agency>-<yymmdd>-<seq of 4+ digits>.
  for (const char* dossier : {"dossiers/x", "dossiers/000.00.14.H26-260312-42",
                              "dossier/000.00.14.H26-260312-0042", "dossiers/",
                              "dossiers/000.00.14.H26-260312-0042/documents"}) {
    EXPECT_THAT(fields(send(dossier, "ad_hoc", kPhone, "", {{"message", "x"}})),
                ElementsAre("dossier"))
        << dossier;
  }
  // Nothing was queued by any of them; good ones are.
  v1::ListDeliveriesResponse all;
  ASSERT_TRUE(stub_->ListDeliveries(As("admin").get(), {}, &all).ok());
  EXPECT_EQ(all.deliveries_size(), 0);
  EXPECT_THAT(send(kDossier, "dossier_received", "+84912345678", "",
                   {{"appointment_time", "16:30 ngày 18/03/2026"}}),
              IsOk());
  EXPECT_THAT(send("", "ad_hoc", "", "tran.thi.binh@example.vn",
                   {{"message", "Mời Ông/Bà đến nhận kết quả."}}),
              IsOk());
  ASSERT_TRUE(stub_->ListDeliveries(As("admin").get(), {}, &all).ok());
  EXPECT_EQ(all.deliveries_size(), 2);
}

TEST_F(NotifyServerTest, ChangesAndRefusalsGoToAnAppendOnlyAuditTrail) {
  // A send, retried: one row, for the delivery it queued.
  v1::SendNotificationRequest send;
  send.set_request_id(common::NewUuid());
  send.mutable_recipient()->set_phone("0987654321");
  (*send.mutable_values())["message"] = "Mời Ông/Bà đến bổ sung hồ sơ.";
  v1::SendNotificationResponse sent;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(stub_
                    ->SendNotification(As("supervisor", "000.00.14.H26").get(),
                                       send, &sent)
                    .ok());
  }
  // A citizen's attempt, a counter officer's message about no dossier, a
  // counter officer's template change, an admin's.
  v1::SendNotificationResponse refused;
  EXPECT_THAT(stub_->SendNotification(As("citizen").get(), send, &refused),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  v1::SendNotificationRequest ad_hoc = send;
  ad_hoc.set_request_id(common::NewUuid());
  const absl::Status officer_ad_hoc =
      grpc_util::FromGrpcStatus(stub_->SendNotification(
          As("counter_officer", "000.00.14.H26").get(), ad_hoc, &refused));
  EXPECT_EQ(officer_ad_hoc.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(common::GetErrorDetails(officer_ad_hoc).reason,
            "AD_HOC_NEEDS_SUPERVISOR");
  v1::UpsertTemplateRequest upsert;
  upsert.mutable_template_()->set_event_type("ready_for_return");
  upsert.mutable_template_()->set_channel(common::v1::CONTACT_CHANNEL_SMS);
  upsert.mutable_template_()->set_body("Hồ sơ {{dossier_code}} đã có kết quả.");
  const std::string template_request = common::NewUuid();
  upsert.set_request_id(template_request);
  v1::UpsertTemplateResponse saved;
  EXPECT_THAT(stub_->UpsertTemplate(
                  As("counter_officer", "000.00.14.H26").get(), upsert, &saved),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  ASSERT_TRUE(stub_->UpsertTemplate(As("admin").get(), upsert, &saved).ok());
  ASSERT_TRUE(stub_->UpsertTemplate(As("admin").get(), upsert, &saved).ok());

  EXPECT_EQ(
      AuditTrail(),
      (std::vector<std::string>{
          absl::StrCat("SendNotification OK ", sent.delivery().name(), " ",
                       send.request_id(), " supervisor@000.00.14.H26"),
          "SendNotification PERMISSION_DENIED   citizen@",
          "SendNotification PERMISSION_DENIED deliveries  "
          "counter_officer@000.00.14.H26",
          "UpsertTemplate PERMISSION_DENIED templates  "
          "counter_officer@000.00.14.H26",
          absl::StrCat("UpsertTemplate OK "
                       "templates/ready_for_return.sms/versions/2 ",
                       template_request, " admin@"),
      }));
  // Append-only: PostgreSQL refuses to change or remove a row (the
  // trigger raises; the trail stays as it was).
  const std::vector<std::string> before = AuditTrail();
  for (const char* sql :
       {"UPDATE notify.audit SET outcome = 'OK'", "DELETE FROM notify.audit"}) {
    absl::Status s = db::WithTransaction(*pool_, [&](pqxx::work& tx) {
      tx.exec(sql);
      return absl::OkStatus();
    });
    EXPECT_FALSE(s.ok()) << sql;
  }
  EXPECT_EQ(AuditTrail(), before);
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
  // Another district's supervisor lists its own subtree: nothing of this
  // ward's, and may not replay it.
  ASSERT_TRUE(
      stub_->ListDeliveries(As("supervisor", "000.00.15.H26").get(), req, &dead)
          .ok());
  EXPECT_EQ(dead.deliveries_size(), 0);
  // The city's supervisor (above the ward, as the dossier's event said)
  // sees it without naming the dossier.
  ASSERT_TRUE(
      stub_->ListDeliveries(As("supervisor", "000.00.00.H26").get(), req, &dead)
          .ok());
  ASSERT_EQ(dead.deliveries_size(), 1);
  EXPECT_EQ(dead.deliveries(0).attempts_size(), 2);
  EXPECT_EQ(dead.deliveries(0).attempts(1).response_code(), 503);

  http_->Reset();
  v1::ReplayDeliveryRequest replay;
  replay.set_name(dead.deliveries(0).name());
  replay.set_request_id(common::NewUuid());
  const std::string first_replay = replay.request_id();
  v1::ReplayDeliveryResponse r;
  // Another district's delivery answers as one that does not exist, word
  // for word, so ids cannot be probed.
  const grpc::Status hidden = stub_->ReplayDelivery(
      As("supervisor", "000.00.15.H26").get(), replay, &r);
  EXPECT_THAT(hidden, GrpcStatusIs(grpc::StatusCode::NOT_FOUND));
  v1::ReplayDeliveryRequest nosuch = replay;
  nosuch.set_name("deliveries/00000000-0000-4000-8000-000000000000");
  const grpc::Status missing = stub_->ReplayDelivery(
      As("supervisor", "000.00.15.H26").get(), nosuch, &r);
  EXPECT_EQ(hidden.error_code(), missing.error_code());
  EXPECT_EQ(hidden.error_message(), missing.error_message());
  v1::GetDeliveryRequest peek;
  peek.set_name(dead.deliveries(0).name());
  v1::GetDeliveryResponse peeked;
  EXPECT_THAT(stub_->GetDelivery(As("supervisor", "000.00.15.H26").get(), peek,
                                 &peeked),
              GrpcStatusIs(grpc::StatusCode::NOT_FOUND));
  // The city's own system may replay it too (docs/notify.md).
  ASSERT_TRUE(stub_
                  ->ReplayDelivery(As("agency_system", "000.00.00.H26").get(),
                                   replay, &r)
                  .ok());
  EXPECT_EQ(r.delivery().state(), v1::DELIVERY_STATE_PENDING);
  ASSERT_TRUE(
      stub_->ReplayDelivery(As("supervisor", "000.00.00.H26").get(), replay, &r)
          .ok());
  replay.set_request_id(common::NewUuid());
  EXPECT_THAT(stub_->ReplayDelivery(As("supervisor", "000.00.00.H26").get(),
                                    replay, &r),
              GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(sender_->RunOnce()->sent, 1);
  EXPECT_EQ(http_->Stats()["accepted"], 1);
  v1::GetDeliveryRequest get;
  get.set_name(dead.deliveries(0).name());
  v1::GetDeliveryResponse d;
  ASSERT_TRUE(stub_->GetDelivery(As("admin").get(), get, &d).ok());
  EXPECT_EQ(d.delivery().state(), v1::DELIVERY_STATE_SENT);
  EXPECT_EQ(d.delivery().attempts_size(), 3);
  // The refused replay and the one that happened (its retry adds nothing).
  EXPECT_EQ(AuditTrail(),
            (std::vector<std::string>{
                "ReplayDelivery PERMISSION_DENIED "
                "dossiers/000.00.14.H26-260312-0042  "
                "supervisor@000.00.15.H26",
                "GetDelivery PERMISSION_DENIED "
                "dossiers/000.00.14.H26-260312-0042  "
                "supervisor@000.00.15.H26",
                absl::StrCat("ReplayDelivery OK ", dead.deliveries(0).name(),
                             " ", first_replay, " agency_system@000.00.00.H26"),
            }));
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
  EXPECT_THAT(
      grpc_util::FromGrpcStatus(
          stub_->UpsertTemplate(As("admin").get(), req, &b)),
      StatusHasReason(absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));

  v1::RegisterWebhookRequest reg;
  reg.set_request_id(common::NewUuid());
  reg.mutable_webhook()->set_agency("agencies/000.00.14.H26");
  reg.mutable_webhook()->set_url(http_->Url("/hooks/phuong"));
  reg.mutable_webhook()->set_secret("khoa-bi-mat-cua-webhook");
  v1::RegisterWebhookResponse w;
  ASSERT_TRUE(stub_->RegisterWebhook(As("admin").get(), reg, &w).ok());
  reg.mutable_webhook()->add_event_types("clock_overdue");
  EXPECT_THAT(
      grpc_util::FromGrpcStatus(
          stub_->RegisterWebhook(As("admin").get(), reg, &w)),
      StatusHasReason(absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));
}

}  // namespace
}  // namespace lienthong::notify
