// tools/bench intake mode (issue 4): N concurrent clients submit
// birth-shaped dossiers to an intake service over gRPC; in the same run, a
// baseline writes the same rows (dossier code counter, dossier with its
// documents, DossierReceived outbox rows) straight through libpqxx with no
// gRPC. Prints throughput, p50/p95/p99 and the ratio to the baseline, then
// the latency at a fixed fraction of the measured peak (open loop). Not a
// test; see docs/performance.md, "## intake".
//
//   lienthong-bench-intake --db_dsn="$(tools/pg dsn)"
//
// It creates (after dropping) the database `lt_bench_intake` on that server
// and serves intake in-process on 127.0.0.1:0 (the service's own server
// bootstrap and interceptor), or, with --noin_process, loads the running
// service at --intake_address (seeded with `lienthong seed`, started with
// --insecure_dev_auth).

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "intake_migrations.h"
#include "libs/calendar/default_calendar.h"
#include "libs/db/migrations.h"
#include "libs/db/pool.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/flags.h"
#include "libs/logging/logging.h"
#include "services/intake/pg_intake_store.h"
#include "tools/bench/intake/bench_util.h"
#include "tools/bench/intake/in_process_intake.h"
#include "tools/bench/intake/peak_rounds.h"
#include "tools/bench/intake/workload.h"

ABSL_FLAG(std::string, db_dsn, "",
          "libpq connection string of the server to use "
          "(env LIENTHONG_DB_DSN)");
ABSL_FLAG(bool, in_process, true,
          "serve intake in-process; false: load the running service at "
          "--intake_address");
ABSL_FLAG(std::string, seed_dir, "data/seed",
          "where agencies.json and procedures.json are");
ABSL_FLAG(absl::Duration, audit_seal_interval, absl::Milliseconds(100),
          "how often the in-process service seals audit entries (as "
          "lienthong-intake's flag of the same name)");
ABSL_FLAG(std::vector<std::string>, clients,
          (std::vector<std::string>{"16", "32"}),
          "numbers of concurrent clients (and baseline writers) to measure "
          "each side's peak with; each side's peak is its best");
ABSL_FLAG(int, channels, 4, "gRPC channels (connections) the clients share");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(15), "length of each phase");
ABSL_FLAG(int, pool_size, 8, "the in-process service's connection pool");
ABSL_FLAG(int, rounds, 3,
          "baseline and service alternate this many times (--duration split)");
ABSL_FLAG(int, submit_batch_max, 32,
          "the in-process service's --submit_batch_max (1 = one transaction "
          "per call)");
ABSL_FLAG(int, submit_batches_in_flight, 2,
          "the in-process service's --submit_batches_in_flight");
ABSL_FLAG(int, submit_batch_min_queued, 6,
          "the in-process service's --submit_batch_min_queued");
ABSL_FLAG(std::string, latency_trace, "",
          "if set, a CSV file to write the service's open-loop requests to: "
          "when each was scheduled (UTC) and its latency (ms)");
ABSL_FLAG(bool, lean_client, true,
          "submit through the lean load generator (LeanServiceOp: requests "
          "serialized once, answers parsed 1 in 32); false: the generated "
          "stub, building and parsing every message");
ABSL_FLAG(bool, async_client, true,
          "with --lean_client: calls started from one thread per loop and "
          "finished on one completion thread (no thread per call); false: "
          "a thread per client or open-loop worker, each waiting on its "
          "call");
ABSL_FLAG(double, profile_rate, 0,
          "for profiling: only the service's open loop at this many "
          "submissions a second for --duration, then its figures");
ABSL_FLAG(double, load_fraction, 0.6,
          "open-loop rate as a fraction of the service's peak throughput");

