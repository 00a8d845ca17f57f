#include "libs/runtime/service_runtime.h"

#include <algorithm>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "libs/config/config.h"
#include "libs/db/wake_listener.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/flags.h"
#include "libs/logging/logging.h"
#include "libs/metrics/metrics.h"
#include "libs/runtime/loop.h"

ABSL_FLAG(std::string, db_dsn, "",
          "libpq connection string, e.g. host=/run/pg dbname=lienthong");
ABSL_FLAG(int, db_pool_size, 8, "Connections in the database pool");
ABSL_FLAG(absl::Duration, outbox_retention, absl::Hours(24 * 7),
          "Delivered outbox events are deleted this long after delivery "
          "(0 = keep them for good); undelivered ones are always kept");
ABSL_FLAG(absl::Duration, inbox_retention, absl::Hours(24 * 30),
          "Ids of applied incoming events are forgotten this long after "
          "receipt (0 = never; at least 24h, far beyond a sender's 5-minute "
          "longest retry, so a redelivery is still recognised)");
ABSL_FLAG(absl::Duration, event_purge_interval, absl::Hours(1),
          "How often expired outbox events and inbox ids are deleted");

namespace lienthong::runtime {
namespace {

absl::Notification* g_stop = new absl::Notification();

std::string PeerAddress(const std::string& peer) {
  if (peer == "intake") return absl::GetFlag(FLAGS_intake_address);
  if (peer == "routing") return absl::GetFlag(FLAGS_routing_address);
  if (peer == "deadline") return absl::GetFlag(FLAGS_deadline_address);
  if (peer == "notify") return absl::GetFlag(FLAGS_notify_address);
  return "";
}

// Sleeps up to `d`, returning early when the process is stopping.
bool SleepUnlessStopping(absl::Duration d) {
  return !g_stop->WaitForNotificationWithTimeout(d);
}

}  // namespace

void Start(int argc, char** argv, absl::string_view usage) {
  grpc_util::BlockShutdownSignals();
  config::ParseFlags(argc, argv, usage);
}

bool ServiceRuntime::insecure_dev_auth() const {
  return absl::GetFlag(FLAGS_insecure_dev_auth);
}

std::unique_ptr<ServiceRuntime> ServiceRuntime::Init(ServiceSpec spec) {
  logging::Init(spec.label, absl::GetFlag(FLAGS_log_format));
  const std::string log_format = absl::GetFlag(FLAGS_log_format);
  config::Require(log_format == "logfmt" || log_format == "json",
                  "--log_format must be logfmt or json");
  const int health_port = absl::GetFlag(FLAGS_health_port);
  config::Require(health_port >= 0 && health_port <= 65535,
                  "--health_port must be a port (1-65535) or 0 (off)");
  const std::string dsn = absl::GetFlag(FLAGS_db_dsn);
  config::Require(!dsn.empty(),
                  "--db_dsn (LIENTHONG_DB_DSN) must be set to a libpq "
                  "connection string");
  config::Require(absl::GetFlag(FLAGS_db_pool_size) > 0,
                  "--db_pool_size must be positive");
  config::Require(absl::GetFlag(FLAGS_drain_grace) >= absl::ZeroDuration(),
                  "--drain_grace must not be negative");
  const absl::Duration outbox_retention = absl::GetFlag(FLAGS_outbox_retention);
  const absl::Duration inbox_retention = absl::GetFlag(FLAGS_inbox_retention);
  config::Require(outbox_retention == absl::ZeroDuration() ||
                      outbox_retention >= absl::Hours(1),
                  "--outbox_retention must be 0 (keep) or at least 1h");
  config::Require(inbox_retention == absl::ZeroDuration() ||
                      inbox_retention >= absl::Hours(24),
                  "--inbox_retention must be 0 (keep) or at least 24h: a "
                  "sender that lost an acknowledgement delivers again, and "
                  "the inbox must still know the event then");
  for (const auto* flag : {&FLAGS_event_purge_interval,
                           &FLAGS_shutdown_deadline, &FLAGS_peer_deadline}) {
    config::RequirePositive(*flag);
  }
  std::unique_ptr<ServiceRuntime> rt(new ServiceRuntime(std::move(spec)));
  const std::string label = rt->spec_.label;

  db::PoolOptions po;
  po.dsn = dsn;
  po.size = absl::GetFlag(FLAGS_db_pool_size);
  po.on_error = [label](const char* kind) {
    metrics::Counter(absl::StrCat("lienthong_", label, "_db_errors_total"),
                     "Database errors, by kind (connection, query).")
        .Add({{"kind", kind}})
        .Increment();
  };
  rt->pool_ = std::make_unique<db::Pool>(po);
  if (absl::Status s = rt->pool_->Ping(); !s.ok()) {
    config::Fatal(label, absl::StrCat("database unreachable with --db_dsn: ",
                                      s.message()));
  }
  if (absl::Status s =
          db::Migrate(*rt->pool_, rt->spec_.schema, rt->spec_.migrations);
      !s.ok()) {
    config::Fatal(label, absl::StrCat("migrations: ", s.message()));
  }
  const int mport = absl::GetFlag(FLAGS_metrics_port);
  if (mport > 0) {
    absl::StatusOr<int> bound = metrics::StartExposer(mport);
    if (!bound.ok()) config::Fatal(label, bound.status().message());
  }
  if (rt->spec_.event_handler) {
    rt->event_sink_ = std::make_unique<grpc_util::EventSinkServer>(
        rt->spec_.domain, rt->spec_.event_handler,
        rt->spec_.event_batch_handler, rt->insecure_dev_auth());
  }
  for (const std::string& peer : rt->spec_.event_destinations) {
    if (PeerAddress(peer).empty()) {
      config::Fatal(label,
                    absl::StrCat("--", peer, "_address (LIENTHONG_",
                                 absl::AsciiStrToUpper(peer),
                                 "_ADDRESS) must be set: events go there"));
    }
  }
  if (outbox_retention > absl::ZeroDuration() ||
      inbox_retention > absl::ZeroDuration()) {
    ServiceRuntime* r = rt.get();
    rt->AddLoop(
        "event_purge",
        [r, outbox_retention, inbox_retention] {
          r->PurgeExpiredEvents(outbox_retention, inbox_retention);
        },
        absl::GetFlag(FLAGS_event_purge_interval));
  }
  return rt;
}

void ServiceRuntime::PurgeExpiredEvents(absl::Duration outbox_retention,
                                        absl::Duration inbox_retention) {
  const std::string& label = spec_.label;
  absl::StatusOr<db::PurgeCounts> n =
      db::PurgeEvents(*pool_,
                      {.schema = spec_.schema,
                       .outbox_retention = outbox_retention,
                       .inbox_retention = inbox_retention,
                       .stopping = [] { return g_stop->HasBeenNotified(); }},
                      clock().Now());
  if (!n.ok()) {
    logging::Event("event_purge_failed")
        .With("error", n.status().message())
        .Warn();
    return;
  }
  auto& purged = metrics::Counter(
      absl::StrCat("lienthong_", label, "_events_purged_total"),
      "Delivered outbox events and inbox ids deleted after their "
      "retention, by table.");
  purged.Add({{"table", "outbox"}}).Increment(static_cast<double>(n->outbox));
  purged.Add({{"table", "outbox_payloads"}})
      .Increment(static_cast<double>(n->outbox_payloads));
  purged.Add({{"table", "inbox"}}).Increment(static_cast<double>(n->inbox));
  if (n->outbox > 0 || n->outbox_payloads > 0 || n->inbox > 0) {
    logging::Event("events_purged")
        .With("outbox", n->outbox)
        .With("outbox_payloads", n->outbox_payloads)
        .With("inbox", n->inbox)
        .Info();
  }
}

ServiceRuntime::~ServiceRuntime() {
  stopping_ = true;
  for (auto& r : relays_) r->Stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void ServiceRuntime::AddLoop(std::string name, std::function<void()> run_once,
                             absl::Duration interval,
                             std::string wake_channel) {
  AddRetryingLoop(
      std::move(name),
      [run_once = std::move(run_once)] {
        run_once();
        return true;
      },
      interval, interval, std::move(wake_channel));
}

void ServiceRuntime::AddRetryingLoop(std::string name,
                                     std::function<bool()> run_once,
                                     absl::Duration interval,
                                     absl::Duration retry,
                                     std::string wake_channel) {
  loops_.push_back({std::move(name), std::move(run_once), interval, retry,
                    std::move(wake_channel)});
}

void ServiceRuntime::StartRelays() {
  for (const std::string& peer : spec_.event_destinations) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        grpc_util::MakeChannel(PeerAddress(peer),
                               grpc_util::ClientTlsFromFlags());
    if (!channel.ok()) config::Fatal(spec_.label, channel.status().message());
    auto client = std::make_unique<grpc_util::EventSinkClient>(
        *channel, absl::GetFlag(FLAGS_peer_deadline));
    grpc_util::EventSinkClient* c = client.get();
    clients_.push_back(std::move(client));
    db::RelayOptions ro;
    ro.schema = spec_.schema;
    ro.destination = peer;
    const std::string label = spec_.label;
    auto relay = std::make_unique<db::OutboxRelay>(
        *pool_, clock(), ro,
        [c, peer, label](const std::vector<db::OutboxRecord>& records) {
          std::vector<std::string> payloads;
          payloads.reserve(records.size());
          for (const auto& r : records) payloads.push_back(r.payload);
          absl::Status s = c->Deliver(payloads);
          if (s.ok()) {
            metrics::Counter(
                absl::StrCat("lienthong_", label, "_outbox_delivered_total"),
                "Events delivered to the next service, by destination.")
                .Add({{"destination", peer}})
                .Increment(static_cast<double>(records.size()));
          } else {
            logging::Event("outbox_delivery_failed")
                .With("destination", peer)
                .With("code", absl::StatusCodeToString(s.code()))
                .With("events", static_cast<int64_t>(records.size()))
                .Warn();
          }
          return s;
        });
    relay->Start();
    relays_.push_back(std::move(relay));
  }
}

void ServiceRuntime::UpdateOutboxMetrics() {
  for (size_t i = 0; i < relays_.size(); ++i) {
    absl::StatusOr<db::OutboxStats> st = relays_[i]->Stats();
    if (!st.ok()) continue;
    const std::string& peer = spec_.event_destinations[i];
    metrics::Gauge(absl::StrCat("lienthong_", spec_.label, "_outbox_pending"),
                   "Events not yet delivered, by destination.")
        .Add({{"destination", peer}})
        .Set(static_cast<double>(st->pending));
    metrics::Gauge(
        absl::StrCat("lienthong_", spec_.label, "_outbox_lag_seconds"),
        "Age of the oldest undelivered event, by destination.")
        .Add({{"destination", peer}})
        .Set(absl::ToDoubleSeconds(st->oldest_age));
  }
}

int ServiceRuntime::Serve(std::vector<grpc::Service*> services) {
  services.erase(std::remove(services.begin(), services.end(), nullptr),
                 services.end());
  absl::StatusOr<std::unique_ptr<grpc_util::Server>> server =
      grpc_util::Server::Start(
          grpc_util::ServerOptionsFromFlags(spec_.label, spec_.service_names),
          services);
  if (!server.ok()) config::Fatal(spec_.label, server.status().message());
  grpc_util::Server* srv = server->get();
  StartRelays();

  // Readiness follows PostgreSQL; outbox gauges refresh with it.
  threads_.emplace_back([this, srv] {
    bool serving = true;
    while (SleepUnlessStopping(absl::Seconds(2))) {
      const bool ok = pool_->Ping().ok();
      if (ok != serving) {
        logging::Event(ok ? "database_back" : "database_away").Warn();
        serving = ok;
        srv->SetServing(ok);
      }
      if (ok) UpdateOutboxMetrics();
    }
  });
  for (const Loop& loop : loops_) {
    threads_.emplace_back([this, &loop] {
      std::unique_ptr<db::WakeListener> wake;
      if (!loop.wake_channel.empty()) {
        wake =
            std::make_unique<db::WakeListener>(pool_->dsn(), loop.wake_channel);
      }
      RunLoop(loop.run_once, loop.interval, loop.retry, wake.get(), *g_stop);
    });
  }
  logging::Event("serving")
      .With("address", absl::GetFlag(FLAGS_listen_address))
      .With("port", srv->port())
      .With("health_port", srv->health_port())
      .Info();
  logging::Flush();  // at once: scripts and people wait for this line

  grpc_util::WaitForShutdownSignal();
  g_stop->Notify();
  stopping_ = true;
  for (auto& hook : shutdown_hooks_) hook();
  srv->Shutdown();  // NOT_SERVING, grace, drain in-flight RPCs
  for (auto& r : relays_) r->Stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  logging::Event("exited").With("code", 0).Info();
  return 0;
}

}  // namespace lienthong::runtime
