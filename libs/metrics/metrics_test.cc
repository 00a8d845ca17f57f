#include "libs/metrics/metrics.h"

#include "gtest/gtest.h"
#include "libs/metrics/http_get.h"

namespace lienthong::metrics {
namespace {

TEST(MetricsTest, ExposerServesRegisteredFamilies) {
  auto& requests = Counter("lienthong_test_requests_total", "Test requests.");
  requests.Add({{"method", "Submit"}, {"code", "OK"}}).Increment(3);
  // Same name again returns the same family.
  EXPECT_EQ(&requests, &Counter("lienthong_test_requests_total", "x"));
  absl::StatusOr<int> port = StartExposer(0, "127.0.0.1");
  ASSERT_TRUE(port.ok()) << port.status();
  ASSERT_GT(*port, 0);
  absl::StatusOr<std::string> body =
      HttpGet("http://127.0.0.1:" + std::to_string(*port) + "/metrics");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_NE(
      body->find(
          "lienthong_test_requests_total{code=\"OK\",method=\"Submit\"} 3"),
      std::string::npos)
      << *body;
}

}  // namespace
}  // namespace lienthong::metrics
