#include "libs/grpc_util/event_sink.h"

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/uuid.h"
#include "libs/grpc_util/auth.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/status_conversion.h"

namespace lienthong::grpc_util {

grpc::Status EventSinkServer::DeliverEvents(
    grpc::ServerContext* ctx,
    const lienthong::common::v1::DeliverEventsRequest* req,
    lienthong::common::v1::DeliverEventsResponse* resp) {
  absl::StatusOr<Caller> caller = CallerOf(*ctx, insecure_dev_auth_);
  if (!caller.ok()) return ToGrpcStatus(caller.status(), domain_);
  if (caller->role != Role::kService) {
    return ToGrpcStatus(
        common::PermissionDenied(
            "NOT_A_SERVICE", "only lienthong services may deliver events",
            {{"role", std::string(RoleName(caller->role))}}),
        domain_);
  }
  for (int i = 0; i < req->events_size(); ++i) {
    if (!common::IsUuid(req->events(i).event_id())) {
      return ToGrpcStatus(
          common::InvalidArgument(
              "BAD_EVENT_ID",
              {{absl::StrCat("events[", i, "].event_id"), "must be a UUID"}}),
          domain_);
    }
  }
  if (batch_handler_ && req->events_size() > 1) {
    std::vector<const lienthong::common::v1::Event*> events;
    for (const auto& e : req->events()) events.push_back(&e);
    absl::StatusOr<std::vector<bool>> applied = batch_handler_(events);
    if (!applied.ok()) return ToGrpcStatus(applied.status(), domain_);
    if (applied->size() != events.size()) {
      return ToGrpcStatus(
          absl::InternalError("batch handler answered for a different number "
                              "of events"),
          domain_);
    }
    for (size_t i = 0; i < events.size(); ++i) {
      if ((*applied)[i]) {
        resp->add_applied_event_ids(events[i]->event_id());
      } else {
        resp->add_duplicate_event_ids(events[i]->event_id());
      }
    }
    return grpc::Status::OK;
  }
  for (int i = 0; i < req->events_size(); ++i) {
    const auto& e = req->events(i);
    absl::StatusOr<bool> applied = handler_(e);
    if (!applied.ok()) return ToGrpcStatus(applied.status(), domain_);
    if (*applied) {
      resp->add_applied_event_ids(e.event_id());
    } else {
      resp->add_duplicate_event_ids(e.event_id());
    }
  }
  return grpc::Status::OK;
}

EventSinkClient::EventSinkClient(std::shared_ptr<grpc::Channel> channel,
                                 absl::Duration deadline)
    : stub_(lienthong::common::v1::EventSinkService::NewStub(channel)),
      deadline_(deadline) {}

absl::Status EventSinkClient::Deliver(
    const std::vector<std::string>& serialized_events) {
  lienthong::common::v1::DeliverEventsRequest req;
  for (const std::string& bytes : serialized_events) {
    if (!req.add_events()->ParseFromString(bytes)) {
      return absl::DataLossError("outbox payload is not an Event");
    }
  }
  lienthong::common::v1::DeliverEventsResponse resp;
  grpc::ClientContext ctx;
  PrepareContext(ctx, deadline_, "service", "", "relay");
  return FromGrpcStatus(stub_->DeliverEvents(&ctx, req, &resp));
}

namespace {

lienthong::common::v1::Event Envelope(const std::string& type,
                                      const std::string& source,
                                      const std::string& dossier,
                                      absl::Time occur_time) {
  lienthong::common::v1::Event e;
  e.set_event_id(common::NewUuid());
  e.set_type(type);
  const int64_t ns = absl::ToUnixNanos(occur_time);
  e.mutable_occur_time()->set_seconds(ns / 1000000000);
  e.mutable_occur_time()->set_nanos(static_cast<int32_t>(ns % 1000000000));
  e.set_source(source);
  e.set_dossier(dossier);
  return e;
}

}  // namespace

lienthong::common::v1::Event MakeEvent(const google::protobuf::Message& payload,
                                       const std::string& source,
                                       const std::string& dossier,
                                       absl::Time occur_time) {
  lienthong::common::v1::Event e = Envelope(
      payload.GetDescriptor()->full_name(), source, dossier, occur_time);
  e.mutable_payload()->PackFrom(payload);
  return e;
}

lienthong::common::v1::Event MakeEventFromBytes(const std::string& type,
                                                std::string payload,
                                                const std::string& source,
                                                const std::string& dossier,
                                                absl::Time occur_time) {
  lienthong::common::v1::Event e = Envelope(type, source, dossier, occur_time);
  // As Any::PackFrom writes it.
  e.mutable_payload()->set_type_url(
      absl::StrCat("type.googleapis.com/", type));
  e.mutable_payload()->set_value(std::move(payload));
  return e;
}

}  // namespace lienthong::grpc_util
