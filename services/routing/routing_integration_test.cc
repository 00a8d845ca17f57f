// routing over real gRPC (127.0.0.1:0) and a real PostgreSQL. The agency
// tree comes from a fake directory (the AgencyDirectory seam).

#include <map>

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
#include "routing_migrations.h"
#include "services/routing/routing_server.h"

namespace lienthong::routing {
namespace {

using ::lienthong::testing::GrpcStatusIs;
using ::lienthong::testing::PgCluster;

class TreeDirectory : public AgencyDirectory {
 public:
  TreeDirectory() {
    Add("D", "", common::v1::AGENCY_KIND_PEOPLES_COMMITTEE,
        common::v1::TIER_DISTRICT);
    Add("D-SI", "D", common::v1::AGENCY_KIND_SOCIAL_INSURANCE,
        common::v1::TIER_DISTRICT);
    Add("W", "D", common::v1::AGENCY_KIND_PEOPLES_COMMITTEE,
        common::v1::TIER_COMMUNE);
    Add("W-1CUA", "W", common::v1::AGENCY_KIND_ONE_STOP_UNIT,
        common::v1::TIER_COMMUNE);
    Add("W-TP", "W", common::v1::AGENCY_KIND_JUSTICE, common::v1::TIER_COMMUNE);
    Add("W-CA", "W", common::v1::AGENCY_KIND_POLICE, common::v1::TIER_COMMUNE);
  }
  absl::StatusOr<intake::v1::Agency> Get(const std::string& code) override {
    auto it = by_code_.find(code);
    if (it == by_code_.end()) return absl::NotFoundError(code);
    return it->second;
  }
  absl::StatusOr<std::vector<intake::v1::Agency>> ChildrenOfKind(
      const std::string& unit, common::v1::AgencyKind kind) override {
    std::vector<intake::v1::Agency> out;
    for (auto& [c, a] : by_code_) {
      if (a.parent() == "agencies/" + unit && a.kind() == kind)
        out.push_back(a);
    }
    return out;
  }

 private:
  void Add(const std::string& code, const std::string& parent,
           common::v1::AgencyKind kind, common::v1::Tier tier) {
    intake::v1::Agency a;
    a.set_code(code);
    a.set_name("agencies/" + code);
    a.set_display_name("Cơ quan " + code);
    a.set_kind(kind);
    a.set_tier(tier);
    if (!parent.empty()) a.set_parent("agencies/" + parent);
    a.set_administrative_unit(kind == common::v1::AGENCY_KIND_PEOPLES_COMMITTEE
                                  ? a.name()
                                  : "agencies/" + parent);
    by_code_[code] = a;
  }
  std::map<std::string, intake::v1::Agency> by_code_;
};

common::v1::FieldSpec Out(const std::string& key, common::v1::FieldType t) {
  common::v1::FieldSpec s;
  s.set_key(key);
  s.set_label(key);
  s.set_type(t);
  s.set_required(true);
  return s;
}

intake::v1::DossierReceived Received(const std::string& code) {
  intake::v1::DossierReceived r;
  r.set_dossier("dossiers/" + code);
  TreeDirectory dir;
  *r.mutable_receiving_agency() = *dir.Get("W-1CUA");
  auto* p = r.mutable_procedure();
  p->set_name("procedures/LT.01");
  p->set_display_name("Liên thông khai sinh");
  auto leg = [&](const std::string& id, common::v1::AgencyKind k, int up,
                 std::vector<std::string> deps) {
    auto* l = p->add_legs();
    l->set_id(id);
    l->set_display_name(id);
    l->set_agency_kind(k);
    l->set_levels_up(up);
    l->mutable_time_limit()->set_unit(common::v1::WORKING_DURATION_UNIT_DAYS);
    l->mutable_time_limit()->set_amount(1);
    for (auto& d : deps) {
      l->add_depends_on(d);
      l->add_consumes("personal_id");
    }
    return l;
  };
  auto* civil = leg("civil_status", common::v1::AGENCY_KIND_JUSTICE, 0, {});
  *civil->add_produces() =
      Out("birth_certificate_number", common::v1::FIELD_TYPE_TEXT);
  *civil->add_produces() =
      Out("personal_id", common::v1::FIELD_TYPE_PERSONAL_ID);
  *leg("residency", common::v1::AGENCY_KIND_POLICE, 0, {"civil_status"})
       ->add_produces() =
      Out("residence_confirmation_number", common::v1::FIELD_TYPE_TEXT);
  *leg("health_insurance", common::v1::AGENCY_KIND_SOCIAL_INSURANCE, 1,
       {"civil_status"})
       ->add_produces() =
      Out("health_insurance_card_number", common::v1::FIELD_TYPE_TEXT);
  auto* f = r.add_fields();
  f->set_key("place_of_birth");
  f->set_value("Bệnh viện Phụ sản Hà Nội");
  return r;
}

class RoutingIntegrationTest : public ::testing::Test {
 protected:
  RoutingIntegrationTest()
      : dsn_(PgCluster::Get().NewDatabase()), pool_({dsn_, 4}) {
    EXPECT_TRUE(db::Migrate(pool_, "routing", Migrations()).ok());
    RoutingOptions o;
    o.insecure_dev_auth = true;
    o.watch_poll = absl::Milliseconds(50);
    server_ = std::make_unique<RoutingServer>(pool_, clock_, dir_, o);
    server_->StartFeedListener();
    grpc_ = std::make_unique<testing::InProcessServer>(
        std::vector<grpc::Service*>{server_.get()});
    stub_ = v1::RoutingService::NewStub(grpc_->NewChannel());
  }
  ~RoutingIntegrationTest() override {
    server_->Stop();
    grpc_.reset();
  }

