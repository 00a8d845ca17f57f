// lienthong-healthcheck: asks a server's grpc.health.v1.Health for a service's
// status, optionally waiting until it is SERVING. Used by tools/stack to know
// when the local services are up; exits 0 when SERVING, 1 otherwise.

#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, address, "127.0.0.1:7001", "Server host:port");
ABSL_FLAG(std::string, service, "",
          "Full service name; empty asks about the server as a whole");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(2), "Deadline of one check");
ABSL_FLAG(absl::Duration, wait, absl::ZeroDuration(),
          "Keep checking until SERVING or this much time has passed");
ABSL_FLAG(bool, quiet, false, "Print nothing; exit code only");

namespace {

const char* StatusName(grpc::health::v1::HealthCheckResponse::ServingStatus s) {
  switch (s) {
    case grpc::health::v1::HealthCheckResponse::SERVING:
      return "SERVING";
    case grpc::health::v1::HealthCheckResponse::NOT_SERVING:
      return "NOT_SERVING";
    case grpc::health::v1::HealthCheckResponse::SERVICE_UNKNOWN:
      return "SERVICE_UNKNOWN";
    default:
      return "UNKNOWN";
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string address = absl::GetFlag(FLAGS_address);
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  const absl::Time give_up = absl::Now() + absl::GetFlag(FLAGS_wait);
  std::string last = "UNREACHABLE";
  while (true) {
    grpc::ClientContext ctx;
    ctx.set_deadline(
        absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(absl::GetFlag(FLAGS_service));
    grpc::health::v1::HealthCheckResponse resp;
    const grpc::Status st = stub->Check(&ctx, req, &resp);
    if (st.ok()) {
      last = StatusName(resp.status());
      if (resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
        if (!absl::GetFlag(FLAGS_quiet))
          std::printf("%s SERVING\n", address.c_str());
        return 0;
      }
    } else {
      last = st.error_code() == grpc::StatusCode::NOT_FOUND ? "SERVICE_UNKNOWN"
                                                            : "UNREACHABLE";
    }
    if (absl::Now() >= give_up) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  if (!absl::GetFlag(FLAGS_quiet))
    std::printf("%s %s\n", address.c_str(), last.c_str());
  return 1;
}
