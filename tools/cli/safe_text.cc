#include "tools/cli/safe_text.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "libs/common/utf8.h"

namespace lienthong::cli {
namespace {

// Unknown keys named in protobuf's messages are cut to this.
constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence at s[i], or 0.
size_t SequenceLength(absl::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  const size_t len = c < 0x80           ? 1
                     : (c >> 5) == 0x6  ? 2
                     : (c >> 4) == 0xE  ? 3
                     : (c >> 3) == 0x1E ? 4
                                        : 0;
  if (len == 0 || i + len > s.size()) return 0;
  return common::IsValidUtf8(s.substr(i, len)) ? len : 0;
}

}  // namespace

std::string SafeExcerpt(absl::string_view s, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t len = SequenceLength(s, i);
    std::string piece;
    size_t advance = 1;
    if (len == 1 && (c < 0x20 || c == 0x7F)) {
      piece = c == '\n'   ? "\\n"
              : c == '\t' ? "\\t"
              : c == '\r' ? "\\r"
                          : absl::StrFormat("\\x%02x", c);
    } else if (len > 0) {
      piece = std::string(s.substr(i, len));
      advance = len;
    } else {
      piece = std::string(kReplacement);
    }
    if (out.size() + piece.size() > max_bytes) return absl::StrCat(out, "…");
    out += piece;
    i += advance;
  }
  return out;
}

std::string SanitizeProtobufJsonError(absl::string_view message) {
  // Only the first line: syntax errors show the document after a newline.
  absl::string_view first = message.substr(0, message.find('\n'));
  // "(dossier.applicant.personal_id): ..." or "(dossier.applicant) adress:
  // Cannot find field." — a location made of field names.
  std::string location;
  absl::string_view rest = first;
  if (absl::StartsWith(rest, "(")) {
    const size_t close = rest.find(')');
    if (close != absl::string_view::npos) {
      location = SafeExcerpt(rest.substr(1, close - 1), 200);
      rest.remove_prefix(close + 1);
    }
  }
  absl::ConsumePrefix(&rest, ": ");
  absl::ConsumePrefix(&rest, " ");
  const std::string at =
      location.empty() ? "" : absl::StrCat("(", location, "): ");
  // "invalid value <the value> for type <type>": the value may span lines,
  // so the type is looked for in the whole message, after its last
  // " for type ".
  if (absl::StartsWith(rest, "invalid value")) {
    const size_t for_type = message.rfind(" for type ");
    absl::string_view type = for_type == absl::string_view::npos
                                 ? absl::string_view()
                                 : message.substr(for_type + 10);
    const bool clean =
        !type.empty() && type.size() <= 200 &&
        std::none_of(type.begin(), type.end(), [](char c) {
          return absl::ascii_isspace(static_cast<unsigned char>(c));
        });
    return absl::StrCat(at, "invalid value",
                        clean ? absl::StrCat(" for type ", type) : "");
  }
  if (absl::ConsumeSuffix(&rest, ": Cannot find field.")) {
    // `rest` is the unknown key.
    const std::string name = SafeExcerpt(rest, kMaxKeyBytes);
    return absl::StrCat(
        "(", location.empty() ? name : absl::StrCat(location, ".", name),
        "): unknown field");
  }
  if (absl::StartsWith(rest, "missing field ")) {
    return absl::StrCat(at, SafeExcerpt(rest, 200));
  }
  // Anything else may quote the input: say only where.
  return absl::StrCat(at, "not accepted by the protobuf JSON parser");
}

std::string TextPosition(absl::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;  // not a UTF-8 continuation byte: a new character
    }
  }
  return absl::StrCat("line ", line, ", column ", column);
}

size_t FirstInvalidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t len = SequenceLength(text, i);
    if (len == 0) return i;
    i += len;
  }
  return absl::string_view::npos;
}

}  // namespace lienthong::cli
