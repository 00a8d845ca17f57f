#include "services/deadline/scanner.h"

#include <algorithm>
#include <utility>

#include "libs/common/status_macros.h"

namespace lienthong::deadline {

Scanner::Scanner(DeadlineService& service, ScannerOptions options,
                 std::function<void(const ScanResult&)> observe,
                 std::function<void(const absl::Status&)> on_error,
                 ActivationErrorFn on_activation_error)
    : service_(service),
      options_(options),
      observe_(std::move(observe)),
      on_error_(std::move(on_error)),
      on_activation_error_(std::move(on_activation_error)) {}

absl::StatusOr<ScanResult> Scanner::RunOnce() {
  ScanResult total;
  absl::StatusOr<CalendarActivation> activation =
      service_.ActivateDueCalendars();
  if (on_activation_error_) {
    if (!activation.ok()) {
      on_activation_error_("", activation.status());
    } else {
      for (const CalendarActivation::Failure& f : activation->failed) {
        on_activation_error_(f.calendar_id, f.status);
      }
    }
  }
  for (int i = 0; i < options_.max_batches_per_pass; ++i) {
    LT_ASSIGN_OR_RETURN(ScanResult r, service_.RunScanOnce());
    if (observe_) observe_(r);
    total.claimed += r.claimed;
    total.due_soon += r.due_soon;
    total.overdue += r.overdue;
    total.overdue_legs += r.overdue_legs;
    total.lags.insert(total.lags.end(), r.lags.begin(), r.lags.end());
    if (r.claimed < service_.options().scan_batch) break;
  }
  return total;
}

void Scanner::Start() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void Scanner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Scanner::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void Scanner::Loop() {
  absl::Duration backoff = options_.error_backoff;
  while (true) {
    absl::Duration wait = options_.idle_wait;
    absl::StatusOr<ScanResult> r = RunOnce();
    if (!r.ok()) {
      if (on_error_) on_error_(r.status());
      wait = backoff;
      backoff = std::min(backoff * 2, options_.max_error_backoff);
    } else {
      backoff = options_.error_backoff;
      // A full pass means more may be due right now: go again at once.
      if (r->claimed >=
          options_.max_batches_per_pass * service_.options().scan_batch) {
        wait = absl::ZeroDuration();
      }
    }
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return stopping_ || woken_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace lienthong::deadline
