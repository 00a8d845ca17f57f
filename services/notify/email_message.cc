#include "services/notify/email_message.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "libs/common/utf8.h"

namespace lienthong::notify {
namespace {

// RFC 2047, section 2: an encoded-word is at most 75 characters, and a
// header line holding one at most 76.
constexpr size_t kMaxWord = 75;
constexpr size_t kMaxLine = 76;
constexpr absl::string_view kWordStart = "=?UTF-8?B?";
constexpr absl::string_view kWordEnd = "?=";

// Characters of an encoded-word carrying `bytes` bytes.
size_t EncodedWordSize(size_t bytes) {
  return kWordStart.size() + 4 * ((bytes + 2) / 3) + kWordEnd.size();
}

// Bytes of the UTF-8 sequence `lead` starts (1 for a stray byte, so
// invalid input still makes progress).
size_t SequenceLength(unsigned char lead) {
  if (lead >= 0xF0 && lead < 0xF8) return 4;
  if (lead >= 0xE0) return lead < 0xF0 ? 3 : 1;
  if (lead >= 0xC0) return 2;
  return 1;
}

std::string NoNewlines(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"\r", " "}, {"\n", " "}});
}

// Characters that may stand in a display name without quoting (RFC 5322
// atext, and the spaces between words).
bool IsPlainPhrase(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        absl::string_view(" !#$%&'*+-/=?^_`{|}~").find(c) ==
            absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Appends `tokens` to a header, each after a space, folding (CRLF + space)
// before one that would pass the line limit.
class HeaderBuilder {
 public:
  explicit HeaderBuilder(absl::string_view name)
      : out_(absl::StrCat(name, ":")), column_(out_.size()) {}

  // Room for a token on the current line (after its space).
  size_t Room() const {
    return column_ + 1 >= kMaxLine ? 0 : kMaxLine - column_ - 1;
  }
  void Fold() {
    out_ += "\r\n";
    column_ = 0;
    at_line_start_ = true;
  }
  void Add(absl::string_view token) {
    if (token.size() > Room() && !at_line_start_) Fold();
    absl::StrAppend(&out_, " ", token);
    column_ += 1 + token.size();
    at_line_start_ = false;
  }
  // `text` as encoded-words, each as long as the line allows.
  void AddEncoded(absl::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
      size_t room = std::min(Room(), kMaxWord);
      if (room < EncodedWordSize(4) && !at_line_start_) {
        Fold();
        room = std::min(Room(), kMaxWord);
      }
      size_t j = i;
      while (j < text.size()) {
        const size_t n =
            std::min(SequenceLength(static_cast<unsigned char>(text[j])),
                     text.size() - j);
        if (EncodedWordSize(j + n - i) > room) break;
        j += n;
      }
      absl::StrAppend(&out_, " ", kWordStart,
                      absl::Base64Escape(text.substr(i, j - i)), kWordEnd);
      column_ += 1 + EncodedWordSize(j - i);
      at_line_start_ = false;
      i = j;
    }
  }
  std::string Done() && { return std::move(out_); }

 private:
  std::string out_;
  size_t column_;
  bool at_line_start_ = false;
};

std::string WrapBase64(absl::string_view data) {
  const std::string b64 = absl::Base64Escape(data);
  std::string out;
  for (size_t i = 0; i < b64.size(); i += 76) {
    absl::StrAppend(&out, b64.substr(i, 76), "\r\n");
  }
  return out;
}

// Decodes the entity at `s` (starting with '&'); returns the bytes used,
// 0 when it is not one we know (the '&' then stays as it is).
size_t DecodeEntity(absl::string_view s, std::string* out) {
  const size_t semi = s.find(';');
  if (semi == absl::string_view::npos || semi > 10) return 0;
  const absl::string_view name = s.substr(1, semi - 1);
  struct Named {
    absl::string_view name;
    absl::string_view text;
  };
  for (const Named& e :
       {Named{"amp", "&"}, Named{"lt", "<"}, Named{"gt", ">"},
        Named{"quot", "\""}, Named{"apos", "'"}, Named{"nbsp", "\xC2\xA0"}}) {
    if (name == e.name) {
      absl::StrAppend(out, e.text);
      return semi + 1;
    }
  }
  uint32_t cp = 0;
  if (name.size() > 2 && (name[1] == 'x' || name[1] == 'X') && name[0] == '#') {
    if (!absl::SimpleHexAtoi(name.substr(2), &cp)) return 0;
  } else if (name.size() > 1 && name[0] == '#') {
    if (!absl::SimpleAtoi(name.substr(1), &cp)) return 0;
  } else {
    return 0;
  }
  common::AppendUtf8(cp, out);
  return semi + 1;
}

}  // namespace

std::string EncodeHeaderField(absl::string_view name, absl::string_view value,
                              absl::string_view trailer) {
  const std::string v = NoNewlines(value);
  HeaderBuilder h(name);
  if (!v.empty()) {
    const bool plain = !common::HasNonAscii(v) &&
                       v.find("=?") == std::string::npos &&
                       name.size() + 2 + v.size() <= kMaxLine &&
                       (trailer.empty() || IsPlainPhrase(v));
    if (plain) {
      h.Add(v);
    } else {
      h.AddEncoded(v);
    }
  }
  if (!trailer.empty()) h.Add(NoNewlines(trailer));
  return std::move(h).Done();
}

