#include "tools/cli/message_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "libs/common/status_macros.h"
#include "nlohmann/json.hpp"
#include "tools/cli/json_document.h"
#include "tools/cli/safe_text.h"
#include "tools/cli/yaml_document.h"

namespace lienthong::cli {
namespace {

// Where `path` is not readable: the OS's reason ("No such file or
// directory", "Permission denied").
absl::Status Unreadable(const std::string& path, int error) {
  const std::string why =
      absl::StrCat("cannot read ", path, ": ", std::strerror(error));
  return error == ENOENT ? absl::NotFoundError(why)
                         : absl::InvalidArgumentError(why);
}

// The checked document into `m` through protobuf's JSON parser, which maps
// the values (int64 as text, Timestamps, base64) and checks their types.
absl::Status JsonIntoMessage(const nlohmann::json& doc,
                             google::protobuf::Message* m) {
  const std::string& type = m->GetDescriptor()->name();
  std::string json;
  try {
    json = doc.dump();
  } catch (const nlohmann::json::exception&) {
    // A YAML escape (\ud800) can produce text that is not UTF-8.
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid ", type, ": a value is not valid UTF-8"));
  }
  google::protobuf::util::JsonParseOptions strict;
  strict.ignore_unknown_fields = false;
  m->Clear();
  const auto st = google::protobuf::util::JsonStringToMessage(json, m, strict);
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid ", type, ": ",
                     SanitizeProtobufJsonError(std::string(st.message()))));
  }
  return absl::OkStatus();
}

}  // namespace

FileFormat FormatOf(absl::string_view file_name, absl::string_view text) {
  const std::string ext = absl::AsciiStrToLower(
      std::filesystem::path(std::string(file_name)).extension().string());
  if (ext == ".json") return FileFormat::kJson;
  if (ext == ".yaml" || ext == ".yml") return FileFormat::kYaml;
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");  // a byte-order mark
  text = absl::StripLeadingAsciiWhitespace(text);
  return absl::StartsWith(text, "{") ? FileFormat::kJson : FileFormat::kYaml;
}

absl::Status ParseMessage(absl::string_view text, FileFormat format,
                          const ParseOptions& options,
                          google::protobuf::Message* m) {
  if (const size_t bad = FirstInvalidUtf8(text);
      bad != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid UTF-8 at ", TextPosition(text, bad)));
  }
  const google::protobuf::Descriptor& d = *m->GetDescriptor();
  LT_ASSIGN_OR_RETURN(const nlohmann::json doc,
                      format == FileFormat::kJson
                          ? CheckedJsonDocument(text, d, options)
                          : YamlAsJson(text, d, options));
  return JsonIntoMessage(doc, m);
}

absl::StatusOr<std::string> ReadInputFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is a directory, not a file"));
  }
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(
      std::fopen(path.c_str(), "rb"), &std::fclose);
  if (f == nullptr) return Unreadable(path, errno != 0 ? errno : EIO);
  // A request or seed file is kilobytes; a device or a pipe that never
  // ends (/dev/zero) must not exhaust memory first.
  constexpr size_t kMaxFileBytes = 64 << 20;
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
    out.append(buf, n);
    if (out.size() > kMaxFileBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path,
                       " is larger than 64 MiB: not a request or seed "
                       "file"));
    }
  }
  if (std::ferror(f.get())) return Unreadable(path, errno != 0 ? errno : EIO);
  return out;
}

absl::Status LoadMessageFile(const std::string& path,
                             const ParseOptions& options,
                             google::protobuf::Message* m) {
  LT_ASSIGN_OR_RETURN(const std::string text, ReadInputFile(path));
  if (absl::Status s = ParseMessage(text, FormatOf(path, text), options, m);
      !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is ", s.message(),
                     " (the file's content is not shown: it holds personal "
                     "data)"));
  }
  return absl::OkStatus();
}

}  // namespace lienthong::cli
