#pragma once

// NotifyService over real gRPC on 127.0.0.1 (dev auth), on the notify store
// fixture, with an HTTP sink as SMS gateway and webhook receiver and a
// sender; for notify_server_test and notify_webhook_test.

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
#include "services/notify/notify_server.h"
#include "services/notify/sender.h"
#include "services/notify/webhook_signature.h"
#include "tests/integration/notify_sinks.h"
#include "tests/integration/notify_store_fixture.h"

namespace lienthong::notify {

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
                      .webhook_allow_cidrs = testing::SinkCidrs(),
                      .secrets = secrets_});
    grpc_ = std::make_unique<lienthong::testing::InProcessServer>(
        std::vector<grpc::Service*>{server_.get()});
    stub_ = v1::NotifyService::NewStub(grpc_->NewChannel());
    http_ = testing::Sink::Http(dir_, "khoa-bi-mat-cua-webhook");
    TransportOptions t;
    t.sms_gateway_url = http_->Url("/sms");
    t.webhook_allow_cidrs = testing::SinkCidrs();
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

  // notify.audit as "action outcome resource request_id" lines, in order.
  std::vector<std::string> AuditTrail() {
    return db::WithTransaction(
               *pool_,
               [](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
                 std::vector<std::string> out;
                 for (const auto& r :
                      tx.exec("SELECT action || ' ' || outcome || ' ' || "
                              "resource || ' ' || request_id || ' ' || "
                              "role || '@' || agency FROM notify.audit "
                              "ORDER BY id")) {
                   out.push_back(r[0].as<std::string>());
                 }
                 return out;
               })
        .value_or(std::vector<std::string>{"error"});
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
    grpc_util::ToProto(testing::Hcm(2026, 3, 18, 16, 30),
                       m.mutable_appointment_time());
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
  std::unique_ptr<testing::Sink> http_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Sender> sender_;
};

}  // namespace lienthong::notify
