// lienthong-routing: routes of legs, agency work queues, hand-overs.

#include <memory>

#include "absl/flags/flag.h"
#include "libs/config/config.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/flags.h"
#include "libs/runtime/service_runtime.h"
#include "routing_migrations.h"
#include "services/routing/intake_directory.h"
#include "services/routing/routing_server.h"

ABSL_FLAG(absl::Duration, default_lease, absl::Minutes(5),
          "Lease of a claimed task when the client asks for none");
ABSL_FLAG(absl::Duration, lease_sweep_interval, absl::Seconds(1),
          "How often expired leases return tasks to their queues");
ABSL_FLAG(absl::Duration, agency_cache_ttl, absl::Minutes(5),
          "How long agencies read from intake are cached");

int main(int argc, char** argv) {
  using namespace lienthong;
  runtime::Start(argc, argv,
                 "lienthong-routing: routes, agency work queues, hand-overs");
  config::RequirePositive(FLAGS_default_lease);
  config::RequirePositive(FLAGS_lease_sweep_interval);
  std::unique_ptr<routing::RoutingServer> server;
  runtime::ServiceSpec spec;
  spec.label = "routing";
  spec.schema = "routing";
  spec.domain = "lienthong.routing";
  spec.service_names = {"lienthong.routing.v1.RoutingService",
                        "lienthong.common.v1.EventSinkService"};
  spec.migrations = routing::Migrations();
  spec.event_destinations = {"intake", "deadline", "notify"};
  spec.event_handler = [&server](const common::v1::Event& e) {
    return server->HandleEvent(e);
  };
  spec.event_batch_handler =
      [&server](const std::vector<const common::v1::Event*>& events) {
        return server->HandleEvents(events);
      };
  auto rt = runtime::ServiceRuntime::Init(std::move(spec));
  auto channel = grpc_util::MakeChannel(absl::GetFlag(FLAGS_intake_address),
                                        grpc_util::ClientTlsFromFlags());
  if (!channel.ok()) config::Fatal("routing", channel.status().message());
  routing::IntakeDirectory directory(*channel, rt->clock(),
                                     absl::GetFlag(FLAGS_agency_cache_ttl),
                                     absl::GetFlag(FLAGS_peer_deadline));
  routing::RoutingOptions options;
  options.insecure_dev_auth = rt->insecure_dev_auth();
  options.default_lease = absl::GetFlag(FLAGS_default_lease);
  server = std::make_unique<routing::RoutingServer>(rt->pool(), rt->clock(),
                                                    directory, options);
  server->StartFeedListener();
  rt->AddLoop(
      "lease_sweeper", [&] { server->ExpireLeasesOnce().IgnoreError(); },
      absl::GetFlag(FLAGS_lease_sweep_interval));
  rt->AddLoop(
      "queue_metrics", [&] { server->UpdateQueueMetrics(); }, absl::Seconds(5));
  rt->OnShutdown([&] { server->Stop(); });
  return rt->Serve({server.get(), rt->event_sink()});
}
