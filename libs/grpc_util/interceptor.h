#pragma once

// Records lienthong_<svc>_rpc_requests_total{method,code} and
// lienthong_<svc>_rpc_duration_seconds{method,code}, and writes one
// access-log line per call (method, code, duration, peer; never payloads).

#include <memory>
#include <string>

#include "grpcpp/support/server_interceptor.h"

namespace lienthong::grpc_util {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeMetricsInterceptorFactory(const std::string& service_label);

}  // namespace lienthong::grpc_util
