// tools/bench deadline mode (issue 6): firing lag of the overdue scanner and
// the city on-time report, against a durable PostgreSQL. Not a test: it
// prints figures beside their baselines (the targets). See
// docs/performance.md, "## deadline", for how to run it.
//
//   lienthong-bench-deadline --db_dsn="$(tools/pg dsn)"
//
// It creates (and drops first) the database `lt_bench_deadline` on that
// server, so it never touches the stack's data.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "deadline_migrations.h"
#include "libs/calendar/calendar_json.h"
#include "libs/common/clock.h"
#include "libs/db/migrations.h"
#include "libs/db/pool.h"
#include "libs/db/transaction.h"
#include "services/deadline/deadline_events.h"
#include "services/deadline/deadline_service.h"
#include "services/deadline/pg_deadline_store.h"

ABSL_FLAG(std::string, db_dsn, "",
          "libpq connection string of the server to use "
          "(env LIENTHONG_DB_DSN)");
ABSL_FLAG(int, clocks, 100000, "pending clocks for the firing benchmark");
ABSL_FLAG(absl::Duration, spread, absl::Seconds(180),
          "due times are spread uniformly over this window");
ABSL_FLAG(int, scanners, 2, "scanner replicas (threads, own connections)");
ABSL_FLAG(int, batch, 500, "clocks claimed per scan transaction");
ABSL_FLAG(int64_t, report_dossiers, 10000000,
          "synthetic dossiers behind the city report");
ABSL_FLAG(bool, firing, true, "run the firing-lag benchmark");
ABSL_FLAG(bool, report, true, "run the city-report benchmark");

