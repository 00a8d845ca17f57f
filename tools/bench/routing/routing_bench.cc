// lienthong-bench-routing: routing's figures on a durable PostgreSQL.
//
// (a) Dispatch latency: dossiers arrive at a fixed rate (default 1,000/s);
//     each DossierReceived commits a route, its ready task, a feed row and
//     outbox events in one transaction; an agency system watches its queue
//     over gRPC. Latency = task's ready time (inside the transaction) to its
//     arrival on WatchTasks. Baseline printed beside it: the durable commit
//     of that same transaction (what the stream adds on top of it).
// (b) Whole birth workflows (whole_workflows.cc): in one process, intake
//     and routing over real gRPC with their outbox relays, three agency
//     systems completing instantly. Workflows/s from submission to
//     READY_FOR_RETURN, with the intake-only submission rate measured in
//     the same run.
//
//   build/release/tools/bench/routing/lienthong-bench-routing
//   --db_dsn="$(tools/pg dsn)"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "intake_migrations.h"
#include "libs/calendar/default_calendar.h"
#include "libs/common/uuid.h"
#include "libs/db/migrations.h"
#include "libs/db/outbox.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/testing/in_process_server.h"
#include "lienthong/intake/v1/events.pb.h"
#include "routing_migrations.h"
#include "services/intake/intake_server.h"
#include "services/routing/agency_tree_for_testing.h"
#include "services/routing/intake_directory.h"
#include "services/routing/routing_server.h"
#include "spdlog/spdlog.h"
#include "tools/bench/routing/bench_support.h"

ABSL_FLAG(std::string, db_dsn, "",
          "libpq DSN of a durable server (tools/pg dsn)");
ABSL_FLAG(double, rate, 1000, "(a) dossiers per second");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "(a) how long to offer load");
ABSL_FLAG(int, producers, 16, "(a) concurrent producers");
ABSL_FLAG(std::string, part, "ab", "which parts to run: a, b or ab");

namespace lt = lienthong;

using lt::bench::FreshDatabase;
using lt::bench::Pct;

