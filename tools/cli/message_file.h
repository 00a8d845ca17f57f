#pragma once

// Request and seed files (JSON or YAML) read into protobuf messages,
// strictly, with errors that never quote the file (safe_text.h).

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "tools/cli/schema_walk.h"

namespace lienthong::cli {

enum class FileFormat { kJson, kYaml };

// By extension: .json is JSON, .yaml and .yml are YAML. Any other name is
// sniffed: a document whose first non-blank character is `{` is JSON,
// anything else YAML.
FileFormat FormatOf(absl::string_view file_name, absl::string_view text);

// Parses `text` into `m` against m's schema: unknown keys are errors naming
// their path, with the closest field name as a hint (json_document.h,
// yaml_document.h). On failure INVALID_ARGUMENT whose message starts with
// "not " ("not valid JSON: syntax error at line 3, column 14", "not a valid
// SubmitDossierRequest: (dossier.applicant.adress): unknown field; did you
// mean address?") and holds field paths, field and type names and
// positions — never a value.
absl::Status ParseMessage(absl::string_view text, FileFormat format,
                          const ParseOptions& options,
                          google::protobuf::Message* m);

// The bytes of the file at `path`, or why not: "<path> is a directory, not
// a file", "cannot read <path>: <the OS's reason>" (NOT_FOUND when missing).
absl::StatusOr<std::string> ReadInputFile(const std::string& path);

// ReadInputFile + ParseMessage (format from the name, then the content). The
// error is one line for the officer: "d.json is not a valid
// SubmitDossierRequest: (dossier.applicant.personal_id): invalid value for
// type TYPE_STRING (the file's content is not shown: it holds personal
// data)".
absl::Status LoadMessageFile(const std::string& path,
                             const ParseOptions& options,
                             google::protobuf::Message* m);

}  // namespace lienthong::cli
