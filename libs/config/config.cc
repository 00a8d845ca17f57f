#include "libs/config/config.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/logging/logging.h"

namespace lienthong::config {
namespace {

// Whether `name` was given on the command line in any absl form:
// --name, --name=value, --name value, --noname (booleans), single dash too.
bool OnCommandLine(const std::vector<std::string>& args,
                   absl::string_view name) {
  for (const std::string& raw : args) {
    absl::string_view a = raw;
    if (a == "--") break;
    if (!absl::ConsumePrefix(&a, "--") && !absl::ConsumePrefix(&a, "-")) {
      continue;
    }
    const size_t eq = a.find('=');
    absl::string_view key = eq == absl::string_view::npos ? a : a.substr(0, eq);
    if (key == name) return true;
    if (absl::ConsumePrefix(&key, "no") && key == name) return true;
  }
  return false;
}

}  // namespace

std::string EnvNameFor(absl::string_view flag_name) {
  std::string env = "LIENTHONG_";
  for (const char c : flag_name) {
    env += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return env;
}

absl::Status ApplyEnvOverrides(const std::vector<std::string>& args) {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const std::string env = EnvNameFor(name);
    const char* value = std::getenv(env.c_str());
    if (value == nullptr || OnCommandLine(args, name)) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value for --", name, " from ", env, ": ", error));
    }
  }
  return absl::OkStatus();
}

std::vector<char*> ParseFlags(int argc, char** argv, absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (absl::Status s = ApplyEnvOverrides(args); !s.ok()) {
    Fatal("config", s.message());
  }
  return rest;
}

void Require(bool ok, absl::string_view problem) {
  if (!ok) Fatal("config", problem);
}

void RequirePositive(const absl::Flag<absl::Duration>& flag) {
  const absl::Duration d = absl::GetFlag(flag);
  if (d > absl::ZeroDuration()) return;
  Fatal("config", absl::StrCat("--", absl::GetFlagReflectionHandle(flag).Name(),
                               " must be positive (it is ",
                               absl::FormatDuration(d), ")"));
}

void Fatal(absl::string_view component, absl::string_view problem) {
  // The lines logged before it first: this one is the last line.
  logging::Flush();
  std::fprintf(stderr, "%s: %s\n", std::string(component).c_str(),
               std::string(problem).c_str());
  std::fflush(stderr);
  std::exit(2);
}

}  // namespace lienthong::config