namespace {

void PartA(const std::string& base_dsn) {
  const std::string dsn = FreshDatabase(base_dsn, "lt_bench_routing_a");
  lt::db::Pool pool({dsn, absl::GetFlag(FLAGS_producers) + 4});
  if (!lt::db::Migrate(pool, "routing", lt::routing::Migrations()).ok()) return;
  // The ward of the routing tests: its one-stop unit and justice office.
  lt::routing::TreeDirectory dir;
  lt::routing::RoutingOptions o;
  o.insecure_dev_auth = true;
  o.watch_poll = absl::Milliseconds(100);
  lt::routing::RoutingServer server(pool, lt::common::RealClock::Get(), dir, o);
  server.StartFeedListener();
  lt::testing::InProcessServer grpc({&server});
  auto stub = lt::routing::v1::RoutingService::NewStub(grpc.NewChannel());

  std::mutex mu;
  std::vector<double> deliver_ms, commit_ms;
  std::atomic<int64_t> received{0};
  grpc::ClientContext wctx;
  wctx.AddMetadata("x-lienthong-role", "agency_system");
  wctx.AddMetadata("x-lienthong-agency", "W-TP");
  lt::routing::v1::WatchTasksRequest wreq;
  wreq.set_agency("agencies/W-TP");
  auto reader = stub->WatchTasks(&wctx, wreq);
  std::thread watcher([&] {
    lt::routing::v1::WatchTasksResponse item;
    while (reader->Read(&item)) {
      const absl::Time now = absl::Now();
      const double ms = absl::ToDoubleMilliseconds(
          now - lt::grpc_util::FromProto(item.task().ready_time()));
      std::lock_guard<std::mutex> l(mu);
      deliver_ms.push_back(ms);
      ++received;
    }
  });

  lt::intake::v1::DossierReceived tmpl;
  *tmpl.mutable_receiving_agency() = *dir.Get("W-1CUA");
  auto* leg = tmpl.mutable_procedure()->add_legs();
  leg->set_id("civil_status");
  leg->set_display_name("Đăng ký khai sinh");
  leg->set_agency_kind(lt::common::v1::AGENCY_KIND_JUSTICE);
  leg->mutable_time_limit()->set_unit(
      lt::common::v1::WORKING_DURATION_UNIT_DAYS);
  leg->mutable_time_limit()->set_amount(1);

  const double rate = absl::GetFlag(FLAGS_rate);
  const int producers = absl::GetFlag(FLAGS_producers);
  const absl::Time start = absl::Now() + absl::Milliseconds(200);
  const int64_t total = static_cast<int64_t>(
      rate * absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration)));
  std::atomic<int64_t> next{0}, failed{0};
  std::vector<std::thread> ps;
  for (int p = 0; p < producers; ++p) {
    ps.emplace_back([&] {
      while (true) {
        const int64_t i = next++;
        if (i >= total) return;
        // Open loop: each dossier has its scheduled instant.
        const absl::Time at = start + absl::Seconds(i / rate);
        if (absl::Now() < at) absl::SleepFor(at - absl::Now());
        lt::intake::v1::DossierReceived ev = tmpl;
        ev.set_dossier(absl::StrCat("dossiers/B-", i));
        const absl::Time t0 = absl::Now();
        auto r = server.HandleEvent(
            lt::grpc_util::MakeEvent(ev, "intake", ev.dossier(), t0));
        const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
        if (!r.ok()) ++failed;
        std::lock_guard<std::mutex> l(mu);
        commit_ms.push_back(ms);
      }
    });
  }
  for (auto& t : ps) t.join();
  const absl::Time produced = absl::Now();
  while (received < total - failed &&
         absl::Now() - produced < absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const double offered_s = absl::ToDoubleSeconds(produced - start);
  wctx.TryCancel();
  watcher.join();
  server.Stop();
  std::printf(
      "\n(a) dispatch: %lld dossiers offered at %.0f/s for %.1f s, achieved "
      "%.0f/s, %lld failed, %lld delivered\n",
      static_cast<long long>(total), rate,
      absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration)), total / offered_s,
      static_cast<long long>(failed.load()),
      static_cast<long long>(received.load()));
  std::printf(
      "    ready -> WatchTasks   p50 %7.2f ms   p99 %7.2f ms   (target p50 < "
      "10, p99 < 100)\n",
      Pct(deliver_ms, 0.5), Pct(deliver_ms, 0.99));
  std::printf(
      "    baseline: durable commit of the dispatching transaction   p50 %7.2f "
      "ms   p99 %7.2f ms\n",
      Pct(commit_ms, 0.5), Pct(commit_ms, 0.99));
  std::printf("    backlog at the end: %lld not delivered\n",
              static_cast<long long>(total - failed - received));
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string dsn = absl::GetFlag(FLAGS_db_dsn);
  if (dsn.empty()) {
    std::fprintf(
        stderr,
        "bench-routing: --db_dsn is required (e.g. \"$(tools/pg dsn)\")\n");
    return 2;
  }
  {
    pqxx::connection c(dsn);
    pqxx::nontransaction tx(c);
    std::printf("PostgreSQL: fsync=%s synchronous_commit=%s\n",
                tx.exec("SHOW fsync")[0][0].c_str(),
                tx.exec("SHOW synchronous_commit")[0][0].c_str());
  }
  // Connect to the maintenance database to create the bench databases.
  std::string base = dsn;
  if (auto p = base.find("dbname="); p != std::string::npos) {
    auto e = base.find(' ', p);
    base.erase(p, e == std::string::npos ? std::string::npos : e - p);
  }
  spdlog::set_level(spdlog::level::warn);  // the services log every task
  const std::string part = absl::GetFlag(FLAGS_part);
  if (part.find('a') != std::string::npos) PartA(base + " dbname=postgres");
  if (part.find('b') != std::string::npos) {
    lt::bench::RunWholeWorkflows(base + " dbname=postgres");
  }
  return 0;
}
