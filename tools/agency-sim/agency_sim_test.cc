#include "tools/agency-sim/agency_sim.h"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/testing/in_process_server.h"
#include "tools/agency-sim/fake_routing.h"
#include "tools/agency-sim/sim_policy.h"

namespace lienthong::agency_sim {
namespace {

namespace v1 = routing::v1;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

using sim_testing::FakeRouting;
using sim_testing::FakeSimTime;
using sim_testing::ReadyTask;
using sim_testing::Received;

class AgencySimTest : public ::testing::Test {
 protected:
  SimOptions Options() const {
    SimOptions o;
    o.agency = "002.08.19.H26";
    o.delay = absl::Seconds(1);
    o.lease = absl::Seconds(30);
    return o;
  }
  void Start(SimOptions o, SimTime* time = nullptr) {
    agency_ = std::make_unique<SimAgency>(
        std::move(o), server_.NewChannel(), time ? *time : fake_time_,
        [this](bool error, const std::string& line) {
          absl::MutexLock lock(&mu_);
          logs_.push_back({error, line});
        });
    thread_ = std::thread([this] {
      agency_->Run();
      returned_.Notify();
    });
  }
  // Stop() must make Run() return promptly, wherever it is.
  void StopAndJoin() {
    agency_->Stop();
    if (!returned_.WaitForNotificationWithTimeout(absl::Seconds(10))) {
      std::fprintf(stderr, "FAIL: Run() did not return within 10s of Stop()\n");
      std::abort();  // the thread would hang the test binary
    }
    thread_.join();
  }
  void TearDown() override {
    if (thread_.joinable()) StopAndJoin();
  }
  // Real time, bounded: the simulator runs on its own thread.
  bool Eventually(const std::function<bool()>& cond) {
    for (int i = 0; i < 1000; ++i) {
      if (cond()) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return cond();
  }
  std::vector<std::string> Logs(bool errors) const {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const auto& [error, line] : logs_) {
      if (error == errors) out.push_back(line);
    }
    return out;
  }
  bool Logged(const std::string& text) const {
    absl::MutexLock lock(&mu_);
    for (const auto& entry : logs_) {
      if (absl::StrContains(entry.second, text)) return true;
    }
    return false;
  }

