#pragma once

// Citizen identifiers (ID number, name, birth date, phone, e-mail, address)
// never appear in logs or metrics. These helpers produce the masked forms
// that may be shown: to a citizen looking up their own dossier, or in a
// delivery log.

#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::common {

inline constexpr absl::string_view kRedacted = "<redacted>";

// "001203004567" -> "********4567". Keeps at most the last 4 characters.
std::string MaskTail(absl::string_view s, size_t keep = 4);

// "0912345678" -> "******5678".
std::string MaskPhone(absl::string_view phone);

// "nguyen.van.an@example.vn" -> "n***@example.vn".
std::string MaskEmail(absl::string_view email);

// "Nguyễn Văn An" -> "N*** V*** A***" (UTF-8 aware: keeps each word's first
// code point).
std::string MaskName(absl::string_view name);

}  // namespace lienthong::common
