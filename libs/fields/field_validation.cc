#include "libs/fields/field_validation.h"

#include <map>
#include <memory>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "libs/common/utf8.h"
#include "re2/re2.h"

namespace lienthong::fields {
namespace {

// A field's pattern compiled once, not on every value checked (compiling
// costs far more than matching). Patterns come from the catalog, so there
// are few; the cache is emptied if it ever holds more than 256.
std::shared_ptr<const RE2> CompiledPattern(const std::string& pattern) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* cache = new std::map<std::string, std::shared_ptr<const RE2>>();
  absl::MutexLock lock(&mu);
  auto it = cache->find(pattern);
  if (it != cache->end()) return it->second;
  if (cache->size() >= 256) cache->clear();
  auto re = std::make_shared<const RE2>(pattern, RE2::Quiet);
  (*cache)[pattern] = re;
  return re;
}

bool AllDigits(absl::string_view s) {
  for (const char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

}  // namespace

bool IsValidPattern(const std::string& pattern) {
  return CompiledPattern(pattern)->ok();
}

bool IsPersonalId(absl::string_view s) {
  return s.size() == 12 && AllDigits(s);
}

bool IsPhone(absl::string_view s) {
  if (s.size() == 10 && s[0] == '0') return AllDigits(s);
  if (s.size() == 12 && s.substr(0, 3) == "+84") return AllDigits(s.substr(3));
  return false;
}

bool IsMobilePhone(absl::string_view s) {
  if (!IsPhone(s)) return false;
  const char first = s[0] == '0' ? s[1] : s[3];
  return absl::string_view("35789").find(first) != absl::string_view::npos;
}

bool IsEmail(absl::string_view s) {
  const size_t at = s.find('@');
  if (at == absl::string_view::npos || at == 0 || at + 1 >= s.size()) {
    return false;
  }
  const absl::string_view domain = s.substr(at + 1);
  if (domain.find('.') == absl::string_view::npos ||
      domain.find('@') != absl::string_view::npos) {
    return false;
  }
  for (const char c : s) {
    if (c == ' ' || static_cast<unsigned char>(c) < 0x21 || c == 0x7F ||
        absl::string_view("<>()[]\\,;:\"").find(c) != absl::string_view::npos) {
      return false;
    }
  }
  // Labels: "example.vn", not ".example.vn", "example..vn" or "example.".
  return domain.front() != '.' && domain.back() != '.' &&
         domain.find("..") == absl::string_view::npos;
}

bool IsDate(absl::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int y, m, d;
  if (!absl::SimpleAtoi(s.substr(0, 4), &y) ||
      !absl::SimpleAtoi(s.substr(5, 2), &m) ||
      !absl::SimpleAtoi(s.substr(8, 2), &d)) {
    return false;
  }
  const absl::CivilDay day(y, m, d);
  return day.year() == y && day.month() == m && day.day() == d;
}

absl::optional<std::string> CheckValue(const common::v1::FieldSpec& spec,
                                       absl::string_view value) {
  if (!common::IsValidUtf8(value)) return std::string("must be valid UTF-8");
  switch (spec.type()) {
    case common::v1::FIELD_TYPE_TEXT: {
      const size_t max = spec.max_length() > 0 ? spec.max_length() : 1000;
      if (common::Utf8Length(value) > max) {
        return absl::StrCat("must be at most ", max, " characters");
      }
      if (!spec.pattern().empty() &&
          !RE2::FullMatch(re2::StringPiece(value.data(), value.size()),
                          *CompiledPattern(spec.pattern()))) {
        return absl::StrCat("must match ", spec.pattern());
      }
      return absl::nullopt;
    }
    case common::v1::FIELD_TYPE_DATE:
      if (!IsDate(value)) return std::string("must be a date YYYY-MM-DD");
      return absl::nullopt;
    case common::v1::FIELD_TYPE_PERSONAL_ID:
      if (!IsPersonalId(value)) {
        return std::string("must be a 12-digit personal identification number");
      }
      return absl::nullopt;
    case common::v1::FIELD_TYPE_PHONE:
      if (!IsPhone(value)) {
        return std::string("must be a Vietnamese phone number (0xxxxxxxxx)");
      }
      return absl::nullopt;
    case common::v1::FIELD_TYPE_EMAIL:
      if (!IsEmail(value)) return std::string("must be an e-mail address");
      return absl::nullopt;
    case common::v1::FIELD_TYPE_ENUM:
      for (const std::string& v : spec.enum_values()) {
        if (v == value) return absl::nullopt;
      }
      return absl::StrCat("must be one of the declared values of ", spec.key());
    case common::v1::FIELD_TYPE_NUMBER: {
      double d;
      if (!absl::SimpleAtod(value, &d)) return std::string("must be a number");
      return absl::nullopt;
    }
    default:
      return std::string("has an undeclared type");
  }
}

void ValidateValues(
    const google::protobuf::RepeatedPtrField<common::v1::FieldSpec>& specs,
    const google::protobuf::RepeatedPtrField<common::v1::FieldValue>& values,
    absl::string_view prefix, std::vector<common::FieldViolation>* violations) {
  std::map<std::string, const common::v1::FieldSpec*> by_key;
  for (const auto& s : specs) by_key[s.key()] = &s;
  std::set<std::string> seen;
  for (const auto& v : values) {
    const std::string path = absl::StrCat(prefix, "[", v.key(), "]");
    auto it = by_key.find(v.key());
    if (it == by_key.end()) {
      violations->push_back({path, "is not a field of this procedure"});
      continue;
    }
    if (!seen.insert(v.key()).second) {
      violations->push_back({path, "is given more than once"});
      continue;
    }
    if (v.value().empty()) continue;  // presence is checked below
    if (auto why = CheckValue(*it->second, v.value())) {
      violations->push_back({path, *why});
    }
  }
  for (const auto& s : specs) {
    if (!s.required()) continue;
    bool present = false;
    for (const auto& v : values) {
      if (v.key() == s.key() && !v.value().empty()) present = true;
    }
    if (!present) {
      violations->push_back(
          {absl::StrCat(prefix, "[", s.key(), "]"), "is required"});
    }
  }
}

}  // namespace lienthong::fields
