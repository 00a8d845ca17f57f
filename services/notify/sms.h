#pragma once
// SMS segment arithmetic. A text made only of GSM 03.38 characters travels
// as GSM-7: 160 septets in one message, 153 per part when concatenated
// (characters of the extension table count twice). Anything else —
// Vietnamese with its diacritics — travels as UCS-2: 70 UTF-16 units in
// one message, 67 per part.

#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::notify {

enum class SmsEncoding { kGsm7, kUcs2 };

struct SmsInfo {
  SmsEncoding encoding = SmsEncoding::kGsm7;
  int units = 0;     // septets (GSM-7) or UTF-16 code units (UCS-2)
  int segments = 0;  // 0 for the empty text
};

// `text` is UTF-8 (invalid bytes count as UCS-2 replacement characters).
SmsInfo AnalyzeSms(absl::string_view text);
inline int SmsSegments(absl::string_view text) {
  return AnalyzeSms(text).segments;
}

// `text` cut on a code-point boundary, ending in "…", so that it needs at
// most `max_segments`; `text` itself when it already fits.
std::string TruncateSms(absl::string_view text, int max_segments);

}  // namespace lienthong::notify
