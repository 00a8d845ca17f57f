#pragma once

// The routing integration tests' fixture: a RoutingServer over a fresh
// database of the private PostgreSQL cluster, served on 127.0.0.1:0, with
// a fake agency tree (the AgencyDirectory seam) and a FakeClock.

#include <atomic>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "libs/db/migrations.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/testing/in_process_server.h"
#include "libs/testing/pg_cluster.h"
#include "lienthong/intake/v1/events.pb.h"
#include "routing_migrations.h"
#include "services/routing/agency_tree_for_testing.h"
#include "services/routing/routing_server.h"

namespace lienthong::routing {

inline common::v1::FieldSpec Out(const std::string& key,
                                 common::v1::FieldType t) {
  common::v1::FieldSpec s;
  s.set_key(key);
  s.set_label(key);
  s.set_type(t);
  s.set_required(true);
  return s;
}

inline intake::v1::DossierReceived Received(const std::string& code) {
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
      : dsn_(testing::PgCluster::Get().NewDatabase()),
        pool_(db::PoolOptions{dsn_, 4, absl::Seconds(5),
                              [this](const char* kind) {
                                if (std::string(kind) == "query")
                                  ++query_errors_;
                              }}) {
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
      std::vector<std::pair<std::string, std::string>> outputs,
      const std::string& request_id = "", v1::Task* out = nullptr) {
    grpc::ClientContext ctx;
    As(ctx, agency);
    v1::CompleteTaskRequest req;
    req.set_name(task);
    req.set_request_id(request_id);
    for (auto& [k, v] : outputs) {
      auto* o = req.add_outputs();
      o->set_key(k);
      o->set_value(v);
    }
    v1::CompleteTaskResponse resp;
    grpc::Status s = stub_->CompleteTask(&ctx, req, &resp);
    if (out) *out = resp.task();
    return s;
  }
  int64_t Count(const std::string& sql) {
    return db::WithTransaction(pool_,
                               [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
                                 return tx.exec(sql)[0][0].as<int64_t>();
                               })
        .value_or(-1);
  }
  // Watches `agency`'s queue, reads its first item and disconnects: that
  // item, with the cursor to come back with.
  // An open WatchTasks stream of `agency` from `cursor`, read item by item;
  // it disconnects when destroyed.
  class WatchStream {
   public:
    WatchStream(RoutingIntegrationTest& t, const std::string& agency,
                const std::string& cursor) {
      t.As(ctx_, agency);
      v1::WatchTasksRequest req;
      req.set_agency("agencies/" + agency);
      req.set_cursor(cursor);
      reader_ = t.stub_->WatchTasks(&ctx_, req);
    }
    ~WatchStream() {
      ctx_.TryCancel();
      reader_->Finish();
    }
    // The next item (empty, and a test failure, when the stream ended).
    v1::WatchTasksResponse Next() {
      v1::WatchTasksResponse item;
      EXPECT_TRUE(reader_->Read(&item));
      return item;
    }

   private:
    grpc::ClientContext ctx_;
    std::unique_ptr<grpc::ClientReader<v1::WatchTasksResponse>> reader_;
  };
  v1::WatchTasksResponse WatchFirstAndLeave(const std::string& agency) {
    return WatchStream(*this, agency, "").Next();
  }
  void FinishCivil(const std::string& dossier) {
    const std::string t = Leg(Route(dossier), "civil_status").name();
    ASSERT_TRUE(Claim(t, "W-TP").ok());
    ASSERT_TRUE(Complete(t, "W-TP",
                         {{"birth_certificate_number", "12/2026"},
                          {"personal_id", "001226012345"}})
                    .ok());
  }

  // Failed statements, deadlocks and serialization failures included (even
  // when a retry then succeeded).
  std::atomic<int> query_errors_{0};
  common::FakeClock clock_;
  TreeDirectory dir_;
  std::string dsn_;
  db::Pool pool_;
  std::unique_ptr<RoutingServer> server_;
  std::unique_ptr<testing::InProcessServer> grpc_;
  std::unique_ptr<v1::RoutingService::Stub> stub_;
};

}  // namespace lienthong::routing
