#pragma once

// One simulated agency back office, using only the public routing contract
// the way docs/integration.md tells integrators to: watch the queue from a
// cursor, claim (or take tasks claimed on delivery), keep the lease while
// working, answer with the claim's token, retry transient failures with
// the same request_id.
//
// Threading: Run() on one thread; Stop() from any other, which cancels the
// call in flight (the watch stream included) and ends any wait, so that
// Run() returns promptly.

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "lienthong/routing/v1/routing_service.grpc.pb.h"

namespace lienthong::agency_sim {

struct SimOptions {
  std::string agency;                       // its code, e.g. 002.08.19.H26
  absl::Duration delay = absl::Seconds(1);  // working time per task
  absl::Duration lease = absl::Seconds(30);
  bool claim_on_delivery = false;  // WatchTasks claims; no ClaimTask
  double supplement_probability = 0;
  double refuse_probability = 0;
  uint64_t seed = 0;
  absl::Duration rpc_timeout = absl::Seconds(10);
  // Each action (claim, renew, complete, supplement, refuse) is tried this
  // often at most, transient failures backed off from retry_initial.
  int max_attempts = 6;
  absl::Duration retry_initial = absl::Milliseconds(200);
  absl::Duration retry_max = absl::Seconds(5);
  // Reconnecting the watch stream.
  absl::Duration reconnect_initial = absl::Milliseconds(500);
  absl::Duration reconnect_max = absl::Seconds(30);
};

// The simulator's time: a clock, and waits that a stop cuts short. Tests
// give one that only moves when waited on.
class SimTime {
 public:
  virtual ~SimTime() = default;
  virtual absl::Time Now() = 0;
  // Waits `d`; false (early) once `stop` is notified.
  virtual bool Wait(absl::Duration d, absl::Notification& stop) = 0;
};

// The wall clock.
SimTime& RealSimTime();

// A log line; `error` lines are printed even with --quiet.
using SimLog = std::function<void(bool error, const std::string& line)>;

class SimAgency {
 public:
  SimAgency(SimOptions options, const std::shared_ptr<grpc::Channel>& channel,
            SimTime& time, SimLog log);
  SimAgency(const SimAgency&) = delete;
  SimAgency& operator=(const SimAgency&) = delete;

  // Watches and works the agency's queue until Stop().
  void Run();
  // Cancels the call in flight and ends waits; Run() then returns.
  void Stop();

 private:
  class InFlight;
  struct Claim {
    std::string name;
    std::string token;
    absl::Time lease_expire;
  };

  void Work(const routing::v1::Task& task);
  // Spends `work` on the task, renewing the lease whenever less than half
  // of it is left. False when stopped or the lease was lost.
  bool WorkKeepingLease(Claim& claim, absl::Duration work);
  bool Renew(Claim& claim);
  void Answer(const routing::v1::Task& task, const Claim& claim);
  // One action, one request: `attempt` is called with a fresh context until
  // it answers, fails with other than a transient error, runs out of
  // attempts or the simulator stops. The caller's request (and so its
  // request_id) is the same on every attempt.
  grpc::Status Call(
      const std::function<grpc::Status(grpc::ClientContext&)>& attempt);
  void Prepare(grpc::ClientContext& ctx, absl::Duration timeout) const;
  absl::Duration Jitter(absl::Duration d);
  void Info(const std::string& line) const;
  void Error(const std::string& line) const;
  std::string Output(const common::v1::FieldSpec& spec);

  const SimOptions options_;
  std::unique_ptr<routing::v1::RoutingService::Stub> stub_;
  SimTime& time_;
  const SimLog log_;
  std::mt19937_64 rng_;
  absl::Notification stop_;
  absl::Mutex mu_;
  // The calls Stop() cancels: the watch stream and an action inside it.
  std::vector<grpc::ClientContext*> in_flight_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::agency_sim
