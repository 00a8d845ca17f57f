// Where a webhook's connection goes: straight to the address notify
// checked. Never through a proxy the environment names (http_proxy,
// https_proxy, ALL_PROXY), which would resolve the agency's host itself
// and reach whatever it points to, past the check.

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
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
using testing::Webhook;

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

// A resolver standing in for DNS: `answer` for every name, counted.
struct FakeDns {
  absl::StatusOr<std::vector<IpAddress>> answer;
  int calls = 0;
  HostResolver resolver() {
    return [this](const std::string&) {
      ++calls;
      return answer;
    };
  }
};

std::vector<IpAddress> Addresses(std::initializer_list<const char*> list) {
  std::vector<IpAddress> out;
  for (const char* a : list) out.push_back(*IpAddress::Parse(a));
  return out;
}

// The address notify checked is the one it connects to: the URL names a
// host the system's resolver does not know (.invalid never resolves), so
// the request can reach the sink only through the pinned answer.
TEST_F(TransportTest, WebhookConnectsToTheAddressItChecked) {
  auto sink = Sink::Http(*dir_, "webhook-secret-16+");
  const std::string host = "hooks.agency.invalid";
  const std::string url =
      absl::StrCat("http://", host, ":", sink->port(), "/hooks/agency");
  ASSERT_FALSE(ResolveUrl(url).ok()) << "the system resolver knows " << host;
  struct Case {
    std::vector<IpAddress> answer;
    std::string note;
  };
  // Every address answered is pinned (IPv6 in brackets): the loopback one
  // of the two is where the sink listens.
  const Case cases[] = {{Addresses({"127.0.0.1"}), "one address"},
                        {Addresses({"127.0.0.1", "::1"}), "IPv4 and IPv6"}};
  int n = 0;
  for (const Case& c : cases) {
    FakeDns dns{.answer = c.answer};
    TransportOptions o;
    o.webhook_allow_cidrs = *ParseCidrs("127.0.0.0/8,::1");
    o.resolve_host = dns.resolver();
    SendResult r = NewCurlTransport(o, clock_)->Send(
        Webhook(absl::StrCat("d-pin-", ++n), url));
    EXPECT_TRUE(r.ok) << c.note << ": " << r.error;
    EXPECT_EQ(dns.calls, 1) << c.note;
  }
  nlohmann::json m = sink->Messages();
  ASSERT_EQ(m.size(), 2u);
  for (const nlohmann::json& msg : m) {
    EXPECT_EQ(msg["path"], "/hooks/agency");
    // Sent for the name (its Host header), to the address.
    EXPECT_EQ(msg["host"], absl::StrCat(host, ":", sink->port()));
    EXPECT_TRUE(msg["signature_valid"].get<bool>());
  }
}

// The production policy with a resolver that answers an address on our
// side: nothing connects, whatever the configured exceptions allow
// elsewhere, and a mix of a public and a refused address is refused.
TEST_F(TransportTest, WebhookToANameResolvingToARefusedAddressNeverConnects) {
  ConnectionRecorder target;  // where the refused answers point
  ASSERT_TRUE(target.ok());
  const std::string url =
      absl::StrCat("http://hooks.agency.invalid:", target.port(), "/h");
  struct Case {
    std::vector<IpAddress> answer;
    std::string allow;  // --webhook_allow_cidrs
    std::string why;
  };
  const Case cases[] = {
      {Addresses({"127.0.0.1"}), "", "loopback"},
      {Addresses({"127.0.0.1"}), "10.20.0.0/16", "loopback"},
      {Addresses({"203.162.4.190", "127.0.0.1"}), "", "loopback"},
      {Addresses({"::ffff:127.0.0.1"}), "", "loopback"},
      {Addresses({"169.254.169.254"}), "", "link-local"},
      {Addresses({"10.1.2.3"}), "10.20.0.0/16", "private"},
  };
  for (const Case& c : cases) {
    FakeDns dns{.answer = c.answer};
    TransportOptions o;
    o.webhook_allow_cidrs = *ParseCidrs(c.allow);
    o.resolve_host = dns.resolver();
    o.connect_timeout = absl::Seconds(1);
    SendResult r = NewCurlTransport(o, clock_)->Send(Webhook("d-ssrf", url));
    const std::string label =
        absl::StrCat(c.answer[0].ToString(), " allow=", c.allow);
    EXPECT_FALSE(r.ok) << label;
    EXPECT_EQ(r.error,
              absl::StrCat("webhook address not allowed (", c.why, ")"))
        << label;
    EXPECT_EQ(r.reason, SendErrorReason::kEndpoint) << label;
    EXPECT_EQ(r.response_code, 0) << label;
    EXPECT_EQ(dns.calls, 1) << label;
  }
  // A name that does not resolve is the network's failure, also unsent.
  FakeDns nxdomain{.answer = absl::UnavailableError("NXDOMAIN")};
  SendResult r = NewCurlTransport({.resolve_host = nxdomain.resolver()}, clock_)
                     ->Send(Webhook("d-nx", url));
  EXPECT_EQ(r.error, "webhook host does not resolve");
  EXPECT_EQ(r.reason, SendErrorReason::kNetwork);
  EXPECT_EQ(target.Connections(), 0);
}

}  // namespace
}  // namespace lienthong::notify
