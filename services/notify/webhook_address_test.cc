#include "services/notify/webhook_address.h"

#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"

namespace lienthong::notify {
namespace {

using ::lienthong::testing::StatusIs;

std::optional<std::string> Refusal(const char* address,
                                   const char* allow = "") {
  std::optional<IpAddress> a = IpAddress::Parse(address);
  EXPECT_TRUE(a.has_value()) << address;
  if (!a.has_value()) return "unparsable";
  absl::StatusOr<std::vector<Cidr>> allowed = ParseCidrs(allow);
  EXPECT_TRUE(allowed.ok()) << allow;
  std::optional<absl::string_view> r = WebhookAddressRefusal(*a, *allowed);
  return r.has_value() ? std::optional<std::string>(*r) : std::nullopt;
}

TEST(WebhookAddressTest, NonPublicAddressesAreRefusedByKind) {
  struct Case {
    const char* address;
    const char* kind;  // nullptr: public, allowed
  };
  const Case cases[] = {
      // IPv4
      {"0.0.0.0", "unspecified"},
      {"0.1.2.3", "unspecified"},
      {"127.0.0.1", "loopback"},
      {"127.255.255.254", "loopback"},
      {"10.0.0.1", "private"},
      {"10.255.255.255", "private"},
      {"172.16.0.1", "private"},
      {"172.31.255.255", "private"},
      {"192.168.1.10", "private"},
      {"169.254.169.254", "link-local"},  // cloud metadata
      {"100.64.0.1", "CGNAT"},
      {"100.127.255.255", "CGNAT"},
      {"224.0.0.1", "multicast"},
      {"239.255.255.250", "multicast"},
      {"255.255.255.255", "reserved"},
      {"198.18.0.1", "reserved"},
      // Just outside the ranges: public.
      {"172.15.255.255", nullptr},
      {"172.32.0.0", nullptr},
      {"100.63.255.255", nullptr},
      {"100.128.0.0", nullptr},
      {"169.253.255.255", nullptr},
      {"11.0.0.1", nullptr},
      {"192.169.0.1", nullptr},
      {"203.162.4.190", nullptr},  // a public Vietnamese address
      {"8.8.8.8", nullptr},
      // IPv6
      {"::", "unspecified"},
      {"::1", "loopback"},
      {"[::1]", "loopback"},
      {"fe80::1", "link-local"},
      {"febf:ffff::1", "link-local"},
      {"fc00::1", "private"},
      {"fd12:3456::1", "private"},
      {"ff02::1", "multicast"},
      {"::ffff:127.0.0.1", "loopback"},  // IPv4-mapped
      {"::ffff:10.1.2.3", "private"},
      {"::ffff:169.254.169.254", "link-local"},
      {"64:ff9b::a9fe:a9fe", "link-local"},  // NAT64 of 169.254.169.254
      {"::127.0.0.1", "reserved"},           // IPv4-compatible
      {"2001:db8::1", "reserved"},
      {"fec0::1", "private"},
      {"fe7f:ffff::1", nullptr},
      {"fe00::1", nullptr},
      {"2001:ee0:4141::1", nullptr},  // public (VNPT)
      {"2404:6800:4005::200e", nullptr},
      {"::ffff:8.8.8.8", nullptr},
      {"64:ff9b::808:808", nullptr},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Refusal(c.address), c.kind == nullptr
                                      ? std::nullopt
                                      : std::optional<std::string>(c.kind))
        << c.address;
  }
}

TEST(WebhookAddressTest, AllowedCidrsLetOpsOpenPrivateRanges) {
  EXPECT_EQ(Refusal("127.0.0.1", "127.0.0.0/8"), std::nullopt);
  EXPECT_EQ(Refusal("127.9.9.9", "127.0.0.0/8"), std::nullopt);
  EXPECT_EQ(Refusal("::ffff:127.0.0.1", "127.0.0.0/8"), std::nullopt);
  EXPECT_EQ(Refusal("::1", "127.0.0.0/8"), "loopback");
  EXPECT_EQ(Refusal("10.20.3.4", "10.20.0.0/16, 192.168.5.0/24"), std::nullopt);
  EXPECT_EQ(Refusal("10.21.0.1", "10.20.0.0/16, 192.168.5.0/24"), "private");
  EXPECT_EQ(Refusal("192.168.5.77", "10.20.0.0/16,192.168.5.0/24"),
            std::nullopt);
  EXPECT_EQ(Refusal("169.254.169.254", "10.0.0.0/8"), "link-local");
  EXPECT_EQ(Refusal("fd00:1::5", "fd00:1::/32"), std::nullopt);
  EXPECT_EQ(Refusal("fd00:2::5", "fd00:1::/32"), "private");
  EXPECT_EQ(Refusal("10.0.0.7", "10.0.0.7"), std::nullopt);  // a bare /32
  EXPECT_EQ(Refusal("10.0.0.8", "10.0.0.7"), "private");
  EXPECT_EQ(Refusal("10.0.0.8", "0.0.0.0/0"), std::nullopt);
}

TEST(WebhookAddressTest, ParseCidrsRefusesWhatIsNotACidr) {
  EXPECT_THAT(ParseCidrs(""), ::lienthong::testing::IsOk());
  EXPECT_TRUE(ParseCidrs(" , ")->empty());
  EXPECT_EQ(ParseCidrs("10.0.0.0/8,fd00::/8")->size(), 2u);
  for (const char* bad :
       {"10.0.0.0/33", "fd00::/129", "10.0.0/8", "example.vn/24", "10.0.0.0/",
        "10.0.0.0/-1", "10.0.0.0/8x", "[::1]/128", "localhost"}) {
    EXPECT_THAT(ParseCidrs(bad), StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(WebhookAddressTest, ParseAcceptsOnlyAddresses) {
  EXPECT_TRUE(IpAddress::Parse("203.162.4.190").has_value());
  EXPECT_TRUE(IpAddress::Parse("[2001:db8::1]")->v6);
  EXPECT_FALSE(IpAddress::Parse("example.vn").has_value());
  EXPECT_FALSE(IpAddress::Parse("[127.0.0.1").has_value());
  EXPECT_FALSE(IpAddress::Parse("2130706433").has_value());
  EXPECT_EQ(IpAddress::Parse("::ffff:127.0.0.1")->ToString(),
            "::ffff:127.0.0.1");
}

}  // namespace
}  // namespace lienthong::notify
