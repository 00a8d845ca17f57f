#pragma once

// Load generation for tools/bench intake mode: a closed loop (N clients,
// each starting its next request when the last one answered: peak
// throughput) and an open loop (requests scheduled at a fixed rate; latency
// counted from the scheduled instant, so a stall is not hidden by the
// clients waiting on it).

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace lienthong::bench {

// One request of client `client` (its `i`-th); OK or the failure.
using Op = std::function<absl::Status(int client, int64_t i)>;

// The same, asynchronous: starts the request and returns; `done` is called
// once, on a completion thread of the op's own, with the outcome.
using Done = std::function<void(absl::Status)>;
using AsyncOp = std::function<void(int client, int64_t i, Done done)>;

// How a side's requests are made. Blocking (`op`): a thread per client in
// the closed loop and per worker in the open loop, each waiting on its own
// call. Asynchronous (`async`, when set): the closed loop keeps `clients`
// calls outstanding, each started as the one before it ends; the open loop
// starts each call at its instant from one pacing thread. A call then costs
// its completion, not a thread's sleep and wake-up: on this 2-core host the
// open loop's 64 blocking workers took 0.145 ms of CPU a call at 1,800 /s,
// more than a sixth of what the machine spent on a submission.
struct Load {
  Load(Op blocking) : op(std::move(blocking)) {}  // NOLINT: implicit
  static Load Async(AsyncOp a) {
    Load l(Op{});
    l.async = std::move(a);
    return l;
  }
  Op op;
  AsyncOp async;
};

struct Figures {
  int64_t ok = 0;
  int64_t failed = 0;
  std::string first_failure;
  absl::Duration wall;
  std::vector<absl::Duration> latencies;  // of successful requests
  // Open loop only: each successful request's scheduled instant beside its
  // latency, in the order they were scheduled.
  std::vector<std::pair<absl::Time, absl::Duration>> trace;
  // CPU time the whole machine spent working during the run (all cores,
  // from /proc/stat: user, nice, system, irq, softirq; not idle, I/O wait
  // or steal). On a shared host whose speed drifts, CPU per request is
  // steadier than requests per second.
  double busy_cpu_seconds = 0;
  double steal_cpu_seconds = 0;
  double CpuMsPerRequest() const {
    return ok > 0 ? busy_cpu_seconds * 1e3 / static_cast<double>(ok) : 0;
  }
  // How busy the machine's cores were over the run, 0 to 1. With group
  // commit a call costs more CPU at moderate load (smaller batches) than
  // at peak, so 60 % of the peak rate is more than 60 % of the cores.
  double BusyFraction(int cores) const;
  // Of the CPU the machine asked for (busy and stolen), the share the
  // hypervisor gave to others, 0 to 1.
  double StealFraction() const {
    const double asked = busy_cpu_seconds + steal_cpu_seconds;
    return asked > 0 ? steal_cpu_seconds / asked : 0;
  }

  double Throughput() const;      // successful requests per second
  double PercentileMs(double p);  // 0 < p <= 1; sorts `latencies`
};

// Several runs as one: their requests, failures, latencies and wall time
// added up.
Figures Merge(const std::vector<Figures>& runs);

// The runs whose storage probe (flushes[i] beside runs[i]) saw no flush
// over `stall`, and whose steal (the share of the CPU they asked for that
// the hypervisor gave to others) was under `max_steal`, merged; *steady
// says how many there were.
// `earlier_steal[i]`, when given, is the steal of what set run i's rate
// (the peak measured before it): a run counts only if both were under.
Figures MergeSteady(const std::vector<Figures>& runs,
                    const std::vector<std::vector<absl::Duration>>& flushes,
                    absl::Duration stall, int* steady, double max_steal = 1.0,
                    const std::vector<double>& earlier_steal = {});

Figures RunClosedLoop(int clients, absl::Duration duration, const Load& load);
// `workers`: blocking workers, or for an asynchronous load the most calls
// out at once (the requests spread over as many clients as the workers
// spread them).
Figures RunOpenLoop(double rate_per_second, int workers,
                    absl::Duration duration, const Load& load);

// "  <label>  throughput  p50  p95  p99  cpu per call  cores busy" on one
// line.
void PrintRow(const std::string& label, Figures& f);

// What the disk does meanwhile: a thread that writes 8 kB and fdatasync()s
// it every 5 ms in a file of its own in `dir` (beside PostgreSQL's data, on
// the same device), as a commit's WAL flush does. A durable commit cannot
// return before its flush, so a stall of the device shows in every
// latency measured while it lasts, whatever the code above it.
class StorageProbe {
 public:
  explicit StorageProbe(std::string dir);
  ~StorageProbe();
  bool ok() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  void Start();
  // Stops and returns the flush latencies since Start.
  std::vector<absl::Duration> Stop();
  // The most the kernel had in write-back (`Writeback:` of /proc/meminfo,
  // sampled every 20 ms) between Start and Stop, in MB; -1 when it could
  // not be read. The kernel writes a file's dirty pages together once the
  // oldest are 30 s old (vm.dirty_expire_centisecs): PostgreSQL's
  // relation extension leaves hundreds of MB of them, and a WAL flush
  // queued behind that write stalls every commit (docs/performance.md,
  // fifteenth round).
  double PeakWritebackMb() const { return peak_writeback_mb_; }

 private:
  std::string path_, error_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_, sampler_;
  std::vector<absl::Duration> flushes_;
  double peak_writeback_mb_ = -1;  // written by sampler_ until Stop
};

// /proc/meminfo's `Writeback:` in MB, or -1 when it cannot be read.
double WritebackMb();

// "<label> 0.1 0.3 158.9 0.2" (MB, one per round; "?" where unread).
void PrintWriteback(const std::string& label, const std::vector<double>& mb);

// Writes `f.trace` as CSV: when each request was scheduled (UTC) and its
// latency (ms). False when `path` cannot be opened.
bool WriteTrace(const std::string& path, const Figures& f);

// Every round's flushes in one list.
std::vector<absl::Duration> Flatten(
    const std::vector<std::vector<absl::Duration>>& rounds);

// "<label>  X ms over all N rounds; Y ms over the K with no disk flush over
// 50 ms" (the second part only when `probed`), then the same over the
// rounds with no such flush and under 10 % steal, then each round's p99
// beside its slowest flush and its steal. A durable commit waits for its
// WAL flush, so while the device stalls every commit waits, whatever the
// code above it; and a round's rate is set from the peak measured before
// it, so a round in which the hypervisor takes a third of the CPU runs at
// nearer 90 % of what the machine then has than at 60 %. The later figures
// are the software's tail on a host that answers. `all` is `rounds`
// merged; `flushes[i]` is rounds[i]'s; `peak_steal[i]` the steal while the
// peak that set rounds[i]'s rate was measured.
void PrintSteadyTail(const std::string& label, Figures& all,
                     const std::vector<Figures>& rounds,
                     const std::vector<std::vector<absl::Duration>>& flushes,
                     const std::vector<double>& peak_steal, bool probed);

// "storage: N flushes, p50, p99, max, over 50 ms: K" for `flushes`.
void PrintStorage(const std::string& label,
                  std::vector<absl::Duration> flushes);

}  // namespace lienthong::bench
