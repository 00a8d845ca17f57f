#include <string>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "libs/common/errors.h"
#include "libs/testing/in_process_server.h"
#include "libs/testing/status_matchers.h"
#include "lienthong/common/v1/common.grpc.pb.h"

namespace lienthong::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StatusMatchersTest, MatchStatusAndStatusOr) {
  const absl::Status not_found = absl::NotFoundError("không tìm thấy hồ sơ");
  EXPECT_THAT(not_found, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(not_found, Not(StatusIs(absl::StatusCode::kInternal)));
  EXPECT_THAT(not_found,
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("hồ sơ")));
  EXPECT_THAT(not_found,
              Not(StatusIs(absl::StatusCode::kNotFound, HasSubstr("xyz"))));
  EXPECT_THAT(not_found, Not(IsOk()));
  EXPECT_THAT(absl::OkStatus(), IsOk());

  const absl::StatusOr<int> value = 7;
  const absl::StatusOr<int> error = absl::AbortedError("conflict");
  EXPECT_THAT(value, IsOk());
  EXPECT_THAT(error, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(error, Not(IsOk()));

  const absl::Status domain =
      common::FailedPrecondition("ILLEGAL_TRANSITION", "already returned");
  EXPECT_THAT(domain, StatusHasReason(absl::StatusCode::kFailedPrecondition,
                                      "ILLEGAL_TRANSITION"));
  EXPECT_THAT(domain, Not(StatusHasReason(absl::StatusCode::kFailedPrecondition,
                                          "OTHER")));
}

class Sink final : public lienthong::common::v1::EventSinkService::Service {
 public:
  grpc::Status DeliverEvents(
      grpc::ServerContext*,
      const lienthong::common::v1::DeliverEventsRequest* req,
      lienthong::common::v1::DeliverEventsResponse* resp) override {
    if (req->events_size() == 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no events");
    }
    for (const auto& e : req->events())
      resp->add_applied_event_ids(e.event_id());
    return grpc::Status::OK;
  }
};

TEST(InProcessServerTest, ServesOnALoopbackPortAndStatusesMatch) {
  Sink sink;
  InProcessServer server({&sink});
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(server.address().rfind("127.0.0.1:", 0), 0u);
  auto stub =
      lienthong::common::v1::EventSinkService::NewStub(server.NewChannel());

  lienthong::common::v1::DeliverEventsRequest req;
  lienthong::common::v1::DeliverEventsResponse resp;
  {
    grpc::ClientContext ctx;
    EXPECT_THAT(stub->DeliverEvents(&ctx, req, &resp),
                GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  }
  req.add_events()->set_event_id("4f1c2a8e-0000-4000-8000-000000000001");
  {
    grpc::ClientContext ctx;
    const grpc::Status ok = stub->DeliverEvents(&ctx, req, &resp);
    EXPECT_THAT(ok, GrpcStatusIs(grpc::StatusCode::OK));
    EXPECT_THAT(ok, Not(GrpcStatusIs(grpc::StatusCode::INTERNAL)));
  }
  ASSERT_EQ(resp.applied_event_ids_size(), 1);
}

}  // namespace
}  // namespace lienthong::testing
