// lienthong: the command line for officers and ops. `lienthong --help` lists
// the commands, the flags each uses and the exit statuses
// (tools/cli/cli_flags.cc).

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/internal/parse.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/flags.h"
#include "tools/cli/cli_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/output.h"

ABSL_FLAG(std::string, address, "127.0.0.1:7001", "intake host:port");
ABSL_FLAG(bool, json, false,
          "Print JSON Lines (one compact object per line) instead of text");
ABSL_FLAG(std::string, dev_role, "counter_officer",
          "Dev auth only: x-lienthong-role sent to the server");
ABSL_FLAG(std::string, dev_agency, "000.00.00.H26",
          "Dev auth only: x-lienthong-agency sent to the server");
ABSL_FLAG(std::string, dev_subject, "cli",
          "Dev auth only: x-lienthong-subject");
ABSL_FLAG(std::string, ca, "",
          "CA certificate (PEM) to verify the server; TLS when set");
ABSL_FLAG(std::string, cert, "",
          "Client certificate (PEM) for mTLS; needs --ca and --key");
ABSL_FLAG(std::string, key, "", "Client key (PEM) for mTLS; needs --cert");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30),
          "Deadline of each call to a service, e.g. 2m for audit-verify "
          "over a long chain");
ABSL_FLAG(std::string, request_id, "",
          "submit, issue-apology: the request's UUID (default: the file's "
          "request_id, else one derived from the request, so a rerun is a "
          "safe retry)");
ABSL_FLAG(std::string, new_appointment, "",
          "issue-apology: the new appointment, Hà Nội time "
          "\"YYYY-MM-DD HH:MM\"");
ABSL_FLAG(std::string, reason, "",
          "issue-apology: why the dossier is late (Vietnamese, printed on "
          "the slip)");
ABSL_FLAG(std::string, from, "", "report: first day YYYY-MM-DD (local)");
ABSL_FLAG(std::string, to, "",
          "report: last day YYYY-MM-DD (local), inclusive");
ABSL_FLAG(std::string, group_by, "agency", "report: agency, procedure or tier");
ABSL_FLAG(std::string, dir, "",
          "seed: directory with agencies and procedures (.json, .yaml or "
          ".yml); empty: ./data/seed if it exists (a checkout), else "
          "/usr/share/lienthong/seed (the container image's)");

namespace cli = lienthong::cli;

namespace {

// A mistake on the command line: one line, and where to read more.
int Usage(const std::string& why) {
  std::fprintf(stderr,
               "error: %s (lienthong --help lists commands and flags)\n",
               why.c_str());
  return 2;
}

// report's checks that need no server; 0 when they pass.
int CheckReport(cli::ReportQuery* q) {
  absl::StatusOr<lienthong::deadline::v1::ReportGrouping> g =
      cli::ParseGroupBy(absl::GetFlag(FLAGS_group_by));
  if (!g.ok()) return Usage(std::string(g.status().message()));
  q->group_by = *g;
  if (auto s = cli::ParseReportPeriod(
          absl::GetFlag(FLAGS_from), absl::GetFlag(FLAGS_to), &q->from, &q->to);
      !s.ok()) {
    return Usage(std::string(s.message()));
  }
  q->deadline_address =
      cli::DeadlineAddress(absl::GetFlag(FLAGS_deadline_address));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::ConfigureFlagsUsage();
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  // By name, so the first one reported does not depend on hash order.
  std::map<std::string, std::string> flag_files;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    flag_files[std::string(name)] = flag->Filename();
  }
  for (const auto& [name, file] : flag_files) {
    // CommandLineFlag::IsSpecifiedOnCommandLine is private in this abseil
    // (20220623); this is what it answers, --flagfile included.
    if (!absl::flags_internal::WasPresentOnCommandLine(name)) continue;
    if (auto st = cli::CheckNotServiceFlag(name, file); !st.ok()) {
      return Usage(std::string(st.message()));
    }
  }
  if (args.size() < 2) {
    std::fprintf(stderr, "%s\n",
                 std::string(absl::ProgramUsageMessage()).c_str());
    return 2;
  }
  const std::string cmd = args[1];
  // The arguments a command takes after its name.
  const auto operands = [&](size_t n) { return args.size() == n + 2; };
  const auto arg = [&](size_t i) { return std::string(args[i + 2]); };

