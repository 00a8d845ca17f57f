#include "libs/common/redact.h"

#include "absl/strings/str_split.h"

namespace lienthong::common {
namespace {

size_t FirstCodePointLength(absl::string_view s) {
  if (s.empty()) return 0;
  size_t n = 1;
  while (n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) ++n;
  return n;
}

}  // namespace

std::string MaskTail(absl::string_view s, size_t keep) {
  if (s.size() <= keep) return std::string(s.size(), '*');
  return std::string(s.size() - keep, '*') +
         std::string(s.substr(s.size() - keep));
}

std::string MaskPhone(absl::string_view phone) { return MaskTail(phone, 4); }

std::string MaskEmail(absl::string_view email) {
  const size_t at = email.find('@');
  if (at == absl::string_view::npos || at == 0) return std::string(kRedacted);
  return std::string(email.substr(0, FirstCodePointLength(email))) + "***" +
         std::string(email.substr(at));
}

std::string MaskName(absl::string_view name) {
  std::string out;
  for (absl::string_view word :
       absl::StrSplit(name, absl::ByChar(' '), absl::SkipWhitespace())) {
    if (!out.empty()) out += ' ';
    out.append(word.data(), FirstCodePointLength(word));
    out += "***";
  }
  return out;
}

}  // namespace lienthong::common
