// mTLS end to end: a throwaway CA, a server certificate for 127.0.0.1 and
// client certificates whose subject carries O=agency, CN=subject, OU=role.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "libs/common/uuid.h"
#include "libs/grpc_util/auth.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/server.h"
#include "libs/grpc_util/test_clients.h"

namespace lienthong::grpc_util {
namespace {

namespace fs = std::filesystem;

class TlsAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() /
                        absl::StrCat("lienthong-tls-", common::NewUuid()));
    fs::create_directories(*dir_);
    const std::string d = dir_->string();
    const std::string script = absl::StrCat(
        "set -e; cd ", d, "\n",
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -keyout ca.key "
        "-out ca.pem -subj '/CN=lienthong test CA' 2>/dev/null\n",
        "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext\n",
        "issue() { openssl req -utf8 -newkey rsa:2048 -nodes -keyout $1.key -out "
        "$1.csr -subj \"$2\" 2>/dev/null; openssl x509 -req -in $1.csr -CA "
        "ca.pem -CAkey ca.key -CAcreateserial -days 1 -out $1.pem $3 "
        "2>/dev/null; }\n",
        "issue server '/CN=127.0.0.1' '-extfile san.ext'\n",
        "issue relay '/O=000.00.00.H26/OU=service/CN=routing-relay' ''\n",
        "issue citizen '/O=000.00.00.H26/OU=citizen/CN=Nguyễn Văn An' ''\n");
    ASSERT_EQ(std::system(script.c_str()), 0);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string Path(const std::string& f) { return (*dir_ / f).string(); }

  static fs::path* dir_;
};
fs::path* TlsAuthTest::dir_ = nullptr;

grpc::StatusCode Deliver(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = lienthong::common::v1::EventSinkService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  // Dev headers claiming to be a service must be ignored without dev auth.
  ctx.AddMetadata("x-lienthong-role", "service");
  lienthong::common::v1::DeliverEventsRequest req;
  req.add_events()->set_event_id(common::NewUuid());
  lienthong::common::v1::DeliverEventsResponse resp;
  return stub->DeliverEvents(&ctx, req, &resp).error_code();
}

TEST_F(TlsAuthTest, CallerComesFromTheClientCertificate) {
  std::vector<Caller> seen;
  EventSinkServer sink(
      "lienthong.test",
      [&](const lienthong::common::v1::Event&) -> absl::StatusOr<bool> {
        return true;
      },
      /*insecure_dev_auth=*/false);
  ServerOptions opts;
  opts.service_label = "tlstest";
  opts.tls = {Path("server.pem"), Path("server.key"), Path("ca.pem")};
  opts.drain_grace = absl::ZeroDuration();
  auto server = Server::Start(opts, {&sink});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());

  auto relay = MakeChannel(
      address, {Path("ca.pem"), Path("relay.pem"), Path("relay.key")});
  ASSERT_TRUE(relay.ok());
  EXPECT_EQ(Deliver(*relay), grpc::StatusCode::OK);

  auto citizen = MakeChannel(
      address, {Path("ca.pem"), Path("citizen.pem"), Path("citizen.key")});
  ASSERT_TRUE(citizen.ok());
  EXPECT_EQ(Deliver(*citizen), grpc::StatusCode::PERMISSION_DENIED);

  // No client certificate: the handshake is refused.
  auto anonymous = MakeChannel(address, {Path("ca.pem"), "", ""});
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(Deliver(*anonymous), grpc::StatusCode::UNAVAILABLE);

  // Plaintext to a TLS port fails too.
  EXPECT_NE(
      Deliver(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
      grpc::StatusCode::OK);
}

using grpc::health::v1::HealthCheckResponse;
using testing::CallReflection;
using testing::CheckHealth;

// The kubelet's gRPC probe cannot present a client certificate: with mTLS
// on the main port, the health port answers plaintext health checks, with
// the main port's statuses, and nothing else.
TEST_F(TlsAuthTest, PlaintextHealthPortBesideMtlsServesOnlyHealth) {
  constexpr char kSink[] = "lienthong.common.v1.EventSinkService";
  EventSinkServer sink(
      "lienthong.test",
      [](const lienthong::common::v1::Event&) -> absl::StatusOr<bool> {
        return true;
      },
      /*insecure_dev_auth=*/false);
  ServerOptions opts;
  opts.service_label = "healthporttest";
  opts.service_names = {kSink};
  opts.tls = {Path("server.pem"), Path("server.key"), Path("ca.pem")};
  opts.health_port = 0;  // any free port
  opts.drain_grace = absl::Milliseconds(500);
  opts.shutdown_deadline = absl::Seconds(2);
  auto server = Server::Start(opts, {&sink});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_NE((*server)->health_port(), 0);
  ASSERT_NE((*server)->health_port(), (*server)->port());
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());
  auto health =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->health_port()),
                          grpc::InsecureChannelCredentials());

  // Liveness and readiness over plaintext, no certificate.
  EXPECT_EQ(CheckHealth(health, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(CheckHealth(health, kSink), HealthCheckResponse::SERVING);
  grpc::StatusCode code = grpc::StatusCode::OK;
  EXPECT_EQ(CheckHealth(health, "lienthong.nosuch.v1.Service", &code),
            HealthCheckResponse::UNKNOWN);
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);

  // The main port still refuses the same plaintext client.
  EXPECT_EQ(
      CheckHealth(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials()), ""),
      HealthCheckResponse::UNKNOWN);

  // Only health answers there: the application service and reflection
  // are not served, though both are on the main port.
  EXPECT_EQ(Deliver(health), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(CallReflection(health, /*list_services=*/false).code,
            grpc::StatusCode::UNIMPLEMENTED);
  auto relay = MakeChannel(
      address, {Path("ca.pem"), Path("relay.pem"), Path("relay.key")});
  ASSERT_TRUE(relay.ok());
  EXPECT_EQ(CallReflection(*relay, /*list_services=*/false).code,
            grpc::StatusCode::OK);
  EXPECT_EQ(Deliver(*relay), grpc::StatusCode::OK);

  // Readiness follows the dependencies on both ports; liveness stays.
  (*server)->SetServing(false);
  EXPECT_EQ(CheckHealth(health, kSink), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(CheckHealth(health, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(CheckHealth(*relay, kSink), HealthCheckResponse::NOT_SERVING);
  (*server)->SetServing(true);
  EXPECT_EQ(CheckHealth(health, kSink), HealthCheckResponse::SERVING);

  // During the drain grace the health port answers NOT_SERVING, and a late
  // "dependency is back" does not turn it SERVING again.
  absl::Notification done;
  std::thread shutdown([&] {
    (*server)->Shutdown();
    done.Notify();
  });
  absl::SleepFor(absl::Milliseconds(150));
  EXPECT_FALSE(done.HasBeenNotified());
  (*server)->SetServing(true);
  EXPECT_EQ(CheckHealth(health, kSink), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(CheckHealth(*relay, kSink), HealthCheckResponse::NOT_SERVING);
  shutdown.join();
  // Shut down together with the main server.
  EXPECT_EQ(CheckHealth(health, ""), HealthCheckResponse::UNKNOWN);
}

TEST_F(TlsAuthTest, SubjectFieldsParseIncludingVietnamese) {
  std::ifstream in(Path("citizen.pem"));
  std::string pem((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  absl::StatusOr<Caller> c = CallerFromPem(pem);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->agency_code, "000.00.00.H26");
  EXPECT_EQ(c->role, Role::kCitizen);
  EXPECT_EQ(c->subject, "Nguyễn Văn An");
  EXPECT_EQ(CallerFromPem("garbage").status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace lienthong::grpc_util
