#include "libs/grpc_util/server.h"

#include <signal.h>

#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "libs/grpc_util/flags.h"
#include "libs/grpc_util/interceptor.h"
#include "libs/logging/logging.h"
#include "libs/metrics/metrics.h"

namespace lienthong::grpc_util {
namespace {

void SetServingGauge(const std::string& label, bool serving) {
  metrics::Gauge(absl::StrCat("lienthong_", label, "_serving"),
                 "1 while the service reports SERVING, else 0.")
      .Add({})
      .Set(serving ? 1 : 0);
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ServerOptions ServerOptionsFromFlags(std::string service_label,
                                     std::vector<std::string> service_names) {
  ServerOptions o;
  o.service_label = std::move(service_label);
  o.service_names = std::move(service_names);
  o.listen_address = absl::GetFlag(FLAGS_listen_address);
  o.tls.cert = absl::GetFlag(FLAGS_tls_cert);
  o.tls.key = absl::GetFlag(FLAGS_tls_key);
  o.tls.client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  o.drain_grace = absl::GetFlag(FLAGS_drain_grace);
  o.shutdown_deadline = absl::GetFlag(FLAGS_shutdown_deadline);
  o.max_threads = absl::GetFlag(FLAGS_max_threads);
  return o;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    ServerOptions options, const std::vector<grpc::Service*>& services) {
  std::shared_ptr<grpc::ServerCredentials> creds =
      grpc::InsecureServerCredentials();
  if (!options.tls.cert.empty() || !options.tls.key.empty()) {
    auto cert = ReadFile(options.tls.cert);
    if (!cert.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("--tls_cert: ", cert.status().message()));
    auto key = ReadFile(options.tls.key);
    if (!key.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("--tls_key: ", key.status().message()));
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!options.tls.client_ca.empty()) {
      auto ca = ReadFile(options.tls.client_ca);
      if (!ca.ok())
        return absl::InvalidArgumentError(
            absl::StrCat("--tls_client_ca: ", ca.status().message()));
      ssl.pem_root_certs = *ca;
      ssl.client_certificate_request =
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    creds = grpc::SslServerCredentials(ssl);
  } else if (!options.tls.client_ca.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca needs --tls_cert and --tls_key");
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen_address, creds, &port);
  for (grpc::Service* s : services) builder.RegisterService(s);
  grpc::ResourceQuota quota(absl::StrCat("lienthong_", options.service_label));
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(MakeMetricsInterceptorFactory(options.service_label));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  std::unique_ptr<Server> server(new Server());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address));
  }
  server->port_ = port;
  server->options_ = std::move(options);
  server->SetServing(true);
  logging::Event("server_started")
      .With("address", server->options_.listen_address)
      .With("port", port)
      .With("tls", server->options_.tls.cert.empty()        ? "off"
                   : server->options_.tls.client_ca.empty() ? "tls"
                                                            : "mtls")
      .Info();
  return server;
}

Server::~Server() { Shutdown(); }

void Server::SetServing(bool serving) {
  if (server_ == nullptr || shut_down_) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus("", true);
    for (const std::string& name : options_.service_names) {
      health->SetServingStatus(name, serving);
    }
  }
  SetServingGauge(options_.service_label, serving);
}

void Server::Shutdown() {
  if (server_ == nullptr || shut_down_) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health != nullptr) health->SetServingStatus(false);
  SetServingGauge(options_.service_label, false);
  logging::Event("draining")
      .With("grace", options_.drain_grace)
      .With("deadline", options_.shutdown_deadline)
      .Info();
  absl::SleepFor(options_.drain_grace);
  server_->Shutdown(
      absl::ToChronoTime(absl::Now() + options_.shutdown_deadline));
  server_->Wait();
  shut_down_ = true;
  logging::Event("server_stopped").Info();
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  logging::Event("signal")
      .With("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT")
      .Info();
  return sig;
}

}  // namespace lienthong::grpc_util
