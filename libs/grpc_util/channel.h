#pragma once

// Client channels to peer services and tools: TLS/mTLS from files, a retry
// policy for UNAVAILABLE, and per-call deadlines.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace lienthong::grpc_util {

struct ClientTls {
  std::string ca;    // PEM to verify the server; TLS when set
  std::string cert;  // client certificate; mTLS when set
  std::string key;
};

// Reads --peer_tls_ca/--peer_tls_cert/--peer_tls_key.
ClientTls ClientTlsFromFlags();

// A channel with retries (UNAVAILABLE, up to 4 attempts, 100 ms .. 2 s).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& address, const ClientTls& tls = {});

// Sets the deadline `timeout` from now. When `dev_role` is given the
// x-lienthong-* identity headers are added too (honoured only by servers
// running with --insecure_dev_auth).
void PrepareContext(grpc::ClientContext& ctx, absl::Duration timeout,
                    const std::string& dev_role = "",
                    const std::string& dev_agency = "",
                    const std::string& dev_subject = "");

}  // namespace lienthong::grpc_util
