#pragma once

// One Prometheus registry per process and the HTTP `/metrics` exposer on
// --metrics_port. Names follow `lienthong_<svc>_<thing>_<unit>`; labels come
// from small fixed sets (method, code, tier, channel, state, agency code),
// never a citizen or dossier id.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace lienthong::metrics {

// The process-wide registry.
std::shared_ptr<prometheus::Registry> Registry();

// Starts serving `/metrics` on `bind_address:port` (port 0 picks a free
// one). Returns the bound port. Only one exposer per process; a second call
// returns the first port.
absl::StatusOr<int> StartExposer(int port,
                                 absl::string_view bind_address = "0.0.0.0");

// Family lookups; registering the same name again returns the same family.
prometheus::Family<prometheus::Counter>& Counter(absl::string_view name,
                                                 absl::string_view help);
prometheus::Family<prometheus::Gauge>& Gauge(absl::string_view name,
                                             absl::string_view help);
prometheus::Family<prometheus::Histogram>& Histogram(absl::string_view name,
                                                     absl::string_view help);

// Latency buckets for RPCs and database calls, in seconds.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

}  // namespace lienthong::metrics
