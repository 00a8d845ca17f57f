#pragma once

// A JSON request or seed file, checked against the message's schema before
// protobuf's parser maps it: unknown keys are errors naming their path (or,
// in seed files, `_` notes are dropped), bools must be JSON booleans and
// enum names must exist. Protobuf's parser then checks the values' types.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "nlohmann/json.hpp"
#include "tools/cli/schema_walk.h"

namespace lienthong::cli {

// The checked document, or INVALID_ARGUMENT "not valid JSON: syntax error at
// line L, column C" / "not a valid <Message>: (<path>): <problem>", which
// never quotes the text.
absl::StatusOr<nlohmann::json> CheckedJsonDocument(
    absl::string_view text, const google::protobuf::Descriptor& d,
    const ParseOptions& o);

}  // namespace lienthong::cli
