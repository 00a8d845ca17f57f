#pragma once

// One server bootstrap for every service: listen address, the standard
// health service (NOT_SERVING while draining or while a dependency is away),
// server reflection, TLS/mTLS from files, a metrics + access-log
// interceptor, and graceful drain on SIGTERM/SIGINT.
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
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
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
  TlsFiles tls;
  absl::Duration drain_grace = absl::Seconds(5);
  absl::Duration shutdown_deadline = absl::Seconds(20);
  int max_threads = 64;
};

// Reads the common server flags (libs/grpc_util/flags.h).
ServerOptions ServerOptionsFromFlags(std::string service_label,
                                     std::vector<std::string> service_names);

class Server {
 public:
  // Fails (with the problem named) when TLS files are unreadable or the
  // address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      ServerOptions options, const std::vector<grpc::Service*>& services);
  ~Server();

  int port() const { return port_; }
  grpc::Server* grpc_server() { return server_.get(); }

  // Readiness of the full service names (the empty name, liveness, stays
  // SERVING until shutdown). False while e.g. PostgreSQL is away.
  void SetServing(bool serving);

  // NOT_SERVING for everything, waits the drain grace, then shuts down with
  // the deadline and waits for in-flight RPCs. Idempotent.
  void Shutdown();

 private:
  Server() = default;
  ServerOptions options_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

// Blocks SIGTERM and SIGINT in the calling thread (and so in every thread
// started after it). Call first thing in main.
void BlockShutdownSignals();

// Waits for SIGTERM or SIGINT; returns the signal number.
int WaitForShutdownSignal();

// Reads a whole file (TLS material).
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace lienthong::grpc_util
