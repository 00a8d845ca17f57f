// EventSinkServer over real gRPC on loopback: a delivery of several events
// goes to the batch handler in one call, in order, with each event's
// applied / duplicate answer; a single event and a sink without a batch
// handler go event by event; an error applies nothing.

#include "libs/grpc_util/event_sink.h"

#include <memory>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/wrappers.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/grpc_util/server.h"

namespace lienthong::grpc_util {
namespace {

using lienthong::common::v1::Event;

struct Sink {
  explicit Sink(bool with_batch) {
    EventHandler one = [this](const Event& e) -> absl::StatusOr<bool> {
      singles.push_back(e.event_id());
      return seen.insert(e.event_id()).second;
    };
    EventBatchHandler many = [this](const std::vector<const Event*>& events)
        -> absl::StatusOr<std::vector<bool>> {
      if (fail_batches) return absl::UnavailableError("database away");
      std::vector<std::string> ids;
      std::vector<bool> applied;
      for (const Event* e : events) {
        ids.push_back(e->event_id());
        applied.push_back(seen.insert(e->event_id()).second);
      }
      batches.push_back(ids);
      return applied;
    };
    server = std::make_unique<EventSinkServer>(
        "lienthong.test", one, with_batch ? many : EventBatchHandler(), true);
    ServerOptions opts;
    opts.service_label = "sinktest";
    opts.service_names = {"lienthong.common.v1.EventSinkService"};
    opts.drain_grace = absl::ZeroDuration();
    auto started = Server::Start(opts, {server.get()});
    EXPECT_TRUE(started.ok()) << started.status();
    grpc = *std::move(started);
    client = std::make_unique<EventSinkClient>(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc->port()),
                            grpc::InsecureChannelCredentials()),
        absl::Seconds(5));
  }
  ~Sink() { grpc->Shutdown(); }

  std::set<std::string> seen;
  std::vector<std::string> singles;
  std::vector<std::vector<std::string>> batches;
  bool fail_batches = false;
  std::unique_ptr<EventSinkServer> server;
  std::unique_ptr<Server> grpc;
  std::unique_ptr<EventSinkClient> client;
};

std::string Serialized(const Event& e) { return e.SerializeAsString(); }

Event NewEvent() {
  google::protobuf::StringValue v;
  v.set_value("x");
  return MakeEvent(v, "test", "dossiers/X", absl::UnixEpoch());
}

TEST(EventSinkTest, ABatchHandlerGetsTheWholeDeliveryInOrder) {
  Sink sink(/*with_batch=*/true);
  const Event a = NewEvent(), b = NewEvent(), c = NewEvent();
  ASSERT_TRUE(sink.client->Deliver({Serialized(a), Serialized(b)}).ok());
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_EQ(sink.batches[0],
            (std::vector<std::string>{a.event_id(), b.event_id()}));
  EXPECT_TRUE(sink.singles.empty());
  // Redelivered beside a new one: both in one call again.
  ASSERT_TRUE(sink.client->Deliver({Serialized(b), Serialized(c)}).ok());
  ASSERT_EQ(sink.batches.size(), 2u);
  EXPECT_EQ(sink.seen.size(), 3u);
  // A single event goes to the one-event handler.
  ASSERT_TRUE(sink.client->Deliver({Serialized(NewEvent())}).ok());
  EXPECT_EQ(sink.singles.size(), 1u);
  EXPECT_EQ(sink.batches.size(), 2u);
}

TEST(EventSinkTest, AFailedBatchIsAnErrorForTheWholeDelivery) {
  Sink sink(/*with_batch=*/true);
  sink.fail_batches = true;
  absl::Status s = sink.client->Deliver({Serialized(NewEvent()),
                                         Serialized(NewEvent())});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(sink.seen.empty());
}

TEST(EventSinkTest, WithoutABatchHandlerEventsGoOneByOne) {
  Sink sink(/*with_batch=*/false);
  ASSERT_TRUE(sink.client
                  ->Deliver({Serialized(NewEvent()), Serialized(NewEvent()),
                             Serialized(NewEvent())})
                  .ok());
  EXPECT_EQ(sink.singles.size(), 3u);
  EXPECT_TRUE(sink.batches.empty());
}

TEST(EventSinkTest, AnEventWithoutAUuidIsRefusedBeforeAnyIsApplied) {
  Sink sink(/*with_batch=*/true);
  Event bad = NewEvent();
  bad.set_event_id("not-a-uuid");
  absl::Status s = sink.client->Deliver({Serialized(NewEvent()), Serialized(bad)});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(sink.seen.empty());
}

}  // namespace
}  // namespace lienthong::grpc_util

namespace lienthong::grpc_util {
namespace {

// A payload serialized ahead (as SubmitDossier composes it) makes the same
// envelope as the message would.
TEST(MakeEventTest, FromBytesIsTheSameEnvelopeAsFromTheMessage) {
  google::protobuf::StringValue v;
  v.set_value("Nguyễn Văn An");
  const absl::Time at = absl::FromUnixSeconds(1795399200);
  const common::v1::Event a = MakeEvent(v, "intake", "dossiers/X", at);
  const common::v1::Event b = MakeEventFromBytes(
      "google.protobuf.StringValue", v.SerializeAsString(), "intake",
      "dossiers/X", at);
  EXPECT_EQ(b.type(), a.type());
  EXPECT_EQ(b.payload().type_url(), a.payload().type_url());
  EXPECT_EQ(b.payload().value(), a.payload().value());
  EXPECT_EQ(b.source(), "intake");
  EXPECT_EQ(b.dossier(), "dossiers/X");
  EXPECT_EQ(b.occur_time().seconds(), 1795399200);
  EXPECT_NE(b.event_id(), a.event_id());  // each its own id
  google::protobuf::StringValue out;
  ASSERT_TRUE(PayloadIs(b, &out));
  EXPECT_EQ(out.value(), "Nguyễn Văn An");
}

}  // namespace
}  // namespace lienthong::grpc_util
