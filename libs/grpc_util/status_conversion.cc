#include "libs/grpc_util/status_conversion.h"

#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/common/errors.h"

namespace lienthong::grpc_util {

google::rpc::Status ToRpcStatus(const absl::Status& status,
                                absl::string_view domain) {
  google::rpc::Status proto;
  if (status.ok()) return proto;
  const common::ErrorDetails d = common::GetErrorDetails(status);
  proto.set_code(static_cast<int>(status.code()));
  proto.set_message(std::string(status.message()));
  google::rpc::ErrorInfo info;
  info.set_reason(d.reason.empty()
                      ? std::string(absl::StatusCodeToString(status.code()))
                      : d.reason);
  info.set_domain(d.domain.empty() ? std::string(domain) : d.domain);
  for (const auto& [k, v] : d.metadata) (*info.mutable_metadata())[k] = v;
  proto.add_details()->PackFrom(info);
  if (!d.field_violations.empty()) {
    google::rpc::BadRequest bad;
    for (const common::FieldViolation& v : d.field_violations) {
      auto* fv = bad.add_field_violations();
      fv->set_field(v.field);
      fv->set_description(v.description);
    }
    proto.add_details()->PackFrom(bad);
  }
  if (!d.localized_message.empty()) {
    google::rpc::LocalizedMessage lm;
    lm.set_locale("vi-VN");
    lm.set_message(d.localized_message);
    proto.add_details()->PackFrom(lm);
  }
  return proto;
}

grpc::Status ToGrpcStatus(const absl::Status& status,
                          absl::string_view domain) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()),
                      ToRpcStatus(status, domain).SerializeAsString());
}

absl::Status FromRpcStatus(const google::rpc::Status& proto) {
  if (proto.code() == 0) return absl::OkStatus();
  common::ErrorDetails d;
  for (const google::protobuf::Any& any : proto.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad;
    google::rpc::LocalizedMessage lm;
    if (any.UnpackTo(&info)) {
      d.reason = info.reason();
      d.domain = info.domain();
      for (const auto& [k, v] : info.metadata()) d.metadata[k] = v;
    } else if (any.UnpackTo(&bad)) {
      for (const auto& fv : bad.field_violations()) {
        d.field_violations.push_back({fv.field(), fv.description()});
      }
    } else if (any.UnpackTo(&lm)) {
      d.localized_message = lm.message();
    }
  }
  return common::MakeError(static_cast<absl::StatusCode>(proto.code()),
                           proto.message(), d);
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  google::rpc::Status proto;
  if (status.error_details().empty() ||
      !proto.ParseFromString(status.error_details())) {
    proto.Clear();
  }
  proto.set_code(static_cast<int>(status.error_code()));
  proto.set_message(status.error_message());
  return FromRpcStatus(proto);
}

}  // namespace lienthong::grpc_util
