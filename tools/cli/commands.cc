#include "tools/cli/commands.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "libs/common/uuid.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "tools/cli/message_file.h"
#include "tools/cli/output.h"
#include "tools/cli/request_id.h"
#include "tools/cli/seed_diff.h"

namespace lienthong::cli {
namespace {

namespace v1 = intake::v1;
namespace dv1 = deadline::v1;

void Prepare(const Session& s, grpc::ClientContext& ctx) {
  grpc_util::PrepareContext(ctx, s.timeout, s.dev_role, s.dev_agency,
                            s.dev_subject);
}

// The service a call went to, and the flag that set its address.
struct Target {
  absl::string_view service = "intake";
  absl::string_view address;
  absl::string_view flag = "--address";
};

Target Intake(const Session& s) { return {"intake", s.intake_address}; }

// The server's error: code, message, reason, field violations and the
// Vietnamese message. The address (and the flag that set it) only when the
// service could not be reached: a call that ran out of time reached it, and
// the address is no help there, --timeout is.
int Fail(const Session& s, const absl::Status& a, const Target& t) {
  const common::ErrorDetails d = common::GetErrorDetails(a);
  std::fprintf(stderr, "error: %s: %s\n",
               absl::StatusCodeToString(a.code()).c_str(),
               std::string(a.message()).c_str());
  if (!d.reason.empty()) {
    std::fprintf(stderr, "  reason: %s\n", d.reason.c_str());
  }
  for (const auto& v : d.field_violations) {
    std::fprintf(stderr, "  %s: %s\n", v.field.c_str(), v.description.c_str());
  }
  if (!d.localized_message.empty()) {
    std::fprintf(stderr, "  %s\n", d.localized_message.c_str());
  }
  if (absl::IsUnavailable(a)) {
    std::fprintf(stderr, "  (the %s service at %s, set by %s)\n",
                 std::string(t.service).c_str(), std::string(t.address).c_str(),
                 std::string(t.flag).c_str());
  } else if (absl::IsDeadlineExceeded(a)) {
    std::fprintf(stderr, "  (each call is given --timeout=%s)\n",
                 absl::FormatDuration(s.timeout).c_str());
  }
  return 1;
}

int Fail(const Session& s, const grpc::Status& g) {
  return Fail(s, grpc_util::FromGrpcStatus(g), Intake(s));
}

// A local problem (a bad file): nothing was sent.
int Refuse(const absl::Status& st) {
  std::fprintf(stderr, "error: %s\n", std::string(st.message()).c_str());
  return 2;
}

void PrintLine(const std::string& line) { std::cout << line << "\n"; }

// `<dir>/<base>.json`, `.yaml` or `.yml`: exactly one of them.
absl::StatusOr<std::string> SeedFile(const std::string& dir,
                                     const std::string& base) {
  std::string found;
  for (const char* ext : {".json", ".yaml", ".yml"}) {
    const std::string path = absl::StrCat(dir, "/", base, ext);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) continue;
    if (!found.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "both ", found, " and ", path, " exist; keep one of them"));
    }
    found = path;
  }
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no ", base, ".json, ", base, ".yaml or ", base, ".yml in ", dir));
  }
  return found;
}

// Seed files may carry notes in keys starting with `_`.
absl::Status LoadSeed(const std::string& dir, const std::string& base,
                      google::protobuf::Message* m) {
  absl::StatusOr<std::string> path = SeedFile(dir, base);
  if (!path.ok()) return path.status();
  ParseOptions o;
  o.skip_underscore_keys = true;
  return LoadMessageFile(*path, o, m);
}

// Seeding stops at the first failure; what came before stays (a rerun skips
// it).
int SeedStopped(const char* what, const std::string& code) {
  std::fprintf(stderr, "  seeding stopped at %s %s\n", what, code.c_str());
  return 1;
}

// 1 when a step failed, else 0; `upserted` counts what was sent.
int SeedAgencies(const Session& s, const v1::ListAgenciesResponse& agencies,
                 int* upserted) {
  const std::string run_id = common::NewUuid();
  for (const v1::Agency& a : agencies.agencies()) {
    grpc::ClientContext gctx;
    Prepare(s, gctx);
    v1::GetAgencyRequest greq;
    greq.set_name("agencies/" + a.code());
    v1::GetAgencyResponse gresp;
    const absl::Status got =
        grpc_util::FromGrpcStatus(s.intake->GetAgency(&gctx, greq, &gresp));
    absl::StatusOr<SeedStep> step = DecideAgency(got, gresp.agency(), a);
    if (!step.ok()) {
      Fail(s, step.status(), Intake(s));
      return SeedStopped("agency", a.code());
    }
    if (*step == SeedStep::kSkip) continue;
    grpc::ClientContext ctx;
    Prepare(s, ctx);
    v1::UpsertAgencyRequest req;
    *req.mutable_agency() = a;
    req.set_request_id(
        AgencyUpsertRequestId(a, got.ok() ? &gresp.agency() : nullptr, run_id));
    v1::UpsertAgencyResponse resp;
    if (auto st = s.intake->UpsertAgency(&ctx, req, &resp); !st.ok()) {
      Fail(s, st);
      return SeedStopped("agency", a.code());
    }
    ++*upserted;
  }
  return 0;
}

