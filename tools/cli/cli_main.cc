// lienthong: the command line for officers and ops.
//
//   lienthong [flags] seed --dir data/seed
//   lienthong [flags] submit dossier.json        (a SubmitDossierRequest)
//   lienthong [flags] get <dossier code>
//   lienthong [flags] list <agency code>
//   lienthong [flags] lookup <dossier code> <last 4 phone digits>
//   lienthong [flags] receipt|slip <dossier code>   (HTML to stdout)
//   lienthong [flags] audit-verify
//   lienthong [flags] report <agency code> --from D --to D [--group_by
//   agency|procedure|tier]
//                                                (on-time report as CSV)
//
// Human-readable output by default, --json for scripts.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "libs/common/errors.h"
#include "libs/common/uuid.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/flags.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "lienthong/deadline/v1/deadline_service.grpc.pb.h"
#include "lienthong/intake/v1/intake_service.grpc.pb.h"

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
ABSL_FLAG(std::string, from, "", "report: first day YYYY-MM-DD (local)");
ABSL_FLAG(std::string, to, "",
          "report: last day YYYY-MM-DD (local), inclusive");
ABSL_FLAG(std::string, group_by, "agency", "report: agency, procedure or tier");
ABSL_FLAG(std::string, dir, "data/seed",
          "seed: directory with agencies.json and procedures.json");

namespace lt = lienthong;
namespace v1 = lienthong::intake::v1;

namespace {

std::unique_ptr<v1::IntakeService::Stub> stub;

void Prepare(grpc::ClientContext& ctx) {
  lt::grpc_util::PrepareContext(
      ctx, absl::Seconds(30), absl::GetFlag(FLAGS_dev_role),
      absl::GetFlag(FLAGS_dev_agency), absl::GetFlag(FLAGS_dev_subject));
}

int Fail(const grpc::Status& s) {
  const absl::Status a = lt::grpc_util::FromGrpcStatus(s);
  const lt::common::ErrorDetails d = lt::common::GetErrorDetails(a);
  std::fprintf(stderr, "error: %s: %s\n",
               absl::StatusCodeToString(a.code()).c_str(),
               std::string(a.message()).c_str());
  if (!d.reason.empty())
    std::fprintf(stderr, "  reason: %s\n", d.reason.c_str());
  for (const auto& v : d.field_violations) {
    std::fprintf(stderr, "  %s: %s\n", v.field.c_str(), v.description.c_str());
  }
  if (!d.localized_message.empty()) {
    std::fprintf(stderr, "  %s\n", d.localized_message.c_str());
  }
  return 1;
}

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

std::string Local(const google::protobuf::Timestamp& t) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone("Asia/Ho_Chi_Minh", &tz))
    tz = absl::FixedTimeZone(7 * 3600);
  return absl::FormatTime("%H:%M %d/%m/%Y", lt::grpc_util::FromProto(t), tz);
}

void PrintDossier(const v1::Dossier& d) {
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << Json(d) << "\n";
    return;
  }
  std::cout << "Mã hồ sơ:      " << d.code() << "\n"
            << "Thủ tục:       " << d.procedure() << " (phiên bản "
            << d.procedure_version() << ")\n"
            << "Trạng thái:    " << v1::DossierState_Name(d.state()) << " — "
            << d.current_step() << " (mã quốc gia " << d.national_status_code()
            << ")\n"
            << "Tiếp nhận:     " << Local(d.receive_time()) << "\n"
            << "Hẹn trả:       " << Local(d.appointment_time()) << "\n";
  for (const auto& r : d.results()) {
    std::cout << "Kết quả:       " << r.key() << " = " << r.value() << "\n";
  }
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename M>
absl::Status ParseJson(const std::string& text, M* m) {
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;  // seed files carry _notes
  auto st = google::protobuf::util::JsonStringToMessage(text, m, o);
  if (!st.ok()) return absl::InvalidArgumentError(st.ToString());
  return absl::OkStatus();
}

