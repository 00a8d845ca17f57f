// lienthong-demo: the joint birth registration, end to end, through the
// real gRPC APIs of the running stack. Two fathers register their newborns
// at Tây Mỗ ward's one-stop counter; the simulated civil-status, police and
// social-insurance systems work the legs. The second child was born at home
// and needs a witness's statement: the justice officer asks for a
// supplement, the counter records it, and the dossier continues. The demo
// prints each dossier's timeline, outputs, appointment against the actual
// finish, and final state, then what notify told people. It exits 0 only
// when both dossiers were returned, a message about each landed and every
// webhook signature held (demo_outcome.h); otherwise 1, with one line
// naming what failed.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/common/uuid.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/flags.h"
#include "libs/grpc_util/proto_time.h"
#include "lienthong/intake/v1/intake_service.grpc.pb.h"
#include "lienthong/routing/v1/routing_service.grpc.pb.h"
#include "tools/demo/demo_outcome.h"
#include "tools/demo/demo_support.h"
#include "tools/demo/notifications.h"

ABSL_FLAG(std::string, sinks_dir, ".run/sinks",
          "Where the local SMS/e-mail/webhook sinks record messages");
ABSL_FLAG(std::string, counter, "001.08.19.H26",
          "The receiving one-stop unit (Tây Mỗ ward)");
ABSL_FLAG(std::string, webhook_url, "",
          "Register this URL as the one-stop unit's webhook (empty: none)");
ABSL_FLAG(std::string, webhook_secret_file, "",
          "File holding the webhook's signing secret");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(2),
          "Give up waiting for a dossier after this long");

namespace lt = lienthong;
namespace iv1 = lienthong::intake::v1;
namespace rv1 = lienthong::routing::v1;
namespace nv1 = lienthong::notify::v1;
using lt::demo::Local;
using lt::demo::RpcError;

namespace {

std::unique_ptr<iv1::IntakeService::Stub> intake;
std::unique_ptr<rv1::RoutingService::Stub> routing;
std::map<std::string, std::string> agency_names;

void Officer(grpc::ClientContext& ctx) {
  lt::demo::Officer(ctx, absl::GetFlag(FLAGS_counter));
}

// Prints the line naming what failed and returns the exit code for it.
int Fail(const std::vector<std::string>& problems) {
  std::fflush(stdout);  // the line comes after what was printed before it
  std::fprintf(stderr, "%s\n", lt::demo::FailureLine(problems).c_str());
  return 1;
}

std::string AgencyName(const std::string& name) {
  if (name.empty()) return "";
  auto it = agency_names.find(name);
  if (it != agency_names.end()) return it->second;
  grpc::ClientContext ctx;
  Officer(ctx);
  iv1::GetAgencyRequest req;
  req.set_name(name);
  iv1::GetAgencyResponse resp;
  std::string n = name;
  if (intake->GetAgency(&ctx, req, &resp).ok())
    n = resp.agency().display_name();
  agency_names[name] = n;
  return n;
}

iv1::SubmitDossierRequest Dossier(const std::string& child,
                                  const std::string& place,
                                  const std::string& father,
                                  const std::string& phone,
                                  const std::string& email,
                                  lt::common::v1::ContactChannel prefers) {
  iv1::SubmitDossierRequest req;
  req.set_parent("agencies/" + absl::GetFlag(FLAGS_counter));
  req.set_request_id(lt::common::NewUuid());
  iv1::Dossier* d = req.mutable_dossier();
  d->set_procedure("procedures/LT.01");
  d->set_channel(lt::common::v1::RECEIPT_CHANNEL_COUNTER);
  d->mutable_applicant()->set_full_name(father);
  d->mutable_applicant()->set_personal_id("001088012345");
  d->mutable_applicant()->mutable_contact()->set_phone(phone);
  d->mutable_applicant()->mutable_contact()->set_email(email);
  d->mutable_applicant()->mutable_contact()->set_preferred_channel(prefers);
  auto field = [&](const std::string& k, const std::string& v) {
    auto* f = d->add_fields();
    f->set_key(k);
    f->set_value(v);
  };
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), lt::demo::Hanoi());
  const absl::CivilDay born = today - 3;
  field("child_full_name", child);
  field("child_date_of_birth", absl::StrFormat("%04d-%02d-%02d", born.year(),
                                               born.month(), born.day()));
  field("child_sex", "Nam");
  field("place_of_birth", place);
  field("mother_full_name", "Trần Thị Bình");
  field("mother_personal_id", "001190054321");
  field("father_full_name", father);
  field("permanent_address",
        "Số 12 ngõ 40 đường Tây Mỗ, phường Tây Mỗ, Hà Nội");
  for (const char* code : {"giay_chung_sinh", "to_khai_lien_thong"}) {
    auto* doc = d->add_documents();
    doc->set_code(code);
    doc->set_sha256(std::string(64, code[0] == 'g' ? 'a' : 'b'));
    doc->set_originals(1);
  }
  return req;
}

