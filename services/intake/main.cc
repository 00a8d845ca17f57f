// lienthong-intake: the one-stop counter's service.

#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "intake_migrations.h"
#include "libs/calendar/default_calendar.h"
#include "libs/config/config.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/flags.h"
#include "libs/logging/logging.h"
#include "libs/runtime/service_runtime.h"
#include "services/intake/calendar_source.h"
#include "services/intake/intake_server.h"

ABSL_FLAG(int, lookup_max_failures, 5,
          "Failed citizen lookups per dossier code before throttling");
ABSL_FLAG(absl::Duration, lookup_window, absl::Minutes(15),
          "Window over which failed lookups are counted");
// Short passes: a second's worth of entries sealed at once was a burst of
// updates that stalled submissions (p99 126 ms at 60 % load against 5 ms
// with 100 ms passes), and a short interval also narrows the window in
// which a committed entry is not yet chained.
ABSL_FLAG(absl::Duration, audit_seal_interval, absl::Milliseconds(100),
          "How often committed audit entries are sealed into the hash chain");
// Group commit of SubmitDossier (docs/performance.md): submissions arriving
// while a batch commits share the next transaction.
ABSL_FLAG(int, submit_batch_max, 32,
          "Most submissions written in one transaction (1 = one per call)");
ABSL_FLAG(int, submit_batches_in_flight, 2,
          "Submission transactions running at once (each holds a connection)");
ABSL_FLAG(int, submit_batch_min_queued, 6,
          "A submission transaction starts beside a running one only once "
          "this many submissions wait (1 = whenever one may)");
// VerifyAuditChain reads the chain a page at a time (each page its own
// read-only transaction), so its memory stays bounded whatever the
// chain's length.
ABSL_FLAG(int, audit_verify_page_size, 5000,
          "Audit entries VerifyAuditChain reads per transaction (at least 1)");
ABSL_FLAG(absl::Duration, calendar_refresh, absl::Minutes(5),
          "How often the calendar copies are refreshed from the deadline "
          "service's ListCalendars (0 = never: keep the stored or bundled "
          "copies)");

