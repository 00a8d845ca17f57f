#include "libs/db/prepared.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace lienthong::db {

std::string PreparedName(const std::string& sql) {
  // FNV-1a: stable across processes and builds (absl::Hash is seeded).
  uint64_t h = 14695981039346656037ull;
  for (const char c : sql) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return absl::StrCat("lt_", absl::Hex(h, absl::kZeroPad16));
}

std::string TextArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace lienthong::db
