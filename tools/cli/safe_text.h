#pragma once

// Error text about a file that must not quote it: request files hold
// citizens' ID numbers, names and phones, and a CLI's stderr ends up in
// terminals, tickets and chat.

#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::cli {

// At most `max_bytes` of `s`: cut at a character boundary (never inside a
// UTF-8 sequence), control characters escaped, invalid bytes as U+FFFD, "…"
// when cut. For the file's own text that an error must name (an unknown
// key).
std::string SafeExcerpt(absl::string_view s, size_t max_bytes);
// The longest key an error repeats (longer ones are cut: SafeExcerpt).
inline constexpr size_t kMaxKeyBytes = 64;

// Protobuf's JSON parser's error without the input it quotes: it prints
// "invalid value <value> for type T" and, for syntax errors, a snippet of
// the document after a newline. Keeps the location, the kind and the type:
// "(dossier.applicant.personal_id): invalid value for type TYPE_STRING".
std::string SanitizeProtobufJsonError(absl::string_view message);

// "line 3, column 14" (1-based, columns in characters) of byte `offset`.
std::string TextPosition(absl::string_view text, size_t offset);

// The offset of the first byte of `text` that breaks UTF-8, or npos.
size_t FirstInvalidUtf8(absl::string_view text);

}  // namespace lienthong::cli
