#pragma once

// What every service's main() does, once: flags with env overrides,
// logging, /metrics, the database pool and migrations (start-up stops with
// one clear line on the first problem), the gRPC server with health and
// reflection, readiness that follows PostgreSQL, an outbox relay per peer
// service, background loops (scanners, senders), and SIGTERM -> drain ->
// exit 0.
//
//   int main(int argc, char** argv) {
//     runtime::Start(argc, argv, "lienthong-intake: ...");
//     auto rt = runtime::ServiceRuntime::Init({.label = "intake", ...});
//     IntakeServer server(rt->pool(), rt->clock(), ...);
//     return rt->Serve({&server, rt->event_sink()});
//   }

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "libs/common/clock.h"
#include "libs/db/migrations.h"
#include "libs/db/outbox.h"
#include "libs/db/pool.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/server.h"

ABSL_DECLARE_FLAG(std::string, db_dsn);
ABSL_DECLARE_FLAG(int, db_pool_size);
ABSL_DECLARE_FLAG(absl::Duration, inbox_retention);
ABSL_DECLARE_FLAG(absl::Duration, event_purge_interval);

namespace lienthong::runtime {

// Blocks SIGTERM/SIGINT (before any thread starts) and parses the flags.
void Start(int argc, char** argv, absl::string_view usage);

struct ServiceSpec {
  std::string label;   // "intake": metric prefix, log field
  std::string schema;  // "intake"
  std::string domain;  // "lienthong.intake": ErrorInfo domain
  std::vector<std::string> service_names;  // for health readiness
  std::vector<db::Migration> migrations;
  // Peer services this one sends events to: "routing", "deadline",
  // "notify", "intake"; the address comes from --<peer>_address.
  std::vector<std::string> event_destinations;
  // Applies one incoming event (see grpc_util::EventHandler); empty when
  // the service consumes none.
  grpc_util::EventHandler event_handler;
  // Optional: applies a delivered batch in one transaction (see
  // grpc_util::EventBatchHandler).
  grpc_util::EventBatchHandler event_batch_handler;
};

class ServiceRuntime {
 public:
  // Exits the process with status 2 and one line on a start-up problem.
  static std::unique_ptr<ServiceRuntime> Init(ServiceSpec spec);
  ~ServiceRuntime();

  db::Pool& pool() { return *pool_; }
  const common::Clock& clock() { return common::RealClock::Get(); }
  bool insecure_dev_auth() const;
  const ServiceSpec& spec() const { return spec_; }

  // The EventSinkService to register (null when no handler was given).
  grpc::Service* event_sink() { return event_sink_.get(); }

  // Runs `run_once` every `interval` on its own thread while serving; with
  // `wake_channel`, also as soon as a wake-up (NotifyAfterCommit) on that
  // channel arrives, in every replica.
  void AddLoop(std::string name, std::function<void()> run_once,
               absl::Duration interval, std::string wake_channel = "");
  // The same for a run that can fail (returns false): the next comes after
  // `retry`, doubling up to `interval` (runtime::RunLoop).
  void AddRetryingLoop(std::string name, std::function<bool()> run_once,
                       absl::Duration interval, absl::Duration retry,
                       std::string wake_channel = "");

  // Called when SIGTERM arrives, before the drain (e.g. to end long-lived
  // streams so the drain need not wait for its deadline).
  void OnShutdown(std::function<void()> hook) {
    shutdown_hooks_.push_back(std::move(hook));
  }

  // Starts the server, relays and loops; waits for SIGTERM/SIGINT; drains;
  // returns the process exit code.
  int Serve(std::vector<grpc::Service*> services);
  // True from SIGTERM/SIGINT on: long loops stop between their steps.
  bool stopping() const { return stopping_; }

 private:
  explicit ServiceRuntime(ServiceSpec spec) : spec_(std::move(spec)) {}
  void StartRelays();
  void UpdateOutboxMetrics();
  // Deletes delivered outbox events and inbox ids past their retention
  // (db::PurgeEvents), counting them in _events_purged_total.
  void PurgeExpiredEvents(absl::Duration outbox_retention,
                          absl::Duration inbox_retention);

  ServiceSpec spec_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<grpc_util::EventSinkServer> event_sink_;
  std::vector<std::unique_ptr<grpc_util::EventSinkClient>> clients_;
  std::vector<std::unique_ptr<db::OutboxRelay>> relays_;
  struct Loop {
    std::string name;
    std::function<bool()> run_once;  // false: failed, retry sooner
    absl::Duration interval;
    absl::Duration retry;
    std::string wake_channel;  // empty: the timer alone
  };
  std::vector<Loop> loops_;
  std::vector<std::thread> threads_;
  std::vector<std::function<void()>> shutdown_hooks_;
  std::atomic<bool> stopping_{false};
};

}  // namespace lienthong::runtime
