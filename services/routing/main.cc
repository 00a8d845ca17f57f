// lienthong-routing: the routing service.
//
// This binary serves lienthong.routing.v1.RoutingService. RPCs whose issue has
// not landed yet answer UNIMPLEMENTED (the generated base class); events
// delivered to it are recorded in its inbox so none is lost or applied twice
// once their handling lands.

#include "absl/strings/str_cat.h"
#include "libs/db/outbox.h"
#include "libs/db/transaction.h"
#include "libs/logging/logging.h"
#include "libs/runtime/service_runtime.h"
#include "lienthong/routing/v1/routing_service.grpc.pb.h"
#include "routing_migrations.h"

namespace {

class RoutingService final
    : public lienthong::routing::v1::RoutingService::Service {};

}  // namespace

int main(int argc, char** argv) {
  using namespace lienthong;
  runtime::Start(argc, argv, "lienthong-routing: the routing service");
  std::unique_ptr<runtime::ServiceRuntime> rt;
  runtime::ServiceSpec spec;
  spec.label = "routing";
  spec.schema = "routing";
  spec.domain = "lienthong.routing";
  spec.service_names = {"lienthong.routing.v1.RoutingService",
                        "lienthong.common.v1.EventSinkService"};
  spec.migrations = routing::Migrations();
  spec.event_handler =
      [&rt](const common::v1::Event& e) -> absl::StatusOr<bool> {
    return db::WithTransaction(
        rt->pool(), [&](pqxx::work& tx) -> absl::StatusOr<bool> {
          absl::StatusOr<bool> first =
              db::RecordInbox(tx, "routing", e.event_id());
          if (first.ok() && *first) {
            logging::Event("event_received")
                .With("type", e.type())
                .With("dossier", e.dossier())
                .Info();
          }
          return first;
        });
  };
  rt = runtime::ServiceRuntime::Init(std::move(spec));
  RoutingService service;
  return rt->Serve({&service, rt->event_sink()});
}
