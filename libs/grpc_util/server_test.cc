#include "libs/grpc_util/server.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/test_clients.h"
#include "libs/metrics/http_get.h"
#include "libs/metrics/metrics.h"

namespace lienthong::grpc_util {
namespace {

using grpc::health::v1::HealthCheckResponse;
using testing::CallReflection;
using testing::CheckHealth;

constexpr char kSink[] = "lienthong.common.v1.EventSinkService";

TEST(ServerTest, HealthReflectionMetricsAndDrain) {
  EventSinkServer sink(
      "lienthong.test",
      [](const lienthong::common::v1::Event&) -> absl::StatusOr<bool> {
        return true;
      },
      /*insecure_dev_auth=*/true);
  ServerOptions opts;
  opts.service_label = "servertest";
  opts.service_names = {kSink};
  opts.drain_grace = absl::Milliseconds(500);
  opts.shutdown_deadline = absl::Seconds(2);
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(opts, {&sink});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());

  EXPECT_EQ(CheckHealth(channel, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(CheckHealth(channel, kSink), HealthCheckResponse::SERVING);

  // Readiness follows the service's dependencies; liveness stays up.
  (*server)->SetServing(false);
  EXPECT_EQ(CheckHealth(channel, kSink), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(CheckHealth(channel, ""), HealthCheckResponse::SERVING);
  (*server)->SetServing(true);

  const std::string services =
      CallReflection(channel, /*list_services=*/true).bytes;
  EXPECT_NE(services.find(kSink), std::string::npos);
  EXPECT_NE(services.find("grpc.health.v1.Health"), std::string::npos);

  // A request through the interceptor shows up in /metrics by method, code.
  {
    auto stub = lienthong::common::v1::EventSinkService::NewStub(channel);
    grpc::ClientContext ctx;
    lienthong::common::v1::DeliverEventsRequest req;
    req.add_events()->set_event_id("not-a-uuid");
    lienthong::common::v1::DeliverEventsResponse resp;
    ctx.AddMetadata("x-lienthong-role", "service");
    EXPECT_EQ(stub->DeliverEvents(&ctx, req, &resp).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  absl::StatusOr<int> mport = metrics::StartExposer(0, "127.0.0.1");
  ASSERT_TRUE(mport.ok());
  absl::StatusOr<std::string> body =
      metrics::HttpGet(absl::StrCat("http://127.0.0.1:", *mport, "/metrics"));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_NE(body->find("lienthong_servertest_rpc_requests_total{code=\"INVALID_"
                       "ARGUMENT\",method=\"DeliverEvents\"} 1"),
            std::string::npos)
      << *body;
  EXPECT_NE(body->find("lienthong_servertest_rpc_duration_seconds_count{code="
                       "\"INVALID_ARGUMENT\",method=\"DeliverEvents\"} 1"),
            std::string::npos);
  EXPECT_NE(body->find("lienthong_servertest_serving 1"), std::string::npos);

  // During the drain grace, health answers NOT_SERVING.
  absl::Notification done;
  std::thread shutdown([&] {
    (*server)->Shutdown();
    done.Notify();
  });
  absl::SleepFor(absl::Milliseconds(150));
  EXPECT_FALSE(done.HasBeenNotified());
  EXPECT_EQ(CheckHealth(channel, kSink), HealthCheckResponse::NOT_SERVING);
  shutdown.join();
  EXPECT_TRUE(done.HasBeenNotified());
}

TEST(ServerTest, UnreadableTlsFileIsNamed) {
  ServerOptions opts;
  opts.service_label = "servertest2";
  opts.tls.cert = "/nonexistent/cert.pem";
  opts.tls.key = "/nonexistent/key.pem";
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(opts, {});
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("--tls_cert"), std::string::npos);
}

TEST(ServerTest, NoHealthPortUnlessAsked) {
  ServerOptions opts;
  opts.service_label = "servertest3";
  opts.drain_grace = absl::ZeroDuration();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(opts, {});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->health_port(), 0);
}

TEST(ServerTest, BadHealthPortIsNamed) {
  struct Case {
    std::string listen_address;
    int health_port;
  };
  const Case cases[] = {
      {"127.0.0.1:0", -1},
      {"127.0.0.1:0", 65536},
      {"unix:/tmp/lienthong-servertest.sock", 7101},
      {"127.0.0.1:7101", 7101},  // the main port itself
  };
  for (const Case& c : cases) {
    ServerOptions opts;
    opts.service_label = "servertest4";
    opts.listen_address = c.listen_address;
    opts.health_port = c.health_port;
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(opts, {});
    ASSERT_FALSE(server.ok()) << c.listen_address << " " << c.health_port;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(server.status().message().find("--health_port"),
              std::string::npos)
        << server.status();
  }
}

TEST(ServerTest, HealthPortAlreadyTakenFailsStart) {
  ServerOptions first;
  first.service_label = "servertest5";
  first.health_port = 0;
  first.drain_grace = absl::ZeroDuration();
  absl::StatusOr<std::unique_ptr<Server>> a = Server::Start(first, {});
  ASSERT_TRUE(a.ok()) << a.status();
  ServerOptions second = first;
  second.health_port = (*a)->health_port();
  absl::StatusOr<std::unique_ptr<Server>> b = Server::Start(second, {});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("--health_port"), std::string::npos)
      << b.status();
}

}  // namespace
}  // namespace lienthong::grpc_util
