#include "services/notify/webhook_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"

namespace lienthong::notify {

std::string HmacSha256Hex(absl::string_view secret, absl::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xF];
  }
  return out;
}

std::string SignWebhook(absl::string_view secret, absl::Time t,
                        absl::string_view body,
                        absl::string_view previous_secret) {
  const int64_t ts = absl::ToUnixSeconds(t);
  const std::string signed_text = absl::StrCat(ts, ".", body);
  std::string header =
      absl::StrCat("t=", ts, ",v1=", HmacSha256Hex(secret, signed_text));
  if (!previous_secret.empty() && previous_secret != secret) {
    absl::StrAppend(&header,
                    ",v1=", HmacSha256Hex(previous_secret, signed_text));
  }
  return header;
}

absl::Status VerifyWebhook(absl::string_view secret, absl::string_view header,
                           absl::string_view body, absl::Time now,
                           absl::Duration tolerance) {
  int64_t ts = 0;
  bool have_ts = false;
  std::vector<std::string> candidates;
  for (absl::string_view part : absl::StrSplit(header, ',')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.first == "t") {
      have_ts = absl::SimpleAtoi(kv.second, &ts);
    } else if (kv.first == "v1") {
      candidates.emplace_back(kv.second);
    }
  }
  if (!have_ts || candidates.empty()) {
    return common::Unauthenticated("MALFORMED_SIGNATURE",
                                   "signature header needs t= and v1=");
  }
  if (absl::AbsDuration(now - absl::FromUnixSeconds(ts)) > tolerance) {
    return common::Unauthenticated("STALE_SIGNATURE",
                                   "signature timestamp outside tolerance");
  }
  const std::string want = HmacSha256Hex(secret, absl::StrCat(ts, ".", body));
  for (const std::string& c : candidates) {
    if (c.size() == want.size() &&
        CRYPTO_memcmp(c.data(), want.data(), want.size()) == 0) {
      return absl::OkStatus();
    }
  }
  return common::Unauthenticated("BAD_SIGNATURE",
                                 "signature does not match the body");
}

}  // namespace lienthong::notify
