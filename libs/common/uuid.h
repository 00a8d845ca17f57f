#pragma once

// Random (version 4) UUIDs for event ids and request ids.

#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::common {

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lower-case hex.
std::string NewUuid();

// True for the canonical 8-4-4-4-12 hex form (any version).
bool IsUuid(absl::string_view s);

}  // namespace lienthong::common
