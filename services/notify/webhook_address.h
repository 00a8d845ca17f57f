#pragma once
// Which addresses a webhook may be sent to. An agency chooses its webhook's
// URL and sees each attempt's error, code and latency, so without this
// check notify would probe (and POST to) our own network for it: loopback,
// link-local (cloud metadata at 169.254.169.254), private, CGNAT,
// unspecified, multicast and reserved addresses are refused unless ops
// allowed them (--webhook_allow_cidrs, e.g. a government private network).
// Pure: addresses in, verdict out (the transport resolves names).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::notify {

// An IPv4 or IPv6 address; IPv4 is kept as such (4 bytes).
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4
  // "10.0.0.1", "fe80::1", "[::1]" (brackets allowed); nullopt otherwise.
  static std::optional<IpAddress> Parse(absl::string_view text);
  std::string ToString() const;
  bool operator==(const IpAddress&) const = default;
};

struct Cidr {
  IpAddress base;
  int prefix = 0;
  bool Contains(const IpAddress& a) const;
};

// "10.20.0.0/16, 2001:db8::/32" (comma-separated; spaces ignored; a bare
// address is /32 or /128). Empty gives none. INVALID_ARGUMENT naming the
// bad entry otherwise.
absl::StatusOr<std::vector<Cidr>> ParseCidrs(absl::string_view list);

// The kind of non-public range `a` is in ("loopback", "private",
// "link-local", "CGNAT", "unspecified", "multicast", "reserved"), or
// nullopt for a public address. IPv4-mapped (::ffff:a.b.c.d) and NAT64
// (64:ff9b::a.b.c.d) IPv6 addresses are judged by their IPv4 address.
std::optional<absl::string_view> NonPublicRange(const IpAddress& a);

// Why `a` must not be called (the range's kind), or nullopt when it may
// be: a public address, or one inside `allowed`.
std::optional<absl::string_view> WebhookAddressRefusal(
    const IpAddress& a, const std::vector<Cidr>& allowed);

}  // namespace lienthong::notify
