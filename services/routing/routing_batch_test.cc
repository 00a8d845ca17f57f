// The agency API's batch forms over real gRPC and PostgreSQL: WatchTasks
// claiming on delivery, and CompleteTasks applying each item on its own.

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/common/errors.h"
#include "libs/common/uuid.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "libs/testing/status_matchers.h"
#include "services/routing/routing_test_fixture.h"

namespace lienthong::routing {
namespace {

using ::lienthong::testing::GrpcStatusIs;

v1::CompleteTaskRequest Completion(
    const std::string& task,
    std::vector<std::pair<std::string, std::string>> outputs,
    const std::string& request_id = "") {
  v1::CompleteTaskRequest r;
  r.set_name(task);
  r.set_request_id(request_id);
  for (auto& [k, v] : outputs) {
    auto* o = r.add_outputs();
    o->set_key(k);
    o->set_value(v);
  }
  return r;
}

v1::CompleteTaskRequest CivilDone(const std::string& task,
                                  const std::string& request_id = "") {
  return Completion(task,
                    {{"birth_certificate_number", "12/2026"},
                     {"personal_id", "001226012345"}},
                    request_id);
}

class RoutingBatchTest : public RoutingIntegrationTest {
 protected:
  grpc::Status CompleteAll(const std::string& agency,
                           const std::vector<v1::CompleteTaskRequest>& items,
                           v1::CompleteTasksResponse* resp) {
    grpc::ClientContext ctx;
    As(ctx, agency);
    v1::CompleteTasksRequest req;
    for (const auto& i : items) *req.add_requests() = i;
    return stub_->CompleteTasks(&ctx, req, resp);
  }
  std::string Civil(const std::string& code) {
    return Leg(Route("dossiers/" + code), "civil_status").name();
  }

  // A WatchTasks stream read on its own thread into `items`.
  class Watcher {
   public:
    Watcher(RoutingBatchTest& t, const std::string& agency,
            absl::Duration claim_lease)
        : t_(t) {
      t.As(ctx_, agency);
      v1::WatchTasksRequest req;
      req.set_agency("agencies/" + agency);
      if (claim_lease > absl::ZeroDuration()) {
        grpc_util::ToProto(claim_lease, req.mutable_claim_lease_duration());
      }
      reader_ = t.stub_->WatchTasks(&ctx_, req);
      thread_ = std::thread([this] {
        v1::WatchTasksResponse item;
        while (reader_->Read(&item)) {
          std::lock_guard lock(t_.mu_);
          t_.items_.push_back(item.task());
          t_.cv_.notify_all();
        }
        reader_->Finish();
      });
    }
    ~Watcher() { Stop(); }
    void Stop() {
      if (thread_.joinable()) {
        ctx_.TryCancel();
        thread_.join();
      }
    }