namespace lienthong::deadline {
namespace {

constexpr char kDb[] = "lt_bench_deadline";
constexpr char kCity[] = "000.00.00.BENCH";

void Die(absl::string_view what, const absl::Status& s) {
  std::fprintf(stderr, "deadline-bench: %s: %s\n", std::string(what).c_str(),
               s.ToString().c_str());
  std::exit(1);
}

std::unique_ptr<db::Pool> NewPool(const std::string& dsn) {
  db::PoolOptions o;
  o.dsn = dsn;
  o.size = 4;
  return std::make_unique<db::Pool>(o);
}

// Working time == wall time, so due times are "the next minutes".
std::string AroundTheClockCalendar() {
  calendar::CalendarData d;
  d.id = "vn-BENCH";
  d.name = "Lịch đo hiệu năng (làm việc suốt ngày đêm)";
  for (auto& day : d.office_hours) day = {{0, calendar::kMinutesPerDay}};
  return calendar::ToJson(d);
}

double Pct(std::vector<absl::Duration>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  return absl::ToDoubleMilliseconds(v[i]);
}

double MeanEmptyScanMs(DeadlineService& s, int rounds) {
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < rounds; ++i) {
    absl::StatusOr<ScanResult> r = s.RunScanOnce();
    if (!r.ok()) Die("scan", r.status());
  }
  return absl::ToDoubleMilliseconds(absl::Now() - t0) / rounds;
}

void RunFiringBench(const std::string& dsn) {
  common::RealClock& clock = common::RealClock::Get();
  ServiceOptions options;
  options.scan_batch = absl::GetFlag(FLAGS_batch);
  std::unique_ptr<db::Pool> pool = NewPool(dsn);
  PgDeadlineStore store(*pool, clock);
  DeadlineService service(store, clock, EncodeNotice, options);
  absl::StatusOr<CalendarUpdate> cal = service.UpdateCalendar(
      "vn-BENCH", AroundTheClockCalendar(), absl::UnixEpoch(), "bench", "");
  if (!cal.ok()) Die("calendar", cal.status());
  absl::StatusOr<calendar::WorkingCalendar> wc = service.Calendar("vn-BENCH");
  if (!wc.ok()) Die("calendar", wc.status());

  const double empty_ms_0 = MeanEmptyScanMs(service, 50);

  const int n = absl::GetFlag(FLAGS_clocks);
  const absl::Duration spread = absl::GetFlag(FLAGS_spread);
  // Due times start a little after set-up ends.
  const absl::Duration lead = absl::Seconds(20) + absl::Milliseconds(n / 2);
  std::mt19937_64 rng(6);
  std::uniform_int_distribution<int64_t> ms(0,
                                            absl::ToInt64Milliseconds(spread));
  const absl::Time t_setup = absl::Now();
  const absl::Time base = t_setup + lead;
  constexpr int kInsertBatch = 2000;
  for (int done = 0; done < n; done += kInsertBatch) {
    absl::Status s = store.InTransaction([&](DeadlineTx& tx) -> absl::Status {
      for (int i = done; i < std::min(n, done + kInsertBatch); ++i) {
        const int district = i % 30, ward = (i / 30) % 20;
        StartParams p;
        p.dossier_code = absl::StrFormat("BENCH-%07d", i);
        p.name = DossierClockName(p.dossier_code);
        p.agency = {absl::StrFormat("%03d.%02d.00.BENCH", ward + 1, district),
                    Tier::kCommune,
                    {kCity, absl::StrFormat("000.%02d.00.BENCH", district)}};
        p.procedure_code = absl::StrCat("P", i % 40);
        p.calendar_id = "vn-BENCH";
        p.received_at = base - absl::Hours(1);
        p.limit = absl::Hours(1) + absl::Milliseconds(ms(rng));
        absl::StatusOr<Clock> c = service.rules().Start(p, *wc);
        if (!c.ok()) return c.status();
        // Only the overdue transition is measured: due-soon equals it here.
        c->due_soon_fired = true;
        c->next_fire_at = c->due_at;
        absl::Status st = tx.InsertClock(*c);
        if (!st.ok()) return st;
        st = tx.ApplyReportDelta(*c, DeltaOf(nullptr, *c), wc->time_zone());
        if (!st.ok()) return st;
      }
      return absl::OkStatus();
    });
    if (!s.ok()) Die("insert clocks", s);
  }
  const absl::Duration setup = absl::Now() - t_setup;
  if (absl::Now() >= base) {
    std::fprintf(stderr,
                 "deadline-bench: set-up took %s, past the first due "
                 "time; lower --clocks\n",
                 absl::FormatDuration(setup).c_str());
  }
  const double empty_ms_n = MeanEmptyScanMs(service, 50);

  // Scanner replicas, each with its own connections, polling like the
  // service's loop does (it sleeps only when a scan claimed nothing).
  std::mutex mu;
  std::vector<absl::Duration> lags;
  std::atomic<int> fired{0};
  std::vector<double> busy_scan_ms;
  std::vector<std::thread> threads;
  const absl::Time stop_at = base + spread + absl::Seconds(60);
  for (int r = 0; r < absl::GetFlag(FLAGS_scanners); ++r) {
    threads.emplace_back([&] {
      std::unique_ptr<db::Pool> own = NewPool(dsn);
      PgDeadlineStore st(*own, clock);
      DeadlineService replica(st, clock, EncodeNotice, options);
      while (fired.load() < n && absl::Now() < stop_at) {
        const absl::Time t0 = absl::Now();
        absl::StatusOr<ScanResult> res = replica.RunScanOnce();
        if (!res.ok()) Die("scan", res.status());
        const absl::Duration took = absl::Now() - t0;
        if (res->claimed == 0) {
          absl::SleepFor(absl::Milliseconds(50));
          continue;
        }
        fired += res->overdue;
        std::lock_guard<std::mutex> l(mu);
        lags.insert(lags.end(), res->lags.begin(), res->lags.end());
        busy_scan_ms.push_back(absl::ToDoubleMilliseconds(took) /
                               std::max(1, res->claimed));
      }
    });
  }
  for (auto& t : threads) t.join();
  double per_clock_ms = 0;
  for (double v : busy_scan_ms) per_clock_ms += v;
  if (!busy_scan_ms.empty()) per_clock_ms /= busy_scan_ms.size();

  std::printf("\n== deadline: firing lag (due time -> event committed)\n");
  std::printf("clocks %d, due over %s, %d scanner replicas, batch %d\n", n,
              absl::FormatDuration(spread).c_str(),
              absl::GetFlag(FLAGS_scanners), absl::GetFlag(FLAGS_batch));
  std::printf("set-up (insert %d clocks)       %8.1f s\n", n,
              absl::ToDoubleSeconds(setup));
  std::printf("fired                          %8d of %d\n", fired.load(), n);
  std::printf("lag p50                        %8.1f ms\n", Pct(lags, 0.50));
  std::printf(
      "lag p99                        %8.1f ms   (baseline: target "
      "< 1000 ms)\n",
      Pct(lags, 0.99));
  std::printf("lag max                        %8.1f ms\n", Pct(lags, 1.0));
  std::printf("scan cost per fired clock      %8.3f ms\n", per_clock_ms);
  std::printf("empty scan, 0 pending          %8.2f ms   (baseline)\n",
              empty_ms_0);
  std::printf(
      "empty scan, %d pending    %8.2f ms   (should match the "
      "line above: cost follows the number due)\n",
      n, empty_ms_n);
}

void RunReportBench(db::Pool& pool) {
  const int64_t target = absl::GetFlag(FLAGS_report_dossiers);
  // 30 districts x 20 wards, 40 procedures, 365 days; each ward receives 4
  // procedures a day. Counts are set so that the year totals `target`.
  const int64_t cells = 600LL * 365 * 4;
  const double mean = static_cast<double>(target) / cells;
  const absl::Time t0 = absl::Now();
  absl::Status s = db::WithTransaction(pool, [&](pqxx::work& w) {
    w.exec("TRUNCATE deadline.report_daily, deadline.report_open");
    w.exec_params(
        "INSERT INTO deadline.report_daily (scope, via, day, kind, "
        "procedure_code, tier, received, finished_early, finished_on_time, "
        "finished_late) "
        "SELECT a.ward, a.ward, d::date, 1, 'P' || ((a.n + k * 11 + "
        "extract(doy FROM d)::int) % 40), 3, r, (r * 0.3)::bigint, "
        "r - (r * 0.3)::bigint - (r * 0.02)::bigint, (r * 0.02)::bigint "
        "FROM (SELECT n, format('%s.%s.00.BENCH', lpad((n % 20 + 1)::text, 3, "
        "'0'), lpad((n / 20)::text, 2, '0')) AS ward FROM generate_series(0, "
        "599) n) a, generate_series('2025-01-01'::date, '2025-12-31', "
        "'1 day') d, generate_series(0, 3) k, LATERAL (SELECT floor($1::float8 "
        "* 2 * "
        "random() + 0.5)::bigint + 0 * a.n AS r) x",
        mean);
    // Roll up exactly as the store does: district scope (via ward), city
    // scope (via district).
    w.exec(
        "INSERT INTO deadline.report_daily SELECT '000.' || "
        "split_part(scope, '.', 2) || '.00.BENCH', scope, day, kind, "
        "procedure_code, tier, received, finished_early, finished_on_time, "
        "finished_late FROM deadline.report_daily WHERE tier = 3 AND scope = "
        "via");
    w.exec_params(
        "INSERT INTO deadline.report_daily SELECT $1, scope, day, kind, "
        "procedure_code, tier, sum(received), sum(finished_early), "
        "sum(finished_on_time), sum(finished_late) FROM deadline.report_daily "
        "WHERE scope LIKE '000.%.00.BENCH' AND scope <> $1 GROUP BY scope, "
        "day, kind, procedure_code, tier",
        kCity);
    w.exec("ANALYZE deadline.report_daily");
    return absl::OkStatus();
  });
  if (!s.ok()) Die("report data", s);
  const absl::Duration load = absl::Now() - t0;
  int64_t dossiers = 0, rows = 0, city_rows = 0;
  s = db::WithTransaction(pool, [&](pqxx::work& w) {
    dossiers = w.exec_params(
                    "SELECT sum(received) FROM deadline.report_daily "
                    "WHERE scope = $1",
                    kCity)[0][0]
                   .as<int64_t>();
    rows = w.exec("SELECT count(*) FROM deadline.report_daily")[0][0]
               .as<int64_t>();
    city_rows = w.exec_params(
                     "SELECT count(*) FROM deadline.report_daily "
                     "WHERE scope = $1",
                     kCity)[0][0]
                    .as<int64_t>();
    return absl::OkStatus();
  });
  if (!s.ok()) Die("report data", s);

  common::RealClock& clock = common::RealClock::Get();
  PgDeadlineStore store(pool, clock);
  DeadlineService service(store, clock, EncodeNotice);
  std::printf("\n== deadline: city on-time report\n");
  std::printf(
      "synthetic dossiers %lld in %lld counter rows (%lld at city "
      "scope), loaded in %.1f s\n",
      static_cast<long long>(dossiers), static_cast<long long>(rows),
      static_cast<long long>(city_rows), absl::ToDoubleSeconds(load));
  const struct {
    const char* name;
    ReportGroupBy g;
  } groups[] = {{"total", ReportGroupBy::kNone},
                {"by agency", ReportGroupBy::kAgency},
                {"by procedure", ReportGroupBy::kProcedure},
                {"by tier", ReportGroupBy::kTier}};
  for (const auto& g : groups) {
    std::vector<absl::Duration> times;
    for (int i = 0; i < 5; ++i) {
      ReportQuery q{kCity, absl::CivilDay(2025, 1, 1),
                    absl::CivilDay(2025, 12, 31), ClockKind::kDossier, g.g};
      const absl::Time a = absl::Now();
      absl::StatusOr<std::vector<ReportRow>> r = service.Report(q);
      if (!r.ok()) Die("report", r.status());
      times.push_back(absl::Now() - a);
    }
    std::printf(
        "city report, one year, %-13s p50 %7.1f ms, max %7.1f ms "
        "(baseline: target < 1000 ms)\n",
        g.name, Pct(times, 0.5), Pct(times, 1.0));
  }
}

}  // namespace
}  // namespace lienthong::deadline

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::string dsn = absl::GetFlag(FLAGS_db_dsn);
  if (dsn.empty() && std::getenv("LIENTHONG_DB_DSN") != nullptr) {
    dsn = std::getenv("LIENTHONG_DB_DSN");
  }
  if (dsn.empty()) {
    std::fprintf(stderr,
                 "deadline-bench: --db_dsn (or LIENTHONG_DB_DSN) is required, "
                 "e.g. --db_dsn=\"$(tools/pg dsn)\"\n");
    return 2;
  }
  try {
    pqxx::connection conn(dsn);
    pqxx::nontransaction n(conn);
    n.exec(absl::StrCat("DROP DATABASE IF EXISTS ", lienthong::deadline::kDb));
    n.exec(absl::StrCat("CREATE DATABASE ", lienthong::deadline::kDb));
  } catch (const std::exception&) {
    std::fprintf(stderr, "deadline-bench: cannot create database %s\n",
                 lienthong::deadline::kDb);
    return 1;
  }
  // libpq takes the last value of a repeated keyword.
  const std::string bench_dsn =
      absl::StrCat(dsn, " dbname=", lienthong::deadline::kDb);
  std::unique_ptr<lienthong::db::Pool> pool =
      lienthong::deadline::NewPool(bench_dsn);
  absl::Status s = lienthong::db::Migrate(*pool, "deadline",
                                          lienthong::deadline::Migrations());
  if (!s.ok()) lienthong::deadline::Die("migrations", s);
  lienthong::db::WithTransaction(*pool, [](pqxx::work& w) {
    std::printf("PostgreSQL %s, fsync=%s, synchronous_commit=%s\n",
                w.exec("SHOW server_version")[0][0].c_str(),
                w.exec("SHOW fsync")[0][0].c_str(),
                w.exec("SHOW synchronous_commit")[0][0].c_str());
    return absl::OkStatus();
  }).IgnoreError();
  if (absl::GetFlag(FLAGS_firing))
    lienthong::deadline::RunFiringBench(bench_dsn);
  if (absl::GetFlag(FLAGS_report)) lienthong::deadline::RunReportBench(*pool);
  return 0;
}
