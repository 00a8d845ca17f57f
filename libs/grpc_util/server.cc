#include "libs/grpc_util/server.h"

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
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

// Drops the builder's plugins: server reflection registers itself as a
// plugin of every ServerBuilder, and the health port must not answer it.
class NoPlugins : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->clear();
  }
};

// Answers every method it is asked for with UNIMPLEMENTED, as a server
// without the method would. The health port needs it only because gRPC
// refuses to start a server without a service of its own (the default
// health service is added after that check); it serves nothing.
class UnimplementedEverything : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext*) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor() {
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                            "only grpc.health.v1.Health is served here"));
      }
      void OnDone() override { delete this; }
    };
    return new Reactor();
  }
};

// host:health_port with the host of `listen_address` ("0.0.0.0:7001",
// "[::]:7001", "127.0.0.1:0").
absl::StatusOr<std::string> HealthAddress(const std::string& listen_address,
                                          int health_port) {
  if (health_port < 0 || health_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--health_port ", health_port, " is not a port (1-65535, 0 = off)"));
  }
  const size_t colon = listen_address.rfind(':');
  if (absl::StartsWith(listen_address, "unix:") || colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--health_port needs a host:port --listen_address, not ",
                     listen_address));
  }
  int main_port = 0;
  if (health_port != 0 &&
      absl::SimpleAtoi(listen_address.substr(colon + 1), &main_port) &&
      main_port == health_port) {
    return absl::InvalidArgumentError(
        absl::StrCat("--health_port ", health_port,
                     " is --listen_address's port; it needs its own"));
  }
  return absl::StrCat(listen_address.substr(0, colon), ":", health_port);
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
  // 0 is "off" for the flag; a negative value reaches Start and is refused.
  if (const int hp = absl::GetFlag(FLAGS_health_port); hp != 0) {
    o.health_port = hp;
  }
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
#ifdef NDEBUG
  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex's
  // deadlock detector on: every lock of every mutex records itself in a
  // global lock graph (GraphCycles), ~2 % of a busy server's CPU. Our
  // debug builds (the dev preset, the sanitizers) keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
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

  std::string health_address;
  if (options.health_port.has_value()) {
    absl::StatusOr<std::string> a =
        HealthAddress(options.listen_address, *options.health_port);
    if (!a.ok()) return a.status();
    health_address = *std::move(a);
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
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS,
                              std::min(2, options.idle_threads));
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              options.idle_threads);
  // Each idle poller wakes up this often (shutdown does not wait for it:
  // it shuts the queue down); the default (10 ms) times `idle_threads` is
  // needless wake-ups on an idle server.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::CQ_TIMEOUT_MSEC, 1000);
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

  if (!health_address.empty()) {
    // Its own server: only the default health service (no reflection
    // plugin, no application service, no interceptor), plaintext, so the
    // kubelet's gRPC probe can ask it while the main port requires mTLS.
    grpc::ServerBuilder hb;
    int hport = 0;
    hb.AddListeningPort(health_address, grpc::InsecureServerCredentials(),
                        &hport);
    hb.SetOption(std::make_unique<NoPlugins>());
    server->unimplemented_ = std::make_unique<UnimplementedEverything>();
    hb.RegisterCallbackGenericService(server->unimplemented_.get());
    // Never share the port with another socket (gRPC sets SO_REUSEPORT by
    // default): a second process on it would take half the probes.
    hb.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    grpc::ResourceQuota hquota(
        absl::StrCat("lienthong_", options.service_label, "_health"));
    hquota.SetMaxThreads(4);
    hb.SetResourceQuota(hquota);
    server->health_server_ = hb.BuildAndStart();
    if (server->health_server_ == nullptr || hport == 0) {
      server->server_->Shutdown(absl::ToChronoTime(absl::Now()));
      server->server_->Wait();
      server->server_ = nullptr;
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on ", health_address, " (--health_port)"));
    }
    server->health_port_ = hport;
  }

  server->options_ = std::move(options);
  server->SetServing(true);
  logging::Event("server_started")
      .With("address", server->options_.listen_address)
      .With("port", port)
      .With("health_port", server->health_port_)
      .With("tls", server->options_.tls.cert.empty()        ? "off"
                   : server->options_.tls.client_ca.empty() ? "tls"
                                                            : "mtls")
      .Info();
  return server;
}

Server::~Server() { Shutdown(); }

std::vector<grpc::HealthCheckServiceInterface*> Server::HealthServices() {
  std::vector<grpc::HealthCheckServiceInterface*> out;
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    if (s == nullptr) continue;
    if (grpc::HealthCheckServiceInterface* h = s->GetHealthCheckService()) {
      out.push_back(h);
    }
  }
  return out;
}

void Server::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (server_ == nullptr || draining_) return;
  for (grpc::HealthCheckServiceInterface* health : HealthServices()) {
    health->SetServingStatus("", true);
    for (const std::string& name : options_.service_names) {
      health->SetServingStatus(name, serving);
    }
  }
  SetServingGauge(options_.service_label, serving);
}

void Server::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (server_ == nullptr || draining_) return;
    draining_ = true;
    for (grpc::HealthCheckServiceInterface* health : HealthServices()) {
      health->SetServingStatus(false);
    }
    SetServingGauge(options_.service_label, false);
  }
  logging::Event("draining")
      .With("grace", options_.drain_grace)
      .With("deadline", options_.shutdown_deadline)
      .Info();
  absl::SleepFor(options_.drain_grace);
  server_->Shutdown(
      absl::ToChronoTime(absl::Now() + options_.shutdown_deadline));
  server_->Wait();
  if (health_server_ != nullptr) {
    // Health checks are short; a Watch stream is cut off at once.
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server_->Wait();
  }
  logging::Event("server_stopped").Info();
  logging::Flush();  // the drain's last lines, before anything can kill us
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
