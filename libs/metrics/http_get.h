#pragma once

// A tiny libcurl GET, for tests and tools that read /metrics.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::metrics {

absl::StatusOr<std::string> HttpGet(absl::string_view url);

}  // namespace lienthong::metrics
