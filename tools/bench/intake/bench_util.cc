#include "tools/bench/intake/bench_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace lienthong::bench {

double Figures::Throughput() const {
  const double s = absl::ToDoubleSeconds(wall);
  return s > 0 ? ok / s : 0;
}

double Figures::BusyFraction(int cores) const {
  const double s = absl::ToDoubleSeconds(wall) * std::max(1, cores);
  return s > 0 ? busy_cpu_seconds / s : 0;
}

Figures Merge(const std::vector<Figures>& runs) {
  Figures all;
  for (const Figures& f : runs) {
    all.ok += f.ok;
    all.failed += f.failed;
    if (all.first_failure.empty()) all.first_failure = f.first_failure;
    all.wall += f.wall;
    all.busy_cpu_seconds += f.busy_cpu_seconds;
    all.steal_cpu_seconds += f.steal_cpu_seconds;
    all.latencies.insert(all.latencies.end(), f.latencies.begin(),
                         f.latencies.end());
    all.trace.insert(all.trace.end(), f.trace.begin(), f.trace.end());
  }
  return all;
}

Figures MergeSteady(const std::vector<Figures>& runs,
                    const std::vector<std::vector<absl::Duration>>& flushes,
                    absl::Duration stall, int* steady, double max_steal,
                    const std::vector<double>& earlier_steal) {
  std::vector<Figures> kept;
  for (size_t i = 0; i < runs.size() && i < flushes.size(); ++i) {
    if (std::none_of(flushes[i].begin(), flushes[i].end(),
                     [&](absl::Duration d) { return d > stall; }) &&
        runs[i].StealFraction() < max_steal &&
        (i >= earlier_steal.size() || earlier_steal[i] < max_steal)) {
      kept.push_back(runs[i]);
    }
  }
  *steady = static_cast<int>(kept.size());
  return Merge(kept);
}

double Figures::PercentileMs(double p) {
  if (latencies.empty()) return 0;
  std::sort(latencies.begin(), latencies.end());
  size_t i = static_cast<size_t>(p * latencies.size());
  if (i > 0 && static_cast<double>(i) == p * latencies.size()) --i;
  return absl::ToDoubleMilliseconds(
      latencies[std::min(i, latencies.size() - 1)]);
}

namespace {

struct CpuTimes {
  double busy = 0;   // seconds
  double steal = 0;  // seconds
};

// The "cpu" line of /proc/stat (zeros where there is none).
CpuTimes ReadCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
         softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >>
      steal;
  if (cpu != "cpu") return {};
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  return {(user + nice + system + irq + softirq) / hz, steal / hz};
}

// Collects the per-thread results into one Figures.
class Collector {
 public:
  void Add(int64_t ok, int64_t failed, const std::string& failure,
           std::vector<absl::Duration>& lat,
           std::vector<std::pair<absl::Time, absl::Duration>> trace = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    f_.trace.insert(f_.trace.end(), trace.begin(), trace.end());
    f_.ok += ok;
    f_.failed += failed;
    if (f_.first_failure.empty()) f_.first_failure = failure;
    f_.latencies.insert(f_.latencies.end(), lat.begin(), lat.end());
  }
  Figures Take(absl::Duration wall) {
    f_.wall = wall;
    std::sort(f_.trace.begin(), f_.trace.end());
    const CpuTimes end = ReadCpu();
    f_.busy_cpu_seconds = end.busy - cpu_.busy;
    f_.steal_cpu_seconds = end.steal - cpu_.steal;
    return std::move(f_);
  }

 private:
  std::mutex mu_;
  Figures f_;
  CpuTimes cpu_ = ReadCpu();
};