int Seed() {
  const std::string dir = absl::GetFlag(FLAGS_dir);
  auto agencies_text = ReadFile(dir + "/agencies.json");
  auto procedures_text = ReadFile(dir + "/procedures.json");
  if (!agencies_text.ok() || !procedures_text.ok()) {
    std::fprintf(stderr, "error: seed files not found in %s\n", dir.c_str());
    return 1;
  }
  v1::ListAgenciesResponse agencies;
  v1::ListProceduresResponse procedures;
  if (auto s = ParseJson(*agencies_text, &agencies); !s.ok()) {
    std::fprintf(stderr, "error: agencies.json: %s\n",
                 std::string(s.message()).c_str());
    return 1;
  }
  if (auto s = ParseJson(*procedures_text, &procedures); !s.ok()) {
    std::fprintf(stderr, "error: procedures.json: %s\n",
                 std::string(s.message()).c_str());
    return 1;
  }
  for (const auto& a : agencies.agencies()) {
    grpc::ClientContext ctx;
    Prepare(ctx);
    v1::UpsertAgencyRequest req;
    *req.mutable_agency() = a;
    v1::UpsertAgencyResponse resp;
    if (auto s = stub->UpsertAgency(&ctx, req, &resp); !s.ok()) return Fail(s);
  }
  int loaded = 0;
  for (const auto& p : procedures.procedures()) {
    // Load a version only when it differs from the one in force.
    grpc::ClientContext gctx;
    Prepare(gctx);
    v1::GetProcedureRequest greq;
    greq.set_name("procedures/" + p.code());
    v1::GetProcedureResponse gresp;
    if (stub->GetProcedure(&gctx, greq, &gresp).ok()) {
      v1::Procedure cur = gresp.procedure();
      cur.clear_name();
      cur.clear_version();
      if (cur.SerializeAsString() == p.SerializeAsString()) continue;
    }
    grpc::ClientContext ctx;
    Prepare(ctx);
    v1::UpsertProcedureRequest req;
    *req.mutable_procedure() = p;
    v1::UpsertProcedureResponse resp;
    if (auto s = stub->UpsertProcedure(&ctx, req, &resp); !s.ok())
      return Fail(s);
    ++loaded;
  }
  std::printf("seeded %d agencies, %d new procedure versions (of %d)\n",
              agencies.agencies_size(), loaded, procedures.procedures_size());
  return 0;
}

int Submit(const std::string& file) {
  auto text = ReadFile(file);
  if (!text.ok()) {
    std::fprintf(stderr, "error: %s\n",
                 std::string(text.status().message()).c_str());
    return 1;
  }
  v1::SubmitDossierRequest req;
  if (auto s = ParseJson(*text, &req); !s.ok()) {
    std::fprintf(stderr, "error: %s: %s\n", file.c_str(),
                 std::string(s.message()).c_str());
    return 1;
  }
  if (req.request_id().empty()) req.set_request_id(lt::common::NewUuid());
  grpc::ClientContext ctx;
  Prepare(ctx);
  v1::SubmitDossierResponse resp;
  if (auto s = stub->SubmitDossier(&ctx, req, &resp); !s.ok()) return Fail(s);
  PrintDossier(resp.dossier());
  return 0;
}

