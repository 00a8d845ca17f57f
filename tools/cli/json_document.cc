#include "tools/cli/json_document.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "tools/cli/safe_text.h"

namespace lienthong::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using Json = nlohmann::json;

absl::Status CheckMessage(Json& object, const Descriptor& d,
                          const std::string& path, const ParseOptions& o);

absl::Status CheckValue(Json& v, const FieldDescriptor& f,
                        const std::string& path, const ParseOptions& o) {
  if (v.is_null()) return absl::OkStatus();
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (WellKnownOf(*f.message_type()) == WellKnown::kNone && v.is_object()) {
        return CheckMessage(v, *f.message_type(), path, o);
      }
      return absl::OkStatus();  // protobuf's parser judges the rest
    case FieldDescriptor::CPPTYPE_BOOL:
      // Protobuf's parser would also take "yes" and "1" in quotes.
      return v.is_boolean() ? absl::OkStatus() : NotABool(f, path);
    case FieldDescriptor::CPPTYPE_ENUM:
      if (v.is_string()) return CheckEnumName(f, v.get<std::string>(), path);
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

absl::Status CheckField(Json& v, const FieldDescriptor& f,
                        const std::string& path, const ParseOptions& o) {
  if (f.is_map() && v.is_object()) {
    const FieldDescriptor& value = *f.message_type()->map_value();
    for (auto& [key, item] : v.items()) {
      LT_RETURN_IF_ERROR(CheckValue(item, value, MapEntryPath(path), o));
    }
    return absl::OkStatus();
  }
  if (f.is_repeated() && v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      LT_RETURN_IF_ERROR(CheckValue(v[i], f, ItemPath(path, i), o));
    }
    return absl::OkStatus();
  }
  return CheckValue(v, f, path, o);
}

// Checks `object` in place; skipped `_` keys are erased.
absl::Status CheckMessage(Json& object, const Descriptor& d,
                          const std::string& path, const ParseOptions& o) {
  std::set<int> seen;
  for (auto it = object.begin(); it != object.end();) {
    const std::string key = it.key();
    if (SkippedKey(o, key)) {
      it = object.erase(it);
      continue;
    }
    const FieldDescriptor* f = FindField(d, key);
    if (f == nullptr) return UnknownField(d, path, key);
    const std::string field_path = ChildPath(path, f->name());
    // `personal_id` and `personalId` are one field.
    if (!seen.insert(f->number()).second) {
      return PathError(field_path, "given twice");
    }
    LT_RETURN_IF_ERROR(CheckField(*it, *f, field_path, o));
    ++it;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Json> CheckedJsonDocument(absl::string_view text,
                                         const Descriptor& d,
                                         const ParseOptions& o) {
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // e.what() may quote the text around the error; its position does not.
    // It is where the unexpected token ends.
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: syntax error at ",
                     TextPosition(text, e.byte > 0 ? e.byte - 1 : 0)));
  }
  if (!doc.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid ", d.name(), ": expected a JSON object"));
  }
  if (absl::Status s = CheckMessage(doc, d, "", o); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid ", d.name(), ": ", s.message()));
  }
  return doc;
}

}  // namespace lienthong::cli