   private:
    RoutingBatchTest& t_;
    grpc::ClientContext ctx_;
    std::unique_ptr<grpc::ClientReader<v1::WatchTasksResponse>> reader_;
    std::thread thread_;
  };
  // Waits (on the streams, not on time passing) for `n` items in all.
  bool WaitForItems(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20),
                        [&] { return items_.size() >= n; });
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::Task> items_;
};

TEST_F(RoutingBatchTest, CompleteTasksAppliesEachItemOnItsOwn) {
  for (const char* code : {"B-0001", "B-0002", "B-0003"}) {
    ASSERT_TRUE(Deliver(Received(code), absl::StrCat("dossiers/", code)));
  }
  const std::string a = Civil("B-0001"), b = Civil("B-0002"),
                    unclaimed = Civil("B-0003");
  ASSERT_TRUE(Claim(a, "W-TP").ok());
  ASSERT_TRUE(Claim(b, "W-TP").ok());
  ASSERT_TRUE(Deliver(Received("B-0004"), "dossiers/B-0004"));
  FinishCivil("dossiers/B-0004");
  const std::string police = Leg(Route("dossiers/B-0004"), "residency").name();
  const std::vector<v1::CompleteTaskRequest> items = {
      CivilDone(a, common::NewUuid()),
      Completion(b, {{"personal_id", "123"}}, common::NewUuid()),
      CivilDone(unclaimed, common::NewUuid()),
      Completion(police, {{"residence_confirmation_number", "CT-1"}},
                 common::NewUuid()),
      CivilDone("tasks/999999", common::NewUuid()),
  };
  const int64_t events_before = Count(
      "SELECT count(*) FROM routing.outbox WHERE event_type = "
      "'lienthong.routing.v1.TaskCompleted'");
  v1::CompleteTasksResponse resp;
  ASSERT_TRUE(CompleteAll("W-TP", items, &resp).ok());
  ASSERT_EQ(resp.results_size(), 5);
  // Done, with its outputs; the route moved on.
  EXPECT_EQ(resp.results(0).status().code(), 0);
  EXPECT_EQ(resp.results(0).task().state(), v1::TASK_STATE_DONE);
  EXPECT_EQ(resp.results(0).task().outputs_size(), 2);
  EXPECT_EQ(Leg(Route("dossiers/B-0001"), "residency").state(),
            v1::TASK_STATE_READY);
  // Each refusal is CompleteTask's own answer, details included.
  const absl::Status bad = grpc_util::FromRpcStatus(resp.results(1).status());
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(common::GetErrorDetails(bad).field_violations.size(), 2u);
  EXPECT_FALSE(resp.results(1).has_task());
  EXPECT_EQ(resp.results(2).status().code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(resp.results(2).status().message().find("READY"),
            std::string::npos);
  EXPECT_EQ(resp.results(3).status().code(),
            static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(resp.results(4).status().code(),
            static_cast<int>(absl::StatusCode::kNotFound));
  // Nothing of the refused items stayed: b is still claimed, police's leg
  // still open, one completion event written, the denial audited.
  EXPECT_EQ(Leg(Route("dossiers/B-0002"), "civil_status").state(),
            v1::TASK_STATE_CLAIMED);
  EXPECT_EQ(Leg(Route("dossiers/B-0004"), "residency").state(),
            v1::TASK_STATE_READY);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.outbox WHERE event_type = "
                  "'lienthong.routing.v1.TaskCompleted'"),
            events_before + 1);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.audit WHERE outcome = "
                  "'PERMISSION_DENIED' AND action = 'CompleteTask'"),
            1);

  // The same batch again (a client's retry): the done item is replayed,
  // not done twice; the others answer as before.
  v1::CompleteTasksResponse again;
  ASSERT_TRUE(CompleteAll("W-TP", items, &again).ok());
  ASSERT_EQ(again.results_size(), 5);
  EXPECT_EQ(again.results(0).status().code(), 0);
  EXPECT_EQ(again.results(0).task().SerializeAsString(),
            resp.results(0).task().SerializeAsString());
  EXPECT_EQ(again.results(1).status().code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Count("SELECT count(*) FROM routing.outbox WHERE event_type = "
                  "'lienthong.routing.v1.TaskCompleted'"),
            events_before + 1);
}

