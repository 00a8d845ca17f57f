#pragma once

// One server bootstrap for every service: listen address, the standard
// health service (NOT_SERVING while draining or while a dependency is away),
// server reflection, TLS/mTLS from files, a metrics + access-log
// interceptor, and graceful drain on SIGTERM/SIGINT.
//
// Optionally a second, plaintext port (--health_port) that serves only
// grpc.health.v1.Health with the same statuses: the kubelet's native gRPC
// probe cannot present a client certificate, so once the main port requires
// one (mTLS) the probes need a port of their own. Nothing else answers
// there: no reflection, no application service.
//
// main():
//   grpc_util::BlockShutdownSignals();   // before any thread starts
//   config::ParseFlags(...);
//   auto server = grpc_util::Server::Start(
//       grpc_util::ServerOptionsFromFlags("intake", {kServiceName}), {&svc});
//   grpc_util::WaitForShutdownSignal();
//   (*server)->Shutdown();               // NOT_SERVING, grace, drain
//   return 0;

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server.h"

namespace lienthong::grpc_util {

struct TlsFiles {
  std::string cert;       // PEM; TLS when set
  std::string key;        // PEM
  std::string client_ca;  // PEM; mTLS (client certificate required) when set
};

struct ServerOptions {
  std::string service_label;               // "intake": metric prefix
  std::vector<std::string> service_names;  // full names for health
  std::string listen_address = "127.0.0.1:0";
  // Plaintext health-only port on listen_address's host: nullopt = none,
  // 0 = any free port (tests; see Server::health_port()).
  std::optional<int> health_port;
  TlsFiles tls;
  absl::Duration drain_grace = absl::Seconds(5);
  absl::Duration shutdown_deadline = absl::Seconds(20);
  // Calls beyond this many at once are refused with RESOURCE_EXHAUSTED
  // ("Server Threadpool Exhausted"). A SubmitDossier waiting for its batch
  // holds a thread, so a burst of counters needs room: 64 refused calls
  // when 64 clients called at once.
  int max_threads = 256;
  // Handler threads kept waiting for calls. gRPC's default (2) makes a
  // thread exit after each call once more than two are idle and start a
  // new one for the next: under concurrent load, a thread created and
  // destroyed per call (stacks mapped and unmapped, malloc arenas
  // consolidated). A SubmitDossier holds its thread until its batch
  // commits, so with 16 the intake bench's 64 calls out at once still
  // created and destroyed 80-280 threads a second at 1,800 submissions/s;
  // with 64, one.
  int idle_threads = 64;
};

// Reads the common server flags (libs/grpc_util/flags.h).
ServerOptions ServerOptionsFromFlags(std::string service_label,
                                     std::vector<std::string> service_names);

class Server {
 public:
  // Fails (with the problem named) when TLS files are unreadable, the
  // health port is out of range or the main port, or an address cannot be
  // bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      ServerOptions options, const std::vector<grpc::Service*>& services);
  ~Server();

  int port() const { return port_; }
  // The bound health-only port; 0 when there is none.
  int health_port() const { return health_port_; }
  grpc::Server* grpc_server() { return server_.get(); }

  // Readiness of the full service names (the empty name, liveness, stays
  // SERVING until shutdown), on both ports. False while e.g. PostgreSQL is
  // away. Ignored once Shutdown() has begun, so a late dependency check
  // cannot show SERVING during the drain. Thread-safe.
  void SetServing(bool serving);

  // NOT_SERVING for everything on both ports, waits the drain grace, then
  // shuts the main server down with the deadline and waits for in-flight
  // RPCs; the health port closes last, so probes see NOT_SERVING (not a
  // refused connection) for the whole drain. Idempotent.
  void Shutdown();

 private:
  Server() = default;
  // The health services of the main server and of the health port.
  std::vector<grpc::HealthCheckServiceInterface*> HealthServices();

  ServerOptions options_;
  std::unique_ptr<grpc::Server> server_;
  // Outlives health_server_, which routes every other method to it.
  std::unique_ptr<grpc::CallbackGenericService> unimplemented_;
  std::unique_ptr<grpc::Server> health_server_;  // null without a health port
  int port_ = 0;
  int health_port_ = 0;
  absl::Mutex mu_;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

// Blocks SIGTERM and SIGINT in the calling thread (and so in every thread
// started after it). Call first thing in main.
void BlockShutdownSignals();

// Waits for SIGTERM or SIGINT; returns the signal number.
int WaitForShutdownSignal();

// Reads a whole file (TLS material).
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace lienthong::grpc_util
