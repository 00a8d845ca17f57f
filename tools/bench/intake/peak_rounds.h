#pragma once

// Two ways of doing the same work, a baseline and the system under test,
// each measured at its peak: closed loops at each of several client counts,
// in alternating rounds. Sixteen clients may saturate one side and leave
// the other idle (the intake service's batches wait on each other's
// counter rows), so each side's peak is its best count; and this host's
// speed drifts within minutes, so the sides alternate in every round, odd
// rounds in the reverse order (baseline at 16, service at 16, baseline at
// 32, service at 32; then service at 32 …): drift in one direction
// favours neither side.

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "tools/bench/intake/bench_util.h"

namespace lienthong::bench {

// The jobs and batches the system under test has run so far (cumulative);
// each count gets the share run while it was measured.
using BatchCounter = std::function<std::pair<long, long>()>;

struct PeakRounds {
  std::vector<int> counts;
  // [count][round]
  std::vector<std::vector<Figures>> baseline, service;
  std::vector<double> baseline_rate, service_rate;  // per count, all rounds
  std::vector<long> jobs, batches;                  // the service's, per count
  size_t best_baseline = 0, best_service = 0;       // index into counts

  double JobsPerBatch(size_t k) const {
    return batches[k] > 0
               ? static_cast<double>(jobs[k]) / static_cast<double>(batches[k])
               : 0.0;
  }
  // Each round's service / baseline throughput, each side at its best.
  std::vector<double> RoundRatios() const;
};

PeakRounds RunPeakRounds(const std::vector<int>& counts, int rounds,
                         absl::Duration slice, const Load& baseline,
                         const Load& service, const BatchCounter& batches);

}  // namespace lienthong::bench
