#include "libs/common/uuid.h"

#include <openssl/sha.h>

#include <cstdint>
#include <random>

#include "absl/synchronization/mutex.h"

namespace lienthong::common {

std::string NewUuid() {
  static absl::Mutex mu(absl::kConstInit);
  static std::mt19937_64* gen = nullptr;
  uint64_t hi, lo;
  {
    absl::MutexLock lock(&mu);
    if (gen == nullptr) {
      std::random_device rd;
      std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
      gen = new std::mt19937_64(seq);
    }
    hi = (*gen)();
    lo = (*gen)();
  }
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 1
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    const uint64_t word = i < 16 ? hi : lo;
    const int shift = (15 - (i % 16)) * 4;
    out += kHex[(word >> shift) & 0xF];
    if (i == 7 || i == 11 || i == 15 || i == 19) out += '-';
  }
  return out;
}

std::string Version8Uuid(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  digest[6] = (digest[6] & 0x0F) | 0x80;  // version 8 (custom)
  digest[8] = (digest[8] & 0x3F) | 0x80;  // variant 10 (RFC 9562)
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

bool IsUuid(absl::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                 (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace lienthong::common
