// lienthong-intake: the one-stop counter's service.

#include <memory>

#include "absl/flags/flag.h"
#include "intake_migrations.h"
#include "libs/calendar/default_calendar.h"
#include "libs/config/config.h"
#include "libs/runtime/service_runtime.h"
#include "services/intake/intake_server.h"

ABSL_FLAG(int, lookup_max_failures, 5,
          "Failed citizen lookups per dossier code before throttling");
ABSL_FLAG(absl::Duration, lookup_window, absl::Minutes(15),
          "Window over which failed lookups are counted");

int main(int argc, char** argv) {
  using namespace lienthong;
  runtime::Start(argc, argv,
                 "lienthong-intake: agencies, procedures and dossiers");
  absl::StatusOr<calendar::WorkingCalendar> cal = calendar::DefaultCalendar();
  if (!cal.ok()) config::Fatal("intake", cal.status().message());

  std::unique_ptr<intake::IntakeServer> server;
  runtime::ServiceSpec spec;
  spec.label = "intake";
  spec.schema = "intake";
  spec.domain = "lienthong.intake";
  spec.service_names = {"lienthong.intake.v1.IntakeService",
                        "lienthong.common.v1.EventSinkService"};
  spec.migrations = intake::Migrations();
  spec.event_destinations = {intake::kRouting, intake::kDeadline,
                             intake::kNotify};
  spec.event_handler = [&server](const common::v1::Event& e) {
    return server->HandleEvent(e);
  };
  auto rt = runtime::ServiceRuntime::Init(std::move(spec));

  intake::IntakeOptions options;
  options.insecure_dev_auth = rt->insecure_dev_auth();
  options.calendar =
      std::make_shared<const calendar::WorkingCalendar>(*std::move(cal));
  options.calendar_version = "vn@bundled";
  options.lookup_max_failures = absl::GetFlag(FLAGS_lookup_max_failures);
  options.lookup_window = absl::GetFlag(FLAGS_lookup_window);
  server =
      std::make_unique<intake::IntakeServer>(rt->pool(), rt->clock(), options);
  return rt->Serve({server.get(), rt->event_sink()});
}
