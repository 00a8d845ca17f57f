#include "services/notify/secret_box.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace lienthong::notify {
namespace {

constexpr absl::string_view kPrefix = "aesgcm1:";
constexpr int kNonce = 12;
constexpr int kTag = 16;

using CipherCtx =
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

absl::StatusOr<SecretBox> SecretBox::FromKey(absl::string_view key_text) {
  const absl::string_view text = absl::StripAsciiWhitespace(key_text);
  std::string key;
  if (text.size() == 64 &&
      text.find_first_not_of("0123456789abcdefABCDEF") == text.npos) {
    key = absl::HexStringToBytes(text);
  } else if (key_text.size() == 32) {
    key = std::string(key_text);  // raw bytes
  } else if (!absl::Base64Unescape(text, &key)) {
    key.clear();
  }
  if (key.size() != 32) {
    return absl::InvalidArgumentError(
        "the webhook secret key must be 32 bytes (raw, 64 hex digits or "
        "base64; e.g. `openssl rand -base64 32`)");
  }
  SecretBox box;
  box.key_ = std::move(key);
  return box;
}

absl::StatusOr<SecretBox> SecretBox::FromKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read the webhook secret key file ", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return FromKey(ss.str());
}

absl::StatusOr<std::string> SecretBox::Seal(absl::string_view secret) const {
  if (key_.empty()) return std::string(secret);
  unsigned char nonce[kNonce];
  if (RAND_bytes(nonce, kNonce) != 1) {
    return absl::InternalError("no randomness for a nonce");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(kNonce + secret.size() + kTag, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  std::copy(nonce, nonce + kNonce, o);
  int len = 0, fin = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key_),
                         nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(kPrefix),
                        static_cast<int>(kPrefix.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + kNonce, &len, U(secret),
                        static_cast<int>(secret.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + kNonce + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag,
                          o + kNonce + secret.size()) != 1) {
    return absl::InternalError("encrypting a webhook secret failed");
  }
  return absl::StrCat(kPrefix, absl::Base64Escape(out));
}

absl::StatusOr<std::string> SecretBox::Open(absl::string_view stored) const {
  if (!absl::StartsWith(stored, kPrefix)) return std::string(stored);
  if (key_.empty()) {
    return absl::FailedPreconditionError(
        "the webhook secret is encrypted; start notify with "
        "--webhook_secret_key_file");
  }
  std::string raw;
  if (!absl::Base64Unescape(stored.substr(kPrefix.size()), &raw) ||
      raw.size() < kNonce + kTag) {
    return absl::DataLossError("a stored webhook secret is malformed");
  }
  const size_t n = raw.size() - kNonce - kTag;
  std::string plain(n, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  const auto* r = U(raw);
  int len = 0, fin = 0;
  if (ctx == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key_), r) !=
          1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(kPrefix),
                        static_cast<int>(kPrefix.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(),
                        reinterpret_cast<unsigned char*>(plain.data()), &len,
                        r + kNonce, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag,
                          const_cast<unsigned char*>(r + kNonce + n)) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(),
                          reinterpret_cast<unsigned char*>(plain.data()) + len,
                          &fin) != 1) {
    return absl::DataLossError(
        "a stored webhook secret does not decrypt under this key (wrong "
        "--webhook_secret_key_file, or the row was altered)");
  }
  return plain;
}

}  // namespace lienthong::notify