// 1 when a step failed, else 0; `added` counts the new versions.
int SeedProcedures(const Session& s,
                   const v1::ListProceduresResponse& procedures, int* added) {
  for (const v1::Procedure& p : procedures.procedures()) {
    grpc::ClientContext gctx;
    Prepare(s, gctx);
    v1::GetProcedureRequest greq;
    greq.set_name("procedures/" + p.code());
    v1::GetProcedureResponse gresp;
    const absl::Status got =
        grpc_util::FromGrpcStatus(s.intake->GetProcedure(&gctx, greq, &gresp));
    absl::StatusOr<SeedStep> step = DecideProcedure(got, gresp.procedure(), p);
    if (!step.ok()) {
      Fail(s, step.status(), Intake(s));
      return SeedStopped("procedure", p.code());
    }
    if (*step == SeedStep::kSkip) continue;
    grpc::ClientContext ctx;
    Prepare(s, ctx);
    v1::UpsertProcedureRequest req;
    *req.mutable_procedure() = p;
    req.set_request_id(ProcedureUpsertRequestId(
        p, got.ok() ? gresp.procedure().version() : 0));
    v1::UpsertProcedureResponse resp;
    if (auto st = s.intake->UpsertProcedure(&ctx, req, &resp); !st.ok()) {
      Fail(s, st);
      return SeedStopped("procedure", p.code());
    }
    ++*added;
  }
  return 0;
}

}  // namespace

int Seed(const Session& s, const std::string& dir) {
  v1::ListAgenciesResponse agencies;
  v1::ListProceduresResponse procedures;
  if (auto st = LoadSeed(dir, "agencies", &agencies); !st.ok()) {
    return Refuse(st);
  }
  if (auto st = LoadSeed(dir, "procedures", &procedures); !st.ok()) {
    return Refuse(st);
  }
  SeedCounts c;
  c.agencies = agencies.agencies_size();
  c.procedures = procedures.procedures_size();
  if (int rc = SeedAgencies(s, agencies, &c.agencies_upserted); rc != 0) {
    return rc;
  }
  if (int rc = SeedProcedures(s, procedures, &c.procedure_versions_added);
      rc != 0) {
    return rc;
  }
  PrintLine(s.json ? SeedJson(c) : SeedText(c));
  return 0;
}

int Submit(const Session& s, const std::string& file,
           const std::string& request_id_flag) {
  v1::SubmitDossierRequest req;
  if (auto st = LoadMessageFile(file, {}, &req); !st.ok()) return Refuse(st);
  absl::StatusOr<std::string> id = SubmitRequestId(req, request_id_flag);
  if (!id.ok()) return Refuse(id.status());
  req.set_request_id(*id);
  grpc::ClientContext ctx;
  Prepare(s, ctx);
  v1::SubmitDossierResponse resp;
  if (auto st = s.intake->SubmitDossier(&ctx, req, &resp); !st.ok()) {
    Fail(s, st);
    const std::string hint =
        SubmitFailureHint(grpc_util::FromGrpcStatus(st), *id);
    if (!hint.empty()) std::fprintf(stderr, "%s\n", hint.c_str());
    return 1;
  }
  if (s.json) {
    PrintLine(SubmitJson(resp.dossier(), *id));
  } else {
    std::cout << DossierText(resp.dossier(), *id);
  }
  return 0;
}

int Get(const Session& s, const std::string& code) {
  grpc::ClientContext ctx;
  Prepare(s, ctx);
  v1::GetDossierRequest req;
  req.set_name("dossiers/" + code);
  v1::GetDossierResponse resp;
  if (auto st = s.intake->GetDossier(&ctx, req, &resp); !st.ok()) {
    return Fail(s, st);
  }
  if (s.json) {
    PrintLine(JsonLine(resp.dossier()));
  } else {
    std::cout << DossierText(resp.dossier());
  }
  return 0;
}

int List(const Session& s, const std::string& agency) {
  std::string token;
  do {
    grpc::ClientContext ctx;
    Prepare(s, ctx);
    v1::ListDossiersRequest req;
    req.set_parent("agencies/" + agency);
    req.set_page_token(token);
    v1::ListDossiersResponse resp;
    if (auto st = s.intake->ListDossiers(&ctx, req, &resp); !st.ok()) {
      return Fail(s, st);
    }
    for (const v1::Dossier& d : resp.dossiers()) {
      PrintLine(s.json ? JsonLine(d) : DossierListLine(d));
    }
    token = resp.next_page_token();
  } while (!token.empty());
  return 0;
}

