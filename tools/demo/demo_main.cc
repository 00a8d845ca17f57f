// lienthong-demo: the joint birth registration, end to end, through the
// real gRPC APIs of the running stack. Two fathers register their newborns
// at Tây Mỗ ward's one-stop counter; the simulated civil-status, police and
// social-insurance systems work the legs. The second child was born at home
// and needs a witness's statement: the justice officer asks for a
// supplement, the counter records it, and the dossier continues. The demo
// prints each dossier's timeline, outputs, appointment against the actual
// finish, and final state.

#include <cstdio>
#include <fstream>
#include <map>

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

namespace {

std::unique_ptr<iv1::IntakeService::Stub> intake;
std::unique_ptr<rv1::RoutingService::Stub> routing;
std::map<std::string, std::string> agency_names;

void Officer(grpc::ClientContext& ctx) {
  lt::demo::Officer(ctx, absl::GetFlag(FLAGS_counter));
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

iv1::Dossier Get(const std::string& name) {
  grpc::ClientContext ctx;
  Officer(ctx);
  iv1::GetDossierRequest req;
  req.set_name(name);
  iv1::GetDossierResponse resp;
  intake->GetDossier(&ctx, req, &resp);
  return resp.dossier();
}

bool Supplement(const std::string& name) {
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
  return s.ok();
}

void PrintTimeline(const iv1::Dossier& d) {
  std::printf("\n── Hồ sơ %s ──\n", d.code().c_str());
  grpc::ClientContext c1;
  Officer(c1);
  iv1::GetControlSlipRequest sreq;
  sreq.set_name(d.name());
  iv1::GetControlSlipResponse slip;
  intake->GetControlSlip(&c1, sreq, &slip);
  grpc::ClientContext c2;
  Officer(c2);
  rv1::GetRouteRequest rreq;
  rreq.set_dossier(d.name());
  rv1::GetRouteResponse route;
  routing->GetRoute(&c2, rreq, &route);

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
  routing->ListHandovers(&c3, hreq, &handovers);
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
  auto or_default = [](std::string v, const char* d) {
    return v.empty() ? std::string(d) : v;
  };
  intake = iv1::IntakeService::NewStub(*lt::grpc_util::MakeChannel(
      or_default(absl::GetFlag(FLAGS_intake_address), "127.0.0.1:7001")));
  routing = rv1::RoutingService::NewStub(*lt::grpc_util::MakeChannel(
      or_default(absl::GetFlag(FLAGS_routing_address), "127.0.0.1:7002")));

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
  lt::demo::NotifyDemoOptions notify_options;
  notify_options.counter = absl::GetFlag(FLAGS_counter);
  notify_options.sinks_dir = absl::GetFlag(FLAGS_sinks_dir);
  notify_options.webhook_url = absl::GetFlag(FLAGS_webhook_url);
  if (!absl::GetFlag(FLAGS_webhook_secret_file).empty()) {
    std::ifstream in(absl::GetFlag(FLAGS_webhook_secret_file));
    std::getline(in, notify_options.webhook_secret);
  }
  auto notify = nv1::NotifyService::NewStub(*lt::grpc_util::MakeChannel(
      or_default(absl::GetFlag(FLAGS_notify_address), "127.0.0.1:7004")));
  lt::demo::EnsureWebhook(*notify, notify_options);
  std::vector<std::string> names, codes;
  for (auto& [label, req] : cases) {
    grpc::ClientContext ctx;
    Officer(ctx);
    iv1::SubmitDossierResponse resp;
    grpc::Status s = intake->SubmitDossier(&ctx, req, &resp);
    if (!s.ok()) {
      std::fprintf(stderr, "demo: submit failed: %s\n",
                   s.error_message().c_str());
      return 1;
    }
    std::printf("Tiếp nhận %s (%s): hẹn trả %s\n",
                resp.dossier().code().c_str(), label.c_str(),
                Local(resp.dossier().appointment_time()).c_str());
    names.push_back(resp.dossier().name());
    codes.push_back(resp.dossier().code());
  }
  const absl::Time give_up = absl::Now() + absl::GetFlag(FLAGS_timeout);
  std::map<std::string, bool> done, supplemented;
  auto finished = [&] {
    size_t n = 0;
    for (const auto& [k, v] : done) n += v ? 1 : 0;
    return n;
  };
  while (finished() < names.size()) {
    if (absl::Now() > give_up) {
      std::fprintf(stderr, "demo: gave up waiting; see tools/stack logs\n");
      return 1;
    }
    for (const std::string& n : names) {
      if (done[n]) continue;
      const iv1::Dossier d = Get(n);
      if (d.state() == iv1::DOSSIER_STATE_SUPPLEMENT_REQUESTED &&
          !supplemented[n]) {
        std::printf(
            "%s: cơ quan yêu cầu bổ sung; công dân nộp bổ sung tại quầy\n",
            d.code().c_str());
        supplemented[n] = Supplement(n);
      }
      if (d.state() == iv1::DOSSIER_STATE_READY_FOR_RETURN ||
          d.state() == iv1::DOSSIER_STATE_REFUSED) {
        done[n] = true;
      }
    }
    absl::SleepFor(absl::Milliseconds(300));
  }
  for (const std::string& n : names) {
    grpc::ClientContext ctx;
    Officer(ctx);
    iv1::ReturnResultRequest req;
    req.set_name(n);
    req.set_request_id(lt::common::NewUuid());
    req.set_note("Trả kết quả tại quầy một cửa");
    iv1::ReturnResultResponse resp;
    intake->ReturnResult(&ctx, req, &resp);
    PrintTimeline(Get(n));
  }
  // What the citizens and the ward's systems were told, and where it landed.
  lt::demo::PrintNotifications(*notify, notify_options, names, codes,
                               absl::Seconds(20));
  return 0;
}
