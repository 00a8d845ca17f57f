#include "tools/cli/schema_walk.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/cli/safe_text.h"

namespace lienthong::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// A key the schema does not know is the file's own text: shown cut short.

// Protobuf's spelling of a field type in its JSON errors: TYPE_STRING.
std::string TypeName(const FieldDescriptor& f) {
  return absl::AsciiStrToUpper(
      absl::StrCat("TYPE_", FieldDescriptor::TypeName(f.type())));
}

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The field a typo most likely meant ("adress" -> "address"), or "".
std::string ClosestField(const Descriptor& d, absl::string_view key) {
  std::string best;
  if (key.size() > kMaxKeyBytes) return best;
  size_t best_distance = 3;  // at most two edits away
  for (int i = 0; i < d.field_count(); ++i) {
    const std::string& name = d.field(i)->name();
    const size_t distance = EditDistance(absl::AsciiStrToLower(key), name);
    if (distance < best_distance && distance < name.size() / 2) {
      best = name;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace

bool SkippedKey(const ParseOptions& o, absl::string_view key) {
  return o.skip_underscore_keys && absl::StartsWith(key, "_");
}

std::string ChildPath(const std::string& path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

std::string ItemPath(const std::string& path, size_t i) {
  return absl::StrCat(path, "[", i, "]");
}

std::string MapEntryPath(const std::string& path) {
  return absl::StrCat(path, "[…]");
}

absl::Status PathError(const std::string& path, absl::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(std::string(what));
  return absl::InvalidArgumentError(absl::StrCat("(", path, "): ", what));
}

const FieldDescriptor* FindField(const Descriptor& d, const std::string& key) {
  if (const FieldDescriptor* f = d.FindFieldByName(key)) return f;
  for (int i = 0; i < d.field_count(); ++i) {
    if (d.field(i)->json_name() == key) return d.field(i);
  }
  return nullptr;
}

absl::Status UnknownField(const Descriptor& d, const std::string& path,
                          absl::string_view key) {
  const std::string hint = ClosestField(d, key);
  return PathError(
      ChildPath(path, SafeExcerpt(key, kMaxKeyBytes)),
      hint.empty() ? "unknown field"
                   : absl::StrCat("unknown field; did you mean ", hint, "?"));
}

absl::Status CheckEnumName(const FieldDescriptor& f, const std::string& name,
                           const std::string& path) {
  if (f.enum_type()->FindValueByName(name) != nullptr) {
    return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (int i = 0; i < f.enum_type()->value_count(); ++i) {
    names.push_back(f.enum_type()->value(i)->name());
  }
  return PathError(
      path, absl::StrCat("invalid value for type ", f.enum_type()->full_name(),
                         " (one of ", absl::StrJoin(names, ", "), ")"));
}

absl::Status NotABool(const FieldDescriptor& f, const std::string& path) {
  return PathError(path, absl::StrCat("invalid value for type ", TypeName(f),
                                      " (true or false)"));
}

WellKnown WellKnownOf(const Descriptor& d) {
  const std::string& n = d.full_name();
  if (n == "google.protobuf.Timestamp" || n == "google.protobuf.Duration" ||
      n == "google.protobuf.FieldMask") {
    return WellKnown::kText;
  }
  if (d.file()->name() == "google/protobuf/wrappers.proto") {
    return WellKnown::kWrapper;
  }
  if (n == "google.protobuf.Struct" || n == "google.protobuf.Value" ||
      n == "google.protobuf.ListValue" || n == "google.protobuf.Any") {
    return WellKnown::kFree;
  }
  return WellKnown::kNone;
}

}  // namespace lienthong::cli
