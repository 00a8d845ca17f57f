// lienthong-agency-sim: plays agency back-office systems (civil status,
// police, social insurance) using only the public routing contract:
// watches its agencies' queues, claims, and after a delay completes each
// task with plausible outputs, or, with the given probabilities, asks for a
// supplement or refuses. A home birth without a witness is always sent back
// for a supplement (the demo's second dossier). Restartable: after a
// restart the stream starts with every task still ready, and claimed tasks
// whose lease ran out come back on their own.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <random>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/common/uuid.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/proto_time.h"
#include "lienthong/routing/v1/routing_service.grpc.pb.h"
#include "tools/agency-sim/sim_policy.h"

ABSL_FLAG(std::string, routing, "127.0.0.1:7002", "routing host:port");
ABSL_FLAG(std::vector<std::string>, agencies, {},
          "Agency codes to play, e.g. 002.08.19.H26,003.08.19.H26");
ABSL_FLAG(absl::Duration, delay, absl::Seconds(1),
          "Working time per task before answering");
ABSL_FLAG(absl::Duration, lease, absl::Seconds(30),
          "Lease asked for on claim; a crashed simulator's tasks return to the "
          "queue when it runs out");
ABSL_FLAG(bool, claim_on_delivery, false,
          "Watch with claim on delivery (each task arrives claimed with "
          "--lease) instead of calling ClaimTask per task");
ABSL_FLAG(double, supplement_probability, 0.0,
          "Probability of asking for a supplement");
ABSL_FLAG(double, refuse_probability, 0.0, "Probability of refusing");
ABSL_FLAG(std::string, ca, "", "CA (PEM) for TLS to routing");
ABSL_FLAG(std::string, cert, "", "Client certificate (PEM) for mTLS");
ABSL_FLAG(std::string, key, "", "Client key (PEM)");
ABSL_FLAG(bool, quiet, false, "Log only errors");

namespace v1 = lienthong::routing::v1;
namespace lt = lienthong;

