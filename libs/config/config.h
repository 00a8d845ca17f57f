#pragma once

// Settings come from absl flags; every flag can also be set by the
// environment variable LIENTHONG_<FLAG_IN_UPPER> (`--db_dsn` from
// LIENTHONG_DB_DSN). The command line wins over the environment, the
// environment over the default. A bad value stops the process at start-up
// with one line naming the setting.

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace lienthong::config {

// The environment variable for a flag: "db_dsn" -> "LIENTHONG_DB_DSN".
std::string EnvNameFor(absl::string_view flag_name);

// Applies LIENTHONG_* overrides to every registered flag not given in
// `args` (the command line). Returns the first bad value as
// INVALID_ARGUMENT naming the flag and the variable. Exposed for tests;
// services call ParseFlags.
absl::Status ApplyEnvOverrides(const std::vector<std::string>& args);

// Parses the command line, then applies the environment. On a bad setting
// prints `config: <problem>` to stderr and exits with status 2.
std::vector<char*> ParseFlags(int argc, char** argv, absl::string_view usage);

// Stops the process at start-up, naming the setting, unless `ok`.
void Require(bool ok, absl::string_view problem);

// The same for a duration that must be above zero ("--scan_interval must
// be positive"): an interval of zero runs a loop back to back (against
// the database even while it is away), a lease or timeout of zero fails
// everything at once.
void RequirePositive(const absl::Flag<absl::Duration>& flag);

// Prints `<component>: <problem>` and exits 2: for start-up checks that
// fail (TLS files unreadable, database unreachable, migrations mismatched).
[[noreturn]] void Fatal(absl::string_view component, absl::string_view problem);

}  // namespace lienthong::config