TEST_F(RoutingBatchTest, ARequestIdUsedTwiceInOneBatchRefusesTheSecondItem) {
  ASSERT_TRUE(Deliver(Received("B-0051"), "dossiers/B-0051"));
  ASSERT_TRUE(Deliver(Received("B-0052"), "dossiers/B-0052"));
  const std::string a = Civil("B-0051"), b = Civil("B-0052");
  ASSERT_TRUE(Claim(a, "W-TP").ok());
  ASSERT_TRUE(Claim(b, "W-TP").ok());
  const std::string rid = common::NewUuid();
  v1::CompleteTasksResponse resp;
  ASSERT_TRUE(
      CompleteAll("W-TP", {CivilDone(a, rid), CivilDone(b, rid)}, &resp).ok());
  ASSERT_EQ(resp.results_size(), 2);
  EXPECT_EQ(resp.results(0).status().code(), 0);
  const absl::Status reused =
      grpc_util::FromRpcStatus(resp.results(1).status());
  EXPECT_EQ(reused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(common::GetErrorDetails(reused).reason, "REQUEST_ID_REUSED");
  EXPECT_EQ(Leg(Route("dossiers/B-0051"), "civil_status").state(),
            v1::TASK_STATE_DONE);
  EXPECT_EQ(Leg(Route("dossiers/B-0052"), "civil_status").state(),
            v1::TASK_STATE_CLAIMED);
}

// An item that fails after it has written (here the database refuses its
// task's update) costs the batch one more transaction, not its other items.
TEST_F(RoutingBatchTest, AnItemFailingAfterItsWritesIsLeftOutOfTheBatch) {
  std::vector<std::string> tasks;
  for (const char* code : {"B-0061", "B-0062", "B-0063"}) {
    ASSERT_TRUE(Deliver(Received(code), absl::StrCat("dossiers/", code)));
    tasks.push_back(Civil(code));
    ASSERT_TRUE(Claim(tasks.back(), "W-TP").ok());
  }
  ASSERT_TRUE(db::WithTransaction(pool_, [](pqxx::work& tx) {
                tx.exec(
                    "CREATE FUNCTION routing.refuse_b0062() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN IF NEW.dossier = "
                    "'dossiers/B-0062' AND NEW.state = 4 THEN RAISE "
                    "EXCEPTION 'refused by the test'; END IF; RETURN NEW; "
                    "END $$");
                tx.exec(
                    "CREATE TRIGGER refuse_b0062 BEFORE UPDATE ON "
                    "routing.tasks FOR EACH ROW EXECUTE FUNCTION "
                    "routing.refuse_b0062()");
                return absl::OkStatus();
              }).ok());
  v1::CompleteTasksResponse resp;
  ASSERT_TRUE(CompleteAll("W-TP",
                          {CivilDone(tasks[0], common::NewUuid()),
                           CivilDone(tasks[1], common::NewUuid()),
                           CivilDone(tasks[2], common::NewUuid())},
                          &resp)
                  .ok());
  ASSERT_EQ(resp.results_size(), 3);
  EXPECT_EQ(resp.results(0).status().code(), 0);
  EXPECT_NE(resp.results(1).status().code(), 0);
  EXPECT_FALSE(resp.results(1).has_task());
  EXPECT_EQ(resp.results(2).status().code(), 0);
  EXPECT_EQ(Leg(Route("dossiers/B-0061"), "civil_status").state(),
            v1::TASK_STATE_DONE);
  EXPECT_EQ(Leg(Route("dossiers/B-0062"), "civil_status").state(),
            v1::TASK_STATE_CLAIMED);
  EXPECT_EQ(Leg(Route("dossiers/B-0063"), "civil_status").state(),
            v1::TASK_STATE_DONE);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.idempotency"), 2);
}

// A batch reads its rows up front and writes each table once: six
// civil-status completions, which make twelve legs ready and hand six over
// to the district, are one statement per table, not one per item.
TEST_F(RoutingBatchTest, CompleteTasksWritesEachTableInOneStatement) {
  std::vector<v1::CompleteTaskRequest> items;
  std::vector<std::string> codes;
  for (int i = 1; i <= 6; ++i) {
    codes.push_back(absl::StrCat("B-007", i));
    const std::string dossier = "dossiers/" + codes.back();
    ASSERT_TRUE(Deliver(Received(codes.back()), dossier));
    const std::string t = Civil(codes.back());
    ASSERT_TRUE(Claim(t, "W-TP").ok());
    items.push_back(CivilDone(t, common::NewUuid()));
  }
  ASSERT_TRUE(db::WithTransaction(pool_, [](pqxx::work& tx) {
                tx.exec(
                    "CREATE TABLE routing.statements (tbl text, op text); "
                    "CREATE FUNCTION routing.count_statement() RETURNS "
                    "trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO "
                    "routing.statements VALUES (TG_TABLE_NAME, TG_OP); "
                    "RETURN NULL; END $$");
                for (const char* t : {"tasks", "task_feed", "handovers",
                                      "idempotency", "audit"}) {
                  tx.exec(absl::StrCat("CREATE TRIGGER count_", t,
                                       " AFTER INSERT OR UPDATE ON routing.", t,
                                       " FOR EACH STATEMENT EXECUTE FUNCTION "
                                       "routing.count_statement()"));
                }
                return absl::OkStatus();
              }).ok());
  v1::CompleteTasksResponse resp;
  ASSERT_TRUE(CompleteAll("W-TP", items, &resp).ok());
  ASSERT_EQ(resp.results_size(), 6);
  for (const auto& r : resp.results()) {
    EXPECT_EQ(r.status().code(), 0) << r.status().message();
    EXPECT_EQ(r.task().state(), v1::TASK_STATE_DONE);
  }
  for (const char* t :
       {"tasks", "task_feed", "handovers", "idempotency", "audit"}) {
    EXPECT_EQ(
        Count(absl::StrCat(
            "SELECT count(*) FROM routing.statements WHERE tbl = '", t, "'")),
        1)
        << t;
  }
  // And what they wrote is what six single completions would have.
  EXPECT_EQ(Count("SELECT count(*) FROM routing.idempotency"), 6);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.audit WHERE action = "
                  "'CompleteTask' AND outcome = 'OK' AND subject = 'sys-W-TP' "
                  "AND resource LIKE 'tasks/%'"),
            6);
  std::set<std::string> handovers;
  for (const std::string& code : codes) {
    const v1::Route r = Route("dossiers/" + code);
    EXPECT_EQ(Leg(r, "civil_status").state(), v1::TASK_STATE_DONE);
    EXPECT_EQ(Leg(r, "residency").state(), v1::TASK_STATE_READY);
    EXPECT_EQ(Leg(r, "health_insurance").state(), v1::TASK_STATE_READY);
    EXPECT_EQ(Leg(r, "health_insurance").inputs_size(),
              Leg(r, "residency").inputs_size());
    EXPECT_GT(Leg(r, "residency").inputs_size(), 0);
    grpc::ClientContext ctx;
    As(ctx, "W-1CUA");
    v1::ListHandoversRequest req;
    req.set_dossier("dossiers/" + code);
    v1::ListHandoversResponse list;
    ASSERT_TRUE(stub_->ListHandovers(&ctx, req, &list).ok());
    ASSERT_EQ(list.handovers_size(), 1) << code;
    EXPECT_EQ(list.handovers(0).receiver_agency(), "agencies/D-SI");
    EXPECT_EQ(list.handovers(0).task(), Leg(r, "health_insurance").name());
    handovers.insert(list.handovers(0).name());
  }
  EXPECT_EQ(handovers.size(), 6u);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.task_feed f JOIN "
                  "routing.tasks t ON t.id = f.task_id WHERE t.leg_id <> "
                  "'civil_status'"),
            12);
  // The answers replay from the records the batch wrote.
  v1::CompleteTasksResponse again;
  ASSERT_TRUE(CompleteAll("W-TP", items, &again).ok());
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(again.results(i).task().SerializeAsString(),
              resp.results(i).task().SerializeAsString());
  }
}

