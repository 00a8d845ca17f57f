#include "services/notify/sms.h"

#include <string>

#include "gtest/gtest.h"

namespace lienthong::notify {
namespace {

std::string Repeat(absl::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.append(s.data(), s.size());
  return out;
}

TEST(SmsTest, SegmentBoundaries) {
  struct Case {
    std::string text;
    SmsEncoding encoding;
    int units;
    int segments;
  };
  const Case cases[] = {
      {"", SmsEncoding::kGsm7, 0, 0},
      {Repeat("a", 160), SmsEncoding::kGsm7, 160, 1},
      {Repeat("a", 161), SmsEncoding::kGsm7, 161, 2},
      {Repeat("a", 306), SmsEncoding::kGsm7, 306, 2},
      {Repeat("a", 307), SmsEncoding::kGsm7, 307, 3},
      // Extension characters take two septets.
      {Repeat("€", 80), SmsEncoding::kGsm7, 160, 1},
      {Repeat("[", 81), SmsEncoding::kGsm7, 162, 2},
      // GSM-7 accented letters stay GSM-7.
      {"é à ü Ñ", SmsEncoding::kGsm7, 7, 1},
      // Vietnamese diacritics force UCS-2.
      {Repeat("ạ", 70), SmsEncoding::kUcs2, 70, 1},
      {Repeat("ạ", 71), SmsEncoding::kUcs2, 71, 2},
      {Repeat("ạ", 134), SmsEncoding::kUcs2, 134, 2},
      {Repeat("ạ", 135), SmsEncoding::kUcs2, 135, 3},
      {"Hồ sơ", SmsEncoding::kUcs2, 5, 1},
      // One ASCII text with a single "đ" is all UCS-2.
      {Repeat("a", 69) + "đ", SmsEncoding::kUcs2, 70, 1},
      // Astral characters are two UTF-16 units.
      {Repeat("😀", 35), SmsEncoding::kUcs2, 70, 1},
      {Repeat("😀", 36), SmsEncoding::kUcs2, 72, 2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    SmsInfo info = AnalyzeSms(c.text);
    EXPECT_EQ(info.encoding, c.encoding);
    EXPECT_EQ(info.units, c.units);
    EXPECT_EQ(info.segments, c.segments);
  }
}

TEST(SmsTest, TruncateKeepsFittingTextsAndCutsLongOnes) {
  EXPECT_EQ(TruncateSms("Hồ sơ đã tiếp nhận", 1), "Hồ sơ đã tiếp nhận");
  const std::string long_text = Repeat("Hồ sơ ", 50);  // 300 units
  const std::string cut = TruncateSms(long_text, 2);
  EXPECT_EQ(SmsSegments(cut), 2);
  EXPECT_EQ(AnalyzeSms(cut).units, 134);
  EXPECT_EQ(cut.substr(cut.size() - 3), "…");
  EXPECT_EQ(SmsSegments(TruncateSms(long_text, 1)), 1);
  // Never cuts a multi-byte character.
  const std::string one = TruncateSms(Repeat("ệ", 100), 1);
  EXPECT_EQ(one, Repeat("ệ", 69) + "…");
}

}  // namespace
}  // namespace lienthong::notify
