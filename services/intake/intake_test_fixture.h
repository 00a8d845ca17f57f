#pragma once

// Test support for intake's integration tests: seed files, an intake replica
// on a loopback port over its own pool, and a fixture with a migrated,
// seeded database (Monday 2026-11-23 09:00 in Hà Nội on a FakeClock).

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "intake_migrations.h"
#include "libs/calendar/default_calendar.h"
#include "libs/common/uuid.h"
#include "libs/db/migrations.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/status_conversion.h"
#include "libs/testing/in_process_server.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"
#include "lienthong/routing/v1/events.pb.h"
#include "services/intake/intake_server.h"

namespace lienthong::intake::testing_support {

using ::lienthong::testing::PgCluster;

inline constexpr char kTayMo[] = "001.08.19.H26";   // Tây Mỗ one-stop unit
inline constexpr char kHaDinh[] = "001.01.14.H26";  // Hạ Đình one-stop unit
// A commune one-stop unit of another province (SeedOtherProvince).
inline constexpr char kOtherProvinceUnit[] = "001.01.00.T01";
inline constexpr char kOtherProvince[] = "000.00.00.T01";

inline std::string ReadSource(const std::string& rel) {
  std::ifstream in(std::string(std::getenv("LIENTHONG_SOURCE_DIR")) + "/" +
                   rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename M>
M FromJson(const std::string& text) {
  M m;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &m, o).ok());
  return m;
}

// One intake replica: its own pool and server on a loopback port.
struct Replica {
  Replica(const std::string& dsn, const common::Clock& clock,
          IntakeOptions options = Options())
      : pool({dsn, 4}),
        server(pool, clock, std::move(options)),
        grpc({&server}),
        stub(v1::IntakeService::NewStub(grpc.NewChannel())) {}
  static IntakeOptions Options() {
    IntakeOptions o;
    o.insecure_dev_auth = true;
    o.calendar = std::make_shared<const calendar::WorkingCalendar>(
        *calendar::DefaultCalendar());
    return o;
  }
  db::Pool pool;
  IntakeServer server;
  testing::InProcessServer grpc;
  std::unique_ptr<v1::IntakeService::Stub> stub;
};

inline void As(grpc::ClientContext& ctx, const std::string& role,
               const std::string& agency) {
  ctx.AddMetadata("x-lienthong-role", role);
  ctx.AddMetadata("x-lienthong-agency", agency);
  ctx.AddMetadata("x-lienthong-subject", "can-bo-01");
}

class IntakeIntegrationTest : public ::testing::Test {
 protected:
  IntakeIntegrationTest()
      : clock_(absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0),
                               absl::FixedTimeZone(7 * 3600))),
        dsn_(PgCluster::Get().NewDatabase()) {
    db::Pool pool({dsn_, 1});
    EXPECT_TRUE(db::Migrate(pool, "intake", Migrations()).ok());
    a_ = std::make_unique<Replica>(dsn_, clock_);
    Seed();
  }

  void Seed() {
    auto agencies = FromJson<v1::ListAgenciesResponse>(
        ReadSource("data/seed/agencies.json"));
    for (const auto& a : agencies.agencies()) {
      grpc::ClientContext ctx;
      As(ctx, "admin", "000.00.00.H26");
      v1::UpsertAgencyRequest req;
      *req.mutable_agency() = a;
      v1::UpsertAgencyResponse resp;
      ASSERT_TRUE(a_->stub->UpsertAgency(&ctx, req, &resp).ok()) << a.code();
    }
    auto procs = FromJson<v1::ListProceduresResponse>(
        ReadSource("data/seed/procedures.json"));
    for (const auto& p : procs.procedures()) {
      grpc::ClientContext ctx;
      As(ctx, "admin", "000.00.00.H26");
      v1::UpsertProcedureRequest req;
      *req.mutable_procedure() = p;
      v1::UpsertProcedureResponse resp;
      ASSERT_TRUE(a_->stub->UpsertProcedure(&ctx, req, &resp).ok()) << p.code();
    }
  }

  // An administrator's UpsertAgency of `code` ("Đơn vị <code>") under
  // `parent` (empty: a root).
  grpc::Status UpsertAgencyAsAdmin(const std::string& code,
                                   common::v1::Tier tier,
                                   common::v1::AgencyKind kind,
                                   const std::string& parent) {
    grpc::ClientContext ctx;
    As(ctx, "admin", "000.00.00.H26");
    v1::UpsertAgencyRequest req;
    req.mutable_agency()->set_code(code);
    req.mutable_agency()->set_display_name("Đơn vị " + code);
    req.mutable_agency()->set_tier(tier);
    req.mutable_agency()->set_kind(kind);
    if (!parent.empty()) {
      req.mutable_agency()->set_parent("agencies/" + parent);
    }
    v1::UpsertAgencyResponse resp;
    return a_->stub->UpsertAgency(&ctx, req, &resp);
  }

  // Adds a province other than Hà Nội, T01, with one commune and its
  // one-stop unit kOtherProvinceUnit.
  void SeedOtherProvince() {
    auto upsert = [&](const std::string& code, common::v1::Tier tier,
                      common::v1::AgencyKind kind, const std::string& parent) {
      ASSERT_TRUE(UpsertAgencyAsAdmin(code, tier, kind, parent).ok()) << code;
    };
    upsert(kOtherProvince, common::v1::TIER_PROVINCE,
           common::v1::AGENCY_KIND_PEOPLES_COMMITTEE, "");
    upsert("000.01.00.T01", common::v1::TIER_COMMUNE,
           common::v1::AGENCY_KIND_PEOPLES_COMMITTEE, kOtherProvince);
    upsert(kOtherProvinceUnit, common::v1::TIER_COMMUNE,
           common::v1::AGENCY_KIND_ONE_STOP_UNIT, "000.01.00.T01");
  }

  static v1::SubmitDossierRequest Birth(const std::string& agency) {
    auto req = FromJson<v1::SubmitDossierRequest>(R"json({
      "dossier": {"procedure": "procedures/LT.01", "channel": "RECEIPT_CHANNEL_COUNTER",
        "applicant": {"full_name": "Nguyễn Văn An", "personal_id": "001090012345",
                      "contact": {"phone": "0912345678"}},
        "fields": [
          {"key": "child_full_name", "value": "Nguyễn Minh Khôi"},
          {"key": "child_date_of_birth", "value": "2026-11-20"},
          {"key": "child_sex", "value": "Nam"},
          {"key": "place_of_birth", "value": "Bệnh viện Phụ sản Hà Nội"},
          {"key": "mother_full_name", "value": "Trần Thị Bình"},
          {"key": "mother_personal_id", "value": "001192054321"},
          {"key": "permanent_address", "value": "Phường Tây Mỗ, Hà Nội"}],
        "documents": [
          {"code": "giay_chung_sinh", "sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
          {"code": "to_khai_lien_thong", "sha256": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]}})json");
    req.set_parent(absl::StrCat("agencies/", agency));
    req.set_request_id(common::NewUuid());
    return req;
  }

  grpc::Status Submit(Replica& r, const v1::SubmitDossierRequest& req,
                      v1::SubmitDossierResponse* resp,
                      const std::string& caller_agency = kTayMo) {
    grpc::ClientContext ctx;
    As(ctx, "counter_officer", caller_agency);
    return r.stub->SubmitDossier(&ctx, req, resp);
  }

  // A birth registration received at `agency`'s counter, by an officer of
  // `caller`.
  v1::Dossier SubmitAt(Replica& r, const std::string& agency,
                       const std::string& caller) {
    v1::SubmitDossierResponse resp;
    grpc::Status s = Submit(r, Birth(agency), &resp, caller);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.dossier();
  }

  // An administrator's GetAgency of `code`, and UpsertAgency of `a`.
  v1::Agency GetAgencyAsAdmin(const std::string& code) {
    grpc::ClientContext ctx;
    As(ctx, "admin", "000.00.00.H26");
    v1::GetAgencyRequest req;
    req.set_name(absl::StrCat("agencies/", code));
    v1::GetAgencyResponse resp;
    EXPECT_TRUE(a_->stub->GetAgency(&ctx, req, &resp).ok()) << code;
    return resp.agency();
  }
  grpc::Status PutAgencyAsAdmin(const v1::Agency& a,
                                v1::UpsertAgencyResponse* resp) {
    grpc::ClientContext ctx;
    As(ctx, "admin", "000.00.00.H26");
    v1::UpsertAgencyRequest req;
    *req.mutable_agency() = a;
    return a_->stub->UpsertAgency(&ctx, req, resp);
  }

  v1::Dossier GetAsAdmin(Replica& r, const std::string& name) {
    grpc::ClientContext ctx;
    As(ctx, "admin", "000.00.00.H26");
    v1::GetDossierRequest req;
    req.set_name(name);
    v1::GetDossierResponse resp;
    grpc::Status s = r.stub->GetDossier(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.dossier();
  }

  int64_t Count(const std::string& sql) {
    db::Pool pool({dsn_, 1});
    return db::WithTransaction(pool,
                               [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
                                 return tx.exec(sql)[0][0].as<int64_t>();
                               })
        .value_or(-1);
  }

  common::FakeClock clock_;
  std::string dsn_;
  std::unique_ptr<Replica> a_;
};

}  // namespace lienthong::intake::testing_support
