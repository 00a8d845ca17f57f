// intake's agency tree over real gRPC and PostgreSQL: tiers as data (a
// two-tier province-commune tree), the order of tiers, and a ward moving to
// another district with its units and dossiers; changes of the tree and
// of a procedure one after another.

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "libs/grpc_util/proto_time.h"
#include "services/intake/intake_test_fixture.h"

namespace lienthong::intake {
namespace {

using ::lienthong::testing::GrpcStatusIs;
using namespace testing_support;  // NOLINT

TEST_F(IntakeIntegrationTest, TwoTierProvinceCommuneTreeWorks) {
  // Tiers are data: a province with communes directly under it.
  ASSERT_TRUE(UpsertAgencyAsAdmin("000.00.00.T01", common::v1::TIER_PROVINCE,
                                  common::v1::AGENCY_KIND_PEOPLES_COMMITTEE, "")
                  .ok());
  ASSERT_TRUE(UpsertAgencyAsAdmin("000.01.00.T01", common::v1::TIER_COMMUNE,
                                  common::v1::AGENCY_KIND_PEOPLES_COMMITTEE,
                                  "000.00.00.T01")
                  .ok());
  ASSERT_TRUE(UpsertAgencyAsAdmin("001.01.00.T01", common::v1::TIER_COMMUNE,
                                  common::v1::AGENCY_KIND_ONE_STOP_UNIT,
                                  "000.01.00.T01")
                  .ok());
  v1::SubmitDossierResponse resp;
  ASSERT_TRUE(Submit(*a_, Birth("001.01.00.T01"), &resp, "000.00.00.T01").ok());
  grpc::ClientContext ctx;
  As(ctx, "supervisor", "000.00.00.T01");
  v1::ResolveAgencySubtreeRequest sub;
  sub.set_name("agencies/000.00.00.T01");
  v1::ResolveAgencySubtreeResponse tree;
  ASSERT_TRUE(a_->stub->ResolveAgencySubtree(&ctx, sub, &tree).ok());
  EXPECT_EQ(tree.agencies_size(), 3);
  EXPECT_EQ(tree.agencies(2).administrative_unit(), "agencies/000.01.00.T01");

  // Tiers only go down: no district under a commune, and a province with
  // a district under it cannot become a commune.
  grpc::Status s = UpsertAgencyAsAdmin(
      "000.02.00.T01", common::v1::TIER_DISTRICT,
      common::v1::AGENCY_KIND_PEOPLES_COMMITTEE, "000.01.00.T01");
  EXPECT_THAT(s, GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(common::GetErrorDetails(grpc_util::FromGrpcStatus(s)).reason,
            "TIER_ABOVE_PARENT");
  ASSERT_TRUE(UpsertAgencyAsAdmin("000.03.00.T01", common::v1::TIER_DISTRICT,
                                  common::v1::AGENCY_KIND_PEOPLES_COMMITTEE,
                                  "000.00.00.T01")
                  .ok());
  s = UpsertAgencyAsAdmin("000.00.00.T01", common::v1::TIER_COMMUNE,
                          common::v1::AGENCY_KIND_PEOPLES_COMMITTEE, "");
  EXPECT_THAT(s, GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(common::GetErrorDetails(grpc_util::FromGrpcStatus(s)).reason,
            "TIER_BELOW_CHILD");
  EXPECT_EQ(Count("SELECT count(*) FROM intake.agencies WHERE code LIKE "
                  "'%.T01'"),
            4);
}

// A ward moves to another district (as wards did in the 2025
// reorganisation): its units below it and the dossiers they received go
// with it — the new district sees them, the old one no longer does.
TEST_F(IntakeIntegrationTest, MovingAWardCarriesItsUnitsAndDossiers) {
  constexpr char kThanhXuan[] = "000.00.14.H26";
  constexpr char kNamTuLiem[] = "000.00.19.H26";
  constexpr char kHaDinhWard[] = "000.01.14.H26";
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kHaDinh), &sub, kHaDinh).ok());
  auto get_as = [&](const std::string& agency) {
    grpc::ClientContext ctx;
    As(ctx, "supervisor", agency);
    v1::GetDossierRequest req;
    req.set_name(sub.dossier().name());
    v1::GetDossierResponse resp;
    return a_->stub->GetDossier(&ctx, req, &resp);
  };
  ASSERT_TRUE(get_as(kThanhXuan).ok());
  EXPECT_THAT(get_as(kNamTuLiem),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));

