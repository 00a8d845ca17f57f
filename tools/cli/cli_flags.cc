#include "tools/cli/cli_flags.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace lienthong::cli {
namespace {

// Reads the whole file, as the channel will: opening succeeds on a
// directory, reading it does not. The errno text says which problem it is.
absl::Status ReadableFile(absl::string_view path) {
  std::FILE* f = std::fopen(std::string(path).c_str(), "rb");
  if (f == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot read: ", std::strerror(errno)));
  }
  char buf[4096];
  size_t total = 0;
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) total += n;
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) {
    return absl::NotFoundError(
        absl::StrCat("cannot read: ", std::strerror(err)));
  }
  if (total == 0) return absl::InvalidArgumentError("is empty, not PEM");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<deadline::v1::ReportGrouping> ParseGroupBy(
    absl::string_view group_by) {
  if (group_by == "agency") return deadline::v1::REPORT_GROUPING_AGENCY;
  if (group_by == "procedure") return deadline::v1::REPORT_GROUPING_PROCEDURE;
  if (group_by == "tier") return deadline::v1::REPORT_GROUPING_TIER;
  return absl::InvalidArgumentError(
      "--group_by must be agency, procedure or tier");
}

absl::StatusOr<absl::Time> ParseNewAppointment(absl::string_view text,
                                               absl::TimeZone zone) {
  std::string t(text);
  if (t.size() == 16 && t[10] == ' ') t[10] = 'T';
  absl::CivilMinute m;
  // Exactly minutes: ParseCivilTime would also take "2026-12-10" (midnight)
  // or seconds, neither of which an officer means by an appointment.
  if (t.size() != 16 || !absl::ParseCivilTime(t, &m)) {
    return absl::InvalidArgumentError(
        "--new_appointment must be a local time YYYY-MM-DD HH:MM, e.g. "
        "\"2026-12-10 16:00\"");
  }
  return absl::FromCivil(m, zone);
}

absl::Status ParseReportPeriod(absl::string_view from, absl::string_view to,
                               absl::CivilDay* from_day,
                               absl::CivilDay* to_day) {
  if (!absl::ParseCivilTime(from, from_day) ||
      !absl::ParseCivilTime(to, to_day)) {
    return absl::InvalidArgumentError("--from and --to must be YYYY-MM-DD");
  }
  if (*to_day < *from_day) {
    return absl::InvalidArgumentError("--to is before --from");
  }
  return absl::OkStatus();
}

absl::Status CheckTlsFlags(absl::string_view ca, absl::string_view cert,
                           absl::string_view key) {
  if (!cert.empty() && ca.empty()) {
    return absl::InvalidArgumentError("--cert needs --ca");
  }
  if (!key.empty() && ca.empty()) {
    return absl::InvalidArgumentError("--key needs --ca");
  }
  if (cert.empty() != key.empty()) {
    return absl::InvalidArgumentError(cert.empty() ? "--key needs --cert"
                                                   : "--cert needs --key");
  }
  return absl::OkStatus();
}

