#pragma once

// Both ends of lienthong.common.v1.EventSinkService: the server side every
// consuming service registers, and the client the outbox relays call.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "lienthong/common/v1/common.grpc.pb.h"

namespace lienthong::grpc_util {

// Applies one event; true when applied now, false when it had been applied
// before (the handler records event ids in its inbox in the same transaction
// as the effect).
using EventHandler =
    std::function<absl::StatusOr<bool>(const lienthong::common::v1::Event&)>;

// Applies a delivered batch of events together (one transaction), in
// order; per event, as EventHandler: true applied now, false applied
// before. An error applies none of them (the relay then retries, or
// delivers the events one by one).
using EventBatchHandler = std::function<absl::StatusOr<std::vector<bool>>(
    const std::vector<const lienthong::common::v1::Event*>&)>;

class EventSinkServer final
    : public lienthong::common::v1::EventSinkService::Service {
 public:
  EventSinkServer(std::string domain, EventHandler handler,
                  bool insecure_dev_auth)
      : domain_(std::move(domain)),
        handler_(std::move(handler)),
        insecure_dev_auth_(insecure_dev_auth) {}
  // With a batch handler, a delivery of several events is applied in one
  // call of it (a single event still goes to `handler`).
  EventSinkServer(std::string domain, EventHandler handler,
                  EventBatchHandler batch_handler, bool insecure_dev_auth)
      : domain_(std::move(domain)),
        handler_(std::move(handler)),
        batch_handler_(std::move(batch_handler)),
        insecure_dev_auth_(insecure_dev_auth) {}

  grpc::Status DeliverEvents(
      grpc::ServerContext* ctx,
      const lienthong::common::v1::DeliverEventsRequest* req,
      lienthong::common::v1::DeliverEventsResponse* resp) override;

 private:
  std::string domain_;
  EventHandler handler_;
  EventBatchHandler batch_handler_;
  bool insecure_dev_auth_;
};

// Delivers serialized lienthong.common.v1.Event messages (as stored in an
// outbox) to a peer's EventSinkService in one call.
class EventSinkClient {
 public:
  EventSinkClient(std::shared_ptr<grpc::Channel> channel,
                  absl::Duration deadline);
  absl::Status Deliver(const std::vector<std::string>& serialized_events);

 private:
  std::unique_ptr<lienthong::common::v1::EventSinkService::Stub> stub_;
  absl::Duration deadline_;
};

// Wraps a payload into the envelope with a fresh event id.
lienthong::common::v1::Event MakeEvent(const google::protobuf::Message& payload,
                                       const std::string& source,
                                       const std::string& dossier,
                                       absl::Time occur_time);

// The same from a payload already serialized: `type` is the message's full
// name and `payload` its bytes (SubmitDossier composes them on the wire).
lienthong::common::v1::Event MakeEventFromBytes(const std::string& type,
                                                std::string payload,
                                                const std::string& source,
                                                const std::string& dossier,
                                                absl::Time occur_time);

// Unpacks the payload when it is of type T.
template <typename T>
bool PayloadIs(const lienthong::common::v1::Event& e, T* out) {
  return e.payload().UnpackTo(out);
}

}  // namespace lienthong::grpc_util
