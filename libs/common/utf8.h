#pragma once

// Vietnamese text travels as UTF-8 end to end; anything that is not valid
// UTF-8 is rejected at the edge, never stored.

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::common {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <=
// U+10FFFF).
bool IsValidUtf8(absl::string_view s);

// Number of Unicode code points in valid UTF-8 `s`.
size_t Utf8Length(absl::string_view s);

// True if `s` contains any code point outside 7-bit ASCII.
bool HasNonAscii(absl::string_view s);

// Appends code point `cp` to `out` as UTF-8; NUL, a surrogate or anything
// past U+10FFFF goes as U+FFFD (the replacement character).
void AppendUtf8(char32_t cp, std::string* out);

// `s` escaped for the inside of a JSON string (or a quoted logfmt value):
// quote, backslash and control characters; UTF-8 passes through as is.
std::string JsonEscape(absl::string_view s);

}  // namespace lienthong::common