std::string HtmlToText(absl::string_view html) {
  // First pass: tags to line breaks, entities decoded, runs of whitespace
  // one space (as a browser shows them).
  std::string flat;
  bool space = false;
  for (size_t i = 0; i < html.size();) {
    const char c = html[i];
    if (c == '<') {
      const size_t end = html.find('>', i);
      if (end == absl::string_view::npos) break;  // a broken tag: drop it
      absl::string_view tag = html.substr(i + 1, end - i - 1);
      const bool closing = !tag.empty() && tag[0] == '/';
      if (closing) tag.remove_prefix(1);
      const size_t name_end = tag.find_first_of(" \t\r\n/");
      const std::string tag_name =
          absl::AsciiStrToLower(tag.substr(0, name_end));
      if (tag_name == "br") {
        flat += '\n';
      } else if (tag_name == "li" && !closing) {
        flat += "\n- ";
      } else if (tag_name == "p" || tag_name == "div" || tag_name == "ul" ||
                 tag_name == "ol" || tag_name == "table" || tag_name == "tr" ||
                 (tag_name.size() == 2 && tag_name[0] == 'h' &&
                  absl::ascii_isdigit(
                      static_cast<unsigned char>(tag_name[1])))) {
        flat += "\n\n";
      }
      space = false;
      i = end + 1;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!space) flat += ' ';
      space = true;
      ++i;
      continue;
    }
    space = false;
    if (c == '&') {
      if (const size_t n = DecodeEntity(html.substr(i), &flat); n > 0) {
        i += n;
        continue;
      }
    }
    flat += c;
    ++i;
  }
  // Second pass: lines trimmed, at most one blank line between
  // paragraphs, none at either end; CRLF.
  std::string out;
  int pending_breaks = 0;
  size_t start = 0;
  while (start <= flat.size()) {
    size_t end = flat.find('\n', start);
    if (end == std::string::npos) end = flat.size();
    absl::string_view line = absl::StripAsciiWhitespace(
        absl::string_view(flat).substr(start, end - start));
    if (line.empty()) {
      ++pending_breaks;
    } else {
      if (!out.empty()) out += pending_breaks > 0 ? "\r\n\r\n" : "\r\n";
      absl::StrAppend(&out, line);
      pending_breaks = 0;
    }
    start = end + 1;
  }
  return out;
}

std::string BareAddress(absl::string_view address) {
  const size_t lt = address.find('<');
  const size_t gt = address.rfind('>');
  if (lt != absl::string_view::npos && gt != absl::string_view::npos &&
      gt > lt) {
    return std::string(address.substr(lt + 1, gt - lt - 1));
  }
  return std::string(absl::StripAsciiWhitespace(address));
}

std::string AddressDomain(absl::string_view address) {
  const std::string bare = BareAddress(address);
  const size_t at = bare.rfind('@');
  if (at == std::string::npos || at + 1 >= bare.size()) return "localhost";
  return bare.substr(at + 1);
}

std::string ComposeEmail(absl::string_view from, absl::string_view to,
                         absl::string_view subject, absl::string_view html,
                         absl::string_view delivery_id, absl::Time date) {
  const std::string id = NoNewlines(delivery_id);
  const std::string sender = NoNewlines(from);
  std::string from_header;
  if (const size_t lt = sender.find('<'); lt != std::string::npos && lt > 0) {
    from_header = EncodeHeaderField(
        "From", absl::StripAsciiWhitespace(sender.substr(0, lt)),
        absl::StrCat("<", BareAddress(sender), ">"));
  } else {
    from_header = EncodeHeaderField("From", "", BareAddress(sender));
  }
  // The boundary cannot occur in base64 ("=" only pads at the end, and
  // never before "_").
  const std::string boundary = "=_lienthong_alternative";
  std::string msg;
  absl::StrAppend(&msg, "Date: ",
                  absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000", date,
                                   absl::UTCTimeZone()),
                  "\r\n", from_header, "\r\n", "To: <",
                  NoNewlines(BareAddress(to)), ">\r\n",
                  EncodeHeaderField("Subject", subject), "\r\n",
                  "Message-ID: <", id, "@", NoNewlines(AddressDomain(sender)),
                  ">\r\n", "MIME-Version: 1.0\r\n",
                  "Content-Type: multipart/alternative;\r\n boundary=\"",
                  boundary, "\"\r\n", "\r\n");
  const std::string document = absl::StrCat(
      "<!DOCTYPE html>\r\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
      "</head><body>\r\n",
      html, "\r\n</body></html>\r\n");
  const auto part = [&](absl::string_view type, absl::string_view body) {
    absl::StrAppend(&msg, "--", boundary, "\r\n", "Content-Type: ", type,
                    "; charset=UTF-8\r\n",
                    "Content-Transfer-Encoding: base64\r\n", "\r\n",
                    WrapBase64(body));
  };
  part("text/plain", absl::StrCat(HtmlToText(html), "\r\n"));
  part("text/html", document);
  absl::StrAppend(&msg, "--", boundary, "--\r\n");
  return msg;
}

}  // namespace lienthong::notify
