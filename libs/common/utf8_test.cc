#include "libs/common/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace lienthong::common {
namespace {

TEST(Utf8Test, AcceptsVietnamese) {
  EXPECT_TRUE(IsValidUtf8("Đăng ký khai sinh, thường trú, cấp thẻ BHYT"));
  EXPECT_TRUE(IsValidUtf8("Phường Thanh Xuân Trung — Quận Thanh Xuân"));
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_EQ(Utf8Length("Tây Mỗ"), 6u);
  EXPECT_TRUE(HasNonAscii("Tây"));
  EXPECT_FALSE(HasNonAscii("Tay Mo"));
}

TEST(Utf8Test, RejectsMalformedSequences) {
  const std::string cases[] = {
      "\xC3",              // truncated 2-byte
      "\xC0\xAF",          // overlong '/'
      "\xE0\x80\xAF",      // overlong 3-byte
      "\xED\xA0\x80",      // surrogate U+D800
      "\xF4\x90\x80\x80",  // > U+10FFFF
      "\x80",              // lone continuation
      "abc\xFF",           // invalid byte
      "Vi\xE1\xBB",        // truncated "ệ"
  };
  for (const std::string& c : cases) {
    EXPECT_FALSE(IsValidUtf8(c)) << "bytes of length " << c.size();
  }
}

TEST(JsonEscapeTest, EscapesQuotesBackslashesAndControlsKeepsVietnamese) {
  EXPECT_EQ(JsonEscape("Hồ sơ \"mới\"\\\n\t\r\x01"),
            "Hồ sơ \\\"mới\\\"\\\\\\n\\t\\r\\u0001");
  EXPECT_EQ(JsonEscape(""), "");
}

TEST(Utf8Test, AppendUtf8WritesEachLengthAndReplacesWhatIsNotText) {
  std::string out;
  for (char32_t cp : {U'a', U'\u00e0', U'\u1ec7', U'\U0001F600'}) {
    AppendUtf8(cp, &out);
  }
  EXPECT_EQ(out, "a\u00e0\u1ec7\U0001F600");  // a, à, ệ, 😀
  std::string bad;
  AppendUtf8(0xD800, &bad);
  AppendUtf8(0x110000, &bad);
  AppendUtf8(0, &bad);
  EXPECT_EQ(bad, "\uFFFD\uFFFD\uFFFD");
}

}  // namespace
}  // namespace lienthong::common
