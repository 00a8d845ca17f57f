#include "services/notify/sms.h"

#include <vector>

namespace lienthong::notify {
namespace {

// Decodes one code point at `i` (advancing it); U+FFFD for a bad sequence.
char32_t Next(absl::string_view s, size_t& i) {
  const unsigned char c = s[i];
  int len = 1;
  char32_t cp = 0xFFFD;
  if (c < 0x80) {
    cp = c;
  } else if ((c >> 5) == 0x6) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c >> 4) == 0xE) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c >> 3) == 0x1E) {
    len = 4;
    cp = c & 0x07;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + len > s.size()) {
    i = s.size();
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const unsigned char cc = s[i + k];
    if ((cc >> 6) != 0x2) {
      i += k;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += len;
  return cp;
}

// GSM 03.38 basic character set, as code points.
constexpr char32_t kGsmBasic[] = {
    U'@', U'£', U'$',  U'¥', U'è', U'é',  U'ù', U'ì', U'ò', U'Ç', U'\n',
    U'Ø', U'ø', U'\r', U'Å', U'å', U'Δ',  U'_', U'Φ', U'Γ', U'Λ', U'Ω',
    U'Π', U'Ψ', U'Σ',  U'Θ', U'Ξ', U'Æ',  U'æ', U'ß', U'É', U' ', U'!',
    U'"', U'#', U'¤',  U'%', U'&', U'\'', U'(', U')', U'*', U'+', U',',
    U'-', U'.', U'/',  U':', U';', U'<',  U'=', U'>', U'?', U'¡', U'Ä',
    U'Ö', U'Ñ', U'Ü',  U'§', U'¿', U'ä',  U'ö', U'ñ', U'ü', U'à'};
constexpr char32_t kGsmExtension[] = {U'^', U'{', U'}', U'\\', U'[',
                                      U'~', U']', U'|', U'€',  U'\f'};

// Septets of `cp` in GSM-7, or 0 when it has no GSM-7 form.
int GsmSeptets(char32_t cp) {
  if ((cp >= U'0' && cp <= U'9') || (cp >= U'A' && cp <= U'Z') ||
      (cp >= U'a' && cp <= U'z')) {
    return 1;
  }
  for (char32_t g : kGsmBasic) {
    if (g == cp) return 1;
  }
  for (char32_t g : kGsmExtension) {
    if (g == cp) return 2;
  }
  return 0;
}

int Segments(SmsEncoding enc, int units) {
  if (units == 0) return 0;
  const int single = enc == SmsEncoding::kGsm7 ? 160 : 70;
  const int part = enc == SmsEncoding::kGsm7 ? 153 : 67;
  if (units <= single) return 1;
  return (units + part - 1) / part;
}

}  // namespace

SmsInfo AnalyzeSms(absl::string_view text) {
  int septets = 0;
  int utf16 = 0;
  bool gsm = true;
  for (size_t i = 0; i < text.size();) {
    const char32_t cp = Next(text, i);
    const int s = GsmSeptets(cp);
    if (s == 0) gsm = false;
    septets += s;
    utf16 += cp > 0xFFFF ? 2 : 1;
  }
  SmsInfo info;
  info.encoding = gsm ? SmsEncoding::kGsm7 : SmsEncoding::kUcs2;
  info.units = gsm ? septets : utf16;
  info.segments = Segments(info.encoding, info.units);
  return info;
}

std::string TruncateSms(absl::string_view text, int max_segments) {
  if (max_segments < 1) max_segments = 1;
  if (AnalyzeSms(text).segments <= max_segments) return std::string(text);
  // "…" is not GSM-7, so the result is UCS-2.
  const int limit = max_segments == 1 ? 70 : 67 * max_segments;  // UTF-16 units
  std::string out;
  int units = 0;
  for (size_t i = 0; i < text.size();) {
    const size_t start = i;
    const char32_t cp = Next(text, i);
    const int u = cp > 0xFFFF ? 2 : 1;
    if (units + u > limit - 1) break;  // room for the ellipsis
    units += u;
    out.append(text.data() + start, i - start);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  out += "…";
  return out;
}

}  // namespace lienthong::notify
