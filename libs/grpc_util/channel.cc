#include "libs/grpc_util/channel.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "libs/grpc_util/flags.h"
#include "libs/grpc_util/server.h"

namespace lienthong::grpc_util {
namespace {

constexpr char kServiceConfig[] = R"json({
  "methodConfig": [{
    "name": [{}],
    "retryPolicy": {
      "maxAttempts": 4,
      "initialBackoff": "0.1s",
      "maxBackoff": "2s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
})json";

}  // namespace

ClientTls ClientTlsFromFlags() {
  return ClientTls{absl::GetFlag(FLAGS_peer_tls_ca),
                   absl::GetFlag(FLAGS_peer_tls_cert),
                   absl::GetFlag(FLAGS_peer_tls_key)};
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& address, const ClientTls& tls) {
  if (address.empty()) {
    return absl::InvalidArgumentError("peer address is empty");
  }
  std::shared_ptr<grpc::ChannelCredentials> creds =
      grpc::InsecureChannelCredentials();
  if (!tls.ca.empty()) {
    grpc::SslCredentialsOptions ssl;
    auto ca = ReadFile(tls.ca);
    if (!ca.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("peer TLS CA: ", ca.status().message()));
    ssl.pem_root_certs = *ca;
    if (!tls.cert.empty()) {
      auto cert = ReadFile(tls.cert);
      auto key = ReadFile(tls.key);
      if (!cert.ok() || !key.ok()) {
        return absl::InvalidArgumentError(
            "peer TLS client certificate or key unreadable");
      }
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    creds = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(kServiceConfig);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  return grpc::CreateCustomChannel(address, creds, args);
}

void PrepareContext(grpc::ClientContext& ctx, absl::Duration timeout,
                    const std::string& dev_role, const std::string& dev_agency,
                    const std::string& dev_subject) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!dev_role.empty()) {
    ctx.AddMetadata("x-lienthong-role", dev_role);
    if (!dev_agency.empty()) ctx.AddMetadata("x-lienthong-agency", dev_agency);
    if (!dev_subject.empty()) {
      ctx.AddMetadata("x-lienthong-subject", dev_subject);
    }
  }
}

}  // namespace lienthong::grpc_util
