#include "tools/cli/json_document.h"

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

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
  if (f.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    switch (WellKnownOf(*f.message_type())) {
      case WellKnown::kNone:
        if (!v.is_object()) return PathError(path, "expected an object");
        return CheckMessage(v, *f.message_type(), path, o);
      case WellKnown::kFree:
        return absl::OkStatus();  // any JSON
      default:  // Timestamp, Duration, wrappers: protobuf reads the value
        break;
    }
  }
  // As in YAML: one value here, not a list or an object (which protobuf's
  // parser would also have to walk, however deep).
  if (v.is_array() || v.is_object()) {
    return PathError(path, "expected a single value, not a list or an object");
  }
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      // Protobuf's parser would also take "yes" and "1" in quotes.
      return v.is_boolean() ? absl::OkStatus() : NotABool(f, path);
    case FieldDescriptor::CPPTYPE_ENUM:
      // By name, as in YAML: a number is easily one that has no value.
      if (!v.is_string()) return PathError(path, "expected a value's name");
      return CheckEnumName(f, v.get<std::string>(), path);
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
  if (f.is_map()) return PathError(path, "expected an object");
  if (f.is_repeated()) {
    // Protobuf's parser would take a lone item for a list of one.
    if (!v.is_array()) return PathError(path, "expected a list");
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
  // Refused while parsing: a key given twice in one object (the last would
  // silently win) and nesting deeper than any request (the checks and the
  // serializer below recurse once per level).
  constexpr int kMaxDepth = 64;
  std::vector<std::set<std::string>> keys;  // of each open object
  bool duplicate = false, too_deep = false;
  const Json::parser_callback_t check =
      [&](int depth, Json::parse_event_t event, Json& parsed) {
        if (depth > kMaxDepth) too_deep = true;
        switch (event) {
          case Json::parse_event_t::object_start:
            keys.emplace_back();
            break;
          case Json::parse_event_t::object_end:
            if (!keys.empty()) keys.pop_back();
            break;
          case Json::parse_event_t::key:
            if (!keys.empty() &&
                !keys.back().insert(parsed.get<std::string>()).second) {
              duplicate = true;
            }
            break;
          default:
            break;
        }
        if (too_deep || duplicate) throw std::invalid_argument("stop");
        return true;
      };
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end(), check);
  } catch (const Json::parse_error& e) {
    // e.what() may quote the text around the error; its position does not.
    // It is where the unexpected token ends.
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: syntax error at ",
                     TextPosition(text, e.byte > 0 ? e.byte - 1 : 0)));
  } catch (const Json::exception&) {
    // A number out of range, say: its message quotes the number.
    return absl::InvalidArgumentError(
        "not valid JSON: a value it cannot hold (e.g. a number too large)");
  } catch (const std::invalid_argument&) {
    return absl::InvalidArgumentError(
        too_deep ? absl::StrCat("not valid JSON: nested more than ", kMaxDepth,
                                " levels deep")
                 : "not valid JSON: a key is given twice in one object");
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
