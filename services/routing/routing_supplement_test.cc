// Intake's events arriving in an order the dossier did not live them, over
// gRPC and a real PostgreSQL: the citizen's supplement answers the legs'
// requests made before it, not one made while it was on its way, and never
// reopens a route that ended; a withdrawal that overtook its dossier's
// receipt leaves nothing to plan. And a burst of refused calls is audited
// without starving the pool, and an emptied queue's gauge shows 0.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/metrics/metrics.h"
#include "lienthong/intake/v1/events.pb.h"
#include "services/routing/routing_test_fixture.h"

namespace lienthong::routing {
namespace {

class RoutingSupplementTest : public RoutingIntegrationTest {
 protected:
  grpc::Status AskSupplement(const std::string& task, const std::string& agency,
                             const std::string& item) {
    grpc::ClientContext ctx;
    As(ctx, agency);
    v1::RequestSupplementRequest req;
    req.set_name(task);
    req.set_reason("Hồ sơ còn thiếu giấy tờ");
    req.add_missing_items(item);
    v1::RequestSupplementResponse resp;
    return stub_->RequestSupplement(&ctx, req, &resp);
  }
  // The citizen's supplement as intake records it, given now.
  intake::v1::DossierSupplemented Supplemented(const std::string& dossier) {
    intake::v1::DossierSupplemented s;
    s.set_dossier(dossier);
    grpc_util::ToProto(clock_.Now(), s.mutable_supplement_time());
    return s;
  }
  // Both parallel legs of the joint birth registration, claimed.
  void ClaimBothLegs(const std::string& dossier, std::string* police,
                     std::string* insurance) {
    ASSERT_TRUE(Deliver(Received(dossier.substr(9)), dossier));
    FinishCivil(dossier);
    const v1::Route r = Route(dossier);
    *police = Leg(r, "residency").name();
    *insurance = Leg(r, "health_insurance").name();
    // Leases as long as they may be (1 hour): the steps below stay in them.
    ASSERT_TRUE(Claim(*police, "W-CA", nullptr, absl::Hours(1)).ok());
    ASSERT_TRUE(Claim(*insurance, "D-SI", nullptr, absl::Hours(1)).ok());
  }
};

TEST_F(RoutingSupplementTest, ASupplementAnswersTheRequestsMadeBeforeIt) {
  const std::string dossier = "dossiers/S-0001";
  std::string police, insurance;
  ClaimBothLegs(dossier, &police, &insurance);
  ASSERT_TRUE(AskSupplement(police, "W-CA", "Sổ hộ khẩu").ok());
  // The citizen brings what the police asked for; the event is on its way
  // when, half an hour later, social insurance asks for something else.
  clock_.Advance(absl::Minutes(20));
  const intake::v1::DossierSupplemented first = Supplemented(dossier);
  clock_.Advance(absl::Minutes(30));
  ASSERT_TRUE(AskSupplement(insurance, "D-SI", "Ảnh thẻ của mẹ").ok());
  ASSERT_TRUE(Deliver(first, dossier));
  v1::Route r = Route(dossier);
  EXPECT_EQ(Leg(r, "residency").state(), v1::TASK_STATE_READY);
  EXPECT_EQ(Leg(r, "health_insurance").state(),
            v1::TASK_STATE_SUPPLEMENT_REQUESTED);
  EXPECT_EQ(r.state(), v1::ROUTE_STATE_PAUSED);
  // Intake asks the citizen again; the second supplement answers it.
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(Deliver(Supplemented(dossier), dossier));
  r = Route(dossier);
  EXPECT_EQ(Leg(r, "health_insurance").state(), v1::TASK_STATE_READY);
  EXPECT_EQ(r.state(), v1::ROUTE_STATE_ACTIVE);

  ASSERT_TRUE(Claim(police, "W-CA").ok());
  ASSERT_TRUE(Claim(insurance, "D-SI").ok());
  ASSERT_TRUE(
      Complete(police, "W-CA", {{"residence_confirmation_number", "01/2026"}})
          .ok());
  ASSERT_TRUE(
      Complete(insurance, "D-SI", {{"health_insurance_card_number", "TE1"}})
          .ok());
  ASSERT_EQ(Route(dossier).state(), v1::ROUTE_STATE_DONE);
  // A late supplement never reopens a route that is done.
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(Deliver(Supplemented(dossier), dossier));
  EXPECT_EQ(Route(dossier).state(), v1::ROUTE_STATE_DONE);
}

TEST_F(RoutingSupplementTest, ARefusedRouteStaysRefused) {
  const std::string dossier = "dossiers/S-0002";
  std::string police, insurance;
  ClaimBothLegs(dossier, &police, &insurance);
  ASSERT_TRUE(AskSupplement(police, "W-CA", "Sổ hộ khẩu").ok());
  grpc::ClientContext ctx;
  As(ctx, "D-SI");
  v1::RefuseTaskRequest refuse;
  refuse.set_name(insurance);
  refuse.set_reason("Trẻ đã có thẻ bảo hiểm y tế");
  v1::RefuseTaskResponse refused;
  ASSERT_TRUE(stub_->RefuseTask(&ctx, refuse, &refused).ok());
  const v1::RouteState ended = Route(dossier).state();
  ASSERT_NE(ended, v1::ROUTE_STATE_ACTIVE);
  ASSERT_NE(ended, v1::ROUTE_STATE_PAUSED);
  // The citizen supplemented before intake heard of the refusal.
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(Deliver(Supplemented(dossier), dossier));
  EXPECT_EQ(Route(dossier).state(), ended);
}

TEST_F(RoutingSupplementTest, AWithdrawalThatOvertookTheReceiptLeavesNoWork) {
  intake::v1::DossierWithdrawn withdrawn;
  withdrawn.set_dossier("dossiers/S-0004");
  withdrawn.set_reason("Công dân xin rút hồ sơ");
  ASSERT_TRUE(Deliver(withdrawn, "dossiers/S-0004"));
  // The receipt was waiting because its route could not be planned; it
  // still cannot be, and need not be now.
  dir_.SetUnreachable(true);
  ASSERT_TRUE(Deliver(Received("S-0004"), "dossiers/S-0004"));
  dir_.SetUnreachable(false);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.tasks WHERE dossier = "
                  "'dossiers/S-0004'"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.routes WHERE dossier = "
                  "'dossiers/S-0004' AND state = " +
                  std::to_string(v1::ROUTE_STATE_CANCELLED)),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.outbox WHERE event_type = "
                  "'lienthong.routing.v1.TaskDispatched'"),
            0);
}

