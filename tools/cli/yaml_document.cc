#include "tools/cli/yaml_document.h"

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/status_macros.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace lienthong::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using Json = nlohmann::json;

absl::StatusOr<Json> YamlMessage(const YAML::Node& n, const Descriptor& d,
                                 const std::string& path,
                                 const ParseOptions& o);

absl::StatusOr<Json> YamlScalar(const YAML::Node& n, const FieldDescriptor& f,
                                const std::string& path) {
  if (!n.IsScalar()) {
    return PathError(path, "expected a single value, not a list or a mapping");
  }
  const std::string& s = n.Scalar();
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      // Plain `true`/`false` only (tag "?"), as JSON takes no "true" in
      // quotes.
      if (n.Tag() != "?") return NotABool(f, path);
      if (s == "true") return Json(true);
      if (s == "false") return Json(false);
      return NotABool(f, path);
    case FieldDescriptor::CPPTYPE_ENUM:
      LT_RETURN_IF_ERROR(CheckEnumName(f, s, path));
      return Json(s);
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      if (s == ".inf" || s == "+.inf") return Json("Infinity");
      if (s == "-.inf") return Json("-Infinity");
      if (s == ".nan") return Json("NaN");
      return Json(s);
    default:
      // Strings and bytes (base64) as they are; numbers as text, which
      // protobuf's parser reads with its own range checks.
      return Json(s);
  }
}

// Struct, Value, ListValue and Any hold any JSON: plain scalars take YAML's
// usual types there, quoted ones stay text.
absl::StatusOr<Json> YamlFree(const YAML::Node& n, const std::string& path) {
  if (n.IsNull()) return Json(nullptr);
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (n.Tag() != "?") return Json(s);
    if (s == "true") return Json(true);
    if (s == "false") return Json(false);
    int64_t i;
    if (absl::SimpleAtoi(s, &i)) return Json(i);
    double d;
    if (absl::SimpleAtod(s, &d)) return Json(d);
    return Json(s);
  }
  if (n.IsSequence()) {
    Json out = Json::array();
    for (size_t i = 0; i < n.size(); ++i) {
      LT_ASSIGN_OR_RETURN(Json v, YamlFree(n[i], ItemPath(path, i)));
      out.push_back(std::move(v));
    }
    return out;
  }
  Json out = Json::object();
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) return PathError(path, "a key is not a name");
    LT_ASSIGN_OR_RETURN(Json v, YamlFree(kv.second, MapEntryPath(path)));
    out[kv.first.Scalar()] = std::move(v);
  }
  return out;
}

absl::StatusOr<Json> YamlValue(const YAML::Node& n, const FieldDescriptor& f,
                               const std::string& path, const ParseOptions& o) {
  if (f.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    return YamlScalar(n, f, path);
  }
  const Descriptor& d = *f.message_type();
  switch (WellKnownOf(d)) {
    case WellKnown::kText:  // Timestamp "2026-11-23T09:00:00+07:00", Duration
                            // "5s"
      if (!n.IsScalar()) return PathError(path, "expected a single value");
      return Json(n.Scalar());
    case WellKnown::kWrapper:
      return YamlScalar(n, *d.FindFieldByName("value"), path);
    case WellKnown::kFree:
      return YamlFree(n, path);
    case WellKnown::kNone:
      break;
  }
  return YamlMessage(n, d, path, o);
}

absl::StatusOr<Json> YamlField(const YAML::Node& n, const FieldDescriptor& f,
                               const std::string& path, const ParseOptions& o) {
  if (f.is_map()) {
    if (!n.IsMap()) return PathError(path, "expected a mapping");
    Json out = Json::object();
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) return PathError(path, "a key is not a name");
      LT_ASSIGN_OR_RETURN(Json v,
                          YamlValue(kv.second, *f.message_type()->map_value(),
                                    MapEntryPath(path), o));
      out[kv.first.Scalar()] = std::move(v);
    }
    return out;
  }
  if (f.is_repeated()) {
    if (!n.IsSequence()) return PathError(path, "expected a list");
    Json out = Json::array();
    for (size_t i = 0; i < n.size(); ++i) {
      if (n[i].IsNull()) return PathError(ItemPath(path, i), "empty list item");
      LT_ASSIGN_OR_RETURN(Json v, YamlValue(n[i], f, ItemPath(path, i), o));
      out.push_back(std::move(v));
    }
    return out;
  }
  return YamlValue(n, f, path, o);
}

absl::StatusOr<Json> YamlMessage(const YAML::Node& n, const Descriptor& d,
                                 const std::string& path,
                                 const ParseOptions& o) {
  if (n.IsNull()) return Json::object();
  if (!n.IsMap()) {
    return PathError(path, "expected a mapping of field names to values");
  }
  Json out = Json::object();
  std::set<int> seen;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) return PathError(path, "a key is not a name");
    const std::string& key = kv.first.Scalar();
    if (SkippedKey(o, key)) continue;
    const FieldDescriptor* f = FindField(d, key);
    if (f == nullptr) return UnknownField(d, path, key);
    const std::string field_path = ChildPath(path, f->name());
    // YAML keeps both of two equal keys; the second would silently win.
    if (!seen.insert(f->number()).second) {
      return PathError(field_path, "given twice");
    }
    if (kv.second.IsNull()) continue;  // `address:` or `~`: not set
    LT_ASSIGN_OR_RETURN(Json v, YamlField(kv.second, *f, field_path, o));
    out[f->name()] = std::move(v);
  }
  return out;
}

// Whether the text uses an alias (`*name`). Each alias is the anchored
// node again, so a few kilobytes of aliases of aliases expand to gigabytes
// when walked; no request or seed file needs them.
class AliasFinder : public YAML::EventHandler {
 public:
  bool found = false;
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { found = true; }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// yaml-cpp's parser messages are fixed texts, but a few append what they
// choke on ("unknown escape character: x"): keep the text before that.
std::string YamlReason(const std::string& msg) {
  return std::string(msg.substr(0, msg.find(':')));
}

}  // namespace

absl::StatusOr<Json> YamlAsJson(absl::string_view text, const Descriptor& d,
                                const ParseOptions& o) {
  std::vector<YAML::Node> docs;
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    AliasFinder aliases;
    while (parser.HandleNextDocument(aliases)) {
    }
    if (aliases.found) {
      return absl::InvalidArgumentError(
          "not valid here: YAML aliases (*name) are not supported; write the "
          "values out");
    }
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrFormat("not valid YAML: %s at line %d, column %d",
                        YamlReason(e.msg), e.mark.line + 1, e.mark.column + 1));
  }
  // A lone `---` is a document holding nothing.
  if (docs.size() == 1 && docs[0].IsNull()) docs.clear();
  if (docs.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a valid ", d.name(), ": ",
        docs.empty() ? "the file is empty"
                     : absl::StrCat("the file holds ", docs.size(),
                                    " YAML documents; one is expected")));
  }
  absl::StatusOr<Json> doc = YamlMessage(docs[0], d, "", o);
  if (!doc.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid ", d.name(), ": ", doc.status().message()));
  }
  return doc;
}

}  // namespace lienthong::cli