absl::Status CheckTlsFiles(absl::string_view ca, absl::string_view cert,
                           absl::string_view key) {
  const std::pair<absl::string_view, absl::string_view> files[] = {
      {"--ca", ca}, {"--cert", cert}, {"--key", key}};
  for (const auto& [flag, path] : files) {
    if (path.empty()) continue;
    if (absl::Status st = ReadableFile(path); !st.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, "=", path, ": ", st.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTimeout(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--timeout must be positive, e.g. 30s or 2m");
  }
  return absl::OkStatus();
}

absl::Status CheckNotServiceFlag(absl::string_view name,
                                 absl::string_view file) {
  // Any lienthong library's flag, not only today's list, so one a library
  // adds later cannot slip back to being silently ignored.
  const bool library_flag =
      absl::StartsWith(file, "libs/") || absl::StrContains(file, "/libs/");
  if (!library_flag || name == "deadline_address") return absl::OkStatus();
  static constexpr std::pair<absl::string_view, absl::string_view> kInstead[] =
      {{"intake_address", "--address"},
       {"tls_client_ca", "--ca"},
       {"peer_tls_ca", "--ca"},
       {"tls_cert", "--cert"},
       {"peer_tls_cert", "--cert"},
       {"tls_key", "--key"},
       {"peer_tls_key", "--key"},
       {"peer_deadline", "--timeout"},
       {"insecure_dev_auth", "--dev_role, --dev_agency and --dev_subject"}};
  for (const auto& [service_flag, instead] : kInstead) {
    if (name == service_flag) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", name, " is a service's flag, not the CLI's; use ", instead));
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", name,
                   " is a service's flag, not the CLI's, which has no such "
                   "setting (it talks to intake at --address and, for "
                   "report, to deadline at --deadline_address)"));
}

std::optional<intake::v1::FormKind> FormCommand(absl::string_view cmd) {
  static constexpr std::pair<absl::string_view, intake::v1::FormKind> kForms[] =
      {{"receipt", intake::v1::FORM_KIND_RECEIPT},
       {"slip", intake::v1::FORM_KIND_CONTROL_SLIP},
       {"supplement", intake::v1::FORM_KIND_SUPPLEMENT_REQUEST},
       {"refusal", intake::v1::FORM_KIND_REFUSAL},
       {"apology", intake::v1::FORM_KIND_APOLOGY}};
  for (const auto& [name, kind] : kForms) {
    if (cmd == name) return kind;
  }
  return std::nullopt;
}

absl::StatusOr<std::string> SeedDir(
    absl::string_view flag,
    absl::FunctionRef<bool(const std::string&)> is_dir) {
  if (!flag.empty()) return std::string(flag);
  // A checkout's own data first: there the installed copy, if any, may be
  // an older release's.
  for (const char* dir : {kCheckoutSeedDir, kInstalledSeedDir}) {
    if (is_dir(dir)) return std::string(dir);
  }
  return absl::NotFoundError(absl::StrCat(
      "seed: no ", kCheckoutSeedDir, " in the working directory and no ",
      kInstalledSeedDir, "; name the directory with --dir"));
}

std::string DeadlineAddress(absl::string_view flag) {
  return flag.empty() ? kDefaultDeadlineAddress : std::string(flag);
}

std::string ProgramUsage() {
  return absl::StrCat(
      "the command line of lienthong's intake service (and of the\n"
      "deadline service, for `report`).\n"
      "\n"
      "  lienthong [flags] COMMAND ARGS...\n"
      "\n"
      "Commands, and the flags each uses besides the connection flags\n"
      "(--address, --ca, --cert, --key, --timeout, --dev_role,\n"
      "--dev_agency, --dev_subject) and --json:\n"
      "  seed [--dir=DIR]         load agencies.{json,yaml,yml} and\n"
      "                           procedures.{json,yaml,yml} from DIR;\n"
      "                           unchanged entries are skipped. Without\n"
      "                           --dir: ./",
      kCheckoutSeedDir, " (a checkout) if it exists,\n",
      "                           else ", kInstalledSeedDir,
      "\n"
      "                           (the container image's)\n"
      "  submit FILE [--request_id=UUID]\n"
      "                           submit the SubmitDossierRequest in FILE\n"
      "                           (.json, .yaml/.yml; other names: JSON if it\n"
      "                           starts with `{`, else YAML). Without a\n"
      "                           request id (flag or file) one is derived\n"
      "                           from the request, so rerunning the same\n"
      "                           file is a safe retry\n"
      "  get CODE                 one dossier\n"
      "  list AGENCY              the agency's dossiers\n"
      "  lookup CODE LAST4        what a citizen sees (last 4 phone digits)\n"
      "  receipt CODE             a form printed again, as HTML: the receipt,\n"
      "  slip CODE                the control slip,\n"
      "  supplement CODE          the supplement request (its current round),\n"
      "  refusal CODE             the refusal,\n"
      "  apology CODE             the apology with the new appointment. A "
      "form\n"
      "                           for a step the dossier never took is "
      "refused\n"
      "                           (exit 1)\n"
      "  issue-apology CODE --new_appointment=\"YYYY-MM-DD HH:MM\"\n"
      "         --reason=TEXT [--request_id=UUID]\n"
      "                           the dossier will be late: move its\n"
      "                           appointment (Hà Nội time) and print the\n"
      "                           apology slip; rerunning the same command\n"
      "                           is a safe retry\n"
      "  audit-verify             check the audit hash chain (exit 3: broken;\n"
      "                           a long chain may need --timeout=2m)\n"
      "  report AGENCY --from=YYYY-MM-DD --to=YYYY-MM-DD\n"
      "         [--group_by=agency|procedure|tier] [--deadline_address=H:P]\n"
      "                           the on-time report as CSV, from the\n"
      "                           deadline service at --deadline_address\n"
      "                           (default ",
      kDefaultDeadlineAddress,
      ")\n"
      "\n"
      "--json prints JSON Lines: one compact object per line (list: one per\n"
      "dossier; submit: {\"request_id\", \"dossier\"}; seed: the counts;\n"
      "the forms: {\"html\"}; report: the report). Responses follow\n"
      "the proto3 JSON mapping with every field printed, false, 0 and \"\"\n"
      "included; int64 values are JSON strings (audit-verify's\n"
      "\"checked\":\"42\", report's counts).\n"
      "\n"
      "Shared flag (defined with the services' flags, so not listed below):\n"
      "  --deadline_address (deadline service host:port, for report);\n"
      "    default: \"\", meaning ",
      kDefaultDeadlineAddress,
      "\n"
      "The services' other flags (--intake_address, --tls_cert, ...; see\n"
      "--helpfull) are refused with exit 2, naming the flag to use instead.\n"
      "\n"
      "Exit status: 0 done; 1 the server refused or failed, or a flag the\n"
      "flags library could not parse (an unknown flag, a bad value, --help);\n"
      "2 any other bad command line or input file (nothing was sent); 3 the\n"
      "audit chain is broken.");
}

bool IsCliFlagFile(absl::string_view file) {
  return absl::StrContains(file, "tools/cli/");
}

void ConfigureFlagsUsage() {
  absl::SetProgramUsageMessage(ProgramUsage());
  absl::FlagsUsageConfig config;
  config.contains_help_flags = &IsCliFlagFile;
  config.contains_helpshort_flags = &IsCliFlagFile;
  // "tools/cli/cli_main.cc", not the build machine's checkout path.
  config.normalize_filename = [](absl::string_view file) {
    const size_t at = file.find("tools/cli/");
    return std::string(at == absl::string_view::npos ? file : file.substr(at));
  };
  absl::SetFlagsUsageConfig(config);
}

}  // namespace lienthong::cli
