// lienthong-deadline: working-time calendars, legal clocks per dossier and
// per leg, due-soon / overdue detection and on-time reports.
//
// Flags, wiring, signals; nothing else. The shared runtime does flags with
// LIENTHONG_* overrides, logging, /metrics, the pool and migrations, the
// server (health, reflection, TLS), the outbox relays to notify and intake,
// and SIGTERM -> drain -> exit 0.

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "deadline_migrations.h"
#include "libs/calendar/calendar_json.h"
#include "libs/common/errors.h"
#include "libs/config/config.h"
#include "libs/logging/logging.h"
#include "libs/metrics/metrics.h"
#include "libs/runtime/service_runtime.h"
#include "services/deadline/agency_gauges.h"
#include "services/deadline/deadline_events.h"
#include "services/deadline/deadline_server.h"
#include "services/deadline/event_handler.h"
#include "services/deadline/pg_deadline_store.h"
#include "services/deadline/scanner.h"

ABSL_FLAG(double, due_soon_fraction, 0.2,
          "a clock is due soon when at most this fraction of its legal time "
          "is left (or --due_soon_min_remaining, whichever is larger)");
ABSL_FLAG(absl::Duration, due_soon_min_remaining, absl::Hours(4),
          "working time left at which a clock is due soon at the latest");
ABSL_FLAG(absl::Duration, scan_interval, absl::Milliseconds(200),
          "pause between scanner passes when nothing was due");
ABSL_FLAG(int, scan_batch, 500, "clocks claimed per scanner transaction");

namespace lienthong::deadline {
namespace {

constexpr char kCoverageExceededName[] =
    "lienthong_deadline_calendar_coverage_exceeded_total";
constexpr char kCoverageExceededHelp[] =
    "Calendar versions that counted a due time past the last year their "
    "holidays cover, once per version and process (log line "
    "calendar_coverage_exceeded): add the next year's holidays.";

constexpr char kActivationFailedName[] =
    "lienthong_deadline_calendar_activation_failures_total";
constexpr char kActivationFailedHelp[] =
    "Scanner passes on which a calendar's pending version failed to take "
    "effect (log line calendar_activation_failed); its clocks keep the "
    "version before it until it is repaired.";

// Scanner and clock metrics (docs/development.md names).
class Metrics {
 public:
  Metrics()
      : lag_(metrics::Histogram("lienthong_deadline_firing_lag_seconds",
                                "Due instant to committed event")
                 .Add({},
                      prometheus::Histogram::BucketBoundaries{
                          0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
                          60})),
        overdue_(metrics::Counter("lienthong_deadline_overdue_total",
                                  "Clocks that went overdue")),
        clocks_(metrics::Gauge("lienthong_deadline_clocks",
                               "Open clocks by state and kind")) {}

  void Observe(const ScanResult& r) {
    for (absl::Duration lag : r.lags) {
      lag_.Observe(absl::ToDoubleSeconds(lag));
    }
    if (r.overdue > r.overdue_legs) {
      overdue_.Add({{"kind", "dossier"}}).Increment(r.overdue - r.overdue_legs);
    }
    if (r.overdue_legs > 0) {
      overdue_.Add({{"kind", "leg"}}).Increment(r.overdue_legs);
    }
  }

  void UpdateClocks(DeadlineService& service) {
    absl::StatusOr<std::vector<OpenClockCount>> counts =
        service.CountOpenClocks();
    if (!counts.ok()) return;
    for (const char* kind : {"dossier", "leg"}) {
      for (const char* state : {"on_track", "due_soon", "overdue", "paused"}) {
        int64_t n = 0;
        for (const OpenClockCount& c : *counts) {
          if (c.state == state && KindName(c.kind) == std::string(kind)) {
            n = c.count;
          }
        }
        clocks_.Add({{"state", state}, {"kind", kind}})
            .Set(static_cast<double>(n));
      }
    }
  }

 private:
  prometheus::Histogram& lag_;
  prometheus::Family<prometheus::Counter>& overdue_;
  prometheus::Family<prometheus::Gauge>& clocks_;
};

}  // namespace
}  // namespace lienthong::deadline

