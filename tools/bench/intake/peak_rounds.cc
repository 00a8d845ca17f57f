#include "tools/bench/intake/peak_rounds.h"

namespace lienthong::bench {

std::vector<double> PeakRounds::RoundRatios() const {
  std::vector<double> out;
  const std::vector<Figures>& b = baseline[best_baseline];
  const std::vector<Figures>& s = service[best_service];
  for (size_t r = 0; r < b.size() && r < s.size(); ++r) {
    const double base = b[r].Throughput();
    out.push_back(base > 0 ? s[r].Throughput() / base : 0.0);
  }
  return out;
}

PeakRounds RunPeakRounds(const std::vector<int>& counts, int rounds,
                         absl::Duration slice, const Load& baseline,
                         const Load& service, const BatchCounter& batches) {
  const size_t n = counts.size();
  PeakRounds p;
  p.counts = counts;
  p.baseline.resize(n);
  p.service.resize(n);
  p.jobs.assign(n, 0);
  p.batches.assign(n, 0);
  const auto run_baseline = [&](size_t k) {
    p.baseline[k].push_back(RunClosedLoop(counts[k], slice, baseline));
  };
  const auto run_service = [&](size_t k) {
    const auto [jobs_before, batches_before] = batches();
    p.service[k].push_back(RunClosedLoop(counts[k], slice, service));
    const auto [jobs_after, batches_after] = batches();
    p.jobs[k] += jobs_after - jobs_before;
    p.batches[k] += batches_after - batches_before;
  };
  for (int r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < n; ++i) {
      if (r % 2 == 0) {
        run_baseline(i);
        run_service(i);
      } else {
        run_service(n - 1 - i);
        run_baseline(n - 1 - i);
      }
    }
  }
  for (size_t k = 0; k < n; ++k) {
    p.baseline_rate.push_back(Merge(p.baseline[k]).Throughput());
    p.service_rate.push_back(Merge(p.service[k]).Throughput());
    if (p.baseline_rate[k] > p.baseline_rate[p.best_baseline]) {
      p.best_baseline = k;
    }
    if (p.service_rate[k] > p.service_rate[p.best_service]) {
      p.best_service = k;
    }
  }
  return p;
}

}  // namespace lienthong::bench