  common::FakeClock clock_;
  FakeRouting routing_{clock_};
  lienthong::testing::InProcessServer server_{{&routing_}};
  FakeSimTime fake_time_{clock_};
  std::unique_ptr<SimAgency> agency_;
  std::thread thread_;
  absl::Notification returned_;
  mutable absl::Mutex mu_;
  std::vector<std::pair<bool, std::string>> logs_ ABSL_GUARDED_BY(mu_);
};

TEST_F(AgencySimTest, ClaimsAndCompletesWithTheClaimToken) {
  routing_.Deliver(ReadyTask(1));
  Start(Options());
  ASSERT_TRUE(Eventually([&] { return Logged("completed tasks/1"); }));
  ASSERT_THAT(routing_.Calls("ClaimTask"), SizeIs(1));
  EXPECT_THAT(routing_.Calls("CompleteTask"),
              ElementsAre(Field(&Received::claim_token, "claim-1")));
}

TEST_F(AgencySimTest, RetriesTransientFailuresWithTheSameRequestId) {
  routing_.Deliver(ReadyTask(1));
  routing_.FailNext("CompleteTask", grpc::StatusCode::UNAVAILABLE);
  routing_.FailNext("CompleteTask", grpc::StatusCode::DEADLINE_EXCEEDED);
  routing_.FailNext("CompleteTask", grpc::StatusCode::ABORTED);
  Start(Options());
  ASSERT_TRUE(Eventually([&] { return Logged("completed tasks/1"); }));
  const std::vector<Received> calls = routing_.Calls("CompleteTask");
  ASSERT_THAT(calls, SizeIs(4));
  EXPECT_FALSE(calls[0].request_id.empty());
  EXPECT_THAT(calls, Each(Field(&Received::request_id, calls[0].request_id)));
  EXPECT_THAT(calls, Each(Field(&Received::claim_token, "claim-1")));
  EXPECT_THAT(Logs(/*errors=*/true), IsEmpty());
}

TEST_F(AgencySimTest, DoesNotRetryAnErrorARetryCannotFix) {
  routing_.Deliver(ReadyTask(1));
  routing_.FailNext("CompleteTask", grpc::StatusCode::INVALID_ARGUMENT);
  Start(Options());
  ASSERT_TRUE(Eventually([&] { return Logged("INVALID_ARGUMENT"); }));
  EXPECT_THAT(routing_.Calls("CompleteTask"), SizeIs(1));
}

TEST_F(AgencySimTest, LogsClaimFailuresButNotALostRaceNorTheCitizen) {
  routing_.Deliver(ReadyTask(1));
  routing_.Deliver(ReadyTask(2));
  routing_.Deliver(ReadyTask(3));
  routing_.FailNext("ClaimTask", grpc::StatusCode::FAILED_PRECONDITION);
  routing_.FailNext("ClaimTask", grpc::StatusCode::PERMISSION_DENIED);
  routing_.FailNext("ClaimTask", grpc::StatusCode::UNAVAILABLE);
  Start(Options());
  ASSERT_TRUE(Eventually([&] { return Logged("completed tasks/3"); }));
  // tasks/1: another replica won it, nothing to say. tasks/2: said.
  const std::vector<std::string> errors = Logs(/*errors=*/true);
  ASSERT_THAT(errors, SizeIs(1));
  EXPECT_THAT(errors[0], HasSubstr("claim of tasks/2"));
  EXPECT_THAT(errors[0], HasSubstr("PERMISSION_DENIED"));
  // tasks/3's claim was retried as the same request.
  const std::vector<Received> claims = routing_.Calls("ClaimTask", "tasks/3");
  ASSERT_THAT(claims, SizeIs(2));
  EXPECT_EQ(claims[0].request_id, claims[1].request_id);
  absl::MutexLock lock(&mu_);
  for (const auto& [error, line] : logs_) {
    EXPECT_THAT(line, Not(HasSubstr("Nguyễn"))) << line;
    EXPECT_THAT(line, Not(HasSubstr("001190054321"))) << line;
  }
}

TEST_F(AgencySimTest, AsksAHomeBirthForASupplementWithTheClaimToken) {
  routing_.Deliver(ReadyTask(1, "TẠI NHÀ, PHƯỜNG TÂY MỖ"));
  Start(Options());
  ASSERT_TRUE(
      Eventually([&] { return Logged("asked for a supplement on tasks/1"); }));
  EXPECT_THAT(routing_.Calls("RequestSupplement"),
              ElementsAre(Field(&Received::claim_token, "claim-1")));
  EXPECT_THAT(routing_.Calls("CompleteTask"), IsEmpty());
}

TEST_F(AgencySimTest, RefusesWithTheClaimToken) {
  routing_.Deliver(ReadyTask(1));
  SimOptions o = Options();
  o.refuse_probability = 1;
  Start(o);
  ASSERT_TRUE(Eventually([&] { return Logged("refused tasks/1"); }));
  EXPECT_THAT(routing_.Calls("RefuseTask"),
              ElementsAre(Field(&Received::claim_token, "claim-1")));
}

TEST_F(AgencySimTest, RenewsTheLeaseWhileWorkingLongerThanIt) {
  routing_.Deliver(ReadyTask(1));
  SimOptions o = Options();
  o.lease = absl::Seconds(10);
  o.delay = absl::Seconds(35);
  Start(o);
  ASSERT_TRUE(Eventually([&] {
    return Logged("completed tasks/1") || Logged("FAILED") || Logged("lost");
  }));
  EXPECT_TRUE(Logged("completed tasks/1"));
  const std::vector<Received> renewals = routing_.Calls("RenewLease");
  EXPECT_THAT(renewals, SizeIs(::testing::Ge(3)));
  EXPECT_THAT(renewals, Each(Field(&Received::claim_token, "claim-1")));
}

TEST_F(AgencySimTest, RenewsATaskThatWaitedInTheStreamBeforeWorkingIt) {
  // Claimed on delivery 8 s ago: behind other tasks in the stream, most of
  // its 10 s lease is gone before its 3 s of work start.
  v1::Task t = ReadyTask(1);
  t.set_state(v1::TASK_STATE_CLAIMED);
  t.set_claim_token("on-delivery-1");
  grpc_util::ToProto(clock_.Now() + absl::Seconds(2),
                     t.mutable_lease_expire_time());
  routing_.Deliver(t);
  SimOptions o = Options();
  o.claim_on_delivery = true;
  o.lease = absl::Seconds(10);
  o.delay = absl::Seconds(3);
  Start(o);
  ASSERT_TRUE(Eventually([&] {
    return Logged("completed tasks/1") || Logged("FAILED") || Logged("lost");
  }));
  EXPECT_TRUE(Logged("completed tasks/1"));
  EXPECT_THAT(routing_.Calls("ClaimTask"), IsEmpty());
  EXPECT_THAT(routing_.Calls("RenewLease"),
              ElementsAre(Field(&Received::claim_token, "on-delivery-1")));
}

TEST_F(AgencySimTest, DropsATaskWhoseLeaseLapsedInTheStream) {
  v1::Task t = ReadyTask(1);
  t.set_state(v1::TASK_STATE_CLAIMED);
  t.set_claim_token("on-delivery-1");
  grpc_util::ToProto(clock_.Now() - absl::Seconds(1),
                     t.mutable_lease_expire_time());
  routing_.Deliver(t);
  SimOptions o = Options();
  o.claim_on_delivery = true;
  o.lease = absl::Seconds(10);
  Start(o);
  ASSERT_TRUE(Eventually([&] { return Logged("lost tasks/1"); }));
  EXPECT_THAT(routing_.Calls("CompleteTask"), IsEmpty());
}

TEST_F(AgencySimTest, StopCancelsAnIdleWatch) {
  Start(Options());
  ASSERT_TRUE(Eventually([&] { return routing_.Watches() == 1; }));
  StopAndJoin();
  EXPECT_EQ(routing_.Watches(), 1);
}

TEST_F(AgencySimTest, StopEndsTheWorkOnATask) {
  routing_.Deliver(ReadyTask(1));
  SimOptions o = Options();
  o.delay = absl::Hours(1);
  o.lease = absl::Hours(1);
  Start(o, &RealSimTime());
  ASSERT_TRUE(Eventually([&] { return Logged("claimed tasks/1"); }));
  StopAndJoin();
  EXPECT_THAT(routing_.Calls("CompleteTask"), IsEmpty());
  EXPECT_THAT(Logs(/*errors=*/true), IsEmpty());
}

TEST_F(AgencySimTest, ReconnectsWithCappedExponentialBackoffAndLogsLess) {
  routing_.FailWatches(40);
  SimOptions o = Options();
  o.reconnect_initial = absl::Milliseconds(500);
  o.reconnect_max = absl::Seconds(30);
  Start(o);
  ASSERT_TRUE(Eventually([&] { return routing_.Watches() == 41; }));
  StopAndJoin();
  const std::vector<absl::Duration> waits = fake_time_.Waits();
  ASSERT_THAT(waits, SizeIs(40));
  for (int i = 0; i < 40; ++i) {
    const absl::Duration full =
        Backoff(i, o.reconnect_initial, o.reconnect_max);
    EXPECT_GE(waits[i], full / 2) << i;
    EXPECT_LE(waits[i], full) << i;
  }
  EXPECT_LE(waits.back(), absl::Seconds(30));
  // The 1st, 2nd, 4th, 8th, 16th and 32nd failure, not all 40.
  EXPECT_THAT(Logs(/*errors=*/true), SizeIs(6));
}

}  // namespace
}  // namespace lienthong::agency_sim
