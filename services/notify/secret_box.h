#pragma once
// Webhook secrets at rest: AES-256-GCM under a key the operator keeps
// outside the database (`--webhook_secret_key_file`, a Kubernetes Secret in
// production). notify must sign with the secret itself (HMAC), so it cannot
// store a hash; a database dump or backup without the key reveals nothing.
//
// Stored form: "aesgcm1:" + base64(12-byte nonce || ciphertext || 16-byte
// tag), the tag also covering the prefix. Values without the prefix are
// plaintext from before encryption was switched on (or a deployment without
// a key, e.g. the local stack) and are read as they are.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::notify {

class SecretBox {
 public:
  // No key: Seal stores plaintext, Open refuses sealed values.
  SecretBox() = default;

  // The key file holds 32 random bytes, raw or as 64 hex digits or base64
  // (`openssl rand -base64 32`); surrounding whitespace is ignored.
  static absl::StatusOr<SecretBox> FromKeyFile(const std::string& path);
  static absl::StatusOr<SecretBox> FromKey(absl::string_view key_text);

  bool has_key() const { return !key_.empty(); }

  // The stored form of `secret` (plaintext when there is no key).
  absl::StatusOr<std::string> Seal(absl::string_view secret) const;

  // The secret back; FAILED_PRECONDITION when it is sealed and there is no
  // key, DATA_LOSS when it does not decrypt under this key.
  absl::StatusOr<std::string> Open(absl::string_view stored) const;

 private:
  std::string key_;  // 32 bytes, or empty
};

}  // namespace lienthong::notify