int main(int argc, char** argv) {
  using namespace lienthong;
  using namespace lienthong::deadline;
  runtime::Start(argc, argv,
                 "lienthong-deadline: calendars, clocks, due-soon/overdue, "
                 "on-time reports");
  config::Require(absl::GetFlag(FLAGS_due_soon_fraction) >= 0 &&
                      absl::GetFlag(FLAGS_due_soon_fraction) <= 1,
                  "--due_soon_fraction must be within 0..1");
  config::Require(absl::GetFlag(FLAGS_scan_batch) > 0,
                  "--scan_batch must be positive");
  config::RequirePositive(FLAGS_scan_interval);

  std::unique_ptr<DeadlineService> service;
  grpc_util::EventHandler handler;
  runtime::ServiceSpec spec;
  spec.label = "deadline";
  spec.schema = "deadline";
  spec.domain = "lienthong.deadline";
  spec.service_names = {"lienthong.deadline.v1.DeadlineService",
                        "lienthong.common.v1.EventSinkService"};
  spec.migrations = Migrations();
  spec.event_destinations = {"notify", "intake"};
  // Events arrive only once Serve() runs, after `handler` is set below.
  spec.event_handler = [&handler](const common::v1::Event& e) {
    return handler(e);
  };
  std::unique_ptr<runtime::ServiceRuntime> rt =
      runtime::ServiceRuntime::Init(std::move(spec));

  PgDeadlineStore store(rt->pool(), rt->clock());
  ServiceOptions options;
  options.due_soon.fraction = absl::GetFlag(FLAGS_due_soon_fraction);
  options.due_soon.min_remaining = absl::GetFlag(FLAGS_due_soon_min_remaining);
  options.scan_batch = absl::GetFlag(FLAGS_scan_batch);
  service = std::make_unique<DeadlineService>(store, rt->clock(), EncodeNotice,
                                              options);
  service->SetMovedEncoder(EncodeAppointmentsMoved);
  service->SetPublishedEncoder(EncodeCalendarPublished);
  service->SetCoverageReport([](const calendar::CoverageExceeded& e) {
    logging::Event("calendar_coverage_exceeded")
        .With("calendar", e.calendar_id)
        .With("version", e.calendar_version)
        .With("covered_through", calendar::FormatDay(e.covered_through))
        .With("due",
              absl::FormatTime(absl::RFC3339_sec, e.due, absl::UTCTimeZone()))
        .Warn();
    metrics::Counter(kCoverageExceededName, kCoverageExceededHelp)
        .Add({{"calendar", e.calendar_id}})
        .Increment();
  });
  if (absl::Status s = service->EnsureDefaultCalendar(); !s.ok()) {
    config::Fatal("deadline", absl::StrCat("default calendar: ", s.message()));
  }
  handler = MakeEventHandler(*service);

  Metrics m;
  Scanner scanner(
      *service, ScannerOptions(), [&m](const ScanResult& r) { m.Observe(r); },
      nullptr,
      [](const std::string& calendar_id, const absl::Status& s) {
        const std::string reason = common::GetErrorDetails(s).reason;
        logging::Event("calendar_activation_failed")
            .With("calendar", calendar_id)
            .With("code", absl::StatusCodeToString(s.code()))
            .With("reason", reason)
            .Error();
        metrics::Counter(kActivationFailedName, kActivationFailedHelp)
            .Add({{"calendar", calendar_id}})
            .Increment();
      });
  rt->AddLoop(
      "scanner",
      [&scanner] {
        absl::StatusOr<ScanResult> r = scanner.RunOnce();
        if (!r.ok()) {
          logging::Event("scan_failed")
              .With("code", absl::StatusCodeToString(r.status().code()))
              .Warn();
        }
      },
      absl::GetFlag(FLAGS_scan_interval));
  // Another replica's calendar change drops this one's cached copies at
  // once; calendar_cache_ttl stays as the fallback.
  rt->AddLoop(
      "calendar_cache", [&service] { service->ForgetCachedCalendars(); },
      absl::Minutes(5), kCalendarsChangedChannel);
  rt->AddLoop(
      "clock_gauges", [&m, &service] { m.UpdateClocks(*service); },
      absl::Seconds(30));
  rt->AddLoop(
      "agency_gauges",
      [&rt] {
        UpdateAgencyGauges(rt->pool(), rt->clock().Now()).IgnoreError();
      },
      absl::Seconds(60));

  DeadlineServer server(*service, rt->clock(), rt->insecure_dev_auth());
  return rt->Serve({&server, rt->event_sink()});
}