TEST_F(RoutingBatchTest, CompleteTasksFinishesSeveralRoutesInOneCall) {
  std::vector<v1::CompleteTaskRequest> items;
  for (const char* code : {"B-0011", "B-0012", "B-0013"}) {
    ASSERT_TRUE(Deliver(Received(code), absl::StrCat("dossiers/", code)));
    FinishCivil(absl::StrCat("dossiers/", code));
    const v1::Route r = Route(absl::StrCat("dossiers/", code));
    ASSERT_TRUE(Claim(Leg(r, "health_insurance").name(), "D-SI").ok());
    ASSERT_TRUE(Claim(Leg(r, "residency").name(), "W-CA").ok());
    ASSERT_TRUE(Complete(Leg(r, "residency").name(), "W-CA",
                         {{"residence_confirmation_number", "CT-1"}})
                    .ok());
    items.push_back(Completion(Leg(r, "health_insurance").name(),
                               {{"health_insurance_card_number", "TE1"}}));
  }
  v1::CompleteTasksResponse resp;
  ASSERT_TRUE(CompleteAll("D-SI", items, &resp).ok());
  for (const auto& r : resp.results()) EXPECT_EQ(r.status().code(), 0);
  for (const char* code : {"B-0011", "B-0012", "B-0013"}) {
    EXPECT_EQ(Route(absl::StrCat("dossiers/", code)).state(),
              v1::ROUTE_STATE_DONE);
  }
  EXPECT_EQ(
      Count("SELECT count(*) FROM routing.outbox WHERE event_type = "
            "'lienthong.routing.v1.RouteCompleted' AND destination = 'intake'"),
      3);
}