int main(int argc, char** argv) {
  using namespace lienthong;
  runtime::Start(argc, argv,
                 "lienthong-intake: agencies, procedures and dossiers");
  config::RequirePositive(FLAGS_audit_seal_interval);
  config::RequirePositive(FLAGS_lookup_window);
  config::Require(absl::GetFlag(FLAGS_audit_verify_page_size) >= 1,
                  "--audit_verify_page_size must be at least 1");
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
  spec.event_batch_handler =
      [&server](const std::vector<const common::v1::Event*>& events) {
        return server->HandleEvents(events);
      };
  auto rt = runtime::ServiceRuntime::Init(std::move(spec));

  intake::IntakeOptions options;
  options.insecure_dev_auth = rt->insecure_dev_auth();
  // The stored copies of the deadline service's calendars ("vn" and the
  // province ones), else the bundled "vn"; refreshed in the background, so
  // receiving never waits for the deadline service.
  options.calendars =
      intake::InitialCalendarCache(rt->pool(), *cal, "vn@bundled");
  const absl::Duration refresh = absl::GetFlag(FLAGS_calendar_refresh);
  const std::string deadline_address = absl::GetFlag(FLAGS_deadline_address);
  std::shared_ptr<deadline::v1::DeadlineService::Stub> deadline_stub;
  if (refresh > absl::ZeroDuration() && !deadline_address.empty()) {
    auto channel = grpc_util::MakeChannel(deadline_address,
                                          grpc_util::ClientTlsFromFlags());
    if (!channel.ok()) config::Fatal("intake", channel.status().message());
    deadline_stub = deadline::v1::DeadlineService::NewStub(*channel);
    db::Pool* pool = &rt->pool();
    const common::Clock* clock = &rt->clock();
    intake::CalendarRefresher refresher;
    refresher.cache = options.calendars.get();
    refresher.fetch = [deadline_stub, clock] {
      return intake::FetchDeadlineCalendars(
          *deadline_stub, absl::GetFlag(FLAGS_peer_deadline), clock->Now());
    };
    refresher.persist = [pool, clock](const intake::CalendarCopy& copy) {
      return intake::StoreCalendar(*pool, *clock, copy);
    };
    refresher.forget = [pool](const std::string& id) {
      return intake::ForgetCalendar(*pool, id);
    };
    refresher.clock = clock;
    refresher.prune = [pool](const std::vector<intake::CalendarCopy>& listed,
                             absl::Time listed_at) {
      return intake::PruneStoredCalendars(*pool, listed, listed_at);
    };
    auto refresh_once = [refresher] {
      absl::StatusOr<intake::CalendarRefresh> r = refresher.RunOnce();
      if (!r.ok()) {
        logging::Event("calendar_refresh_failed")
            .With("code", absl::StatusCodeToString(r.status().code()))
            .Warn();
        return false;
      }
      for (const std::string& version : r->installed) {
        logging::Event("calendar_installed").With("version", version).Info();
      }
      for (const auto& [version, status] : r->invalid) {
        logging::Event("calendar_invalid")
            .With("version", version)
            .With("code", absl::StatusCodeToString(status.code()))
            .Warn();
      }
      for (const auto& [version, status] : r->storage_failed) {
        logging::Event("calendar_store_failed")
            .With("version", version)
            .With("code", absl::StatusCodeToString(status.code()))
            .Warn();
      }
      for (const std::string& id : r->removed) {
        logging::Event("calendar_removed").With("calendar", id).Info();
      }
      for (const std::string& version : r->upcoming) {
        logging::Event("calendar_upcoming").With("version", version).Debug();
      }
      if (!r->pruned.ok()) {
        logging::Event("calendar_prune_failed")
            .With("code", absl::StatusCodeToString(r->pruned.code()))
            .Warn();
      }
      // A version that could not be stored is not held yet: try again
      // after the retry delay, not the whole interval.
      return r->Complete();
    };
    // The first pass runs as soon as the server serves (start-up never
    // waits for the deadline service); while deadline cannot be reached
    // (or the database) it tries again after 1 s, 2 s, … up to the
    // refresh interval; and
    // deadline's CalendarPublished wakes every replica's loop at once.
    rt->AddRetryingLoop("calendar_refresh", refresh_once, refresh,
                        absl::Seconds(1), intake::kCalendarsPublishedChannel);
  }
  const std::shared_ptr<const intake::CalendarSet> held =
      options.calendars->Calendars();
  for (const auto& [id, snapshot] : held->by_id()) {
    logging::Event("calendar_in_use")
        .With("calendar", id)
        .With("version", snapshot.version)
        .Info();
  }
  for (const auto& [id, versions] : held->upcoming()) {
    for (const intake::TimedSnapshot& t : versions) {
      logging::Event("calendar_upcoming")
          .With("calendar", id)
          .With("version", t.snapshot.version)
          .With("takes_effect", absl::FormatTime(absl::RFC3339_sec, t.from,
                                                 absl::UTCTimeZone()))
          .Info();
    }
  }
  options.lookup_max_failures = absl::GetFlag(FLAGS_lookup_max_failures);
  options.lookup_window = absl::GetFlag(FLAGS_lookup_window);
  options.audit_verify_page_size = absl::GetFlag(FLAGS_audit_verify_page_size);
  options.submit_batch_max = absl::GetFlag(FLAGS_submit_batch_max);
  options.submit_batches_in_flight =
      absl::GetFlag(FLAGS_submit_batches_in_flight);
  options.submit_batch_min_queued =
      absl::GetFlag(FLAGS_submit_batch_min_queued);
  server =
      std::make_unique<intake::IntakeServer>(rt->pool(), rt->clock(), options);
  rt->AddLoop(
      "audit_seal",
      [&server] {
        absl::StatusOr<int64_t> n = server->SealAuditOnce();
        if (!n.ok()) {
          logging::Event("audit_seal_failed")
              .With("code", absl::StatusCodeToString(n.status().code()))
              .Warn();
        }
      },
      absl::GetFlag(FLAGS_audit_seal_interval));
  return rt->Serve({server.get(), rt->event_sink()});
}
