#pragma once

// For agency_sim_test: routing as a fake gRPC server on a FakeClock, time
// that moves only when the simulator waits, and a ready task carrying a
// citizen's data.

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "libs/common/clock.h"
#include "libs/grpc_util/proto_time.h"
#include "lienthong/routing/v1/routing_service.grpc.pb.h"
#include "tools/agency-sim/agency_sim.h"

namespace lienthong::agency_sim::sim_testing {

namespace v1 = routing::v1;

// One call the fake routing server received.
struct Received {
  std::string rpc;
  std::string name;
  std::string request_id;
  std::string claim_token;
};

// Routing as an agency system sees it, with its time on a FakeClock:
// tasks to hand out on the first watch, leases that run out when that
// clock passes them (LEASE_EXPIRED, as the real one), and failures to
// answer with, per RPC, in order.
class FakeRouting final : public v1::RoutingService::Service {
 public:
  explicit FakeRouting(common::FakeClock& clock) : clock_(clock) {}

  void Deliver(v1::Task t) {
    absl::MutexLock lock(&mu_);
    if (t.state() == v1::TASK_STATE_CLAIMED) {
      leases_[t.name()] = {t.claim_token(),
                           grpc_util::FromProto(t.lease_expire_time())};
    }
    to_deliver_.push_back(std::move(t));
  }
  void FailWatches(int n) {
    absl::MutexLock lock(&mu_);
    failing_watches_ = n;
  }
  void FailNext(const std::string& rpc, grpc::StatusCode code) {
    absl::MutexLock lock(&mu_);
    failures_[rpc].push_back(code);
  }
  std::vector<Received> Calls(const std::string& rpc,
                              const std::string& name = "") const {
    absl::MutexLock lock(&mu_);
    std::vector<Received> out;
    for (const Received& r : received_) {
      if (r.rpc == rpc && (name.empty() || r.name == name)) out.push_back(r);
    }
    return out;
  }
  int Watches() const {
    absl::MutexLock lock(&mu_);
    return watches_;
  }

  grpc::Status WatchTasks(
      grpc::ServerContext* ctx, const v1::WatchTasksRequest* req,
      grpc::ServerWriter<v1::WatchTasksResponse>* writer) override {
    std::vector<v1::Task> send;
    {
      absl::MutexLock lock(&mu_);
      if (++watches_ <= failing_watches_) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting");
      }
      send.swap(to_deliver_);
      for (v1::Task& t : send) {
        if (req->has_claim_lease_duration() &&
            t.state() != v1::TASK_STATE_CLAIMED) {
          ClaimLocked(t, grpc_util::FromProto(req->claim_lease_duration()));
        }
      }
    }
    for (const v1::Task& t : send) {
      v1::WatchTasksResponse item;
      *item.mutable_task() = t;
      item.set_cursor("after-" + t.name());
      if (!writer->Write(item)) return grpc::Status::CANCELLED;
    }
    while (!ctx->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
    return grpc::Status::CANCELLED;
  }

  grpc::Status ClaimTask(grpc::ServerContext*, const v1::ClaimTaskRequest* req,
                         v1::ClaimTaskResponse* resp) override {
    absl::MutexLock lock(&mu_);
    received_.push_back({"ClaimTask", req->name(), req->request_id(), ""});
    if (grpc::Status s = ScriptedLocked("ClaimTask"); !s.ok()) return s;
    resp->mutable_task()->set_name(req->name());
    ClaimLocked(*resp->mutable_task(),
                grpc_util::FromProto(req->lease_duration()));
    return grpc::Status::OK;
  }

  grpc::Status RenewLease(grpc::ServerContext*,
                          const v1::RenewLeaseRequest* req,
                          v1::RenewLeaseResponse* resp) override {
    absl::MutexLock lock(&mu_);
    received_.push_back(
        {"RenewLease", req->name(), req->request_id(), req->claim_token()});
    if (grpc::Status s =
            ActLocked("RenewLease", req->name(), req->claim_token());
        !s.ok()) {
      return s;
    }
    const absl::Time expire =
        clock_.Now() + grpc_util::FromProto(req->lease_duration());
    leases_[req->name()].expire = expire;
    resp->mutable_task()->set_name(req->name());
    grpc_util::ToProto(expire,
                       resp->mutable_task()->mutable_lease_expire_time());
    return grpc::Status::OK;
  }

