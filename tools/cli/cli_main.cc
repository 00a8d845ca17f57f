// lienthong: the command line for officers and ops.
//
//   lienthong [flags] seed --dir data/seed
//   lienthong [flags] submit dossier.yaml        (a SubmitDossierRequest,
//                                                 JSON or YAML)
//             [--request_id=UUID]                (default: the file's, else
//                                                 one derived from it)
//   lienthong [flags] get <dossier code>
//   lienthong [flags] list <agency code>
//   lienthong [flags] lookup <dossier code> <last 4 phone digits>
//   lienthong [flags] receipt|slip <dossier code>   (HTML to stdout)
//   lienthong [flags] audit-verify
//   lienthong [flags] report <agency code> --from D --to D [--group_by
//   agency|procedure|tier]
//                                                (on-time report as CSV)
//
// Human-readable output by default, --json for scripts. The commands are in
// commands.cc; this file holds the flags and picks the command.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/flags.h"
#include "tools/cli/commands.h"

ABSL_FLAG(std::string, address, "127.0.0.1:7001", "intake host:port");
ABSL_FLAG(bool, json, false, "Print JSON instead of text");
ABSL_FLAG(std::string, dev_role, "counter_officer",
          "Dev auth only: x-lienthong-role sent to the server");
ABSL_FLAG(std::string, dev_agency, "000.00.00.H26",
          "Dev auth only: x-lienthong-agency sent to the server");
ABSL_FLAG(std::string, dev_subject, "cli",
          "Dev auth only: x-lienthong-subject");
ABSL_FLAG(std::string, ca, "",
          "CA certificate (PEM) to verify intake; TLS when set");
ABSL_FLAG(std::string, cert, "", "Client certificate (PEM) for mTLS");
ABSL_FLAG(std::string, key, "", "Client key (PEM) for mTLS");
ABSL_FLAG(std::string, request_id, "",
          "submit: the request's UUID (default: the file's request_id, else "
          "one derived from the request, so a rerun is a safe retry)");
ABSL_FLAG(std::string, from, "", "report: first day YYYY-MM-DD (local)");
ABSL_FLAG(std::string, to, "",
          "report: last day YYYY-MM-DD (local), inclusive");
ABSL_FLAG(std::string, group_by, "agency", "report: agency, procedure or tier");
ABSL_FLAG(std::string, dir, "data/seed",
          "seed: directory with agencies and procedures (.json, .yaml or "
          ".yml)");

namespace cli = lienthong::cli;

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "lienthong [flags] seed|submit FILE|get CODE|list AGENCY|lookup CODE "
      "LAST4|receipt CODE|slip CODE|audit-verify|report AGENCY --from --to");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) {
    std::fprintf(stderr, "%s\n", absl::ProgramUsageMessage().data());
    return 2;
  }
  cli::Session s;
  s.intake_address = absl::GetFlag(FLAGS_address);
  s.tls = {absl::GetFlag(FLAGS_ca), absl::GetFlag(FLAGS_cert),
           absl::GetFlag(FLAGS_key)};
  s.json = absl::GetFlag(FLAGS_json);
  s.dev_role = absl::GetFlag(FLAGS_dev_role);
  s.dev_agency = absl::GetFlag(FLAGS_dev_agency);
  s.dev_subject = absl::GetFlag(FLAGS_dev_subject);
  auto channel = lienthong::grpc_util::MakeChannel(s.intake_address, s.tls);
  if (!channel.ok()) {
    std::fprintf(stderr, "error: %s\n",
                 std::string(channel.status().message()).c_str());
    return 2;
  }
  s.intake = lienthong::intake::v1::IntakeService::NewStub(*channel);
  const std::string cmd = args[1];
  auto arg = [&](size_t i) -> std::string {
    if (args.size() <= i) {
      std::fprintf(stderr, "error: %s needs more arguments\n", cmd.c_str());
      std::exit(2);
    }
    return args[i];
  };
  if (cmd == "seed") return cli::Seed(s, absl::GetFlag(FLAGS_dir));
  if (cmd == "report") {
    return cli::Report(
        s,
        {arg(2), absl::GetFlag(FLAGS_from), absl::GetFlag(FLAGS_to),
         absl::GetFlag(FLAGS_group_by), absl::GetFlag(FLAGS_deadline_address)});
  }
  if (cmd == "submit") {
    return cli::Submit(s, arg(2), absl::GetFlag(FLAGS_request_id));
  }
  if (cmd == "get") return cli::Get(s, arg(2));
  if (cmd == "list") return cli::List(s, arg(2));
  if (cmd == "lookup") return cli::Lookup(s, arg(2), arg(3));
  if (cmd == "receipt") {
    return cli::Form(s, arg(2), lienthong::intake::v1::FORM_KIND_RECEIPT);
  }
  if (cmd == "slip") {
    return cli::Form(s, arg(2), lienthong::intake::v1::FORM_KIND_CONTROL_SLIP);
  }
  if (cmd == "audit-verify") return cli::AuditVerify(s);
  std::fprintf(stderr, "unknown command %s\n", cmd.c_str());
  return 2;
}
