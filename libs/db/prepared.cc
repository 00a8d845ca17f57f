#include "libs/db/prepared.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace lienthong::db {

std::string PgTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone());
}

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

namespace {

[[noreturn]] void Misuse(const std::string& row, const char* what) {
  std::fprintf(stderr, "db::ValuesRows(\"%s\"): %s\n", row.c_str(), what);
  std::abort();
}

}  // namespace

ValuesRows::ValuesRows(std::string_view row, int first_param)
    : row_(row), first_param_(first_param) {
  std::string literal;
  for (size_t i = 0; i < row.size();) {
    const std::string_view rest = row.substr(i);
    Slot slot;
    if (rest.substr(0, 3) == "{t}") {
      slot = Slot::kText;
      ++text_per_row_;
    } else if (rest.substr(0, 3) == "{b}") {
      if (has_bytes_) Misuse(row_, "more than one {b}");
      slot = Slot::kBytes;
      has_bytes_ = true;
    } else if (rest.substr(0, 3) == "{i}") {
      slot = Slot::kIndex;
    } else {
      literal += row[i++];
      continue;
    }
    literals_.push_back(std::move(literal));
    literal.clear();
    slots_.push_back(slot);
    i += 3;
  }
  tail_ = std::move(literal);
}

void ValuesRows::Add(std::vector<std::string> text, std::string_view bytes) {
  if (static_cast<int>(text.size()) != text_per_row_) {
    Misuse(row_, "a row with another number of text values than {t}");
  }
  if (!has_bytes_ && !bytes.empty()) Misuse(row_, "bytes with no {b}");
  for (std::string& t : text) text_.push_back(std::move(t));
  if (has_bytes_) {
    // (never a null pointer, even for no bytes)
    bytes_.emplace_back(bytes.empty() ? "" : bytes.data(), bytes.size());
  }
  ++rows_;
}

std::string ValuesRows::sql() const {
  std::string out;
  int text = first_param_;
  int bytes = first_param_ + rows_ * text_per_row_;
  for (int r = 0; r < rows_; ++r) {
    if (r > 0) out += ", ";
    for (size_t k = 0; k < slots_.size(); ++k) {
      out += literals_[k];
      switch (slots_[k]) {
        case Slot::kText:
          absl::StrAppend(&out, "$", text++);
          break;
        case Slot::kBytes:
          absl::StrAppend(&out, "$", bytes++);
          break;
        case Slot::kIndex:  // a literal, not a parameter
          absl::StrAppend(&out, r);
          break;
      }
    }
    out += tail_;
  }
  return out;
}

int ValuesRows::next_param() const {
  return first_param_ + rows_ * (text_per_row_ + (has_bytes_ ? 1 : 0));
}

}  // namespace lienthong::db
