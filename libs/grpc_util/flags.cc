#include "libs/grpc_util/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, listen_address, "127.0.0.1:0",
          "gRPC listen address host:port");
ABSL_FLAG(int, metrics_port, 0, "HTTP port for /metrics (0 = off)");
ABSL_FLAG(int, health_port, 0,
          "Plaintext port, on --listen_address's host, serving only "
          "grpc.health.v1.Health (for probes that cannot present a client "
          "certificate; 0 = off)");
ABSL_FLAG(absl::Duration, drain_grace, absl::Seconds(5),
          "How long NOT_SERVING is shown before shutdown starts");
ABSL_FLAG(absl::Duration, shutdown_deadline, absl::Seconds(20),
          "How long in-flight RPCs get to finish at shutdown");
ABSL_FLAG(std::string, tls_cert, "", "Server certificate (PEM); TLS when set");
ABSL_FLAG(std::string, tls_key, "", "Server private key (PEM)");
ABSL_FLAG(std::string, tls_client_ca, "",
          "CA for client certificates; mTLS (required) when set");
ABSL_FLAG(bool, insecure_dev_auth, false,
          "Dev only: take the caller's identity from x-lienthong-* metadata");
ABSL_FLAG(std::string, log_format, "logfmt", "logfmt or json");
ABSL_FLAG(int, max_threads, 256,
          "Bound on the gRPC server's threads (calls beyond it get "
          "RESOURCE_EXHAUSTED)");
ABSL_FLAG(std::string, intake_address, "", "intake service host:port");
ABSL_FLAG(std::string, routing_address, "", "routing service host:port");
ABSL_FLAG(std::string, deadline_address, "", "deadline service host:port");
ABSL_FLAG(std::string, notify_address, "", "notify service host:port");
ABSL_FLAG(std::string, peer_tls_ca, "", "CA to verify peer services (PEM)");
ABSL_FLAG(std::string, peer_tls_cert, "",
          "Client certificate for peer services (PEM); mTLS when set");
ABSL_FLAG(std::string, peer_tls_key, "", "Client key for peer services");
ABSL_FLAG(absl::Duration, peer_deadline, absl::Seconds(5),
          "Deadline of one call to a peer service");
