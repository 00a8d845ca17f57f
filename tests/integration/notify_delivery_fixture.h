#pragma once

// Delivery over a real PostgreSQL and the REAL sinks (HTTP for SMS and
// webhooks, SMTP for e-mail), with quiet hours 21:00-07:00 and 5 attempts
// 10 s apart: the fixture of notify_delivery_test.cc and
// notify_dead_letter_test.cc.

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "services/notify/enqueuer.h"
#include "services/notify/sender.h"
#include "tests/integration/notify_sinks.h"
#include "tests/integration/notify_store_fixture.h"

namespace lienthong::notify::testing {

class DeliveryTest : public testing::NotifyStoreTest {
 protected:
  void SetUp() override {
    options_.quiet_hours = *ParseQuietHours("21:00-07:00", VietnamZone());
    EnqueueOptions eo;
    eo.quiet_hours = options_.quiet_hours;
    SetUpStore(eo);
    if (HasFatalFailure()) return;
    http_ = Sink::Http(dir_, "bí-mật-webhook");
    smtp_ = Sink::Smtp(dir_, "notify:mat-khau");
    TransportOptions t;
    t.sms_gateway_url = http_->Url("/sms");
    t.sms_auth_header = "Authorization: Bearer t";
    t.smtp_url = smtp_->SmtpUrl();
    t.smtp_user = "notify";
    t.smtp_password = "mat-khau";
    t.smtp_from = "Bộ phận một cửa <mot-cua@hanoi.gov.vn>";
    t.smtp_tls = SmtpTls::kTry;
    t.webhook_allow_cidrs = SinkCidrs();
    transport_ = NewCurlTransport(t, common::RealClock::Get());
    options_.backoff.initial = absl::Seconds(10);
    options_.backoff.max_attempts = 5;
  }

  std::unique_ptr<Sender> NewSender() {
    return std::make_unique<Sender>(*store_, *transport_, clock_, options_);
  }

  NotificationPlan Received(const std::string& event_id, Contact c) {
    NotificationPlan p;
    p.event_id = event_id;
    p.event_type = "dossier_received";
    p.dossier = "dossiers/000.00.14.H26-260312-0042";
    p.occur_time = clock_.Now();
    p.values = {{"dossier_code", "000.00.14.H26-260312-0042"},
                {"appointment_time", "16:30 ngày 18/03/2026"},
                {"applicant_name", "N*** V*** A***"}};
    p.citizen = c;
    p.agency_codes = {"000.00.14.H26", "000.00.00.H26"};
    return p;
  }

  DeliveryRecord Get(const std::string& id) {
    absl::StatusOr<DeliveryRecord> d = store_->Get(id);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : DeliveryRecord{};
  }

  std::unique_ptr<Sink> http_;
  std::unique_ptr<Sink> smtp_;
  std::unique_ptr<Transport> transport_;
  SenderOptions options_;
};

}  // namespace lienthong::notify::testing
