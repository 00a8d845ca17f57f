// routing over real gRPC (127.0.0.1:0) and a real PostgreSQL. The agency
// tree comes from a fake directory (the AgencyDirectory seam).

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/common/uuid.h"
#include "libs/db/migrations.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/status_conversion.h"
#include "libs/testing/in_process_server.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"
#include "lienthong/intake/v1/events.pb.h"
#include "lienthong/routing/v1/events.pb.h"
#include "routing_migrations.h"
#include "services/routing/routing_server.h"
#include "services/routing/routing_test_fixture.h"

namespace lienthong::routing {
namespace {

using ::lienthong::testing::GrpcStatusIs;

TEST_F(RoutingIntegrationTest, HappyPathOutputsFlowAndLegsRunInParallel) {
  std::string event_id;
  ASSERT_TRUE(Deliver(Received("X-0001"), "dossiers/X-0001", &event_id));
  v1::Route r = Route("dossiers/X-0001");
  ASSERT_EQ(r.tasks_size(), 3);
  EXPECT_EQ(Leg(r, "civil_status").state(), v1::TASK_STATE_READY);
  EXPECT_EQ(Leg(r, "residency").state(), v1::TASK_STATE_WAITING);
  const std::string civil = Leg(r, "civil_status").name();
  ASSERT_TRUE(Claim(civil, "W-TP").ok());
  // Outputs are checked against the leg's declaration.
  grpc::Status bad = Complete(civil, "W-TP", {{"personal_id", "123"}});
  ASSERT_THAT(bad, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(common::GetErrorDetails(grpc_util::FromGrpcStatus(bad))
                .field_violations.size(),
            2u);
  ASSERT_TRUE(Complete(civil, "W-TP",
                       {{"birth_certificate_number", "12/2026"},
                        {"personal_id", "001226012345"}})
                  .ok());
  r = Route("dossiers/X-0001");
  const v1::Task& police = Leg(r, "residency");
  const v1::Task& bhyt = Leg(r, "health_insurance");
  EXPECT_EQ(police.state(), v1::TASK_STATE_READY);
  EXPECT_EQ(bhyt.state(), v1::TASK_STATE_READY);
  EXPECT_EQ(bhyt.agency(), "agencies/D-SI");
  bool has_pid = false;
  for (const auto& in : bhyt.inputs())
    has_pid |= in.key() == "personal_id" && in.value() == "001226012345";
  EXPECT_TRUE(has_pid);
  // The cross-tier leg has its hand-over record.
  EXPECT_EQ(Count("SELECT count(*) FROM routing.handovers"), 1);
  ASSERT_TRUE(Claim(police.name(), "W-CA").ok());
  ASSERT_TRUE(Claim(bhyt.name(), "D-SI").ok());
  ASSERT_TRUE(Complete(police.name(), "W-CA",
                       {{"residence_confirmation_number", "CT-1"}})
                  .ok());
  EXPECT_EQ(Route("dossiers/X-0001").state(), v1::ROUTE_STATE_ACTIVE);
  ASSERT_TRUE(
      Complete(bhyt.name(), "D-SI", {{"health_insurance_card_number", "TE1"}})
          .ok());
  EXPECT_EQ(Route("dossiers/X-0001").state(), v1::ROUTE_STATE_DONE);
  EXPECT_EQ(
      Count("SELECT count(*) FROM routing.outbox WHERE event_type = "
            "'lienthong.routing.v1.RouteCompleted' AND destination = 'intake'"),
      1);
  // Each dispatched leg is announced to notify too (the agency's webhooks).
  EXPECT_EQ(
      Count("SELECT count(*) FROM routing.outbox WHERE event_type = "
            "'lienthong.routing.v1.TaskDispatched' AND destination = 'notify'"),
      3);
  // A replayed DossierReceived plans nothing twice.
  intake::v1::DossierReceived again = Received("X-0001");
  common::v1::Event e =
      grpc_util::MakeEvent(again, "intake", "dossiers/X-0001", clock_.Now());
  e.set_event_id(event_id);
  EXPECT_FALSE(server_->HandleEvent(e).value_or(true));
  EXPECT_EQ(Count("SELECT count(*) FROM routing.tasks"), 3);
}

// Intake's events delivered together are applied in one transaction: two
// dossiers' routes planned (their six tasks inserted in one statement), the
// withdrawal of one applied after its planning, a redelivered event a
// duplicate.
TEST_F(RoutingIntegrationTest, ADeliveredBatchOfEventsIsAppliedInOrderOnce) {
  ASSERT_TRUE(db::WithTransaction(pool_, [](pqxx::work& tx) {
                tx.exec(
                    "CREATE TABLE routing.statements (op text); CREATE "
                    "FUNCTION routing.count_statement() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN INSERT INTO "
                    "routing.statements VALUES (TG_OP); RETURN NULL; END $$; "
                    "CREATE TRIGGER count_tasks AFTER INSERT ON routing.tasks "
                    "FOR EACH STATEMENT EXECUTE FUNCTION "
                    "routing.count_statement()");
                return absl::OkStatus();
              }).ok());
  const common::v1::Event a = grpc_util::MakeEvent(
      Received("X-0101"), "intake", "dossiers/X-0101", clock_.Now());
  const common::v1::Event b = grpc_util::MakeEvent(
      Received("X-0102"), "intake", "dossiers/X-0102", clock_.Now());
  intake::v1::DossierWithdrawn withdrawn;
  withdrawn.set_dossier("dossiers/X-0102");
  const common::v1::Event w = grpc_util::MakeEvent(
      withdrawn, "intake", "dossiers/X-0102", clock_.Now());
  auto applied = server_->HandleEvents({&a, &b, &w, &a});
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(Route("dossiers/X-0101").state(), v1::ROUTE_STATE_ACTIVE);
  EXPECT_EQ(Leg(Route("dossiers/X-0101"), "civil_status").state(),
            v1::TASK_STATE_READY);
  EXPECT_EQ(Route("dossiers/X-0102").state(), v1::ROUTE_STATE_CANCELLED);
  const v1::Route withdrawn_route = Route("dossiers/X-0102");
  for (const auto& t : withdrawn_route.tasks()) {
    EXPECT_EQ(t.state(), v1::TASK_STATE_CANCELLED) << t.leg_id();
  }
  // Three legs per route, planned once each, in one statement, each row
  // named after its id and stored with its last state.
  EXPECT_EQ(Count("SELECT count(*) FROM routing.tasks"), 6);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.statements"), 1);
  for (const char* code : {"dossiers/X-0101", "dossiers/X-0102"}) {
    const v1::Route route = Route(code);
    for (const auto& t : route.tasks()) {
      EXPECT_EQ(Count(absl::StrCat("SELECT state FROM routing.tasks WHERE id "
                                   "= ",
                                   t.name().substr(6))),
                static_cast<int64_t>(t.state()));
    }
  }
  auto again = server_->HandleEvents({&b, &a});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, (std::vector<bool>{false, false}));
  EXPECT_EQ(Count("SELECT count(*) FROM routing.tasks"), 6);
}

// GetRoute and ListHandovers as `role` of `agency`.
grpc::Status ReadRoute(v1::RoutingService::Stub& stub, const std::string& role,
                       const std::string& agency, const std::string& dossier,
                       v1::Route* route, v1::ListHandoversResponse* handovers) {
  grpc::ClientContext c1, c2;
  for (grpc::ClientContext* c : {&c1, &c2}) {
    c->AddMetadata("x-lienthong-role", role);
    c->AddMetadata("x-lienthong-agency", agency);
    c->AddMetadata("x-lienthong-subject", "reader");
  }
  v1::GetRouteRequest req;
  req.set_dossier(dossier);
  v1::GetRouteResponse resp;
  grpc::Status s = stub.GetRoute(&c1, req, &resp);
  *route = resp.route();
  v1::ListHandoversRequest hreq;
  hreq.set_dossier(dossier);
  grpc::Status h = stub.ListHandovers(&c2, hreq, handovers);
  EXPECT_EQ(s.error_code(), h.error_code()) << role << " " << agency;
  return s;
}

TEST_F(RoutingIntegrationTest, ARouteIsReadInTheSubtreeElseOnlyTheCallersPart) {
  ASSERT_TRUE(Deliver(Received("X-0003"), "dossiers/X-0003"));
  const std::string civil =
      Leg(Route("dossiers/X-0003"), "civil_status").name();
  ASSERT_TRUE(Claim(civil, "W-TP").ok());
  ASSERT_TRUE(Complete(civil, "W-TP",
                       {{"birth_certificate_number", "12/2026"},
                        {"personal_id", "001226012345"}})
                  .ok());
  v1::Route r;
  v1::ListHandoversResponse h;
  // The receiving one-stop unit, and the ward and district above it: all.
  for (const char* agency : {"W-1CUA", "W", "D"}) {
    ASSERT_TRUE(
        ReadRoute(*stub_, "counter_officer", agency, "dossiers/X-0003", &r, &h)
            .ok())
        << agency;
    EXPECT_EQ(r.tasks_size(), 3) << agency;
    EXPECT_EQ(h.handovers_size(), 1) << agency;  // ward -> district
  }
  // The district's social insurance holds one leg: it sees that leg and
  // the hand-over it received, not the civil-status outputs.
  ASSERT_TRUE(
      ReadRoute(*stub_, "agency_system", "D-SI", "dossiers/X-0003", &r, &h)
          .ok());
  ASSERT_EQ(r.tasks_size(), 1);
  EXPECT_EQ(r.tasks(0).agency(), "agencies/D-SI");
  ASSERT_EQ(h.handovers_size(), 1);
  EXPECT_EQ(h.handovers(0).receiver_agency(), "agencies/D-SI");
  // Ward police: its own leg only, and no hand-over (it sent or got none).
  ASSERT_TRUE(
      ReadRoute(*stub_, "agency_system", "W-CA", "dossiers/X-0003", &r, &h)
          .ok());
  ASSERT_EQ(r.tasks_size(), 1);
  EXPECT_EQ(r.tasks(0).leg_id(), "residency");
  EXPECT_EQ(h.handovers_size(), 0);
  // Another agency with no leg, and a citizen: denied, and audited.
  const int64_t denied_before = Count(
      "SELECT count(*) FROM routing.audit WHERE outcome = 'PERMISSION_DENIED'");
  EXPECT_THAT(ReadRoute(*stub_, "counter_officer", "Z-OTHER", "dossiers/X-0003",
                        &r, &h),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_EQ(r.tasks_size(), 0);
  EXPECT_THAT(ReadRoute(*stub_, "citizen", "", "dossiers/X-0003", &r, &h),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_EQ(Count("SELECT count(*) FROM routing.audit WHERE outcome = "
                  "'PERMISSION_DENIED'"),
            denied_before + 4);
  // A malformed name is the caller's mistake, an unknown dossier not found.
  EXPECT_THAT(ReadRoute(*stub_, "admin", "000", "X-0003", &r, &h),
              GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(ReadRoute(*stub_, "admin", "000", "dossiers/X-9999", &r, &h),
              GrpcStatusIs(grpc::StatusCode::NOT_FOUND));
}

// Two replicas of one system share its certificate name: the claim token
// tells their claims apart.
TEST_F(RoutingIntegrationTest, AClaimTokenTellsReplicasOfOneSystemApart) {
  ASSERT_TRUE(Deliver(Received("X-0012"), "dossiers/X-0012"));
  const std::string civil =
      Leg(Route("dossiers/X-0012"), "civil_status").name();
  const auto claim = [&](v1::Task* out) {
    grpc::ClientContext ctx;
    As(ctx, "W-TP");
    v1::ClaimTaskRequest req;
    req.set_name(civil);
    req.mutable_lease_duration()->set_seconds(60);
    v1::ClaimTaskResponse resp;
    grpc::Status s = stub_->ClaimTask(&ctx, req, &resp);
    *out = resp.task();
    return s;
  };
  const auto complete = [&](const std::string& token) {
    grpc::ClientContext ctx;
    As(ctx, "W-TP");
    v1::CompleteTaskRequest req;
    req.set_name(civil);
    req.set_claim_token(token);
    for (auto [k, v] : {std::pair{"birth_certificate_number", "8/2026"},
                        std::pair{"personal_id", "001226012346"}}) {
      auto* o = req.add_outputs();
      o->set_key(k);
      o->set_value(v);
    }
    v1::CompleteTaskResponse resp;
    return stub_->CompleteTask(&ctx, req, &resp);
  };
  v1::Task first, second;
  ASSERT_TRUE(claim(&first).ok());  // replica 1
  clock_.Advance(absl::Minutes(2));
  ASSERT_EQ(*server_->ExpireLeasesOnce(), 1);
  ASSERT_TRUE(claim(&second).ok());  // replica 2, the same name
  ASSERT_FALSE(first.claim_token().empty());
  ASSERT_NE(first.claim_token(), second.claim_token());
  const grpc::Status late = complete(first.claim_token());
  EXPECT_THAT(late, GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(common::GetErrorDetails(grpc_util::FromGrpcStatus(late)).reason,
            "CLAIMED_BY_ANOTHER");
  EXPECT_TRUE(complete(second.claim_token()).ok());
}

TEST_F(RoutingIntegrationTest,
       AWorkerWhoseLeaseRanOutCannotActOverTheNewHolder) {
  ASSERT_TRUE(Deliver(Received("X-0004"), "dossiers/X-0004"));
  const std::string civil =
      Leg(Route("dossiers/X-0004"), "civil_status").name();
  // Two workers of the justice office, each with its own identity.
  const auto as = [](grpc::ClientContext& ctx, const std::string& subject) {
    ctx.AddMetadata("x-lienthong-role", "agency_system");
    ctx.AddMetadata("x-lienthong-agency", "W-TP");
    ctx.AddMetadata("x-lienthong-subject", subject);
  };
  const auto claim = [&](const std::string& subject) {
    grpc::ClientContext ctx;
    as(ctx, subject);
    v1::ClaimTaskRequest req;
    req.set_name(civil);
    req.mutable_lease_duration()->set_seconds(60);
    v1::ClaimTaskResponse resp;
    return stub_->ClaimTask(&ctx, req, &resp);
  };
  const auto complete = [&](const std::string& subject) {
    grpc::ClientContext ctx;
    as(ctx, subject);
    v1::CompleteTaskRequest req;
    req.set_name(civil);
    for (auto [k, v] : {std::pair{"birth_certificate_number", "7/2026"},
                        std::pair{"personal_id", "001226012345"}}) {
      auto* o = req.add_outputs();
      o->set_key(k);
      o->set_value(v);
    }
    v1::CompleteTaskResponse resp;
    return stub_->CompleteTask(&ctx, req, &resp);
  };
  ASSERT_TRUE(claim("may-1").ok());
  clock_.Advance(absl::Minutes(2));
  // Its lease is over although the sweeper has not run yet: the work may
  // be someone else's by the time it lands.
  const grpc::Status expired = complete("may-1");
  EXPECT_THAT(expired, GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(common::GetErrorDetails(grpc_util::FromGrpcStatus(expired)).reason,
            "LEASE_EXPIRED");
  ASSERT_EQ(*server_->ExpireLeasesOnce(), 1);
  ASSERT_TRUE(claim("may-2").ok());
  // The first worker comes back late: refused, naming who holds it.
  const grpc::Status late = complete("may-1");
  EXPECT_THAT(late, GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(common::GetErrorDetails(grpc_util::FromGrpcStatus(late)).reason,
            "CLAIMED_BY_ANOTHER");
  EXPECT_NE(late.error_message().find("may-2"), std::string::npos);
  {
    grpc::ClientContext ctx;
    as(ctx, "may-1");
    v1::RenewLeaseRequest req;
    req.set_name(civil);
    v1::RenewLeaseResponse resp;
    EXPECT_THAT(stub_->RenewLease(&ctx, req, &resp),
                GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  }
  EXPECT_TRUE(complete("may-2").ok());
  EXPECT_EQ(Leg(Route("dossiers/X-0004"), "civil_status").state(),
            v1::TASK_STATE_DONE);
  // Who did what is in the audit trail; the refused attempts changed
  // nothing and left no "OK" row.
  const auto did = [&](const std::string& action, const std::string& who) {
    return Count(absl::StrCat(
        "SELECT count(*) FROM routing.audit WHERE outcome = 'OK' AND "
        "action = '",
        action, "' AND subject = '", who, "' AND resource = '", civil,
        "' AND agency = 'W-TP' AND role = 'agency_system'"));
  };
  EXPECT_EQ(did("ClaimTask", "may-1"), 1);
  EXPECT_EQ(did("ClaimTask", "may-2"), 1);
  EXPECT_EQ(did("CompleteTask", "may-1"), 0);
  EXPECT_EQ(did("RenewLease", "may-1"), 0);
  EXPECT_EQ(did("CompleteTask", "may-2"), 1);
}

TEST_F(RoutingIntegrationTest, AgenciesActOnlyOnTheirOwnTasks) {
  ASSERT_TRUE(Deliver(Received("X-0002"), "dossiers/X-0002"));
  const std::string civil =
      Leg(Route("dossiers/X-0002"), "civil_status").name();
  EXPECT_THAT(Claim(civil, "W-CA"),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  grpc::ClientContext ctx;
  As(ctx, "W-CA");
  v1::ListTasksRequest req;
  req.set_agency("agencies/W-TP");
  v1::ListTasksResponse resp;
  EXPECT_THAT(stub_->ListTasks(&ctx, req, &resp),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_EQ(Count("SELECT count(*) FROM routing.audit WHERE outcome = "
                  "'PERMISSION_DENIED'"),
            2);
  // Completing an unclaimed task names its state.
  grpc::Status s = Complete(
      civil, "W-TP",
      {{"birth_certificate_number", "1"}, {"personal_id", "001226012345"}});
  EXPECT_THAT(s, GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_NE(s.error_message().find("READY"), std::string::npos);
}

TEST_F(RoutingIntegrationTest,
       ExpiredLeaseReturnsTheTaskAndClaimsAreIdempotent) {
  ASSERT_TRUE(Deliver(Received("X-0003"), "dossiers/X-0003"));
  const std::string civil =
      Leg(Route("dossiers/X-0003"), "civil_status").name();
  const std::string rid = common::NewUuid();
  v1::Task first, replay;
  ASSERT_TRUE(Claim(civil, "W-TP", &first, absl::Minutes(1), rid).ok());
  ASSERT_TRUE(Claim(civil, "W-TP", &replay, absl::Minutes(1), rid).ok());
  EXPECT_EQ(replay.lease_expire_time().seconds(),
            first.lease_expire_time().seconds());
  EXPECT_THAT(
      Claim(civil, "W-TP", nullptr, absl::Minutes(2), rid),
      GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));  // REQUEST_ID_REUSED
  EXPECT_THAT(Claim(civil, "W-TP"),
              GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(*server_->ExpireLeasesOnce(), 0);
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(*server_->ExpireLeasesOnce(), 1);
  EXPECT_EQ(Leg(Route("dossiers/X-0003"), "civil_status").state(),
            v1::TASK_STATE_READY);
  EXPECT_TRUE(Claim(civil, "W-TP").ok());
}

TEST_F(RoutingIntegrationTest,
       SupplementPausesAndTheCitizensSupplementResumes) {
  ASSERT_TRUE(Deliver(Received("X-0004"), "dossiers/X-0004"));
  const std::string civil =
      Leg(Route("dossiers/X-0004"), "civil_status").name();
  ASSERT_TRUE(Claim(civil, "W-TP").ok());
  grpc::ClientContext ctx;
  As(ctx, "W-TP");
  v1::RequestSupplementRequest req;
  req.set_name(civil);
  req.set_reason("Thiếu văn bản xác nhận việc sinh");
  req.add_missing_items("Văn bản xác nhận của người làm chứng");
  v1::RequestSupplementResponse resp;
  ASSERT_TRUE(stub_->RequestSupplement(&ctx, req, &resp).ok());
  EXPECT_EQ(Route("dossiers/X-0004").state(), v1::ROUTE_STATE_PAUSED);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.outbox WHERE event_type = "
                  "'lienthong.routing.v1.LegSupplementRequested'"),
            2);  // intake and deadline
  intake::v1::DossierSupplemented sup;
  sup.set_dossier("dossiers/X-0004");
  auto* f = sup.add_fields();
  f->set_key("birth_witness_name");
  f->set_value("Lê Thị Hoa");
  ASSERT_TRUE(Deliver(sup, "dossiers/X-0004"));
  const v1::Route r = Route("dossiers/X-0004");
  EXPECT_EQ(r.state(), v1::ROUTE_STATE_ACTIVE);
  const v1::Task& t = Leg(r, "civil_status");
  EXPECT_EQ(t.state(), v1::TASK_STATE_READY);
  bool has = false;
  for (const auto& in : t.inputs()) has |= in.key() == "birth_witness_name";
  EXPECT_TRUE(has);
}

TEST_F(RoutingIntegrationTest,
       RefusalCancelsOtherLegsAndWithdrawalCancelsTheRoute) {
  ASSERT_TRUE(Deliver(Received("X-0005"), "dossiers/X-0005"));
  FinishCivil("dossiers/X-0005");
  const std::string police = Leg(Route("dossiers/X-0005"), "residency").name();
  ASSERT_TRUE(Claim(police, "W-CA").ok());
  grpc::ClientContext ctx;
  As(ctx, "W-CA");
  v1::RefuseTaskRequest req;
  req.set_name(police);
  req.set_reason("Địa chỉ thường trú không hợp lệ");
  v1::RefuseTaskResponse resp;
  ASSERT_TRUE(stub_->RefuseTask(&ctx, req, &resp).ok());
  v1::Route r = Route("dossiers/X-0005");
  EXPECT_EQ(r.state(), v1::ROUTE_STATE_REFUSED);
  EXPECT_EQ(Leg(r, "health_insurance").state(), v1::TASK_STATE_CANCELLED);
  EXPECT_EQ(
      Count("SELECT count(*) FROM routing.outbox WHERE event_type = "
            "'lienthong.routing.v1.TaskCancelled' AND destination = 'notify'"),
      1);

  ASSERT_TRUE(Deliver(Received("X-0006"), "dossiers/X-0006"));
  FinishCivil("dossiers/X-0006");
  intake::v1::DossierWithdrawn w;
  w.set_dossier("dossiers/X-0006");
  ASSERT_TRUE(Deliver(w, "dossiers/X-0006"));
  r = Route("dossiers/X-0006");
  EXPECT_EQ(r.state(), v1::ROUTE_STATE_CANCELLED);
  EXPECT_EQ(Leg(r, "civil_status").state(), v1::TASK_STATE_DONE);
  EXPECT_EQ(Leg(r, "residency").state(), v1::TASK_STATE_CANCELLED);
  EXPECT_EQ(Leg(r, "health_insurance").state(), v1::TASK_STATE_CANCELLED);
}

// Legs that become ready after their route was planned are dispatched with
// their agency's tier and ancestors, and handed over across tiers, even
// while intake (the agency tree) cannot be reached.
TEST_F(RoutingIntegrationTest, ALaterLegIsDispatchedWhileIntakeIsAway) {
  ASSERT_TRUE(Deliver(Received("X-0401"), "dossiers/X-0401"));
  dir_.SetUnreachable(true);
  FinishCivil("dossiers/X-0401");
  const v1::Route r = Route("dossiers/X-0401");
  ASSERT_EQ(Leg(r, "health_insurance").state(), v1::TASK_STATE_READY);
  EXPECT_EQ(Leg(r, "health_insurance").agency_tier(),
            common::v1::TIER_DISTRICT);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.handovers"), 1);
  bool seen = false;
  ASSERT_TRUE(
      db::WithTransaction(pool_, [&](pqxx::work& tx) {
        for (const auto& row :
             tx.exec("SELECT p.payload FROM routing.outbox JOIN "
                     "routing.outbox_payloads p "
                     "USING (event_id) WHERE event_type "
                     "= 'lienthong.routing.v1.TaskDispatched' AND "
                     "destination = 'deadline'")) {
          const pqxx::binarystring b(row[0]);
          common::v1::Event e;
          v1::TaskDispatched d;
          if (!e.ParseFromString(b.str()) || !e.payload().UnpackTo(&d) ||
              d.leg_id() != "health_insurance") {
            continue;
          }
          seen = true;
          EXPECT_EQ(d.agency_tier(), common::v1::TIER_DISTRICT);
          EXPECT_EQ(std::vector<std::string>(d.agency_ancestor_codes().begin(),
                                             d.agency_ancestor_codes().end()),
                    std::vector<std::string>{"D"});
        }
        return absl::OkStatus();
      }).ok());
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace lienthong::routing