namespace lienthong::intake {
namespace {

constexpr char kDb[] = "lt_bench_intake";

// Where the storage probe writes: beside PostgreSQL's data directory
// when the server is on this machine and says where that is (superuser),
// else the working directory.
std::string StorageProbeDir(db::Pool& pool) {
  auto dir = db::WithTransaction(
      pool, [](pqxx::work& tx) -> absl::StatusOr<std::string> {
        return tx.exec("SHOW data_directory")[0][0].as<std::string>();
      });
  if (dir.ok() && ::access(dir->c_str(), W_OK) == 0) {
    return dir->substr(0, dir->find_last_of('/'));
  }
  return ".";
}

std::string BenchDsn(const std::string& dsn) {
  try {
    pqxx::connection c(dsn);
    pqxx::nontransaction n(c);
    n.exec(absl::StrCat("DROP DATABASE IF EXISTS ", kDb));
    n.exec(absl::StrCat("CREATE DATABASE ", kDb));
  } catch (const std::exception&) {
    Die("database",
        absl::UnavailableError(absl::StrCat("cannot create database ", kDb)));
  }
  // libpq takes the last value of a repeated keyword.
  return absl::StrCat(dsn, " dbname=", kDb);
}

int Run() {
  std::string dsn = absl::GetFlag(FLAGS_db_dsn);
  if (dsn.empty() && std::getenv("LIENTHONG_DB_DSN") != nullptr) {
    dsn = std::getenv("LIENTHONG_DB_DSN");
  }
  if (dsn.empty()) Die("flags", absl::InvalidArgumentError("--db_dsn"));
  std::vector<int> client_counts;
  for (const std::string& c : absl::GetFlag(FLAGS_clients)) {
    int n = 0;
    if (!absl::SimpleAtoi(c, &n) || n < 1) {
      Die("flags", absl::InvalidArgumentError("--clients: positive numbers"));
    }
    client_counts.push_back(n);
  }
  if (client_counts.empty()) {
    Die("flags", absl::InvalidArgumentError("--clients: at least one"));
  }
  const int clients =
      *std::max_element(client_counts.begin(), client_counts.end());
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const Seed seed = LoadSeed(absl::GetFlag(FLAGS_seed_dir));
  absl::StatusOr<calendar::WorkingCalendar> cal = calendar::DefaultCalendar();
  if (!cal.ok()) Die("calendar", cal.status());

  const std::string bench_dsn = BenchDsn(dsn);
  db::Pool baseline_pool({bench_dsn, clients});
  absl::Status migrated = db::Migrate(baseline_pool, "intake", Migrations());
  if (!migrated.ok()) Die("migrations", migrated);

  // The service under test.
  std::unique_ptr<InProcessIntake> service;
  const bool in_process = absl::GetFlag(FLAGS_in_process);
  std::string address = absl::GetFlag(FLAGS_intake_address);
  if (in_process) {
    service = std::make_unique<InProcessIntake>(InProcessOptions{
        bench_dsn, absl::GetFlag(FLAGS_pool_size), *cal,
        absl::GetFlag(FLAGS_submit_batch_max),
        absl::GetFlag(FLAGS_submit_batches_in_flight),
        absl::GetFlag(FLAGS_submit_batch_min_queued),
        absl::GetFlag(FLAGS_max_threads),  // the service's flag
        absl::GetFlag(FLAGS_audit_seal_interval)});
    address = service->address();
  }
  std::vector<std::unique_ptr<v1::IntakeService::Stub>> stubs;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health_stubs;
  for (int i = 0; i < absl::GetFlag(FLAGS_channels); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("lienthong.bench_channel", i);  // one connection each
    auto channel = grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args);
    channels.push_back(channel);
    stubs.push_back(v1::IntakeService::NewStub(channel));
    health_stubs.push_back(grpc::health::v1::Health::NewStub(channel));
  }
  if (in_process) SeedService(*stubs[0], seed);