// The on-time report as CSV (UTF-8, header row), from the deadline service.
int Report(const std::string& agency) {
  namespace dv1 = lienthong::deadline::v1;
  std::string address = absl::GetFlag(FLAGS_deadline_address);
  if (address.empty()) address = "127.0.0.1:7003";
  auto channel = lt::grpc_util::MakeChannel(
      address, {absl::GetFlag(FLAGS_ca), absl::GetFlag(FLAGS_cert),
                absl::GetFlag(FLAGS_key)});
  if (!channel.ok()) return 2;
  auto deadline = dv1::DeadlineService::NewStub(*channel);
  absl::TimeZone tz;
  if (!absl::LoadTimeZone("Asia/Ho_Chi_Minh", &tz))
    tz = absl::FixedTimeZone(7 * 3600);
  absl::CivilDay from, to;
  if (!absl::ParseCivilTime(absl::GetFlag(FLAGS_from), &from) ||
      !absl::ParseCivilTime(absl::GetFlag(FLAGS_to), &to)) {
    std::fprintf(stderr, "error: --from and --to must be YYYY-MM-DD\n");
    return 2;
  }
  dv1::GetOnTimeReportRequest req;
  req.set_agency("agencies/" + agency);
  lt::grpc_util::ToProto(absl::FromCivil(from, tz),
                         req.mutable_period_start_time());
  lt::grpc_util::ToProto(absl::FromCivil(to + 1, tz),
                         req.mutable_period_end_time());
  const std::string g = absl::GetFlag(FLAGS_group_by);
  req.set_group_by(g == "procedure" ? dv1::REPORT_GROUPING_PROCEDURE
                   : g == "tier"    ? dv1::REPORT_GROUPING_TIER
                                    : dv1::REPORT_GROUPING_AGENCY);
  grpc::ClientContext ctx;
  Prepare(ctx);
  dv1::GetOnTimeReportResponse resp;
  if (auto s = deadline->GetOnTimeReport(&ctx, req, &resp); !s.ok())
    return Fail(s);
  auto csv = [](const std::string& v) {
    std::string out = "\"";
    for (char c : v) {
      if (c == '"') out += '"';
      out += c;
    }
    return out + "\"";
  };
  std::printf(
      "nhom,ten,tiep_nhan,som_han,dung_han,tre_han,dang_xu_ly_trong_han,"
      "dang_xu_ly_qua_han,ty_le_dung_han\n");
  auto row = [&](const dv1::OnTimeReportRow& r) {
    std::printf(
        "%s,%s,%lld,%lld,%lld,%lld,%lld,%lld,%.4f\n", csv(r.group()).c_str(),
        csv(r.display_name()).c_str(), static_cast<long long>(r.received()),
        static_cast<long long>(r.finished_early()),
        static_cast<long long>(r.finished_on_time()),
        static_cast<long long>(r.finished_late()),
        static_cast<long long>(r.in_progress_on_time()),
        static_cast<long long>(r.in_progress_overdue()), r.on_time_rate());
  };
  for (const auto& r : resp.rows()) row(r);
  dv1::OnTimeReportRow total = resp.total();
  total.set_group("TONG");
  row(total);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "lienthong [flags] seed|submit FILE|get CODE|list AGENCY|lookup CODE "
      "LAST4|receipt CODE|slip CODE|audit-verify|report AGENCY --from --to");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) {
    std::fprintf(stderr, "%s\n", absl::ProgramUsageMessage().data());
    return 2;
  }
  auto channel = lt::grpc_util::MakeChannel(
      absl::GetFlag(FLAGS_address),
      {absl::GetFlag(FLAGS_ca), absl::GetFlag(FLAGS_cert),
       absl::GetFlag(FLAGS_key)});
  if (!channel.ok()) {
    std::fprintf(stderr, "error: %s\n",
                 std::string(channel.status().message()).c_str());
    return 2;
  }
  stub = v1::IntakeService::NewStub(*channel);
  const std::string cmd = args[1];
  auto arg = [&](size_t i) -> std::string {
    if (args.size() <= i) {
      std::fprintf(stderr, "error: %s needs more arguments\n", cmd.c_str());
      std::exit(2);
    }
    return args[i];
  };
  if (cmd == "seed") return Seed();
  if (cmd == "report") return Report(arg(2));
  if (cmd == "submit") return Submit(arg(2));
  if (cmd == "get") {
    grpc::ClientContext ctx;
    Prepare(ctx);
    v1::GetDossierRequest req;
    req.set_name("dossiers/" + arg(2));
    v1::GetDossierResponse resp;
    if (auto s = stub->GetDossier(&ctx, req, &resp); !s.ok()) return Fail(s);
    PrintDossier(resp.dossier());
    return 0;
  }
  if (cmd == "list") {
    std::string token;
    do {
      grpc::ClientContext ctx;
      Prepare(ctx);
      v1::ListDossiersRequest req;
      req.set_parent("agencies/" + arg(2));
      req.set_page_token(token);
      v1::ListDossiersResponse resp;
      if (auto s = stub->ListDossiers(&ctx, req, &resp); !s.ok())
        return Fail(s);
      for (const auto& d : resp.dossiers()) {
        if (absl::GetFlag(FLAGS_json)) {
          std::cout << Json(d) << "\n";
        } else {
          std::cout << d.code() << "  " << v1::DossierState_Name(d.state())
                    << "  hẹn " << Local(d.appointment_time()) << "\n";
        }
      }
      token = resp.next_page_token();
    } while (!token.empty());
    return 0;
  }
  if (cmd == "lookup") {
    grpc::ClientContext ctx;
    Prepare(ctx);
    v1::LookupDossierRequest req;
    req.set_code(arg(2));
    req.set_phone_last4(arg(3));
    v1::LookupDossierResponse resp;
    if (auto s = stub->LookupDossier(&ctx, req, &resp); !s.ok()) return Fail(s);
    if (absl::GetFlag(FLAGS_json)) {
      std::cout << Json(resp) << "\n";
    } else {
      std::cout << resp.code() << ": " << resp.current_step() << ", hẹn trả "
                << Local(resp.appointment_time())
                << (resp.on_time() ? " (đúng hạn)" : " (trễ hạn)") << "\n";
    }
    return 0;
  }
  if (cmd == "receipt" || cmd == "slip") {
    grpc::ClientContext ctx;
    Prepare(ctx);
    v1::RenderFormRequest req;
    req.set_name("dossiers/" + arg(2));
    req.set_kind(cmd == "receipt" ? v1::FORM_KIND_RECEIPT
                                  : v1::FORM_KIND_CONTROL_SLIP);
    v1::RenderFormResponse resp;
    if (auto s = stub->RenderForm(&ctx, req, &resp); !s.ok()) return Fail(s);
    std::cout << resp.html();
    return 0;
  }
  if (cmd == "audit-verify") {
    grpc::ClientContext ctx;
    Prepare(ctx);
    v1::VerifyAuditChainResponse resp;
    if (auto s =
            stub->VerifyAuditChain(&ctx, v1::VerifyAuditChainRequest(), &resp);
        !s.ok()) {
      return Fail(s);
    }
    if (absl::GetFlag(FLAGS_json)) {
      std::cout << Json(resp) << "\n";
    } else if (resp.intact()) {
      std::cout << "audit chain intact: " << resp.checked() << " entries\n";
    } else {
      std::cout << "audit chain BROKEN at entry " << resp.first_bad_sequence()
                << ": " << resp.problem() << "\n";
    }
    return resp.intact() ? 0 : 3;
  }
  std::fprintf(stderr, "unknown command %s\n", cmd.c_str());
  return 2;
}
