#pragma once

// Load generation for tools/bench intake mode: a closed loop (N clients,
// each starting its next request when the last one answered: peak
// throughput) and an open loop (requests scheduled at a fixed rate; latency
// counted from the scheduled instant, so a stall is not hidden by the
// clients waiting on it).

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace lienthong::bench {

// One request of client `client` (its `i`-th); OK or the failure.
using Op = std::function<absl::Status(int client, int64_t i)>;

struct Figures {
  int64_t ok = 0;
  int64_t failed = 0;
  std::string first_failure;
  absl::Duration wall;
  std::vector<absl::Duration> latencies;  // of successful requests
  // CPU time the whole machine spent working during the run (all cores,
  // from /proc/stat: user, nice, system, irq, softirq; not idle, I/O wait
  // or steal). On a shared host whose speed drifts, CPU per request is
  // steadier than requests per second.
  double busy_cpu_seconds = 0;
  double steal_cpu_seconds = 0;
  double CpuMsPerRequest() const {
    return ok > 0 ? busy_cpu_seconds * 1e3 / static_cast<double>(ok) : 0;
  }

  double Throughput() const;      // successful requests per second
  double PercentileMs(double p);  // 0 < p <= 1; sorts `latencies`
};

// Several runs as one: their requests, failures, latencies and wall time
// added up.
Figures Merge(const std::vector<Figures>& runs);

Figures RunClosedLoop(int clients, absl::Duration duration, const Op& op);
Figures RunOpenLoop(double rate_per_second, int workers,
                    absl::Duration duration, const Op& op);

// "  <label>  throughput  p50  p95  p99" on one line.
void PrintRow(const std::string& label, Figures& f);

}  // namespace lienthong::bench