  const bool lean = absl::GetFlag(FLAGS_lean_client);
  const bool async = lean && absl::GetFlag(FLAGS_async_client);
  // Every submission answered OK, to compare with the dossiers stored.
  std::atomic<int64_t> answered{0};
  const auto count = [&answered](const absl::Status& s) {
    if (s.ok()) answered.fetch_add(1, std::memory_order_relaxed);
  };
  std::shared_ptr<bench::AsyncCalls> async_calls;
  bench::Load service_op = bench::Op{};
  if (async) {
    async_calls = std::make_shared<bench::AsyncCalls>(channels);
    service_op = bench::Load::Async(
        [&count, submit = AsyncLeanServiceOp(async_calls, seed)](
            int c, int64_t i, bench::Done done) {
          submit(c, i, [&count, done = std::move(done)](absl::Status s) {
            count(s);
            done(std::move(s));
          });
        });
  } else {
    service_op = bench::Op(
        [&count, submit = lean ? LeanServiceOp(channels, seed)
                               : ServiceOp(stubs, seed)](int c, int64_t i) {
          absl::Status s = submit(c, i);
          count(s);
          return s;
        });
  }
  const bench::Op baseline_op = BaselineOp(baseline_pool, seed, *cal);
  const std::string where =
      in_process ? absl::StrCat("in-process (pool ",
                                absl::GetFlag(FLAGS_pool_size), ")")
                 : absl::StrCat("remote ", address);
  std::printf("== intake: SubmitDossier (joint birth registration)\n");
  std::printf(
      "%s clients over %d channels, %s per phase, %zu ward counters, "
      "%s service, %s client\n",
      absl::StrJoin(client_counts, " and ").c_str(),
      absl::GetFlag(FLAGS_channels), absl::FormatDuration(duration).c_str(),
      seed.counters.size(), where.c_str(),
      async  ? "lean asynchronous"
      : lean ? "lean"
             : "stub");
  // The in-process service's submissions and transactions so far.
  const bench::BatchCounter batches = [&service]() -> std::pair<long, long> {
    if (!service) return {0, 0};
    return service->SubmitBatchStats();
  };
  const auto per_transaction = [](std::pair<long, long> before,
                                  std::pair<long, long> after) {
    return static_cast<double>(after.first - before.first) /
           static_cast<double>(std::max(1L, after.second - before.second));
  };
  const auto finish = [&] {
    if (service) service->Stop();
  };
  // --latency_trace: the service's open-loop requests, to a CSV file.
  const auto write_trace = [](const bench::Figures& f) {
    const std::string path = absl::GetFlag(FLAGS_latency_trace);
    if (!path.empty() && !bench::WriteTrace(path, f)) {
      Die("latency trace", absl::NotFoundError(path));
    }
  };
  // Warm both paths (connections, caches, plans) before measuring.
  bench::RunClosedLoop(clients, absl::Seconds(2), service_op);
  bench::RunClosedLoop(clients, absl::Seconds(2), baseline_op);
  if (const double rate = absl::GetFlag(FLAGS_profile_rate); rate > 0) {
    const auto before = batches();
    std::fprintf(stderr, "intake-bench: open loop from %s\n",
                 absl::FormatTime(absl::Now()).c_str());
    bench::Figures f =
        bench::RunOpenLoop(rate, clients * 2, duration, service_op);
    bench::PrintRow(absl::StrCat("service at ", rate, "/s"), f);
    write_trace(f);
    if (service) {
      std::printf("  submissions per transaction: %.1f mean\n",
                  per_transaction(before, batches()));
    }
    finish();
    return 0;
  }