TEST_F(RoutingBatchTest, CompleteTasksRefusesAMalformedBatchWhole) {
  ASSERT_TRUE(Deliver(Received("B-0021"), "dossiers/B-0021"));
  const std::string a = Civil("B-0021");
  ASSERT_TRUE(Claim(a, "W-TP").ok());
  v1::CompleteTasksResponse resp;
  EXPECT_THAT(CompleteAll("W-TP", {}, &resp),
              GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  grpc::Status twice = CompleteAll(
      "W-TP", {CivilDone(a), CivilDone("task-7"), CivilDone(a)}, &resp);
  ASSERT_THAT(twice, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  const auto v = common::GetErrorDetails(grpc_util::FromGrpcStatus(twice))
                     .field_violations;
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].field, "requests[1].name");
  EXPECT_EQ(v[1].field, "requests[2].name");
  std::vector<v1::CompleteTaskRequest> many(101, CivilDone(a));
  EXPECT_THAT(CompleteAll("W-TP", many, &resp),
              GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  // Nothing was applied.
  EXPECT_EQ(Leg(Route("dossiers/B-0021"), "civil_status").state(),
            v1::TASK_STATE_CLAIMED);
}

TEST_F(RoutingBatchTest, WatchingWithClaimHandsEachTaskToOneWatcherClaimed) {
  const absl::Time start = clock_.Now();
  Watcher first(*this, "W-TP", absl::Minutes(2));
  Watcher second(*this, "W-TP", absl::Minutes(2));
  for (int i = 0; i < 6; ++i) {
    const std::string code = absl::StrCat("B-01", i);
    ASSERT_TRUE(Deliver(Received(code), "dossiers/" + code));
  }
  ASSERT_TRUE(WaitForItems(6));
  first.Stop();
  second.Stop();
  std::set<std::string> names;
  for (const v1::Task& t : items_) {
    names.insert(t.name());
    EXPECT_EQ(t.state(), v1::TASK_STATE_CLAIMED);
    EXPECT_EQ(t.lease_holder(), "sys-W-TP");
    EXPECT_EQ(grpc_util::FromProto(t.lease_expire_time()),
              start + absl::Minutes(2));
  }
  EXPECT_EQ(items_.size(), 6u);
  EXPECT_EQ(names.size(), 6u);  // none twice
  EXPECT_EQ(Count("SELECT count(*) FROM routing.tasks WHERE state = 3"), 6);
  // Claimed: completed without a ClaimTask call.
  EXPECT_TRUE(Complete(*names.begin(), "W-TP",
                       {{"birth_certificate_number", "12/2026"},
                        {"personal_id", "001226012345"}})
                  .ok());
}

// What a watcher read as ready may have been taken by the time it claims:
// only tasks still ready are claimed and sent.
TEST_F(RoutingBatchTest, ClaimOnDeliverySendsOnlyTasksStillReady) {
  for (const char* code : {"B-0041", "B-0042", "B-0043"}) {
    ASSERT_TRUE(Deliver(Received(code), absl::StrCat("dossiers/", code)));
  }
  std::vector<RoutingServer::Delivery> out;
  for (const char* code : {"B-0041", "B-0042", "B-0043"}) {
    out.push_back(
        {0, Leg(Route(absl::StrCat("dossiers/", code)), "civil_status")});
  }
  // Since the read: one claimed by a ClaimTask call, one dossier withdrawn.
  v1::Task taken;
  ASSERT_TRUE(Claim(out[1].task.name(), "W-TP", &taken).ok());
  intake::v1::DossierWithdrawn w;
  w.set_dossier("dossiers/B-0043");
  ASSERT_TRUE(Deliver(w, "dossiers/B-0043"));
  grpc_util::Caller caller;
  caller.agency_code = "W-TP";
  caller.subject = "sys-W-TP-2";
  ASSERT_TRUE(server_->ClaimForDelivery(caller, absl::Minutes(1), out).ok());
  EXPECT_TRUE(out[0].send);
  EXPECT_EQ(out[0].task.state(), v1::TASK_STATE_CLAIMED);
  EXPECT_EQ(out[0].task.lease_holder(), "sys-W-TP-2");
  EXPECT_FALSE(out[1].send);
  EXPECT_FALSE(out[2].send);
  // The other claim stands; the cancelled leg stays cancelled.
  const v1::Task t1 = Leg(Route("dossiers/B-0042"), "civil_status");
  EXPECT_EQ(t1.lease_holder(), taken.lease_holder());
  EXPECT_EQ(t1.lease_expire_time().seconds(),
            taken.lease_expire_time().seconds());
  EXPECT_EQ(Leg(Route("dossiers/B-0043"), "civil_status").state(),
            v1::TASK_STATE_CANCELLED);
  EXPECT_EQ(Leg(Route("dossiers/B-0041"), "civil_status").state(),
            v1::TASK_STATE_CLAIMED);
  // The claim it made is in the audit trail, as a ClaimTask's is.
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM routing.audit WHERE "
                               "action = 'WatchTasks' AND outcome = 'OK' AND "
                               "resource = '",
                               out[0].task.name(), "'")),
            1);
}

