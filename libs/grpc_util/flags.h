#pragma once

// The flags every server takes (see docs/development.md). Each is also
// settable through LIENTHONG_<FLAG> (libs/config).

#include <string>

#include "absl/flags/declare.h"
#include "absl/time/time.h"

ABSL_DECLARE_FLAG(std::string, listen_address);
ABSL_DECLARE_FLAG(int, metrics_port);
ABSL_DECLARE_FLAG(int, health_port);
ABSL_DECLARE_FLAG(absl::Duration, drain_grace);
ABSL_DECLARE_FLAG(absl::Duration, shutdown_deadline);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_client_ca);
ABSL_DECLARE_FLAG(bool, insecure_dev_auth);
ABSL_DECLARE_FLAG(std::string, log_format);
ABSL_DECLARE_FLAG(int, max_threads);
// Peers: where the relays deliver events and where caches are filled from.
ABSL_DECLARE_FLAG(std::string, intake_address);
ABSL_DECLARE_FLAG(std::string, routing_address);
ABSL_DECLARE_FLAG(std::string, deadline_address);
ABSL_DECLARE_FLAG(std::string, notify_address);
ABSL_DECLARE_FLAG(std::string, peer_tls_ca);
ABSL_DECLARE_FLAG(std::string, peer_tls_cert);
ABSL_DECLARE_FLAG(std::string, peer_tls_key);
ABSL_DECLARE_FLAG(absl::Duration, peer_deadline);
