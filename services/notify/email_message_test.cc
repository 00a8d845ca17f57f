#include "services/notify/email_message.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/utf8.h"

namespace lienthong::notify {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Lines(absl::string_view s) {
  return absl::StrSplit(s, "\r\n");
}

struct Decoded {
  std::string value;
  std::vector<std::string> words;    // the encoded-words, as written
  std::vector<std::string> payload;  // what each one carries
};

// A header field's value as a reader sees it: unfolded, encoded-words
// decoded, the space between two adjacent encoded-words dropped (RFC 2047,
// 6.2).
Decoded DecodeField(absl::string_view field) {
  Decoded d;
  const size_t colon = field.find(':');
  std::string unfolded =
      absl::StrReplaceAll(field.substr(colon + 1), {{"\r\n", ""}});
  bool previous_encoded = false;
  for (absl::string_view token :
       absl::StrSplit(unfolded, ' ', absl::SkipEmpty())) {
    const bool encoded =
        absl::StartsWith(token, "=?UTF-8?B?") && absl::EndsWith(token, "?=");
    if (!d.value.empty() && !(encoded && previous_encoded)) d.value += ' ';
    if (encoded) {
      d.words.emplace_back(token);
      absl::string_view b64 = token;
      b64.remove_prefix(10);
      b64.remove_suffix(2);
      std::string bytes;
      EXPECT_TRUE(absl::Base64Unescape(b64, &bytes)) << token;
      d.payload.push_back(bytes);
      d.value += bytes;
    } else {
      absl::StrAppend(&d.value, token);
    }
    previous_encoded = encoded;
  }
  return d;
}

const char* const kSubjects[] = {
    "Đã tiếp nhận hồ sơ 000.00.14.H26-260312-0042",
    "Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ 000.00.14.H26-260312-0042",
    "Thay đổi lịch hẹn trả kết quả hồ sơ 000.00.14.H26-260312-0042",
    "Thông báo từ chối giải quyết hồ sơ 000.00.14.H26-260312-0042",
    "Thông báo về hồ sơ 000.00.14.H26-260312-0042 của Ủy ban nhân dân "
    "phường Tây Mỗ, quận Nam Từ Liêm, thành phố Hà Nội — ngày 18/03/2026",
    "ễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễễ",
    "𝕍𝕚ệ𝕥 ℕ𝕒𝕞 🇻🇳 four-byte code points 𝕍𝕚ệ𝕥 ℕ𝕒𝕞 🇻🇳 𝕍𝕚ệ𝕥 ℕ𝕒𝕞",
};

TEST(EncodeHeaderFieldTest, LongVietnameseSubjectsFoldIntoShortEncodedWords) {
  for (const char* subject : kSubjects) {
    SCOPED_TRACE(subject);
    const std::string field = EncodeHeaderField("Subject", subject);
    const std::vector<std::string> lines = Lines(field);
    ASSERT_FALSE(lines.empty());
    EXPECT_TRUE(absl::StartsWith(lines[0], "Subject: =?UTF-8?B?"));
    for (size_t i = 0; i < lines.size(); ++i) {
      EXPECT_LE(lines[i].size(), 76u) << lines[i];
      if (i > 0) {
        EXPECT_TRUE(absl::StartsWith(lines[i], " ")) << lines[i];
      }
    }
    const Decoded d = DecodeField(field);
    EXPECT_EQ(d.value, subject);
    ASSERT_FALSE(d.words.empty());
    for (size_t i = 0; i < d.words.size(); ++i) {
      EXPECT_LE(d.words[i].size(), 75u) << d.words[i];
      // Each word carries whole code points: none is cut in two.
      EXPECT_TRUE(common::IsValidUtf8(d.payload[i])) << d.words[i];
    }
  }
  // The longest ones take several words.
  EXPECT_GT(
      DecodeField(EncodeHeaderField("Subject", kSubjects[4])).words.size(), 2u);
}

TEST(EncodeHeaderFieldTest, ShortAsciiStaysPlainAndNewlinesCannotInject) {
  EXPECT_EQ(EncodeHeaderField("Subject", "Ho so 0042"), "Subject: Ho so 0042");
  const std::string injected =
      EncodeHeaderField("Subject", "Hồ sơ\r\nBcc: evil@z");
  EXPECT_THAT(injected, Not(HasSubstr("\r\nBcc:")));
  EXPECT_EQ(DecodeField(injected).value, "Hồ sơ  Bcc: evil@z");
  // A long ASCII value is folded too.
  const std::string long_ascii(120, 'a');
  const std::string field = EncodeHeaderField("Subject", long_ascii);
  for (const std::string& line : Lines(field)) EXPECT_LE(line.size(), 76u);
  EXPECT_EQ(DecodeField(field).value, long_ascii);
}

TEST(EncodeHeaderFieldTest, DisplayNameIsEncodedAndTheAddressStaysReadable) {
  const std::string from =
      EncodeHeaderField("From", "Bộ phận một cửa", "<mot-cua@hanoi.gov.vn>");
  EXPECT_TRUE(absl::StartsWith(from, "From: =?UTF-8?B?")) << from;
  EXPECT_TRUE(absl::EndsWith(from, " <mot-cua@hanoi.gov.vn>")) << from;
  EXPECT_EQ(DecodeField(from).value, "Bộ phận một cửa <mot-cua@hanoi.gov.vn>");
  // ASCII with a comma must not stand bare in a display name.
  EXPECT_THAT(EncodeHeaderField("From", "Ward 1, Ha Noi", "<a@b.vn>"),
              HasSubstr("=?UTF-8?B?"));
  EXPECT_EQ(EncodeHeaderField("From", "Mot cua", "<a@b.vn>"),
            "From: Mot cua <a@b.vn>");
  const std::string long_name = EncodeHeaderField(
      "From", "Bộ phận tiếp nhận và trả kết quả Ủy ban nhân dân phường Tây Mỗ",
      "<mot-cua@taymo.namtuliem.hanoi.gov.vn>");
  for (const std::string& line : Lines(long_name)) {
    EXPECT_LE(line.size(), 76u) << line;
  }
}

TEST(HtmlToTextTest, ParagraphsBreaksEntitiesAndTags) {
  EXPECT_EQ(HtmlToText("<p>Kính gửi Ông/Bà,</p>\n<p>Hồ sơ <strong>X</strong> "
                       "đã có kết quả &amp; giấy tờ &lt;bản chính&gt;.</p>\n"
                       "<p>Trân trọng.</p>"),
            "Kính gửi Ông/Bà,\r\n\r\nHồ sơ X đã có kết quả & giấy tờ "
            "<bản chính>.\r\n\r\nTrân trọng.");
  EXPECT_EQ(HtmlToText("a<br>b<br/>c"), "a\r\nb\r\nc");
  EXPECT_EQ(HtmlToText("<ul><li>một</li><li>hai</li></ul>"), "- một\r\n- hai");
  EXPECT_EQ(HtmlToText("&quot;&#39;&#x1EC7;&#7879;&unknown; &"),
            "\"'ệệ&unknown; &");
  EXPECT_EQ(HtmlToText("  nhiều   khoảng\n\t trắng  "), "nhiều khoảng trắng");
  EXPECT_EQ(HtmlToText(""), "");
}

// The parts of a multipart message, by content type, decoded.
std::map<std::string, std::string> Parts(const std::string& msg,
                                         const std::string& boundary) {
  std::map<std::string, std::string> parts;
  for (absl::string_view chunk :
       absl::StrSplit(msg, absl::StrCat("--", boundary))) {
    const size_t blank = chunk.find("\r\n\r\n");
    if (blank == absl::string_view::npos) continue;
    const absl::string_view head = chunk.substr(0, blank);
    if (!absl::StrContains(head, "Content-Type: text/")) continue;
    EXPECT_THAT(std::string(head),
                HasSubstr("Content-Transfer-Encoding: base64"));
    const size_t type_at = head.find("text/");
    const std::string type(
        head.substr(type_at, head.find(';', type_at) - type_at));
    std::string b64(chunk.substr(blank + 4));
    b64 = absl::StrReplaceAll(b64, {{"\r\n", ""}});
    std::string body;
    EXPECT_TRUE(absl::Base64Unescape(b64, &body)) << type;
    parts[type] = body;
  }
  return parts;
}

TEST(ComposeEmailTest, MultipartAlternativeWithShortLinesAndOurDomain) {
  const std::string subject =
      "Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ "
      "000.00.14.H26-260312-0042";
  const std::string html =
      "<p>Kính gửi Ông/Bà,</p>\n<p>Hồ sơ <strong>000.00.14.H26-260312-"
      "0042</strong> không thể trả kết quả đúng hẹn. Lý do: Cơ quan bảo hiểm "
      "xã hội cần thêm thời gian &amp; xác minh.</p>";
  const std::string msg =
      ComposeEmail("Bộ phận một cửa <mot-cua@hanoi.gov.vn>", "x@y.vn", subject,
                   html, "7c0e-id", absl::FromUnixSeconds(0));
  // Headers and body: every line within RFC 5322's 78 (ours: 76).
  for (const std::string& line : Lines(msg)) {
    EXPECT_LE(line.size(), 76u) << line;
  }
  EXPECT_THAT(msg, HasSubstr("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
  EXPECT_THAT(msg, HasSubstr("Message-ID: <7c0e-id@hanoi.gov.vn>\r\n"));
  EXPECT_THAT(msg, Not(HasSubstr("@lienthong>")));
  EXPECT_THAT(msg, HasSubstr("To: <x@y.vn>\r\n"));
  EXPECT_THAT(msg, HasSubstr("MIME-Version: 1.0\r\n"));
  EXPECT_THAT(msg, HasSubstr("Content-Type: multipart/alternative;\r\n "
                             "boundary=\"=_lienthong_alternative\"\r\n"));
  EXPECT_TRUE(absl::EndsWith(msg, "--=_lienthong_alternative--\r\n"));

  // The subject decodes back to the Vietnamese text.
  const size_t at = msg.find("Subject:");
  ASSERT_NE(at, std::string::npos);
  size_t end = msg.find("\r\n", at);
  while (msg.compare(end + 2, 1, " ") == 0) end = msg.find("\r\n", end + 2);
  EXPECT_EQ(DecodeField(msg.substr(at, end - at)).value, subject);

  // Text first (the fallback), then HTML; both the same message.
  const size_t text_at = msg.find("Content-Type: text/plain; charset=UTF-8");
  const size_t html_at = msg.find("Content-Type: text/html; charset=UTF-8");
  ASSERT_NE(text_at, std::string::npos);
  ASSERT_NE(html_at, std::string::npos);
  EXPECT_LT(text_at, html_at);
  std::map<std::string, std::string> parts =
      Parts(msg, "=_lienthong_alternative");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_THAT(parts["text/plain"],
              HasSubstr("Kính gửi Ông/Bà,\r\n\r\nHồ sơ 000.00.14.H26-260312-"
                        "0042 không thể trả kết quả đúng hẹn."));
  EXPECT_THAT(parts["text/plain"], HasSubstr("thời gian & xác minh."));
  EXPECT_THAT(parts["text/plain"], Not(HasSubstr("<")));
  EXPECT_THAT(parts["text/html"], HasSubstr(html));
  EXPECT_THAT(parts["text/html"], HasSubstr("<meta charset=\"utf-8\">"));
}

TEST(ComposeEmailTest, MessageIdDomainComesFromTheSender) {
  EXPECT_THAT(ComposeEmail("mot-cua@taymo.hanoi.gov.vn", "x@y.vn", "s", "b",
                           "id1", absl::FromUnixSeconds(0)),
              HasSubstr("Message-ID: <id1@taymo.hanoi.gov.vn>\r\n"));
  EXPECT_EQ(AddressDomain("Một cửa <a@b.vn>"), "b.vn");
  EXPECT_EQ(AddressDomain("nobody"), "localhost");
  EXPECT_EQ(BareAddress("Một cửa <a@b.vn>"), "a@b.vn");
  EXPECT_EQ(BareAddress("a@b.vn"), "a@b.vn");
}

}  // namespace
}  // namespace lienthong::notify