int Lookup(const Session& s, const std::string& code,
           const std::string& last4) {
  grpc::ClientContext ctx;
  Prepare(s, ctx);
  v1::LookupDossierRequest req;
  req.set_code(code);
  req.set_phone_last4(last4);
  v1::LookupDossierResponse resp;
  if (auto st = s.intake->LookupDossier(&ctx, req, &resp); !st.ok()) {
    return Fail(s, st);
  }
  if (s.json) {
    PrintLine(JsonLine(resp));
  } else {
    PrintLine(LookupLine(resp));
  }
  return 0;
}

int Form(const Session& s, const std::string& code, v1::FormKind kind) {
  grpc::ClientContext ctx;
  Prepare(s, ctx);
  v1::RenderFormRequest req;
  req.set_name("dossiers/" + code);
  req.set_kind(kind);
  v1::RenderFormResponse resp;
  if (auto st = s.intake->RenderForm(&ctx, req, &resp); !st.ok()) {
    Fail(s, st);
    const std::string hint = FormFailureHint(grpc_util::FromGrpcStatus(st));
    // Indented as Fail() indents the server's Vietnamese message.
    if (!hint.empty()) std::fprintf(stderr, "  %s\n", hint.c_str());
    return 1;
  }
  if (s.json) {
    PrintLine(JsonLine(resp));  // {"html": "..."}
  } else {
    std::cout << resp.html();
  }
  return 0;
}

int IssueApology(const Session& s, const Apology& a) {
  v1::IssueApologyRequest req;
  req.set_name("dossiers/" + a.code);
  grpc_util::ToProto(a.new_appointment, req.mutable_new_appointment_time());
  req.set_reason(a.reason);
  absl::StatusOr<std::string> id =
      CommandRequestId(req, a.request_id_flag, "issue-apology");
  if (!id.ok()) return Refuse(id.status());
  req.set_request_id(*id);
  grpc::ClientContext ctx;
  Prepare(s, ctx);
  v1::IssueApologyResponse resp;
  if (auto st = s.intake->IssueApology(&ctx, req, &resp); !st.ok()) {
    Fail(s, st);
    const std::string hint = RetryHint(grpc_util::FromGrpcStatus(st), *id,
                                       "the same command", "--request_id");
    if (!hint.empty()) std::fprintf(stderr, "%s\n", hint.c_str());
    return 1;
  }
  if (s.json) {
    PrintLine(JsonLine(resp));
  } else {
    std::cout << resp.apology_html();
  }
  return 0;
}

int AuditVerify(const Session& s) {
  grpc::ClientContext ctx;
  Prepare(s, ctx);
  v1::VerifyAuditChainResponse resp;
  if (auto st = s.intake->VerifyAuditChain(&ctx, v1::VerifyAuditChainRequest(),
                                           &resp);
      !st.ok()) {
    return Fail(s, st);
  }
  if (s.json) {
    PrintLine(JsonLine(resp));
  } else if (resp.intact()) {
    PrintLine(absl::StrCat("audit chain intact: ", resp.checked(), " entries"));
  } else {
    PrintLine(absl::StrCat("audit chain BROKEN at entry ",
                           resp.first_bad_sequence(), ": ", resp.problem()));
  }
  return resp.intact() ? 0 : 3;
}

// The on-time report from the deadline service: CSV, or the response as
// JSON.
int Report(const Session& s, const ReportQuery& q) {
  auto channel = grpc_util::MakeChannel(q.deadline_address, s.tls);
  if (!channel.ok()) {
    std::fprintf(stderr, "error: --deadline_address=%s: %s\n",
                 q.deadline_address.c_str(),
                 std::string(channel.status().message()).c_str());
    return 2;
  }
  auto deadline = dv1::DeadlineService::NewStub(*channel);
  const absl::TimeZone tz = VietnamZone();
  dv1::GetOnTimeReportRequest req;
  req.set_agency("agencies/" + q.agency);
  grpc_util::ToProto(absl::FromCivil(q.from, tz),
                     req.mutable_period_start_time());
  grpc_util::ToProto(absl::FromCivil(q.to + 1, tz),
                     req.mutable_period_end_time());
  req.set_group_by(q.group_by);
  grpc::ClientContext ctx;
  Prepare(s, ctx);
  dv1::GetOnTimeReportResponse resp;
  if (auto st = deadline->GetOnTimeReport(&ctx, req, &resp); !st.ok()) {
    return Fail(s, grpc_util::FromGrpcStatus(st),
                {"deadline", q.deadline_address, "--deadline_address"});
  }
  if (s.json) {
    PrintLine(JsonLine(resp));
  } else {
    std::cout << ReportCsv(resp);
  }
  return 0;
}

}  // namespace lienthong::cli