  cli::Session s;
  s.tls = {absl::GetFlag(FLAGS_ca), absl::GetFlag(FLAGS_cert),
           absl::GetFlag(FLAGS_key)};
  if (auto st = cli::CheckTlsFlags(s.tls.ca, s.tls.cert, s.tls.key); !st.ok()) {
    return Usage(std::string(st.message()));
  }
  if (auto st = cli::CheckTlsFiles(s.tls.ca, s.tls.cert, s.tls.key); !st.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  s.timeout = absl::GetFlag(FLAGS_timeout);
  if (auto st = cli::CheckTimeout(s.timeout); !st.ok()) {
    return Usage(std::string(st.message()));
  }
  s.intake_address = absl::GetFlag(FLAGS_address);
  s.json = absl::GetFlag(FLAGS_json);
  s.dev_role = absl::GetFlag(FLAGS_dev_role);
  s.dev_agency = absl::GetFlag(FLAGS_dev_agency);
  s.dev_subject = absl::GetFlag(FLAGS_dev_subject);

  if (cmd == "report") {
    if (!operands(1)) return Usage("report needs AGENCY");
    cli::ReportQuery q;
    q.agency = arg(0);
    if (int rc = CheckReport(&q); rc != 0) return rc;
    return cli::Report(s, q);
  }

  auto channel = lienthong::grpc_util::MakeChannel(s.intake_address, s.tls);
  if (!channel.ok()) {
    std::fprintf(stderr, "error: --address=%s: %s\n", s.intake_address.c_str(),
                 std::string(channel.status().message()).c_str());
    return 2;
  }
  s.intake = lienthong::intake::v1::IntakeService::NewStub(*channel);

  if (cmd == "seed" && operands(0)) {
    const absl::StatusOr<std::string> dir =
        cli::SeedDir(absl::GetFlag(FLAGS_dir), [](const std::string& path) {
          std::error_code ec;
          return std::filesystem::is_directory(path, ec);
        });
    if (!dir.ok()) return Usage(std::string(dir.status().message()));
    return cli::Seed(s, *dir);
  }
  if (cmd == "submit" && operands(1)) {
    return cli::Submit(s, arg(0), absl::GetFlag(FLAGS_request_id));
  }
  if (cmd == "get" && operands(1)) return cli::Get(s, arg(0));
  if (cmd == "list" && operands(1)) return cli::List(s, arg(0));
  if (cmd == "lookup" && operands(2)) return cli::Lookup(s, arg(0), arg(1));
  const std::optional<lienthong::intake::v1::FormKind> form =
      cli::FormCommand(cmd);
  if (form.has_value() && operands(1)) return cli::Form(s, arg(0), *form);
  if (cmd == "audit-verify" && operands(0)) return cli::AuditVerify(s);
  if (cmd == "issue-apology" && operands(1)) {
    const absl::StatusOr<absl::Time> at = cli::ParseNewAppointment(
        absl::GetFlag(FLAGS_new_appointment), cli::VietnamZone());
    if (!at.ok()) return Usage(std::string(at.status().message()));
    // The server requires it too; refused here, nothing is sent.
    if (absl::GetFlag(FLAGS_reason).empty()) {
      return Usage("issue-apology needs --reason");
    }
    return cli::IssueApology(s, {arg(0), *at, absl::GetFlag(FLAGS_reason),
                                 absl::GetFlag(FLAGS_request_id)});
  }
  bool known = form.has_value();
  for (const char* other : {"seed", "submit", "get", "list", "lookup",
                            "audit-verify", "issue-apology"}) {
    known = known || cmd == other;
  }
  if (known) return Usage(absl::StrCat("wrong arguments for ", cmd));
  return Usage(absl::StrCat("unknown command ", cmd));
}
