#pragma once

// Walking a JSON or YAML document along a protobuf message's schema (the
// strict JSON check and the YAML conversion share these). Paths are made of
// the schema's field names and list indexes, never of the file's values.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace lienthong::cli {

struct ParseOptions {
  // Seed files carry notes (`_note`, `_invented_code`): keys starting with
  // `_` are skipped at any depth. Every other unknown key is an error, in
  // seed files too: a typo must not drop a field silently.
  bool skip_underscore_keys = false;
};

bool SkippedKey(const ParseOptions& o, absl::string_view key);

// "dossier.applicant", "dossier.fields[2]"; a map entry is "values[…]":
// map keys are the file's content (a phone number, a name).
std::string ChildPath(const std::string& path, absl::string_view name);
std::string ItemPath(const std::string& path, size_t i);
std::string MapEntryPath(const std::string& path);

// INVALID_ARGUMENT "(<path>): <what>", or just `what` at the top.
absl::Status PathError(const std::string& path, absl::string_view what);

// The field named `key`: its proto name or, as protobuf's JSON parser
// accepts, its lowerCamelCase JSON name.
const google::protobuf::FieldDescriptor* FindField(
    const google::protobuf::Descriptor& d, const std::string& key);

// "(dossier.applicant.adress): unknown field; did you mean address?": the
// key, cut short, and the closest field name when a typo is likely.
absl::Status UnknownField(const google::protobuf::Descriptor& d,
                          const std::string& path, absl::string_view key);

// OK when `name` is a value of f's enum; else the error lists the names.
absl::Status CheckEnumName(const google::protobuf::FieldDescriptor& f,
                           const std::string& name, const std::string& path);

absl::Status NotABool(const google::protobuf::FieldDescriptor& f,
                      const std::string& path);

// Well-known types have their own JSON forms instead of an object: text
// (Timestamp, Duration, FieldMask), the wrapped value (wrappers), or any
// JSON (Struct, Value, ListValue, Any).
enum class WellKnown { kNone, kText, kWrapper, kFree };
WellKnown WellKnownOf(const google::protobuf::Descriptor& d);

}  // namespace lienthong::cli