// What an asynchronous loop's completions report, and how many of its
// calls are still out.
class AsyncTally {
 public:
  // Counts a call as out; with `limit` > 0, first waits until fewer than
  // `limit` are.
  void Started(int limit = 0) {
    absl::MutexLock lock(&mu_);
    if (limit > 0) {
      struct Below {
        int* n;
        int limit;
      } below{&outstanding_, limit};
      mu_.Await(absl::Condition(
          +[](Below* b) { return *b->n < b->limit; }, &below));
    }
    ++outstanding_;
  }
  // A call ended with `s`, `latency` after `from` (the open loop's
  // scheduled instant, kept in the trace when `trace`).
  void Ended(const absl::Status& s, absl::Time from, absl::Duration latency,
             bool trace) {
    absl::MutexLock lock(&mu_);
    --outstanding_;
    if (s.ok()) {
      ++ok_;
      lat_.push_back(latency);
      if (trace) trace_.emplace_back(from, latency);
    } else {
      ++failed_;
      if (failure_.empty()) failure_ = s.ToString();
    }
  }
  // Waits until no call is out, then adds what they reported to `out`.
  void WaitAndAddTo(Collector& out) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &outstanding_));
    out.Add(ok_, failed_, failure_, lat_, std::move(trace_));
  }

 private:
  absl::Mutex mu_;
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t ok_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  std::string failure_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> lat_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<absl::Time, absl::Duration>> trace_
      ABSL_GUARDED_BY(mu_);
};

Figures RunClosedLoopAsync(int clients, absl::Duration duration,
                           const AsyncOp& op) {
  Collector out;
  // Shared with the completions: the last one may still be unlocking it
  // when this function returns.
  auto tally = std::make_shared<AsyncTally>();
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  // Client c's i-th call; as it ends, the client's next one starts (before
  // this one is counted as ended, so the tally never reads zero between).
  std::function<void(int, int64_t)> issue = [&](int c, int64_t i) {
    const absl::Time t0 = absl::Now();
    tally->Started();
    op(c, i, [&issue, end, tally, c, i, t0](absl::Status s) {
      const absl::Time t1 = absl::Now();
      if (t1 < end) issue(c, i + 1);
      tally->Ended(s, t0, t1 - t0, false);
    });
  };
  for (int c = 0; c < clients; ++c) issue(c, 0);
  tally->WaitAndAddTo(out);
  return out.Take(absl::Now() - start);
}

// At most `clients` calls are out at once, as many as the blocking loop's
// workers: when that many wait, the next starts late (its latency still
// counts from its instant), and a stall does not pile up more calls than
// the server has threads for.
Figures RunOpenLoopAsync(double rate_per_second, int clients,
                         absl::Duration duration, const AsyncOp& op) {
  Collector out;
  auto tally = std::make_shared<AsyncTally>();  // as in RunClosedLoopAsync
  const int64_t total =
      static_cast<int64_t>(rate_per_second * absl::ToDoubleSeconds(duration));
  const absl::Duration gap = absl::Seconds(1) / rate_per_second;
  const absl::Time start = absl::Now() + absl::Milliseconds(50);
  for (int64_t i = 0; i < total; ++i) {
    const absl::Time scheduled = start + gap * i;
    const absl::Time now = absl::Now();
    if (scheduled > now) absl::SleepFor(scheduled - now);
    tally->Started(std::max(1, clients));
    op(static_cast<int>(i % std::max(1, clients)), i,
       [tally, scheduled](absl::Status s) {
         tally->Ended(s, scheduled, absl::Now() - scheduled, true);
       });
  }
  tally->WaitAndAddTo(out);
  return out.Take(absl::Now() - start);
}

}  // namespace

Figures RunClosedLoop(int clients, absl::Duration duration, const Load& load) {
  if (load.async) return RunClosedLoopAsync(clients, duration, load.async);
  const Op& op = load.op;
  Collector out;
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      int64_t ok = 0, failed = 0;
      std::string failure;
      std::vector<absl::Duration> lat;
      for (int64_t i = 0; absl::Now() < end; ++i) {
        const absl::Time t0 = absl::Now();
        absl::Status s = op(c, i);
        if (s.ok()) {
          ++ok;
          lat.push_back(absl::Now() - t0);
        } else {
          ++failed;
          if (failure.empty()) failure = s.ToString();
        }
      }
      out.Add(ok, failed, failure, lat);
    });
  }
  for (auto& t : threads) t.join();
  return out.Take(absl::Now() - start);
}