TEST_F(RoutingBatchTest, AClaimedTaskNeverCompletedComesBackAfterItsLease) {
  Watcher w(*this, "W-TP", absl::Seconds(30));
  ASSERT_TRUE(Deliver(Received("B-0031"), "dossiers/B-0031"));
  ASSERT_TRUE(WaitForItems(1));
  // The agency system died holding it: the lease runs out, the task is
  // back in the queue and the open stream claims it again.
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(*server_->ExpireLeasesOnce(), 1);
  ASSERT_TRUE(WaitForItems(2));
  w.Stop();
  EXPECT_EQ(items_[0].name(), items_[1].name());
  EXPECT_EQ(items_[1].state(), v1::TASK_STATE_CLAIMED);
  EXPECT_GT(grpc_util::FromProto(items_[1].lease_expire_time()),
            grpc_util::FromProto(items_[0].lease_expire_time()));
}

TEST_F(RoutingBatchTest, WatchingWithABadClaimLeaseIsRefused) {
  grpc::ClientContext ctx;
  As(ctx, "W-TP");
  v1::WatchTasksRequest req;
  req.set_agency("agencies/W-TP");
  grpc_util::ToProto(absl::Hours(2), req.mutable_claim_lease_duration());
  auto reader = stub_->WatchTasks(&ctx, req);
  v1::WatchTasksResponse item;
  EXPECT_FALSE(reader->Read(&item));
  EXPECT_THAT(reader->Finish(),
              GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
}

}  // namespace
}  // namespace lienthong::routing
