#pragma once

// The channels against the REAL local sinks (tools/sinks): the fixture shared
// by notify_transport_http_test and notify_transport_smtp_test, a scratch
// directory per suite for the sinks and their certificates, and real time.

#include <string>

#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "services/notify/transport.h"
#include "tests/integration/notify_sinks.h"

namespace lienthong::notify::testing {

class TransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::ScratchDir());
  }
  static inline std::string* dir_ = nullptr;
  common::RealClock& clock_ = common::RealClock::Get();
};

// A signed webhook to `url`, as the sinks' "webhook-secret-16+" checks it.
inline OutgoingMessage Webhook(const std::string& id, const std::string& url) {
  return {.delivery_id = id,
          .channel = Channel::kWebhook,
          .event_type = "clock_overdue",
          .recipient = url,
          .body = R"({"event_type":"clock_overdue","text":"Quá hạn"})",
          .webhook_secret = "webhook-secret-16+"};
}

}  // namespace lienthong::notify::testing