Figures RunOpenLoop(double rate_per_second, int workers,
                    absl::Duration duration, const Load& load) {
  if (load.async) {
    return RunOpenLoopAsync(rate_per_second, workers, duration, load.async);
  }
  const Op& op = load.op;
  Collector out;
  const int64_t total =
      static_cast<int64_t>(rate_per_second * absl::ToDoubleSeconds(duration));
  const absl::Duration gap = absl::Seconds(1) / rate_per_second;
  std::atomic<int64_t> next{0};
  const absl::Time start = absl::Now() + absl::Milliseconds(50);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      int64_t ok = 0, failed = 0;
      std::string failure;
      std::vector<absl::Duration> lat;
      std::vector<std::pair<absl::Time, absl::Duration>> trace;
      for (int64_t i = next++; i < total; i = next++) {
        const absl::Time scheduled = start + gap * i;
        const absl::Time now = absl::Now();
        if (scheduled > now) absl::SleepFor(scheduled - now);
        absl::Status s = op(w, i);
        if (s.ok()) {
          ++ok;
          lat.push_back(absl::Now() - scheduled);
          trace.emplace_back(scheduled, lat.back());
        } else {
          ++failed;
          if (failure.empty()) failure = s.ToString();
        }
      }
      out.Add(ok, failed, failure, lat, std::move(trace));
    });
  }
  for (auto& t : threads) t.join();
  return out.Take(absl::Now() - start);
}

void PrintRow(const std::string& label, Figures& f) {
  std::printf(
      "%-34s %8.1f /s  p50 %6.2f  p95 %6.2f  p99 %6.2f ms  cpu %.3f ms/req"
      "  busy %.0f %%",
      label.c_str(), f.Throughput(), f.PercentileMs(0.50), f.PercentileMs(0.95),
      f.PercentileMs(0.99), f.CpuMsPerRequest(),
      100 * f.BusyFraction(
                static_cast<int>(std::thread::hardware_concurrency())));
  if (f.failed > 0) {
    std::printf("  (%lld failed: %s)", static_cast<long long>(f.failed),
                f.first_failure.c_str());
  }
  std::printf("\n");
}

bool WriteTrace(const std::string& path, const Figures& f) {
  std::FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) return false;
  std::fprintf(out, "scheduled_utc,latency_ms\n");
  for (const auto& [at, latency] : f.trace) {
    std::fprintf(
        out, "%s,%.3f\n",
        absl::FormatTime("%Y-%m-%d %H:%M:%E3S", at, absl::UTCTimeZone())
            .c_str(),
        absl::ToDoubleMilliseconds(latency));
  }
  return std::fclose(out) == 0;
}

std::vector<absl::Duration> Flatten(
    const std::vector<std::vector<absl::Duration>>& rounds) {
  std::vector<absl::Duration> all;
  for (const auto& r : rounds) all.insert(all.end(), r.begin(), r.end());
  return all;
}