  v1::Agency ward = GetAgencyAsAdmin(kHaDinhWard);
  ward.set_parent(absl::StrCat("agencies/", kNamTuLiem));
  {
    v1::UpsertAgencyResponse resp;
    ASSERT_TRUE(PutAgencyAsAdmin(ward, &resp).ok());
    EXPECT_FALSE(resp.created());
  }

  EXPECT_TRUE(get_as(kNamTuLiem).ok());
  EXPECT_THAT(get_as(kThanhXuan),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  // The ward's one-stop unit now names its new district among its ancestors.
  const v1::Agency unit = GetAgencyAsAdmin(kHaDinh);
  const auto& anc = unit.ancestor_codes();
  EXPECT_EQ(
      std::vector<std::string>(anc.begin(), anc.end()),
      (std::vector<std::string>{"000.00.00.H26", kNamTuLiem, kHaDinhWard}));
  EXPECT_EQ(unit.administrative_unit(), absl::StrCat("agencies/", kHaDinhWard));
  // And the new district's list of dossiers has it.
  grpc::ClientContext lctx;
  As(lctx, "supervisor", kNamTuLiem);
  v1::ListDossiersRequest list;
  list.set_parent(absl::StrCat("agencies/", kNamTuLiem));
  v1::ListDossiersResponse listed;
  ASSERT_TRUE(a_->stub->ListDossiers(&lctx, list, &listed).ok());
  ASSERT_EQ(listed.dossiers_size(), 1);
  EXPECT_EQ(listed.dossiers(0).code(), sub.dossier().code());
}

// Submissions at the ward while it moves: a batch that read the ward's path
// before the move and writes after it, and one that wrote before the move
// but commits after, both end with the ward's new path.
TEST_F(IntakeIntegrationTest, DossiersSubmittedDuringAMoveFollowTheWard) {
  constexpr char kThanhXuan[] = "000.00.14.H26";
  constexpr char kNamTuLiem[] = "000.00.19.H26";
  constexpr char kHaDinhWard[] = "000.01.14.H26";
  std::string act_at;         // the batch phase to act in
  std::function<void()> act;  // what happens there, once
  IntakeOptions options = Replica::Options();
  options.submit_batch_phase_for_testing = [&](absl::string_view phase) {
    if (act && phase == act_at) std::exchange(act, nullptr)();
  };
  Replica counter(dsn_, clock_, options);
  const auto move_ward_to = [&](const std::string& district) {
    v1::Agency ward = GetAgencyAsAdmin(kHaDinhWard);
    ward.set_parent(absl::StrCat("agencies/", district));
    v1::UpsertAgencyResponse resp;
    return PutAgencyAsAdmin(ward, &resp);
  };
  const auto text = [&](const std::string& sql) {
    db::Pool pool({dsn_, 1});
    std::string out;
    EXPECT_TRUE(db::WithTransaction(pool, [&](pqxx::work& tx) {
                  out = tx.exec(sql)[0][0].as<std::string>();
                  return absl::OkStatus();
                }).ok());
    return out;
  };
  const auto paths_agree = [&](const v1::Dossier& d) {
    EXPECT_EQ(text(absl::StrCat("SELECT agency_path FROM intake.dossiers "
                                "WHERE code = '",
                                d.code(), "'")),
              text(absl::StrCat("SELECT path FROM intake.agencies WHERE "
                                "code = '",
                                kHaDinh, "'")));
  };

  // The move commits between the batch's read and its write.
  act_at = "read";
  act = [&] { EXPECT_TRUE(move_ward_to(kNamTuLiem).ok()); };
  v1::SubmitDossierResponse first;
  ASSERT_TRUE(Submit(counter, Birth(kHaDinh), &first, kHaDinh).ok());
  ASSERT_EQ(act, nullptr);
  paths_agree(first.dossier());

  // The move begins after the batch wrote its dossier, before it commits:
  // the move waits for it (and then rewrites its path).
  std::atomic<bool> moved{false};
  grpc::Status move_status;
  std::thread mover;
  bool waited = false;
  act_at = "written";
  act = [&] {
    mover = std::thread([&] {
      move_status = move_ward_to(kThanhXuan);
      moved = true;
    });
    for (int i = 0; i < 1000 && !waited && !moved; ++i) {
      waited = Count(
                   "SELECT count(*) FROM pg_locks l JOIN pg_class c ON "
                   "c.oid = l.relation WHERE NOT l.granted AND c.relname = "
                   "'dossiers'") > 0;
      if (!waited) absl::SleepFor(absl::Milliseconds(10));
    }
  };
  v1::SubmitDossierResponse second;
  ASSERT_TRUE(Submit(counter, Birth(kHaDinh), &second, kHaDinh).ok());
  mover.join();
  EXPECT_TRUE(waited);
  EXPECT_TRUE(move_status.ok()) << move_status.error_message();
  paths_agree(second.dossier());
  paths_agree(first.dossier());
}

// Two moves side by side, X under Y and Y under X, each lined up behind a
// lock a third session holds: one goes through, the other finds the cycle
// it would close. (Both once passed their checks and committed a cycle.)
TEST_F(IntakeIntegrationTest, CrossedMovesCannotMakeACycle) {
  constexpr char kX[] = "000.00.98.H26", kY[] = "000.00.99.H26";
  for (const char* code : {kX, kY}) {
    ASSERT_TRUE(UpsertAgencyAsAdmin(code, common::v1::TIER_DISTRICT,
                                    common::v1::AGENCY_KIND_OTHER,
                                    "000.00.00.H26")
                    .ok());
  }
  pqxx::connection holder(dsn_);
  pqxx::work hold(holder);
  hold.exec("LOCK TABLE intake.dossiers IN SHARE ROW EXCLUSIVE MODE");
  grpc::Status x_under_y, y_under_x;
  std::thread a([&] {
    x_under_y = UpsertAgencyAsAdmin(kX, common::v1::TIER_DISTRICT,
                                    common::v1::AGENCY_KIND_OTHER, kY);
  });
  std::thread b([&] {
    y_under_x = UpsertAgencyAsAdmin(kY, common::v1::TIER_DISTRICT,
                                    common::v1::AGENCY_KIND_OTHER, kX);
  });
  // Both wait (on the tree's lock or the table's) before the holder lets go.
  for (int i = 0; i < 2000 && Count("SELECT count(*) FROM pg_locks WHERE "
                                    "NOT granted") < 2;
       ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  hold.commit();
  a.join();
  b.join();
  EXPECT_NE(x_under_y.ok(), y_under_x.ok())
      << x_under_y.error_message() << " / " << y_under_x.error_message();
  EXPECT_EQ(Count("SELECT count(*) FROM intake.agencies WHERE path LIKE "
                  "'%/' || code || '/%/' || code || '/%'"),
            0);
}

// Versions of one procedure upserted side by side: each gets its own
// number, none fails.
TEST_F(IntakeIntegrationTest, ConcurrentProcedureVersionsAllLand) {
  auto procs = FromJson<v1::ListProceduresResponse>(
      ReadSource("data/seed/procedures.json"));
  v1::Procedure p = procs.procedures(0);
  p.set_code("TEST.99");
  constexpr int kCalls = 12;
  std::vector<int> versions(kCalls, 0);
  std::vector<std::thread> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.emplace_back([&, i] {
      grpc::ClientContext ctx;
      As(ctx, "admin", "000.00.00.H26");
      v1::UpsertProcedureRequest req;
      *req.mutable_procedure() = p;
      req.mutable_procedure()->set_display_name(absl::StrCat("Phiên bản ", i));
      v1::UpsertProcedureResponse resp;
      grpc::Status s = a_->stub->UpsertProcedure(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      versions[i] = resp.procedure().version();
    });
  }
  for (auto& t : calls) t.join();
  std::sort(versions.begin(), versions.end());
  for (int i = 0; i < kCalls; ++i) EXPECT_EQ(versions[i], i + 1);
}

// A ward's committee that stops being one: its offices report to the next
// committee up (routing walks up the tree by administrative_unit).
TEST_F(IntakeIntegrationTest, AKindChangeRefreshesTheOfficesBelow) {
  ASSERT_EQ(GetAgencyAsAdmin(kHaDinh).administrative_unit(),
            "agencies/000.01.14.H26");
  v1::Agency ward = GetAgencyAsAdmin("000.01.14.H26");
  ward.set_kind(common::v1::AGENCY_KIND_OTHER);
  v1::UpsertAgencyResponse resp;
  ASSERT_TRUE(PutAgencyAsAdmin(ward, &resp).ok());
  EXPECT_EQ(GetAgencyAsAdmin(kHaDinh).administrative_unit(),
            resp.agency().administrative_unit());
  EXPECT_NE(resp.agency().administrative_unit(), "agencies/000.01.14.H26");
}

}  // namespace
}  // namespace lienthong::intake
