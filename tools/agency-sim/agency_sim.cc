#include "tools/agency-sim/agency_sim.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/common/errors.h"
#include "libs/common/uuid.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "tools/agency-sim/sim_policy.h"

namespace lienthong::agency_sim {
namespace {

namespace v1 = routing::v1;

class WallTime final : public SimTime {
 public:
  absl::Time Now() override { return absl::Now(); }
  bool Wait(absl::Duration d, absl::Notification& stop) override {
    return !stop.WaitForNotificationWithTimeout(d);
  }
};

std::string Input(const v1::Task& t, const std::string& key) {
  for (const auto& f : t.inputs()) {
    if (f.key() == key) return f.value();
  }
  return "";
}

// "UNAVAILABLE reason=X: message": the code, the reason clients branch on,
// and the server's English message (which carries no citizen identifiers).
// Never the task's inputs.
std::string Describe(const grpc::Status& s) {
  const common::ErrorDetails details =
      common::GetErrorDetails(grpc_util::FromGrpcStatus(s));
  return absl::StrCat(
      absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())),
      details.reason.empty() ? "" : " reason=", details.reason,
      s.error_message().empty() ? "" : ": ", s.error_message());
}

bool IsPowerOfTwo(int n) { return n > 0 && (n & (n - 1)) == 0; }

}  // namespace

SimTime& RealSimTime() {
  static WallTime* const time = new WallTime;
  return *time;
}

