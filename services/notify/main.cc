// lienthong-notify: the notify service.
//
// This binary serves lienthong.notify.v1.NotifyService. RPCs whose issue has
// not landed yet answer UNIMPLEMENTED (the generated base class); events
// delivered to it are recorded in its inbox so none is lost or applied twice
// once their handling lands.

#include "absl/strings/str_cat.h"
#include "libs/db/outbox.h"
#include "libs/db/transaction.h"
#include "libs/logging/logging.h"
#include "libs/runtime/service_runtime.h"
#include "lienthong/notify/v1/notify_service.grpc.pb.h"
#include "notify_migrations.h"

namespace {

class NotifyService final
    : public lienthong::notify::v1::NotifyService::Service {};

}  // namespace

int main(int argc, char** argv) {
  using namespace lienthong;
  runtime::Start(argc, argv, "lienthong-notify: the notify service");
  std::unique_ptr<runtime::ServiceRuntime> rt;
  runtime::ServiceSpec spec;
  spec.label = "notify";
  spec.schema = "notify";
  spec.domain = "lienthong.notify";
  spec.service_names = {"lienthong.notify.v1.NotifyService",
                        "lienthong.common.v1.EventSinkService"};
  spec.migrations = notify::Migrations();
  spec.event_handler =
      [&rt](const common::v1::Event& e) -> absl::StatusOr<bool> {
    return db::WithTransaction(
        rt->pool(), [&](pqxx::work& tx) -> absl::StatusOr<bool> {
          absl::StatusOr<bool> first =
              db::RecordInbox(tx, "notify", e.event_id());
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
  NotifyService service;
  return rt->Serve({&service, rt->event_sink()});
}
