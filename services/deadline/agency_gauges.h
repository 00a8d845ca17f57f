#pragma once

// Per-agency gauges for the dashboard and alerts:
//   lienthong_deadline_due_soon{agency}: open clocks in their due-soon
//       window.
//   lienthong_deadline_overdue_clocks{agency}: running clocks past their due time
//       (a clock paused for the citizen's supplement is not the office's
//       to act on, as in ListOverdue), by responsible agency, dossier and
//       leg clocks together. Labelled by agency code only.
//   lienthong_deadline_on_time_ratio{agency,tier}: (early + on time) /
//       finished, over the dossiers finished in the last `window`, for every
//       agency and every ancestor it rolls up to (ward, district, city). An
//       agency that finished none in the window has no series (not 1.0).
// Read from the clocks table and the pre-aggregated report counters.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/db/pool.h"

namespace lienthong::deadline {

absl::Status UpdateAgencyGauges(db::Pool& pool, absl::Time now,
                                absl::Duration window = absl::Hours(24 * 30));

}  // namespace lienthong::deadline
