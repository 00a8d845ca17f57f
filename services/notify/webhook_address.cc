#include "services/notify/webhook_address.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"

namespace lienthong::notify {
namespace {

struct Range {
  const char* cidr;
  absl::string_view kind;
};

// RFC 6890 special-purpose ranges a webhook has no business reaching.
constexpr Range kV4Ranges[] = {
    {"0.0.0.0/8", "unspecified"},     {"10.0.0.0/8", "private"},
    {"100.64.0.0/10", "CGNAT"},       {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"}, {"172.16.0.0/12", "private"},
    {"192.0.0.0/24", "reserved"},     {"192.0.2.0/24", "reserved"},
    {"192.168.0.0/16", "private"},    {"198.18.0.0/15", "reserved"},
    {"198.51.100.0/24", "reserved"},  {"203.0.113.0/24", "reserved"},
    {"224.0.0.0/4", "multicast"},     {"240.0.0.0/4", "reserved"},
};
constexpr Range kV6Ranges[] = {
    {"::/128", "unspecified"}, {"::1/128", "loopback"},
    {"::/96", "reserved"},  // IPv4-compatible (deprecated)
    {"100::/64", "reserved"},  {"2001:db8::/32", "reserved"},
    {"fc00::/7", "private"},   {"fe80::/10", "link-local"},
    {"fec0::/10", "private"},  // site-local (deprecated)
    {"ff00::/8", "multicast"},
};

Cidr MustCidr(const char* text) {
  absl::StatusOr<std::vector<Cidr>> c = ParseCidrs(text);
  return (*c)[0];
}

const std::vector<std::pair<Cidr, absl::string_view>>& Ranges() {
  static const auto* ranges = [] {
    auto* v = new std::vector<std::pair<Cidr, absl::string_view>>();
    for (const Range& r : kV4Ranges) v->push_back({MustCidr(r.cidr), r.kind});
    for (const Range& r : kV6Ranges) v->push_back({MustCidr(r.cidr), r.kind});
    return v;
  }();
  return *ranges;
}

// The IPv4 address inside an IPv4-mapped or NAT64 IPv6 address.
std::optional<IpAddress> EmbeddedV4(const IpAddress& a) {
  if (!a.v6) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0,    0,
                                          0, 0, 0, 0, 0xff, 0xff};
  static constexpr uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0,
                                         0, 0,    0,    0,    0, 0};
  if (!std::equal(kMapped, kMapped + 12, a.bytes.begin()) &&
      !std::equal(kNat64, kNat64 + 12, a.bytes.begin())) {
    return std::nullopt;
  }
  IpAddress v4;
  std::copy_n(a.bytes.begin() + 12, 4, v4.bytes.begin());
  return v4;
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (absl::ConsumePrefix(&text, "[") && !absl::ConsumeSuffix(&text, "]")) {
    return std::nullopt;
  }
  const std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof(buf));
  return buf;
}

bool Cidr::Contains(const IpAddress& a) const {
  if (a.v6 != base.v6) return false;
  int bits = prefix;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask =
        bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a.bytes[i] & mask) != (base.bytes[i] & mask)) return false;
  }
  return true;
}

absl::StatusOr<std::vector<Cidr>> ParseCidrs(absl::string_view list) {
  std::vector<Cidr> out;
  for (absl::string_view item :
       absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    const std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(item, absl::MaxSplits('/', 1));
    std::optional<IpAddress> base = IpAddress::Parse(parts.first);
    int prefix = 0;
    const int max = base.has_value() && base->v6 ? 128 : 32;
    const bool has_prefix = absl::StrContains(item, '/');
    if (!base.has_value() || absl::StartsWith(parts.first, "[") ||
        (has_prefix && (!absl::SimpleAtoi(parts.second, &prefix) ||
                        prefix < 0 || prefix > max))) {
      return common::InvalidArgument(
          "INVALID_CIDR",
          {{"cidr", absl::StrCat("'", item,
                                 "' is not an address/prefix, e.g. "
                                 "10.20.0.0/16 or fd00::/8")}});
    }
    out.push_back({*base, has_prefix ? prefix : max});
  }
  return out;
}

std::optional<absl::string_view> NonPublicRange(const IpAddress& a) {
  if (std::optional<IpAddress> v4 = EmbeddedV4(a); v4.has_value()) {
    return NonPublicRange(*v4);
  }
  for (const auto& [cidr, kind] : Ranges()) {
    if (cidr.Contains(a)) return kind;
  }
  return std::nullopt;
}

std::optional<absl::string_view> WebhookAddressRefusal(
    const IpAddress& a, const std::vector<Cidr>& allowed) {
  std::optional<absl::string_view> kind = NonPublicRange(a);
  if (!kind.has_value()) return std::nullopt;
  const std::optional<IpAddress> v4 = EmbeddedV4(a);
  for (const Cidr& c : allowed) {
    if (c.Contains(a) || (v4.has_value() && c.Contains(*v4))) {
      return std::nullopt;
    }
  }
  return kind;
}

}  // namespace lienthong::notify