// Not about event order: the queue gauges after a queue empties.
TEST_F(RoutingSupplementTest, AQueueThatEmptiedShowsZero) {
  const auto depth = [](const std::string& agency) {
    return metrics::Gauge("lienthong_routing_queue_depth",
                          "Tasks waiting or being worked, by agency and state.")
        .Add({{"agency", agency}, {"state", "READY"}})
        .Value();
  };
  ASSERT_TRUE(Deliver(Received("S-0005"), "dossiers/S-0005"));
  server_->UpdateQueueMetrics();
  EXPECT_EQ(depth("W-TP"), 1);
  FinishCivil("dossiers/S-0005");  // the justice officer's queue is empty
  server_->UpdateQueueMetrics();
  EXPECT_EQ(depth("W-TP"), 0);
  EXPECT_EQ(depth("W-CA"), 1);  // the police leg is ready now
}

TEST_F(RoutingSupplementTest, ABurstOfRefusedCallsIsAllAudited) {
  ASSERT_TRUE(Deliver(Received("S-0003"), "dossiers/S-0003"));
  const std::string civil =
      Leg(Route("dossiers/S-0003"), "civil_status").name();
  ASSERT_TRUE(Claim(civil, "W-TP").ok());
  // Twice as many refused calls at once as there are connections: the
  // police trying to complete the justice officer's task.
  constexpr int kCalls = 8;
  std::atomic<int> denied{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&] {
      if (Complete(civil, "W-CA", {{"birth_certificate_number", "1"}})
              .error_code() == grpc::StatusCode::PERMISSION_DENIED) {
        ++denied;
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(denied, kCalls);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.audit WHERE outcome = "
                  "'PERMISSION_DENIED'"),
            kCalls);
}

}  // namespace
}  // namespace lienthong::routing