void PrintSteadyTail(const std::string& label, Figures& all,
                     const std::vector<Figures>& rounds,
                     const std::vector<std::vector<absl::Duration>>& flushes,
                     const std::vector<double>& peak_steal, bool probed) {
  std::printf("%-34s %8.2f ms over all %zu rounds", label.c_str(),
              all.PercentileMs(0.99), rounds.size());
  if (!probed) {
    std::printf("\n");
    return;
  }
  constexpr double kMaxSteal = 0.10;
  int steady = 0;
  Figures s = MergeSteady(rounds, flushes, absl::Milliseconds(50), &steady);
  if (steady > 0) {
    std::printf("; %.2f ms over the %d with no disk flush over 50 ms\n",
                s.PercentileMs(0.99), steady);
  } else {
    std::printf("; every round saw a disk flush over 50 ms\n");
  }
  int calm = 0;
  Figures c =
      MergeSteady(rounds, flushes, absl::Milliseconds(50), &calm, kMaxSteal);
  if (calm > 0) {
    std::printf(
        "%-34s %8.2f ms over the %d with no flush over 50 ms and steal "
        "under %.0f %% (in the round and at its peak)\n",
        "", c.PercentileMs(0.99), calm, 100 * kMaxSteal);
  } else {
    std::printf(
        "%-34s every round saw a flush over 50 ms or steal over %.0f "
        "%%\n",
        "", 100 * kMaxSteal);
  }
  // Each round on its own, with what the host did meanwhile.
  std::printf(
      "    by round: p99 ms (slowest disk flush ms, steal %% at its peak / in "
      "it)");
  for (size_t r = 0; r < rounds.size(); ++r) {
    Figures f = rounds[r];
    double slowest = 0;
    if (r < flushes.size()) {
      for (absl::Duration d : flushes[r]) {
        slowest = std::max(slowest, absl::ToDoubleMilliseconds(d));
      }
    }
    std::printf(" %.1f (%.0f, %.0f/%.0f %%)", f.PercentileMs(0.99), slowest,
                r < peak_steal.size() ? 100 * peak_steal[r] : 0.0,
                100 * f.StealFraction());
  }
  std::printf("\n");
}

StorageProbe::StorageProbe(std::string dir)
    : path_(std::move(dir) + "/lienthong-bench-storage-probe") {
  fd_ = ::open(path_.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  if (fd_ < 0) error_ = std::strerror(errno);
}

StorageProbe::~StorageProbe() {
  if (thread_.joinable()) Stop();
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

void StorageProbe::Start() {
  if (fd_ < 0 || thread_.joinable()) return;
  stop_ = false;
  flushes_.clear();
  peak_writeback_mb_ = WritebackMb();
  // Its own thread: while a burst is written the probe's flush is the
  // one waiting, and would sample only after the burst.
  sampler_ = std::thread([this] {
    while (!stop_ && peak_writeback_mb_ >= 0) {
      peak_writeback_mb_ = std::max(peak_writeback_mb_, WritebackMb());
      absl::SleepFor(absl::Milliseconds(20));
    }
  });
  thread_ = std::thread([this] {
    const std::string block(8192, 'w');
    off_t offset = 0;
    while (!stop_) {
      if (::pwrite(fd_, block.data(), block.size(), offset) < 0) return;
      offset = (offset + 8192) % (16 << 20);  // a 16 MB file, rewritten
      const absl::Time t = absl::Now();
      if (::fdatasync(fd_) != 0) return;
      flushes_.push_back(absl::Now() - t);
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
}

std::vector<absl::Duration> StorageProbe::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (sampler_.joinable()) sampler_.join();
  return std::move(flushes_);
}

double WritebackMb() {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (f == nullptr) return -1;
  char line[256];
  double mb = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    long long kb = 0;
    if (std::sscanf(line, "Writeback: %lld kB", &kb) == 1) {
      mb = static_cast<double>(kb) / 1024.0;
      break;
    }
  }
  std::fclose(f);
  return mb;
}

void PrintWriteback(const std::string& label, const std::vector<double>& mb) {
  std::printf("%s", label.c_str());
  for (double x : mb) {
    if (x < 0) {
      std::printf(" ?");
    } else {
      std::printf(" %.1f", x);
    }
  }
  std::printf("\n");
}

void PrintStorage(const std::string& label,
                  std::vector<absl::Duration> flushes) {
  if (flushes.empty()) return;
  const auto stalls = std::count_if(
      flushes.begin(), flushes.end(),
      [](absl::Duration d) { return d > absl::Milliseconds(50); });
  Figures f;  // for its percentiles
  f.latencies = std::move(flushes);
  std::printf(
      "%-34s %8zu flushes  p50 %6.2f  p99 %6.2f  max %7.1f ms  over 50 ms: "
      "%ld\n",
      label.c_str(), f.latencies.size(), f.PercentileMs(0.5),
      f.PercentileMs(0.99), f.PercentileMs(1.0), static_cast<long>(stalls));
}

}  // namespace lienthong::bench