  // The floor under any gRPC service on this machine: the same clients,
  // connections and server (interceptor, threads) answering Health/Check,
  // which touches no database. Client and server share the cores with
  // PostgreSQL, so this cost is paid by every submission too.
  bench::Load floor_op = bench::Op{};
  if (async) {
    grpc::health::v1::HealthCheckRequest check;
    check.set_service("lienthong.intake.v1.IntakeService");
    const std::string bytes = check.SerializeAsString();
    floor_op = bench::Load::Async([&async_calls, bytes](int client, int64_t,
                                                        bench::Done done) {
      grpc::Slice slice(bytes.data(), bytes.size());
      async_calls->Call(
          client, "/grpc.health.v1.Health/Check", grpc::ByteBuffer(&slice, 1),
          nullptr,
          [done = std::move(done)](const grpc::Status& s, grpc::ByteBuffer&) {
            done(s.ok() ? absl::OkStatus()
                        : absl::UnavailableError(s.error_message()));
          });
    });
  } else {
    floor_op = bench::Op([&health_stubs](int client, int64_t) -> absl::Status {
      grpc::ClientContext ctx;
      grpc::health::v1::HealthCheckRequest req;
      req.set_service("lienthong.intake.v1.IntakeService");
      grpc::health::v1::HealthCheckResponse resp;
      grpc::Status s =
          health_stubs[client % health_stubs.size()]->Check(&ctx, req, &resp);
      if (!s.ok()) return absl::UnavailableError(s.error_message());
      return absl::OkStatus();
    });
  }
  // Baseline and service alternate in --rounds rounds (each phase's
  // --duration split between them), at each of --clients; each side's
  // peak is its best count (peak_rounds.h). The ratio is judged on the
  // rounds taken together; each round's own is printed beside it.
  const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));
  const absl::Duration slice = duration / rounds;
  const bench::PeakRounds sweep = bench::RunPeakRounds(
      client_counts, rounds, slice, baseline_op, service_op, batches);
  const int baseline_clients = client_counts[sweep.best_baseline];
  const int service_clients = client_counts[sweep.best_service];
  bench::Figures baseline = bench::Merge(sweep.baseline[sweep.best_baseline]);
  bench::Figures peak = bench::Merge(sweep.service[sweep.best_service]);
  bench::Figures floor = bench::RunClosedLoop(service_clients, slice, floor_op);
  // The open loop, in rounds too: each slice at --load_fraction of the
  // peak measured just before it (a peak measured in a fast minute and a
  // load applied in a slow one would be an overload, not 60 %).
  // The baseline gets the same open loop at the same fraction of its own
  // peak, and the storage probe runs through both: a durable commit waits
  // for its flush, so a stall of the disk is in both sides' tails.
  const double fraction = absl::GetFlag(FLAGS_load_fraction);
  std::vector<bench::Figures> paced_runs, paced_baseline_runs;
  // The service's submissions and transactions in its open loops only.
  std::pair<long, long> paced_batches{0, 0};
  double offered = 0, offered_baseline = 0;
  bench::StorageProbe probe(StorageProbeDir(baseline_pool));
  // Each round's flushes, to tell the rounds the disk stalled in.
  std::vector<std::vector<absl::Duration>> service_flushes, baseline_flushes;
  // The steal while each round's peak was measured (it set the round's
  // rate).
  std::vector<double> peak_steal, baseline_peak_steal;
  // The most the kernel had in write-back during each round (MB).
  std::vector<double> service_writeback, baseline_writeback;
  for (int r = 0; r < rounds; ++r) {
    const bench::Figures service_peak =
        bench::RunClosedLoop(service_clients, slice / 2, service_op);
    peak_steal.push_back(service_peak.StealFraction());
    const double now_peak = service_peak.Throughput();
    const double round_rate = fraction * now_peak;
    offered += round_rate / rounds;
    const auto before = batches();
    probe.Start();
    paced_runs.push_back(
        bench::RunOpenLoop(round_rate, clients * 2, slice, service_op));
    service_flushes.push_back(probe.Stop());
    service_writeback.push_back(probe.PeakWritebackMb());
    const auto after = batches();
    paced_batches.first += after.first - before.first;
    paced_batches.second += after.second - before.second;
    const bench::Figures baseline_peak =
        bench::RunClosedLoop(baseline_clients, slice / 2, baseline_op);
    baseline_peak_steal.push_back(baseline_peak.StealFraction());
    const double base_peak = baseline_peak.Throughput();
    offered_baseline += fraction * base_peak / rounds;
    probe.Start();
    paced_baseline_runs.push_back(bench::RunOpenLoop(
        fraction * base_peak, clients * 2, slice, baseline_op));
    baseline_flushes.push_back(probe.Stop());
    baseline_writeback.push_back(probe.PeakWritebackMb());
  }
  bench::Figures paced = bench::Merge(paced_runs);
  write_trace(paced);
  bench::Figures paced_baseline = bench::Merge(paced_baseline_runs);
  const double rate = offered;

  std::printf(
      "closed loop, by clients:     baseline      service  "
      "(service: submissions per transaction)\n");
  for (size_t k = 0; k < client_counts.size(); ++k) {
    std::printf("  %3d clients               %8.1f /s  %8.1f /s  (%.1f)\n",
                client_counts[k], sweep.baseline_rate[k], sweep.service_rate[k],
                sweep.JobsPerBatch(k));
  }
  bench::PrintRow(
      absl::StrCat("baseline (libpqxx), peak at ", baseline_clients), baseline);
  bench::PrintRow(absl::StrCat("gRPC floor (Health), at ", service_clients),
                  floor);
  bench::PrintRow(absl::StrCat("service (gRPC), peak at ", service_clients),
                  peak);
  if (service) {
    std::printf(
        "  --submit_batch_max=%d, --submit_batches_in_flight=%d, "
        "--submit_batch_min_queued=%d\n",
        absl::GetFlag(FLAGS_submit_batch_max),
        absl::GetFlag(FLAGS_submit_batches_in_flight),
        absl::GetFlag(FLAGS_submit_batch_min_queued));
  }
  std::printf("ratio service / baseline          %8.2f     (target >= 0.80)\n",
              baseline.Throughput() > 0
                  ? peak.Throughput() / baseline.Throughput()
                  : 0.0);
  std::printf("  by round (%s each side):",
              absl::FormatDuration(slice).c_str());
  for (double x : sweep.RoundRatios()) std::printf(" %.2f", x);
  std::printf("\n");
  // The same comparison in CPU: what the machine spent per submission
  // (all processes: load generator, gRPC, service, PostgreSQL). Steal (the
  // host giving the cores to others) is not counted, so this holds when
  // the host's speed drifts; when both sides are CPU-bound the throughput
  // ratio tends to the CPU ratio.
  if (baseline.CpuMsPerRequest() > 0 && peak.CpuMsPerRequest() > 0) {
    std::printf(
        "cpu per call: floor %.3f ms, baseline %.3f ms, service %.3f ms; "
        "ratio baseline / service %.2f (steal %.0f %% of the run's CPU)\n",
        floor.CpuMsPerRequest(), baseline.CpuMsPerRequest(),
        peak.CpuMsPerRequest(),
        baseline.CpuMsPerRequest() / peak.CpuMsPerRequest(),
        100.0 * (baseline.steal_cpu_seconds + peak.steal_cpu_seconds) /
            std::max(1e-9, baseline.busy_cpu_seconds + peak.busy_cpu_seconds +
                               baseline.steal_cpu_seconds +
                               peak.steal_cpu_seconds));
  }
  const int pct = static_cast<int>(fraction * 100);
  bench::PrintRow(absl::StrCat("service at ", pct, "% of peak (",
                               static_cast<int>(rate), "/s)"),
                  paced);
  if (paced_batches.second > 0) {
    std::printf("  submissions per transaction: %.1f mean\n",
                per_transaction({0, 0}, paced_batches));
  }
  bench::PrintSteadyTail(absl::StrCat("p99 at ", pct, "% of peak"), paced,
                         paced_runs, service_flushes, peak_steal, probe.ok());
  std::printf(
      "                                              (target <= 25 ms)\n");
  bench::PrintStorage("  disk flushes meanwhile (probe)",
                      bench::Flatten(service_flushes));
  if (probe.ok()) {
    bench::PrintWriteback("  kernel write-back by round, peak MB:",
                          service_writeback);
  }
  bench::PrintRow(absl::StrCat("baseline at ", pct, "% of its peak (",
                               static_cast<int>(offered_baseline), "/s)"),
                  paced_baseline);
  bench::PrintSteadyTail("  its p99", paced_baseline, paced_baseline_runs,
                         baseline_flushes, baseline_peak_steal, probe.ok());
  bench::PrintStorage("  disk flushes meanwhile (probe)",
                      bench::Flatten(baseline_flushes));
  if (probe.ok()) {
    bench::PrintWriteback("  kernel write-back by round, peak MB:",
                          baseline_writeback);
  }
  if (!probe.ok()) {
    std::printf("  (no storage probe: %s)\n", probe.error().c_str());
  }
  // A fresh database's tables cross autovacuum's thresholds (a share of
  // their size) again and again as they grow from nothing, each run taking
  // CPU and each ANALYZE making every connection plan its statements
  // again; a database in service for months meets them rarely.
  auto autovacuum = db::WithTransaction(
      baseline_pool,
      [](pqxx::work& tx) -> absl::StatusOr<std::pair<int64_t, int64_t>> {
        pqxx::result r = tx.exec(
            "SELECT coalesce(sum(autovacuum_count), 0)::bigint, "
            "coalesce(sum(autoanalyze_count), 0)::bigint FROM "
            "pg_stat_user_tables WHERE schemaname = 'intake'");
        return std::make_pair(r[0][0].as<int64_t>(), r[0][1].as<int64_t>());
      });
  if (autovacuum.ok()) {
    std::printf(
        "autovacuum in the run (fresh database): %lld vacuums, %lld "
        "analyzes of intake's tables\n",
        static_cast<long long>(autovacuum->first),
        static_cast<long long>(autovacuum->second));
  }
  if (in_process) {
    // Each answer OK is one dossier stored (the baseline's codes start
    // with "B"); anything else is a bug, not a figure.
    auto stored = db::WithTransaction(
        baseline_pool, [](pqxx::work& tx) -> absl::StatusOr<int64_t> {
          return tx
              .exec(
                  "SELECT count(*) FROM intake.dossiers "
                  "WHERE agency_code NOT LIKE 'B%'")[0][0]
              .as<int64_t>();
        });
    if (!stored.ok()) Die("count dossiers", stored.status());
    std::printf(
        "dossiers stored by the service: %lld, submissions answered "
        "OK: %lld\n",
        static_cast<long long>(*stored),
        static_cast<long long>(answered.load()));
    if (*stored != answered.load()) {
      Die("check", absl::DataLossError(
                       "the service stored another number of dossiers than "
                       "it answered OK"));
    }
  }
  finish();
  return 0;
}

}  // namespace
}  // namespace lienthong::intake

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // The service logs as in production (one access line per call, to stderr).
  lienthong::logging::Init("intake", "logfmt");
  return lienthong::intake::Run();
}
