#include "tools/agency-sim/sim_policy.h"

#include <algorithm>
#include <map>
#include <string_view>

#include "absl/strings/match.h"
#include "libs/common/utf8.h"

namespace lienthong::agency_sim {
namespace {

// The next code point of `s` at *i, or the byte itself (as a code point
// below 0x100) where `s` is not valid UTF-8.
char32_t Next(absl::string_view s, size_t* i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(*i);
  int len = c < 0x80           ? 1
            : (c >> 5) == 0x6  ? 2
            : (c >> 4) == 0xE  ? 3
            : (c >> 3) == 0x1E ? 4
                               : 0;
  if (len == 0 || *i + len > s.size()) {
    ++*i;
    return c;
  }
  char32_t cp = len == 1 ? c : c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    if ((b(*i + k) & 0xC0) != 0x80) {
      ++*i;
      return c;
    }
    cp = (cp << 6) | (b(*i + k) & 0x3F);
  }
  *i += len;
  return cp;
}

// Every precomposed Vietnamese letter, both cases, by its base letter.
const std::map<char32_t, char>& BaseLetters() {
  static const auto* const table = [] {
    const std::pair<char, const char*> letters[] = {
        {'a', "àáảãạăằắẳẵặâầấẩẫậÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ"},
        {'e', "èéẻẽẹêềếểễệÈÉẺẼẸÊỀẾỂỄỆ"},
        {'i', "ìíỉĩịÌÍỈĨỊ"},
        {'o', "òóỏõọôồốổỗộơờớởỡợÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ"},
        {'u', "ùúủũụưừứửữựÙÚỦŨỤƯỪỨỬỮỰ"},
        {'y', "ỳýỷỹỵỲÝỶỸỴ"},
        {'d', "đĐ"}};
    auto* t = new std::map<char32_t, char>;
    for (const auto& [base, text] : letters) {
      const absl::string_view s(text);
      for (size_t i = 0; i < s.size();) (*t)[Next(s, &i)] = base;
    }
    return t;
  }();
  return *table;
}

bool IsSpace(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0;
}

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

std::string FoldVietnamese(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t at = i;
    const char32_t cp = Next(s, &i);
    if (i == at + 1 && cp >= 0x80) {  // not UTF-8: the byte as it was
      out.push_back(s[at]);
      continue;
    }
    if (cp >= 0x300 && cp <= 0x36F) continue;  // combining marks (NFD text)
    if (IsSpace(cp)) {
      if (out.empty() || out.back() != ' ') out.push_back(' ');
      continue;
    }
    if (cp < 0x80) {
      const char c = static_cast<char>(cp);
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a')
                                         : c);
      continue;
    }
    const auto it = BaseLetters().find(cp);
    if (it != BaseLetters().end()) {
      out.push_back(it->second);
    } else {
      common::AppendUtf8(cp, &out);
    }
  }
  return out;
}

bool IsHomeBirth(absl::string_view place_of_birth) {
  const std::string folded = FoldVietnamese(place_of_birth);
  constexpr std::string_view kHome = "tai nha";
  for (size_t at = folded.find(kHome); at != std::string::npos;
       at = folded.find(kHome, at + 1)) {
    const size_t end = at + kHome.size();
    const bool starts_word = at == 0 || !IsAsciiAlnum(folded[at - 1]);
    const bool ends_word = end == folded.size() || !IsAsciiAlnum(folded[end]);
    const bool maternity_home =
        absl::StartsWith(absl::string_view(folded).substr(end), " ho sinh");
    if (starts_word && ends_word && !maternity_home) return true;
  }
  return false;
}

bool IsTransient(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::ABORTED;
}

absl::Duration Backoff(int attempt, absl::Duration initial,
                       absl::Duration max) {
  absl::Duration d = initial;
  for (int i = 0; i < attempt && d < max; ++i) d *= 2;
  return std::min(d, max);
}

}  // namespace lienthong::agency_sim
