#include "services/notify/secret_box.h"

#include "gtest/gtest.h"

namespace lienthong::notify {
namespace {

constexpr char kHexKey[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

TEST(SecretBoxTest, SealedSecretOpensAndDoesNotShowThePlaintext) {
  absl::StatusOr<SecretBox> box = SecretBox::FromKey(kHexKey);
  ASSERT_TRUE(box.ok()) << box.status();
  const std::string secret = "bí-mật-của-phường-Tây-Mỗ-2026";
  absl::StatusOr<std::string> sealed = box->Seal(secret);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->rfind("aesgcm1:", 0), 0u);
  EXPECT_EQ(sealed->find("Tây"), std::string::npos);
  EXPECT_EQ(box->Open(*sealed).value_or(""), secret);
  // A fresh nonce each time: the same secret never seals the same way.
  EXPECT_NE(*sealed, box->Seal(secret).value_or(""));
}

TEST(SecretBoxTest, KeyFormatsAgreeAndBadKeysAreRefused) {
  absl::StatusOr<SecretBox> hex = SecretBox::FromKey(kHexKey);
  absl::StatusOr<SecretBox> b64 =
      SecretBox::FromKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
  ASSERT_TRUE(hex.ok() && b64.ok());
  EXPECT_EQ(b64->Open(hex->Seal("abcdefghijklmnop").value()).value_or(""),
            "abcdefghijklmnop");
  EXPECT_FALSE(SecretBox::FromKey("too-short").ok());
  EXPECT_FALSE(SecretBox::FromKey(std::string(64, 'z')).ok());
}

TEST(SecretBoxTest, WrongKeyOrTamperingIsDataLoss) {
  SecretBox a = SecretBox::FromKey(kHexKey).value();
  SecretBox b = SecretBox::FromKey(std::string(64, 'f')).value();
  std::string sealed = a.Seal("abcdefghijklmnop").value();
  EXPECT_EQ(b.Open(sealed).status().code(), absl::StatusCode::kDataLoss);
  std::string tampered = sealed;
  tampered[12] = tampered[12] == 'A' ? 'B' : 'A';
  EXPECT_EQ(a.Open(tampered).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(a.Open("aesgcm1:!!").status().code(), absl::StatusCode::kDataLoss);
}

TEST(SecretBoxTest, WithoutAKeyPlaintextPassesAndSealedValuesAreRefused) {
  SecretBox none;
  EXPECT_EQ(none.Seal("abcdefghijklmnop").value(), "abcdefghijklmnop");
  EXPECT_EQ(none.Open("abcdefghijklmnop").value(), "abcdefghijklmnop");
  SecretBox keyed = SecretBox::FromKey(kHexKey).value();
  EXPECT_EQ(keyed.Open("legacy-plaintext-secret").value(),
            "legacy-plaintext-secret");
  EXPECT_EQ(none.Open(keyed.Seal("abcdefghijklmnop").value()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace lienthong::notify