// Registers a context for Stop() to cancel while the call runs. A context
// registered after Stop() is cancelled at once (gRPC cancels a call whose
// context was cancelled before it started).
class SimAgency::InFlight {
 public:
  InFlight(SimAgency& agency, grpc::ClientContext& ctx)
      : agency_(agency), ctx_(ctx) {
    absl::MutexLock lock(&agency_.mu_);
    agency_.in_flight_.push_back(&ctx_);
    if (agency_.stop_.HasBeenNotified()) ctx_.TryCancel();
  }
  ~InFlight() {
    absl::MutexLock lock(&agency_.mu_);
    auto& v = agency_.in_flight_;
    v.erase(std::remove(v.begin(), v.end(), &ctx_), v.end());
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  SimAgency& agency_;
  grpc::ClientContext& ctx_;
};

SimAgency::SimAgency(SimOptions options,
                     const std::shared_ptr<grpc::Channel>& channel,
                     SimTime& time, SimLog log)
    : options_(std::move(options)),
      stub_(v1::RoutingService::NewStub(channel)),
      time_(time),
      log_(std::move(log)),
      rng_(options_.seed) {}

void SimAgency::Stop() {
  stop_.Notify();
  absl::MutexLock lock(&mu_);
  for (grpc::ClientContext* ctx : in_flight_) ctx->TryCancel();
}

void SimAgency::Run() {
  std::string cursor;
  int failures = 0;  // streams in a row that ended without a task
  while (!stop_.HasBeenNotified()) {
    grpc::ClientContext ctx;
    Prepare(ctx, absl::Hours(24));
    v1::WatchTasksRequest req;
    req.set_agency("agencies/" + options_.agency);
    req.set_cursor(cursor);
    if (options_.claim_on_delivery) {
      grpc_util::ToProto(options_.lease, req.mutable_claim_lease_duration());
    }
    const absl::Time opened = time_.Now();
    bool delivered = false;
    grpc::Status s;
    {
      InFlight in_flight(*this, ctx);
      auto reader = stub_->WatchTasks(&ctx, req);
      v1::WatchTasksResponse item;
      while (reader->Read(&item)) {
        delivered = true;
        cursor = item.cursor();
        Work(item.task());
      }
      s = reader->Finish();
    }
    if (stop_.HasBeenNotified()) break;
    // A stream that brought tasks, or stayed open a while, was a working
    // connection: the next failure starts the backoff afresh.
    if (delivered || time_.Now() - opened >= options_.reconnect_max) {
      failures = 0;
    }
    ++failures;
    const absl::Duration wait = Jitter(Backoff(
        failures - 1, options_.reconnect_initial, options_.reconnect_max));
    // While routing is away: the 1st, 2nd, 4th, 8th, ... failure only.
    if (IsPowerOfTwo(failures)) {
      Error(absl::StrCat("stream ended (", Describe(s), "); attempt ", failures,
                         ", reconnecting from the last cursor in ",
                         absl::FormatDuration(wait)));
    }
    if (!time_.Wait(wait, stop_)) break;
  }
}

void SimAgency::Work(const v1::Task& task) {
  Claim claim{task.name(), task.claim_token(),
              grpc_util::FromProto(task.lease_expire_time())};
  if (task.state() != v1::TASK_STATE_CLAIMED) {
    v1::ClaimTaskRequest req;
    req.set_name(task.name());
    req.set_request_id(common::NewUuid());
    grpc_util::ToProto(options_.lease, req.mutable_lease_duration());
    v1::ClaimTaskResponse resp;
    const grpc::Status s = Call([&](grpc::ClientContext& ctx) {
      return stub_->ClaimTask(&ctx, req, &resp);
    });
    if (!s.ok()) {
      // FAILED_PRECONDITION: another replica took it, or it was cancelled.
      if (s.error_code() != grpc::StatusCode::FAILED_PRECONDITION &&
          !stop_.HasBeenNotified()) {
        Error(absl::StrCat("claim of ", task.name(), " of ", task.dossier(),
                           " failed: ", Describe(s)));
      }
      return;
    }
    claim.token = resp.task().claim_token();
    claim.lease_expire = grpc_util::FromProto(resp.task().lease_expire_time());
  }
  Info(absl::StrCat("claimed ", task.name(), " (", task.leg_id(), ") of ",
                    task.dossier()));
  if (!WorkKeepingLease(claim, options_.delay)) return;
  Answer(task, claim);
}

bool SimAgency::WorkKeepingLease(Claim& claim, absl::Duration work) {
  // The server's expiry against our clock: fine on one machine, and half a
  // lease of slack elsewhere. A task claimed on delivery may have waited in
  // the stream behind others, so the check comes before any work too.
  const absl::Time end = time_.Now() + work;
  for (;;) {
    absl::Time now = time_.Now();
    if (now >= end) return true;
    if (claim.lease_expire - now < options_.lease / 2) {
      if (!Renew(claim)) return false;
      now = time_.Now();
    }
    // Never spin: at least a quarter lease between renewals.
    const absl::Time next =
        std::min(end, std::max(claim.lease_expire - options_.lease / 2,
                               now + options_.lease / 4));
    if (!time_.Wait(next - now, stop_)) return false;
  }
}

bool SimAgency::Renew(Claim& claim) {
  v1::RenewLeaseRequest req;
  req.set_name(claim.name);
  req.set_request_id(common::NewUuid());
  req.set_claim_token(claim.token);
  grpc_util::ToProto(options_.lease, req.mutable_lease_duration());
  v1::RenewLeaseResponse resp;
  const grpc::Status s = Call([&](grpc::ClientContext& ctx) {
    return stub_->RenewLease(&ctx, req, &resp);
  });
  if (!s.ok()) {
    // LEASE_EXPIRED, CLAIMED_BY_ANOTHER, ...: the task is no longer ours;
    // if it is still to do, the stream brings it again.
    if (!stop_.HasBeenNotified()) {
      Error(absl::StrCat("lost ", claim.name, ", dropping it: ", Describe(s)));
    }
    return false;
  }
  claim.lease_expire = grpc_util::FromProto(resp.task().lease_expire_time());
  Info(absl::StrCat("renewed the lease of ", claim.name));
  return true;
}

void SimAgency::Answer(const v1::Task& task, const Claim& claim) {
  std::uniform_real_distribution<double> u(0, 1);
  const bool home_birth_without_witness =
      IsHomeBirth(Input(task, "place_of_birth")) &&
      Input(task, "birth_witness_name").empty();
  grpc::Status s;
  std::string did, action;
  if (home_birth_without_witness || u(rng_) < options_.supplement_probability) {
    v1::RequestSupplementRequest req;
    req.set_name(task.name());
    req.set_reason(home_birth_without_witness
                       ? "Trẻ sinh ngoài cơ sở y tế: cần văn bản xác nhận của "
                         "người làm chứng"
                       : "Hồ sơ chưa đầy đủ");
    req.add_missing_items(home_birth_without_witness
                              ? "Văn bản xác nhận việc sinh của người làm chứng"
                              : "Bản sao giấy tờ tùy thân");
    req.set_request_id(common::NewUuid());
    req.set_claim_token(claim.token);
    v1::RequestSupplementResponse resp;
    s = Call([&](grpc::ClientContext& ctx) {
      return stub_->RequestSupplement(&ctx, req, &resp);
    });
    did = "asked for a supplement on";
    action = "RequestSupplement";
  } else if (u(rng_) < options_.refuse_probability) {
    v1::RefuseTaskRequest req;
    req.set_name(task.name());
    req.set_reason("Hồ sơ không đủ điều kiện giải quyết");
    req.set_request_id(common::NewUuid());
    req.set_claim_token(claim.token);
    v1::RefuseTaskResponse resp;
    s = Call([&](grpc::ClientContext& ctx) {
      return stub_->RefuseTask(&ctx, req, &resp);
    });
    did = "refused";
    action = "RefuseTask";
  } else {
    v1::CompleteTaskRequest req;
    req.set_name(task.name());
    req.set_request_id(common::NewUuid());
    req.set_claim_token(claim.token);
    for (const auto& spec : task.expected_outputs()) {
      auto* out = req.add_outputs();
      out->set_key(spec.key());
      out->set_value(Output(spec));
    }
    v1::CompleteTaskResponse resp;
    s = Call([&](grpc::ClientContext& ctx) {
      return stub_->CompleteTask(&ctx, req, &resp);
    });
    did = "completed";
    action = "CompleteTask";
  }
  if (s.ok()) {
    Info(absl::StrCat(did, " ", task.name()));
  } else if (!stop_.HasBeenNotified()) {
    Error(absl::StrCat(action, " of ", task.name(), " FAILED: ", Describe(s)));
  }
}

grpc::Status SimAgency::Call(
    const std::function<grpc::Status(grpc::ClientContext&)>& attempt) {
  grpc::Status s;
  for (int i = 0; i < std::max(1, options_.max_attempts); ++i) {
    if (i > 0 && !time_.Wait(Jitter(Backoff(i - 1, options_.retry_initial,
                                            options_.retry_max)),
                             stop_)) {
      break;
    }
    grpc::ClientContext ctx;
    Prepare(ctx, options_.rpc_timeout);
    {
      InFlight in_flight(*this, ctx);
      s = attempt(ctx);
    }
    if (s.ok() || !IsTransient(s.error_code()) || stop_.HasBeenNotified()) {
      break;
    }
  }
  return s;
}

void SimAgency::Prepare(grpc::ClientContext& ctx,
                        absl::Duration timeout) const {
  grpc_util::PrepareContext(ctx, timeout, "agency_system", options_.agency,
                            absl::StrCat("sim-", options_.agency));
}

// Between half and all of `d`: replicas and agencies that lost routing at
// the same moment do not all come back at the same moment.
absl::Duration SimAgency::Jitter(absl::Duration d) {
  std::uniform_real_distribution<double> u(0.5, 1.0);
  return d * u(rng_);
}

void SimAgency::Info(const std::string& line) const {
  log_(false, absl::StrCat("[", options_.agency, "] ", line));
}

void SimAgency::Error(const std::string& line) const {
  log_(true, absl::StrCat("[", options_.agency, "] ", line));
}

std::string SimAgency::Output(const common::v1::FieldSpec& spec) {
  std::uniform_int_distribution<int64_t> digits(0, 999999);
  absl::TimeZone tz;
  if (!absl::LoadTimeZone("Asia/Ho_Chi_Minh", &tz))
    tz = absl::FixedTimeZone(7 * 3600);
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), tz);
  switch (spec.type()) {
    case common::v1::FIELD_TYPE_PERSONAL_ID:
      // 001 = Hà Nội, then century/sex digit and year of birth.
      return absl::StrFormat("001%d%02d%06d", 2, today.year() % 100,
                             digits(rng_));
    case common::v1::FIELD_TYPE_DATE:
      return absl::StrFormat("%04d-%02d-%02d", today.year(), today.month(),
                             today.day());
    case common::v1::FIELD_TYPE_NUMBER:
      return "1";
    case common::v1::FIELD_TYPE_ENUM:
      return spec.enum_values_size() ? spec.enum_values(0) : "";
    case common::v1::FIELD_TYPE_PHONE:
      return "0912345678";
    case common::v1::FIELD_TYPE_EMAIL:
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

}  // namespace lienthong::agency_sim
