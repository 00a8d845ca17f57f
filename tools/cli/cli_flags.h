#pragma once

// The command line's checks that need no server, and the --help text. A
// mistake here exits 2 before anything is sent.

#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "lienthong/deadline/v1/deadline_service.pb.h"
#include "lienthong/intake/v1/resources.pb.h"

namespace lienthong::cli {

// `seed`'s directory without --dir: data/seed under the working directory
// (a checkout), else where the container image installs it (deploy/
// Dockerfile copies data/seed there; the deploy check
// deploy_image_runtime_packages holds the two together).
inline constexpr char kCheckoutSeedDir[] = "data/seed";
inline constexpr char kInstalledSeedDir[] = "/usr/share/lienthong/seed";

// The directory `seed` reads: `flag` (--dir) as given; when it is empty,
// kCheckoutSeedDir if `is_dir` says it is a directory, else
// kInstalledSeedDir if that is. Neither: an error naming both and --dir.
absl::StatusOr<std::string> SeedDir(
    absl::string_view flag, absl::FunctionRef<bool(const std::string&)> is_dir);

// The deadline service of the local stack (tools/stack), for `report` when
// --deadline_address is empty.
inline constexpr char kDefaultDeadlineAddress[] = "127.0.0.1:7003";

// --group_by: agency, procedure or tier. Anything else is an error rather
// than the agency grouping, which a typo used to get silently.
absl::StatusOr<deadline::v1::ReportGrouping> ParseGroupBy(
    absl::string_view group_by);

// --from/--to: days YYYY-MM-DD, `from` not after `to`.
absl::Status ParseReportPeriod(absl::string_view from, absl::string_view to,
                               absl::CivilDay* from_day,
                               absl::CivilDay* to_day);

// --new_appointment: "YYYY-MM-DD HH:MM" (or with a `T`), a local time in
// `zone` (Hà Nội's: the receipt and the apology print appointments so), as
// the instant the server stores.
absl::StatusOr<absl::Time> ParseNewAppointment(absl::string_view text,
                                               absl::TimeZone zone);

// --ca/--cert/--key: a client certificate is only presented over TLS, so
// --cert or --key without --ca would be dropped silently (plaintext, no
// identity); and --cert and --key go together.
absl::Status CheckTlsFlags(absl::string_view ca, absl::string_view cert,
                           absl::string_view key);

// The files --ca/--cert/--key name, each read before any channel is made, so
// a typo is blamed on its flag ("--key=admin.ky: cannot read: No such file
// or directory") rather than on --address, as the channel's own error was.
absl::Status CheckTlsFiles(absl::string_view ca, absl::string_view cert,
                           absl::string_view key);

// --timeout: every call's deadline, so it must be positive (a call with
// none left fails before it is sent).
absl::Status CheckTimeout(absl::Duration timeout);

// The CLI links the services' flags (libs/grpc_util/flags.cc) with the
// channel code but reads only --deadline_address of them; the others used
// to be accepted and ignored, so `--intake_address=intake:7001 list X` went
// to the default --address. An error, for a flag `name` defined in `file`
// that was given, when it is one of those: naming the CLI's own flag to use
// instead when there is one (--address, --ca, --cert, --key, --timeout).
// OK for the CLI's flags, --deadline_address and the flags library's own.
absl::Status CheckNotServiceFlag(absl::string_view name,
                                 absl::string_view file);

// The form a command prints again with RenderForm: receipt, slip,
// supplement, refusal or apology, each taking a dossier CODE. Empty for
// every other command.
std::optional<intake::v1::FormKind> FormCommand(absl::string_view cmd);

// --deadline_address, or kDefaultDeadlineAddress when it is empty.
std::string DeadlineAddress(absl::string_view flag);

// The text --help prints before the flags: each command and the flags it
// uses, and the shared --deadline_address, which is defined with the
// services' flags (libs/grpc_util/flags.cc) and so not in the list below it.
std::string ProgramUsage();

// absl lists with --help and --helpshort the flags defined in files this
// accepts: the CLI's own, under tools/cli/. (Its default looks for files
// named after the binary, and so printed "No flags matched".)
bool IsCliFlagFile(absl::string_view file);

// Installs ProgramUsage and IsCliFlagFile. Once per process, before
// absl::ParseCommandLine.
void ConfigureFlagsUsage();

}  // namespace lienthong::cli