grpc::Status Get(const std::string& name, iv1::Dossier* out) {
  grpc::ClientContext ctx;
  Officer(ctx);
  iv1::GetDossierRequest req;
  req.set_name(name);
  iv1::GetDossierResponse resp;
  grpc::Status s = intake->GetDossier(&ctx, req, &resp);
  if (s.ok()) *out = resp.dossier();
  return s;
}

grpc::Status Supplement(const std::string& name) {
  grpc::ClientContext ctx;
  Officer(ctx);
  iv1::SupplementDossierRequest req;
  req.set_name(name);
  req.set_request_id(lt::common::NewUuid());
  auto* f = req.add_fields();
  f->set_key("birth_witness_name");
  f->set_value("Lê Thị Hoa (hàng xóm, người đỡ đẻ)");
  auto* doc = req.add_documents();
  doc->set_code("van_ban_xac_nhan_sinh");
  doc->set_sha256(std::string(64, 'c'));
  doc->set_originals(1);
  req.set_note("Công dân nộp văn bản xác nhận của người làm chứng");
  iv1::SupplementDossierResponse resp;
  grpc::Status s = intake->SupplementDossier(&ctx, req, &resp);
  if (!s.ok())
    std::printf("  bổ sung thất bại: %s\n", s.error_message().c_str());
  return s;
}

