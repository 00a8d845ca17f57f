#pragma once

// The loop around DeadlineService::RunScanOnce. Any number of replicas run
// one each: claims use FOR UPDATE SKIP LOCKED, so they share the due clocks.
// Tests call RunOnce() with a FakeClock; only the production loop waits, and
// it waits on a condition variable that Stop() and Wake() signal.

#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/deadline/deadline_service.h"

namespace lienthong::deadline {

struct ScannerOptions {
  // Pause between passes when nothing was due. Due times are known in
  // advance, so this bounds the firing lag of an idle system.
  absl::Duration idle_wait = absl::Milliseconds(200);
  // Pause after a failed pass (database away), doubling up to the max.
  absl::Duration error_backoff = absl::Milliseconds(500);
  absl::Duration max_error_backoff = absl::Seconds(10);
  // A pass drains at most this many batches before yielding.
  int max_batches_per_pass = 20;
};

// A calendar version that could not be activated: `calendar_id` is empty
// when the pending versions could not even be read.
using ActivationErrorFn =
    std::function<void(const std::string& calendar_id, const absl::Status&)>;

class Scanner {
 public:
  // `observe` sees every batch's result (metrics); `on_error` every failure
  // of the background loop's passes; `on_activation_error` every calendar
  // that failed to activate (log and metric: the pass goes on without it).
  Scanner(DeadlineService& service, ScannerOptions options,
          std::function<void(const ScanResult&)> observe = nullptr,
          std::function<void(const absl::Status&)> on_error = nullptr,
          ActivationErrorFn on_activation_error = nullptr);
  ~Scanner() { Stop(); }

  // One pass: activating calendar versions that became effective, then
  // batches until one comes back short of a full batch (or the pass limit).
  // A calendar that fails to activate is reported to on_activation_error
  // and stays pending; the scan runs regardless, since overdue detection
  // must not wait for a calendar an administrator has to repair.
  absl::StatusOr<ScanResult> RunOnce();

  void Start();
  void Stop();
  void Wake();

 private:
  void Loop();

  DeadlineService& service_;
  const ScannerOptions options_;
  std::function<void(const ScanResult&)> observe_;
  std::function<void(const absl::Status&)> on_error_;
  ActivationErrorFn on_activation_error_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace lienthong::deadline
