#include "libs/grpc_util/interceptor.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpcpp/server_context.h"
#include "libs/logging/logging.h"
#include "libs/metrics/metrics.h"

namespace lienthong::grpc_util {
namespace {

using grpc::experimental::InterceptionHookPoints;

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(grpc::experimental::ServerRpcInfo* info,
                     const std::string* label)
      : info_(info), label_(label), start_(absl::Now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      Record(status.error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    const absl::Duration took = absl::Now() - start_;
    // "/lienthong.intake.v1.IntakeService/SubmitDossier" -> "SubmitDossier"
    std::string method = info_->method();
    if (auto pos = method.rfind('/'); pos != std::string::npos) {
      method = method.substr(pos + 1);
    }
    const char* code_name = CodeName(code);
    metrics::Counter(absl::StrCat("lienthong_", *label_, "_rpc_requests_total"),
                     "RPCs handled, by method and status code.")
        .Add({{"method", method}, {"code", code_name}})
        .Increment();
    metrics::Histogram(
        absl::StrCat("lienthong_", *label_, "_rpc_duration_seconds"),
        "RPC latency, by method and status code.")
        .Add({{"method", method}, {"code", code_name}},
             metrics::LatencyBuckets())
        .Observe(absl::ToDoubleSeconds(took));
    std::string peer;
    if (info_->server_context() != nullptr) {
      peer = info_->server_context()->peer();
    }
    logging::Event("rpc")
        .With("method", method)
        .With("code", code_name)
        .With("duration", took)
        .With("peer", peer)
        .Info();
  }

  grpc::experimental::ServerRpcInfo* info_;
  const std::string* label_;
  absl::Time start_;
};

class Factory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(std::string label) : label_(std::move(label)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(info, &label_);
  }

 private:
  std::string label_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeMetricsInterceptorFactory(const std::string& service_label) {
  return std::make_unique<Factory>(service_label);
}

}  // namespace lienthong::grpc_util
