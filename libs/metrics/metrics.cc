#include "libs/metrics/metrics.h"

#include <exception>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"

namespace lienthong::metrics {
namespace {

std::mutex mu;

template <typename T>
std::map<std::string, prometheus::Family<T>*>& Families() {
  static auto* m = new std::map<std::string, prometheus::Family<T>*>();
  return *m;
}

prometheus::Exposer* exposer = nullptr;
int exposer_port = 0;

}  // namespace

std::shared_ptr<prometheus::Registry> Registry() {
  static auto* registry = new std::shared_ptr<prometheus::Registry>(
      std::make_shared<prometheus::Registry>());
  return *registry;
}

absl::StatusOr<int> StartExposer(int port, absl::string_view bind_address) {
  std::lock_guard<std::mutex> lock(mu);
  if (exposer != nullptr) return exposer_port;
  try {
    exposer = new prometheus::Exposer(absl::StrCat(bind_address, ":", port));
  } catch (const std::exception&) {
    return absl::UnavailableError(absl::StrCat("cannot listen for /metrics on ",
                                               bind_address, ":", port));
  }
  exposer->RegisterCollectable(Registry());
  const auto ports = exposer->GetListeningPorts();
  exposer_port = ports.empty() ? port : ports.front();
  return exposer_port;
}

prometheus::Family<prometheus::Counter>& Counter(absl::string_view name,
                                                 absl::string_view help) {
  std::lock_guard<std::mutex> lock(mu);
  auto& m = Families<prometheus::Counter>();
  auto it = m.find(std::string(name));
  if (it != m.end()) return *it->second;
  auto& f = prometheus::BuildCounter()
                .Name(std::string(name))
                .Help(std::string(help))
                .Register(*Registry());
  m[std::string(name)] = &f;
  return f;
}

prometheus::Family<prometheus::Gauge>& Gauge(absl::string_view name,
                                             absl::string_view help) {
  std::lock_guard<std::mutex> lock(mu);
  auto& m = Families<prometheus::Gauge>();
  auto it = m.find(std::string(name));
  if (it != m.end()) return *it->second;
  auto& f = prometheus::BuildGauge()
                .Name(std::string(name))
                .Help(std::string(help))
                .Register(*Registry());
  m[std::string(name)] = &f;
  return f;
}

prometheus::Family<prometheus::Histogram>& Histogram(absl::string_view name,
                                                     absl::string_view help) {
  std::lock_guard<std::mutex> lock(mu);
  auto& m = Families<prometheus::Histogram>();
  auto it = m.find(std::string(name));
  if (it != m.end()) return *it->second;
  auto& f = prometheus::BuildHistogram()
                .Name(std::string(name))
                .Help(std::string(help))
                .Register(*Registry());
  m[std::string(name)] = &f;
  return f;
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return *b;
}

}  // namespace lienthong::metrics
