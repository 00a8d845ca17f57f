#include "services/notify/webhook_signature.h"

#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"

namespace lienthong::notify {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusHasReason;

TEST(WebhookSignatureTest, KnownVector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookSignatureTest, HeaderShapeAndRoundTrip) {
  const absl::Time t = absl::FromUnixSeconds(1773302400);
  const std::string body =
      R"({"event_type":"dossier_received","text":"Hồ sơ"})";
  const std::string h = SignWebhook("bí-mật", t, body);
  EXPECT_EQ(h.substr(0, 16), "t=1773302400,v1=");
  EXPECT_EQ(h.size(), 16u + 64u);
  EXPECT_EQ(h.substr(16), HmacSha256Hex("bí-mật", "1773302400." + body));
  EXPECT_THAT(VerifyWebhook("bí-mật", h, body, t + absl::Seconds(30)), IsOk());
}

TEST(WebhookSignatureTest, RejectsTamperingWrongSecretAndReplays) {
  const absl::Time t = absl::FromUnixSeconds(1773302400);
  const std::string body = R"({"dossier":"dossiers/X","n":1})";
  const std::string h = SignWebhook("secret", t, body);
  EXPECT_THAT(
      VerifyWebhook("secret", h, R"({"dossier":"dossiers/X","n":2})", t),
      StatusHasReason(absl::StatusCode::kUnauthenticated, "BAD_SIGNATURE"));
  EXPECT_THAT(
      VerifyWebhook("other", h, body, t),
      StatusHasReason(absl::StatusCode::kUnauthenticated, "BAD_SIGNATURE"));
  // The timestamp is signed: moving it breaks the signature.
  std::string moved = h;
  moved.replace(2, 10, "1773302460");
  EXPECT_THAT(
      VerifyWebhook("secret", moved, body, t),
      StatusHasReason(absl::StatusCode::kUnauthenticated, "BAD_SIGNATURE"));
  // A replay after the tolerance fails even with a valid signature.
  EXPECT_THAT(
      VerifyWebhook("secret", h, body, t + absl::Minutes(6)),
      StatusHasReason(absl::StatusCode::kUnauthenticated, "STALE_SIGNATURE"));
  EXPECT_THAT(
      VerifyWebhook("secret", h, body, t - absl::Minutes(6)),
      StatusHasReason(absl::StatusCode::kUnauthenticated, "STALE_SIGNATURE"));
}

TEST(WebhookSignatureTest, RejectsMalformedHeaders) {
  const absl::Time t = absl::FromUnixSeconds(1773302400);
  for (const char* bad : {"", "v1=abc", "t=1773302400", "t=x,v1=ab", "junk"}) {
    EXPECT_THAT(VerifyWebhook("s", bad, "{}", t),
                StatusHasReason(absl::StatusCode::kUnauthenticated,
                                "MALFORMED_SIGNATURE"))
        << bad;
  }
}

TEST(WebhookSignatureTest, AcceptsAnyOfSeveralSignatures) {
  const absl::Time t = absl::FromUnixSeconds(1773302400);
  const std::string good = SignWebhook("new", t, "{}");
  const std::string header =
      "t=1773302400,v1=" + std::string(64, '0') + "," + good.substr(13);
  EXPECT_THAT(VerifyWebhook("new", header, "{}", t), IsOk());
}

TEST(WebhookSignatureTest, DuringARotationBothSecretsSign) {
  const absl::Time t = absl::FromUnixSeconds(1773302400);
  const std::string h = SignWebhook("new-secret", t, "{}", "old-secret");
  // t=, then the new secret's v1=, then the old one's.
  EXPECT_EQ(h, SignWebhook("new-secret", t, "{}") +
                   ",v1=" + HmacSha256Hex("old-secret", "1773302400.{}"));
  EXPECT_THAT(VerifyWebhook("new-secret", h, "{}", t), IsOk());
  EXPECT_THAT(VerifyWebhook("old-secret", h, "{}", t), IsOk());
  EXPECT_THAT(
      VerifyWebhook("other-secret", h, "{}", t),
      StatusHasReason(absl::StatusCode::kUnauthenticated, "BAD_SIGNATURE"));
  // No rotation, or "rotated" to the same secret: one signature.
  EXPECT_EQ(SignWebhook("new-secret", t, "{}", "new-secret"),
            SignWebhook("new-secret", t, "{}"));
  EXPECT_EQ(SignWebhook("new-secret", t, "{}", ""),
            SignWebhook("new-secret", t, "{}"));
}

}  // namespace
}  // namespace lienthong::notify