// Prints the dossier's timeline, hand-overs, results and verdict; each call
// that fails is printed where its part would be and added to *errors.
void PrintTimeline(const iv1::Dossier& d, std::vector<std::string>* errors) {
  std::printf("\n── Hồ sơ %s ──\n", d.code().c_str());
  auto failed = [&](const std::string& rpc, const grpc::Status& s) {
    errors->push_back(RpcError(rpc, s));
    std::printf("  (không đọc được %s: %s)\n", rpc.c_str(),
                errors->back().c_str());
  };
  grpc::ClientContext c1;
  Officer(c1);
  iv1::GetControlSlipRequest sreq;
  sreq.set_name(d.name());
  iv1::GetControlSlipResponse slip;
  if (grpc::Status s = intake->GetControlSlip(&c1, sreq, &slip); !s.ok())
    failed("GetControlSlip", s);
  grpc::ClientContext c2;
  Officer(c2);
  rv1::GetRouteRequest rreq;
  rreq.set_dossier(d.name());
  rv1::GetRouteResponse route;
  if (grpc::Status s = routing->GetRoute(&c2, rreq, &route); !s.ok())
    failed("GetRoute", s);

  struct Step {
    google::protobuf::Timestamp at;
    std::string what;
  };
  std::vector<Step> steps;
  for (const auto& t : slip.transitions()) {
    steps.push_back(
        {t.time(),
         absl::StrCat("Một cửa: ", lt::demo::DossierStateVi(t.to_state()),
                      t.reason().empty() ? "" : " — " + t.reason())});
  }
  for (const auto& t : route.route().tasks()) {
    const std::string who = AgencyName(t.agency());
    if (t.has_ready_time()) {
      steps.push_back({t.ready_time(), absl::StrCat("Chuyển đến ", who, ": ",
                                                    t.display_name())});
    }
    if (t.has_finish_time()) {
      steps.push_back(
          {t.finish_time(),
           absl::StrCat(who, " ", lt::demo::TaskOutcomeVi(t.state()),
                        t.reason().empty() ? "" : " — " + t.reason())});
    }
  }
  std::sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
    return std::make_pair(a.at.seconds(), a.at.nanos()) <
           std::make_pair(b.at.seconds(), b.at.nanos());
  });
  for (const Step& s : steps)
    std::printf("  %s  %s\n", Local(s.at).c_str(), s.what.c_str());
  grpc::ClientContext c3;
  Officer(c3);
  rv1::ListHandoversRequest hreq;
  hreq.set_dossier(d.name());
  rv1::ListHandoversResponse handovers;
  if (grpc::Status s = routing->ListHandovers(&c3, hreq, &handovers); !s.ok())
    failed("ListHandovers", s);
  for (const auto& h : handovers.handovers()) {
    std::printf("  Biên bản bàn giao: %s → %s lúc %s\n",
                AgencyName(h.sender_agency()).c_str(),
                AgencyName(h.receiver_agency()).c_str(),
                Local(h.handover_time()).c_str());
  }
  std::printf("  Kết quả:\n");
  for (const auto& r : d.results()) {
    std::printf("    %-30s %s\n", r.key().c_str(), r.value().c_str());
  }
  google::protobuf::Timestamp finished;
  for (const auto& t : slip.transitions()) {
    if (t.to_state() == iv1::DOSSIER_STATE_READY_FOR_RETURN)
      finished = t.time();
  }
  std::printf("  Hẹn trả: %s   Hoàn thành: %s   → %s\n",
              Local(d.appointment_time()).c_str(), Local(finished).c_str(),
              lt::demo::OnTimeVerdict(finished, d.appointment_time()).c_str());
  std::printf("  Trạng thái cuối: %s, mã quốc gia %d\n",
              lt::demo::DossierStateLabel(d.state()).c_str(),
              d.national_status_code());
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Progress shows as it happens also when the output goes to a file or a
  // pipe (tools/stack logs, the e2e tests waiting for the submissions).
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  auto or_default = [](std::string v, const char* d) {
    return v.empty() ? std::string(d) : v;
  };
  intake = iv1::IntakeService::NewStub(*lt::grpc_util::MakeChannel(
      or_default(absl::GetFlag(FLAGS_intake_address), "127.0.0.1:7001")));
  routing = rv1::RoutingService::NewStub(*lt::grpc_util::MakeChannel(
      or_default(absl::GetFlag(FLAGS_routing_address), "127.0.0.1:7002")));

  lt::demo::NotifyDemoOptions notify_options;
  notify_options.counter = absl::GetFlag(FLAGS_counter);
  notify_options.sinks_dir = absl::GetFlag(FLAGS_sinks_dir);
  notify_options.webhook_url = absl::GetFlag(FLAGS_webhook_url);
  if (!absl::GetFlag(FLAGS_webhook_secret_file).empty()) {
    std::ifstream in(absl::GetFlag(FLAGS_webhook_secret_file));
    std::getline(in, notify_options.webhook_secret);
  }
  if (!notify_options.webhook_url.empty() &&
      notify_options.webhook_secret.empty()) {
    // Without the secret no webhook is registered, and the demo could not
    // show the signed webhooks it promises.
    return Fail(
        {"--webhook_url needs a secret: --webhook_secret_file is "
         "unset, unreadable or empty (thiếu khóa bí mật webhook)"});
  }

  std::printf(
      "Liên thông đăng ký khai sinh – thường trú – cấp thẻ BHYT tại %s\n",
      AgencyName("agencies/" + absl::GetFlag(FLAGS_counter)).c_str());
  std::vector<std::pair<std::string, iv1::SubmitDossierRequest>> cases = {
      {"sinh tại bệnh viện",
       Dossier("Nguyễn Minh Khôi", "Bệnh viện Phụ sản Hà Nội", "Nguyễn Văn An",
               "0912345678", "nguyen.van.an@example.vn",
               lt::common::v1::CONTACT_CHANNEL_SMS)},
      {"sinh tại nhà, cần bổ sung",
       Dossier("Phạm Gia Bảo", "Tại nhà, phường Tây Mỗ", "Phạm Văn Cường",
               "0987654321", "pham.van.cuong@example.vn",
               lt::common::v1::CONTACT_CHANNEL_EMAIL)}};
  auto notify = nv1::NotifyService::NewStub(*lt::grpc_util::MakeChannel(
      or_default(absl::GetFlag(FLAGS_notify_address), "127.0.0.1:7004")));
  if (const std::string e = lt::demo::EnsureWebhook(*notify, notify_options);
      !e.empty()) {
    return Fail({absl::StrCat("webhook registration: ", e,
                              " (không đăng ký được webhook)")});
  }
  std::vector<std::string> names, codes;
  for (auto& [label, req] : cases) {
    grpc::ClientContext ctx;
    Officer(ctx);
    iv1::SubmitDossierResponse resp;
    grpc::Status s = intake->SubmitDossier(&ctx, req, &resp);
    if (!s.ok()) {
      return Fail({absl::StrCat(RpcError("SubmitDossier", s),
                                " (không tiếp nhận được hồ sơ)")});
    }
    std::printf("Tiếp nhận %s (%s): hẹn trả %s\n",
                resp.dossier().code().c_str(), label.c_str(),
                Local(resp.dossier().appointment_time()).c_str());
    names.push_back(resp.dossier().name());
    codes.push_back(resp.dossier().code());
  }

  // Until every dossier has an outcome at the counter. A call that fails
  // is retried on the next round; the last failure is kept, so that giving
  // up says why and not only that.
  const absl::Duration timeout = absl::GetFlag(FLAGS_timeout);
  const absl::Time give_up = absl::Now() + timeout;
  std::map<std::string, bool> done, supplemented;
  std::map<std::string, iv1::DossierState> last_state;
  std::string last_error;
  auto finished = [&] {
    size_t n = 0;
    for (const auto& [k, v] : done) n += v ? 1 : 0;
    return n;
  };
  while (finished() < names.size()) {
    if (absl::Now() > give_up) {
      std::vector<std::string> problems;
      for (size_t i = 0; i < names.size(); ++i) {
        if (done[names[i]]) continue;
        problems.push_back(
            absl::StrCat("gave up after ", absl::FormatDuration(timeout),
                         " on dossier ", codes[i], ", still ",
                         lt::demo::DossierStateLabel(last_state[names[i]]),
                         " (hết thời gian chờ)"));
      }
      problems.push_back(
          last_error.empty()
              ? "no call failed: are the agency systems (agency-sim) running? "
                "see tools/stack logs"
              : absl::StrCat("last error: ", last_error));
      return Fail(problems);
    }
    for (const std::string& n : names) {
      if (done[n]) continue;
      iv1::Dossier d;
      if (grpc::Status s = Get(n, &d); !s.ok()) {
        last_error = RpcError("GetDossier", s);
        continue;
      }
      last_state[n] = d.state();
      if (d.state() == iv1::DOSSIER_STATE_SUPPLEMENT_REQUESTED &&
          !supplemented[n]) {
        std::printf(
            "%s: cơ quan yêu cầu bổ sung; công dân nộp bổ sung tại quầy\n",
            d.code().c_str());
        grpc::Status s = Supplement(n);
        supplemented[n] = s.ok();
        if (!s.ok()) last_error = RpcError("SupplementDossier", s);
      }
      if (d.state() == iv1::DOSSIER_STATE_READY_FOR_RETURN ||
          d.state() == iv1::DOSSIER_STATE_REFUSED ||
          d.state() == iv1::DOSSIER_STATE_WITHDRAWN) {
        done[n] = true;
      }
    }
    absl::SleepFor(absl::Milliseconds(300));
  }

  std::vector<lt::demo::DossierOutcome> outcomes(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    lt::demo::DossierOutcome& out = outcomes[i];
    out.code = codes[i];
    out.state = last_state[names[i]];
    grpc::ClientContext ctx;
    Officer(ctx);
    iv1::ReturnResultRequest req;
    req.set_name(names[i]);
    req.set_request_id(lt::common::NewUuid());
    req.set_note("Trả kết quả tại quầy một cửa");
    iv1::ReturnResultResponse resp;
    if (grpc::Status s = intake->ReturnResult(&ctx, req, &resp); !s.ok())
      out.errors.push_back(RpcError("ReturnResult", s));
    iv1::Dossier d;
    if (grpc::Status s = Get(names[i], &d); !s.ok()) {
      out.errors.push_back(RpcError("GetDossier", s));
      std::printf("\n── Hồ sơ %s ──\n  (không đọc được hồ sơ: %s)\n",
                  codes[i].c_str(), out.errors.back().c_str());
      continue;
    }
    out.state = d.state();
    PrintTimeline(d, &out.errors);
  }
  // What the citizens and the ward's systems were told, and where it landed.
  const lt::demo::NotificationReport report = lt::demo::PrintNotifications(
      *notify, notify_options, names, codes, absl::Seconds(20));
  std::vector<std::string> other;
  if (!report.error.empty()) other.push_back(report.error);
  for (size_t i = 0; i < outcomes.size() && i < report.dossiers.size(); ++i)
    outcomes[i].notifications = report.dossiers[i];
  const std::vector<std::string> problems = lt::demo::Problems(outcomes, other);
  if (!problems.empty()) return Fail(problems);
  std::printf(
      "\nDemo hoàn tất: %zu hồ sơ đã trả kết quả, thông báo đã tới "
      "nơi nhận.\n",
      outcomes.size());
  return 0;
}
