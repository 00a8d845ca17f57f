// Where a webhook's connection goes: straight to the address notify
// checked. Never through a proxy the environment names (http_proxy,
// https_proxy, ALL_PROXY), which would resolve the agency's host itself
// and reach whatever it points to, past the check.

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/notify/transport.h"
#include "tests/integration/notify_egress_helpers.h"
#include "tests/integration/notify_sinks.h"
#include "tests/integration/notify_transport_fixture.h"

namespace lienthong::notify {
namespace {

using testing::ConnectionRecorder;
using ::testing::HasSubstr;
using testing::ScopedEnv;
using testing::Sink;
using testing::TransportTest;

constexpr const char* kProxyVariables[] = {
    "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
    "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};

std::vector<std::optional<std::string>> ProxyEnvironment() {
  std::vector<std::optional<std::string>> out;
  for (const char* name : kProxyVariables) {
    const char* v = std::getenv(name);
    out.push_back(v != nullptr ? std::optional<std::string>(v) : std::nullopt);
  }
  return out;
}

// Every proxy variable set to `proxy` when listed in `set`, else unset
// (no_proxy too: it must not exempt 127.0.0.1), for one scope.
class ProxyEnvironmentFor {
 public:
  ProxyEnvironmentFor(const std::string& proxy,
                      const std::vector<std::string>& set) {
    for (const char* name : kProxyVariables) {
      const bool listed = std::find(set.begin(), set.end(), name) != set.end();
      vars_.push_back(std::make_unique<ScopedEnv>(
          name, listed ? std::optional<std::string>(proxy) : std::nullopt));
    }
  }

 private:
  std::vector<std::unique_ptr<ScopedEnv>> vars_;
};

// What a libcurl client that leaves proxies alone does with the same
// environment: the control showing that the environment does divert.
void PostWithDefaultProxies(const std::string& url) {
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);  // the proxy never answers
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, testing::CollectBody);
  std::string body;
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_perform(c);
  curl_easy_cleanup(c);
}

OutgoingMessage Webhook(const std::string& id, const std::string& url) {
  return {.delivery_id = id,
          .channel = Channel::kWebhook,
          .event_type = "clock_overdue",
          .recipient = url,
          .body = R"({"event_type":"clock_overdue","text":"Quá hạn"})",
          .webhook_secret = "webhook-secret-16+"};
}

TEST_F(TransportTest, WebhookIgnoresProxiesFromTheEnvironment) {
  ASSERT_TRUE(testing::MakeSelfSignedCert(*dir_, "egress"));
  auto http = Sink::Http(*dir_, "webhook-secret-16+");
  auto https = Sink::Https(*dir_, *dir_ + "/egress.crt", *dir_ + "/egress.key",
                           "webhook-secret-16+");
  ConnectionRecorder proxy;
  ASSERT_TRUE(proxy.ok());
  TransportOptions o;
  o.webhook_allow_cidrs = testing::SinkCidrs();
  o.ca_file = *dir_ + "/egress.crt";
  o.webhook_timeout = absl::Seconds(3);  // were it to wait on the proxy
  auto t = NewCurlTransport(o, clock_);
  const auto before = ProxyEnvironment();

  // The sinks' control calls go through libcurl too: they are read only
  // once the environment is back.
  SendResult via_named[2], via_all;
  {
    ProxyEnvironmentFor env(
        proxy.Url(), {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                      "all_proxy", "ALL_PROXY"});
    PostWithDefaultProxies(http->Url("/control"));
    PostWithDefaultProxies(https->Url("/control"));
    ASSERT_EQ(proxy.Connections(), 2) << "the environment diverts nothing";
    via_named[0] = t->Send(Webhook("d-proxy-1", http->Url("/hooks/agency")));
    via_named[1] = t->Send(Webhook("d-proxy-2", https->Url("/hooks/agency")));
    EXPECT_EQ(proxy.Connections(), 2) << "a webhook went to the proxy";
  }
  {
    ProxyEnvironmentFor env(proxy.Url(), {"all_proxy", "ALL_PROXY"});
    PostWithDefaultProxies(http->Url("/control"));
    ASSERT_EQ(proxy.Connections(), 3) << "ALL_PROXY diverts nothing";
    via_all = t->Send(Webhook("d-proxy-3", http->Url("/hooks/agency")));
    EXPECT_EQ(proxy.Connections(), 3) << "a webhook went to ALL_PROXY";
  }
  EXPECT_EQ(ProxyEnvironment(), before);

  // The proxy saw the controls (a request for the sink's URL, a tunnel to
  // it), and nothing of the webhooks, which reached the sinks.
  ASSERT_EQ(proxy.first_lines().size(), 3u);
  EXPECT_THAT(proxy.first_lines()[0],
              HasSubstr(absl::StrCat("POST ", http->Url("/control"))));
  EXPECT_THAT(proxy.first_lines()[1],
              HasSubstr(absl::StrCat("CONNECT 127.0.0.1:", https->port())));
  for (const SendResult& r : {via_named[0], via_named[1], via_all}) {
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.response_code, 200);
  }
  nlohmann::json plain = http->Messages();
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[0]["key"], "d-proxy-1");
  EXPECT_EQ(plain[1]["key"], "d-proxy-3");
  EXPECT_TRUE(plain[0]["signature_valid"].get<bool>());
  nlohmann::json tls = https->Messages();
  ASSERT_EQ(tls.size(), 1u);
  EXPECT_EQ(tls[0]["key"], "d-proxy-2");
  EXPECT_TRUE(tls[0]["tls"].get<bool>());
}

}  // namespace
}  // namespace lienthong::notify