namespace {

std::atomic<bool> stop{false};
absl::Mutex print_mu;

void Log(const std::string& line) {
  if (absl::GetFlag(FLAGS_quiet)) return;
  absl::MutexLock lock(&print_mu);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::string Input(const v1::Task& t, const std::string& key) {
  for (const auto& f : t.inputs()) {
    if (f.key() == key) return f.value();
  }
  return "";
}

class Agency {
 public:
  Agency(std::string code, std::shared_ptr<grpc::Channel> channel,
         uint64_t seed)
      : code_(std::move(code)),
        stub_(v1::RoutingService::NewStub(channel)),
        rng_(seed) {}

  void Run() {
    std::string cursor;
    while (!stop) {
      grpc::ClientContext ctx;
      Prepare(ctx, absl::Hours(24));
      v1::WatchTasksRequest req;
      req.set_agency("agencies/" + code_);
      req.set_cursor(cursor);
      if (absl::GetFlag(FLAGS_claim_on_delivery)) {
        lt::grpc_util::ToProto(absl::GetFlag(FLAGS_lease),
                               req.mutable_claim_lease_duration());
      }
      auto reader = stub_->WatchTasks(&ctx, req);
      v1::WatchTasksResponse item;
      while (!stop && reader->Read(&item)) {
        cursor = item.cursor();
        Work(item.task());
      }
      grpc::Status s = reader->Finish();
      if (!stop && !s.ok()) {
        Log(absl::StrCat("[", code_, "] stream ended (", s.error_message(),
                         "); reconnecting from cursor ", cursor));
      }
      if (!stop) absl::SleepFor(absl::Seconds(1));
    }
  }

 private:
  void Prepare(grpc::ClientContext& ctx, absl::Duration timeout) {
    lt::grpc_util::PrepareContext(ctx, timeout, "agency_system", code_,
                                  absl::StrCat("sim-", code_));
  }

  void Work(const v1::Task& task) {
    if (task.state() != v1::TASK_STATE_CLAIMED) {
      grpc::ClientContext ctx;
      Prepare(ctx, absl::Seconds(10));
      v1::ClaimTaskRequest req;
      req.set_name(task.name());
      req.set_request_id(lt::common::NewUuid());
      lt::grpc_util::ToProto(absl::GetFlag(FLAGS_lease),
                             req.mutable_lease_duration());
      v1::ClaimTaskResponse resp;
      grpc::Status s = stub_->ClaimTask(&ctx, req, &resp);
      if (!s.ok()) return;  // another replica took it, or it was cancelled
    }
    Log(absl::StrCat("[", code_, "] claimed ", task.name(), " (", task.leg_id(),
                     ") of ", task.dossier()));
    absl::SleepFor(absl::GetFlag(FLAGS_delay));
    std::uniform_real_distribution<double> u(0, 1);
    const bool home_birth_without_witness =
        lt::agency_sim::IsHomeBirth(Input(task, "place_of_birth")) &&
        Input(task, "birth_witness_name").empty();
    grpc::ClientContext ctx;
    Prepare(ctx, absl::Seconds(10));
    if (home_birth_without_witness ||
        u(rng_) < absl::GetFlag(FLAGS_supplement_probability)) {
      v1::RequestSupplementRequest req;
      req.set_name(task.name());
      req.set_reason(
          home_birth_without_witness
              ? "Trẻ sinh ngoài cơ sở y tế: cần văn bản xác nhận của "
                "người làm chứng"
              : "Hồ sơ chưa đầy đủ");
      req.add_missing_items(
          home_birth_without_witness
              ? "Văn bản xác nhận việc sinh của người làm chứng"
              : "Bản sao giấy tờ tùy thân");
      req.set_request_id(lt::common::NewUuid());
      v1::RequestSupplementResponse resp;
      grpc::Status s = stub_->RequestSupplement(&ctx, req, &resp);
      Log(absl::StrCat(
          "[", code_, "] asked for a supplement on ", task.name(),
          s.ok() ? "" : absl::StrCat(" FAILED: ", s.error_message())));
      return;
    }
    if (u(rng_) < absl::GetFlag(FLAGS_refuse_probability)) {
      v1::RefuseTaskRequest req;
      req.set_name(task.name());
      req.set_reason("Hồ sơ không đủ điều kiện giải quyết");
      req.set_request_id(lt::common::NewUuid());
      v1::RefuseTaskResponse resp;
      grpc::Status s = stub_->RefuseTask(&ctx, req, &resp);
      Log(absl::StrCat(
          "[", code_, "] refused ", task.name(),
          s.ok() ? "" : absl::StrCat(" FAILED: ", s.error_message())));
      return;
    }
    v1::CompleteTaskRequest req;
    req.set_name(task.name());
    req.set_request_id(lt::common::NewUuid());
    for (const auto& spec : task.expected_outputs()) {
      auto* out = req.add_outputs();
      out->set_key(spec.key());
      out->set_value(Output(spec));
    }
    v1::CompleteTaskResponse resp;
    grpc::Status s = stub_->CompleteTask(&ctx, req, &resp);
    Log(absl::StrCat(
        "[", code_, "] completed ", task.name(),
        s.ok() ? "" : absl::StrCat(" FAILED: ", s.error_message())));
  }

  std::string Output(const lt::common::v1::FieldSpec& spec) {
    std::uniform_int_distribution<int64_t> digits(0, 999999);
    const absl::Time now = absl::Now();
    absl::TimeZone tz;
    if (!absl::LoadTimeZone("Asia/Ho_Chi_Minh", &tz))
      tz = absl::FixedTimeZone(7 * 3600);
    const absl::CivilDay today = absl::ToCivilDay(now, tz);
    switch (spec.type()) {
      case lt::common::v1::FIELD_TYPE_PERSONAL_ID:
        // 001 = Hà Nội, then century/sex digit and year of birth.
        return absl::StrFormat("001%d%02d%06d", 2, today.year() % 100,
                               digits(rng_));
      case lt::common::v1::FIELD_TYPE_DATE:
        return absl::StrFormat("%04d-%02d-%02d", today.year(), today.month(),
                               today.day());
      case lt::common::v1::FIELD_TYPE_NUMBER:
        return "1";
      case lt::common::v1::FIELD_TYPE_ENUM:
        return spec.enum_values_size() ? spec.enum_values(0) : "";
      case lt::common::v1::FIELD_TYPE_PHONE:
        return "0912345678";
      case lt::common::v1::FIELD_TYPE_EMAIL:
        return "hethong@example.vn";
      default:
        break;
    }
    if (spec.key() == "birth_certificate_number") {
      return absl::StrFormat("%d/%d", digits(rng_) % 1000, today.year());
    }
    if (spec.key() == "health_insurance_card_number") {
      return absl::StrFormat("TE101%010d",
                             digits(rng_) * 1000 + digits(rng_) % 1000);
    }
    if (spec.key() == "residence_confirmation_number") {
      return absl::StrFormat("CT-%06d", digits(rng_));
    }
    return absl::StrFormat("%s-%06d", spec.key(), digits(rng_));
  }

  std::string code_;
  std::unique_ptr<v1::RoutingService::Stub> stub_;
  std::mt19937_64 rng_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const auto codes = absl::GetFlag(FLAGS_agencies);
  if (codes.empty()) {
    std::fprintf(stderr,
                 "agency-sim: --agencies must name at least one agency\n");
    return 2;
  }
  auto channel = lt::grpc_util::MakeChannel(
      absl::GetFlag(FLAGS_routing),
      {absl::GetFlag(FLAGS_ca), absl::GetFlag(FLAGS_cert),
       absl::GetFlag(FLAGS_key)});
  if (!channel.ok()) {
    std::fprintf(stderr, "agency-sim: %s\n",
                 std::string(channel.status().message()).c_str());
    return 2;
  }
  std::signal(SIGTERM, [](int) { stop = true; });
  std::signal(SIGINT, [](int) { stop = true; });
  std::vector<std::thread> threads;
  std::random_device rd;
  for (const std::string& code : codes) {
    threads.emplace_back(
        [&, code, seed = rd()] { Agency(code, *channel, seed).Run(); });
  }
  Log(absl::StrCat("agency-sim: playing ", codes.size(), " agencies"));
  for (auto& t : threads) t.detach();
  while (!stop) absl::SleepFor(absl::Milliseconds(200));
  return 0;
}
