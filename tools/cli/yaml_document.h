#pragma once

// A YAML request or seed file, converted to JSON for protobuf's parser
// guided by the message's schema, so that each scalar gets its field's type
// rather than YAML's guess: `personal_id: 001088012345` (a string field)
// stays the text "001088012345", not the number 1088012345. Bools are only
// true/false, enums names, repeated fields sequences, messages mappings,
// Timestamps and Durations text; unknown keys are errors naming their path
// as in JSON.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "nlohmann/json.hpp"
#include "tools/cli/schema_walk.h"

namespace lienthong::cli {

// The document as JSON, or INVALID_ARGUMENT "not valid YAML: <reason> at
// line L, column C" / "not a valid <Message>: (<path>): <problem>", which
// never quotes the text. A null (`key:` or `~`) leaves a field unset.
absl::StatusOr<nlohmann::json> YamlAsJson(absl::string_view text,
                                          const google::protobuf::Descriptor& d,
                                          const ParseOptions& o);

}  // namespace lienthong::cli
