#pragma once

// UUIDs for event ids and request ids: random (version 4), or derived from
// content (version 8) where a retry must send the same id again.

#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::common {

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lower-case hex.
std::string NewUuid();

// An RFC 9562 version-8 UUID made of the first 128 bits of SHA-256(`data`),
// version and variant bits set: "xxxxxxxx-xxxx-8xxx-[89ab]xxx-xxxxxxxxxxxx".
std::string Version8Uuid(absl::string_view data);

// True for the canonical 8-4-4-4-12 hex form (any version).
bool IsUuid(absl::string_view s);

}  // namespace lienthong::common
