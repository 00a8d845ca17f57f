#pragma once

// A service's background loop (audit sealing, calendar refresh, …): runs
// `run_once`, then again every `interval`, until `stop` is notified. With
// `wake`, also at once when a wake-up arrives on its channel (another
// replica's or another service's NotifyAfterCommit): the timer still runs,
// so a wake-up lost costs time, never a run.

#include <functional>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/db/wake_listener.h"

namespace lienthong::runtime {

// A run that fails (`run_once` returns false) is tried again after
// `retry`, doubling with each failure in a row up to `interval`, instead
// of a whole `interval` later (a peer not up yet when the service starts);
// a loop whose runs do not fail passes `interval` as `retry`.
void RunLoop(const std::function<bool()>& run_once, absl::Duration interval,
             absl::Duration retry, db::WakeListener* wake,
             const absl::Notification& stop);

}  // namespace lienthong::runtime