  void As(grpc::ClientContext& ctx, const std::string& agency) {
    ctx.AddMetadata("x-lienthong-role", "agency_system");
    ctx.AddMetadata("x-lienthong-agency", agency);
    ctx.AddMetadata("x-lienthong-subject", "sys-" + agency);
  }
  bool Deliver(const google::protobuf::Message& m, const std::string& dossier,
               std::string* event_id = nullptr) {
    common::v1::Event e =
        grpc_util::MakeEvent(m, "intake", dossier, clock_.Now());
    if (event_id) *event_id = e.event_id();
    auto r = server_->HandleEvent(e);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.value_or(false);
  }
  v1::Route Route(const std::string& dossier) {
    grpc::ClientContext ctx;
    As(ctx, "W-1CUA");
    v1::GetRouteRequest req;
    req.set_dossier(dossier);
    v1::GetRouteResponse resp;
    EXPECT_TRUE(stub_->GetRoute(&ctx, req, &resp).ok());
    return resp.route();
  }
  const v1::Task& Leg(const v1::Route& r, const std::string& id) {
    for (const auto& t : r.tasks()) {
      if (t.leg_id() == id) return t;
    }
    static v1::Task none;
    return none;
  }
  grpc::Status Claim(const std::string& task, const std::string& agency,
                     v1::Task* out = nullptr,
                     absl::Duration lease = absl::Minutes(5),
                     const std::string& request_id = "") {
    grpc::ClientContext ctx;
    As(ctx, agency);
    v1::ClaimTaskRequest req;
    req.set_name(task);
    req.mutable_lease_duration()->set_seconds(absl::ToInt64Seconds(lease));
    req.set_request_id(request_id);
    v1::ClaimTaskResponse resp;
    grpc::Status s = stub_->ClaimTask(&ctx, req, &resp);
    if (out) *out = resp.task();
    return s;
  }
  grpc::Status Complete(
      const std::string& task, const std::string& agency,
      std::vector<std::pair<std::string, std::string>> outputs) {
    grpc::ClientContext ctx;
    As(ctx, agency);
    v1::CompleteTaskRequest req;
    req.set_name(task);
    for (auto& [k, v] : outputs) {
      auto* o = req.add_outputs();
      o->set_key(k);
      o->set_value(v);
    }
    v1::CompleteTaskResponse resp;
    return stub_->CompleteTask(&ctx, req, &resp);
  }
  int64_t Count(const std::string& sql) {
    return db::WithTransaction(pool_,
                               [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
                                 return tx.exec(sql)[0][0].as<int64_t>();
                               })
        .value_or(-1);
  }
  void FinishCivil(const std::string& dossier) {
    const std::string t = Leg(Route(dossier), "civil_status").name();
    ASSERT_TRUE(Claim(t, "W-TP").ok());
    ASSERT_TRUE(Complete(t, "W-TP",
                         {{"birth_certificate_number", "12/2026"},
                          {"personal_id", "001226012345"}})
                    .ok());
  }

  common::FakeClock clock_;
  TreeDirectory dir_;
  std::string dsn_;
  db::Pool pool_;
  std::unique_ptr<RoutingServer> server_;
  std::unique_ptr<testing::InProcessServer> grpc_;
  std::unique_ptr<v1::RoutingService::Stub> stub_;
};

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
  // A replayed DossierReceived plans nothing twice.
  intake::v1::DossierReceived again = Received("X-0001");
  common::v1::Event e =
      grpc_util::MakeEvent(again, "intake", "dossiers/X-0001", clock_.Now());
  e.set_event_id(event_id);
  EXPECT_FALSE(server_->HandleEvent(e).value_or(true));
  EXPECT_EQ(Count("SELECT count(*) FROM routing.tasks"), 3);
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

TEST_F(RoutingIntegrationTest, WatchResumesFromItsCursorAndMissesNothing) {
  ASSERT_TRUE(Deliver(Received("X-0007"), "dossiers/X-0007"));
  std::string cursor;
  {
    grpc::ClientContext ctx;
    As(ctx, "W-TP");
    v1::WatchTasksRequest req;
    req.set_agency("agencies/W-TP");
    auto reader = stub_->WatchTasks(&ctx, req);
    v1::WatchTasksResponse item;
    ASSERT_TRUE(reader->Read(&item));
    EXPECT_EQ(item.task().dossier(), "dossiers/X-0007");
    cursor = item.cursor();
    ctx.TryCancel();  // disconnect
    reader->Finish();
  }
  // While disconnected, another dossier's leg becomes ready.
  ASSERT_TRUE(Deliver(Received("X-0008"), "dossiers/X-0008"));
  grpc::ClientContext ctx;
  As(ctx, "W-TP");
  v1::WatchTasksRequest req;
  req.set_agency("agencies/W-TP");
  req.set_cursor(cursor);
  auto reader = stub_->WatchTasks(&ctx, req);
  v1::WatchTasksResponse item;
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.task().dossier(), "dossiers/X-0008");  // not X-0007 again
  // A task that becomes ready while watching arrives on the open stream.
  ASSERT_TRUE(Deliver(Received("X-0009"), "dossiers/X-0009"));
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.task().dossier(), "dossiers/X-0009");
  ctx.TryCancel();
  reader->Finish();
}

}  // namespace
}  // namespace lienthong::routing