  grpc::Status CompleteTask(grpc::ServerContext*,
                            const v1::CompleteTaskRequest* req,
                            v1::CompleteTaskResponse*) override {
    absl::MutexLock lock(&mu_);
    received_.push_back(
        {"CompleteTask", req->name(), req->request_id(), req->claim_token()});
    return ActLocked("CompleteTask", req->name(), req->claim_token());
  }

  grpc::Status RequestSupplement(grpc::ServerContext*,
                                 const v1::RequestSupplementRequest* req,
                                 v1::RequestSupplementResponse*) override {
    absl::MutexLock lock(&mu_);
    received_.push_back({"RequestSupplement", req->name(), req->request_id(),
                         req->claim_token()});
    return ActLocked("RequestSupplement", req->name(), req->claim_token());
  }

  grpc::Status RefuseTask(grpc::ServerContext*,
                          const v1::RefuseTaskRequest* req,
                          v1::RefuseTaskResponse*) override {
    absl::MutexLock lock(&mu_);
    received_.push_back(
        {"RefuseTask", req->name(), req->request_id(), req->claim_token()});
    return ActLocked("RefuseTask", req->name(), req->claim_token());
  }

 private:
  struct Lease {
    std::string token;
    absl::Time expire;
  };

  void ClaimLocked(v1::Task& t, absl::Duration lease)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    t.set_state(v1::TASK_STATE_CLAIMED);
    t.set_claim_token(absl::StrCat("claim-", ++claims_));
    const absl::Time expire = clock_.Now() + lease;
    grpc_util::ToProto(expire, t.mutable_lease_expire_time());
    leases_[t.name()] = {t.claim_token(), expire};
  }
  grpc::Status ScriptedLocked(const std::string& rpc)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto& q = failures_[rpc];
    if (q.empty()) return grpc::Status::OK;
    const grpc::StatusCode code = q.front();
    q.pop_front();
    return grpc::Status(code, "scripted");
  }
  // A holder's action: scripted failure, else refused unless the claim
  // (its token) still holds an unexpired lease.
  grpc::Status ActLocked(const std::string& rpc, const std::string& name,
                         const std::string& token)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (grpc::Status s = ScriptedLocked(rpc); !s.ok()) return s;
    auto it = leases_.find(name);
    if (it == leases_.end() || it->second.token != token) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "CLAIMED_BY_ANOTHER");
    }
    if (clock_.Now() >= it->second.expire) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "LEASE_EXPIRED");
    }
    return grpc::Status::OK;
  }

  common::FakeClock& clock_;
  mutable absl::Mutex mu_;
  std::vector<v1::Task> to_deliver_ ABSL_GUARDED_BY(mu_);
  int failing_watches_ ABSL_GUARDED_BY(mu_) = 0;
  int watches_ ABSL_GUARDED_BY(mu_) = 0;
  int claims_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::deque<grpc::StatusCode>> failures_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, Lease> leases_ ABSL_GUARDED_BY(mu_);
  std::vector<Received> received_ ABSL_GUARDED_BY(mu_);
};

// Time that moves only when the simulator waits: its work and backoffs
// take no real time, and every wait is recorded.
class FakeSimTime final : public SimTime {
 public:
  explicit FakeSimTime(common::FakeClock& clock) : clock_(clock) {}
  absl::Time Now() override { return clock_.Now(); }
  bool Wait(absl::Duration d, absl::Notification& stop) override {
    {
      absl::MutexLock lock(&mu_);
      waits_.push_back(d);
    }
    clock_.Advance(d);
    return !stop.HasBeenNotified();
  }
  std::vector<absl::Duration> Waits() const {
    absl::MutexLock lock(&mu_);
    return waits_;
  }

 private:
  common::FakeClock& clock_;
  mutable absl::Mutex mu_;
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
};

inline v1::Task ReadyTask(int id,
                          const std::string& place = "Bệnh viện Phụ sản") {
  v1::Task t;
  t.set_name(absl::StrCat("tasks/", id));
  t.set_dossier(absl::StrCat("dossiers/000.00.00.H26-260301-000", id));
  t.set_leg_id("civil_status");
  t.set_state(v1::TASK_STATE_READY);
  // A citizen's data the simulator must never log.
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"place_of_birth", place},
           {"father_full_name", "Nguyễn Văn An"},
           {"mother_personal_id", "001190054321"}}) {
    auto* f = t.add_inputs();
    f->set_key(k);
    f->set_value(v);
  }
  auto* out = t.add_expected_outputs();
  out->set_key("personal_id");
  out->set_type(common::v1::FIELD_TYPE_PERSONAL_ID);
  return t;
}

}  // namespace lienthong::agency_sim::sim_testing
