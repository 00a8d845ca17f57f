// Who sees what, over gRPC and a real PostgreSQL: a replayed request (a
// change or a submission) answers only those who may act on the dossier, a
// supervisor's audit trail stops at their subtree, refused calls are all
// audited even in a burst, and the citizen's lookup refuses what is no
// dossier code and counts concurrent guesses one after another.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/grpc_util/event_sink.h"
#include "lienthong/routing/v1/events.pb.h"
#include "services/intake/intake_test_fixture.h"

namespace lienthong::intake {
namespace {

using ::lienthong::testing::GrpcStatusIs;
using namespace testing_support;  // NOLINT

class IntakeAccessTest : public IntakeIntegrationTest {
 protected:
  grpc::Status Withdraw(const std::string& role, const std::string& agency,
                        const std::string& name, const std::string& request_id,
                        v1::WithdrawDossierResponse* resp) {
    grpc::ClientContext ctx;
    As(ctx, role, agency);
    v1::WithdrawDossierRequest req;
    req.set_name(name);
    req.set_reason("Công dân xin rút hồ sơ");
    req.set_request_id(request_id);
    return a_->stub->WithdrawDossier(&ctx, req, resp);
  }
  grpc::Status Lookup(const std::string& code, const std::string& last4) {
    grpc::ClientContext ctx;
    v1::LookupDossierRequest req;
    req.set_code(code);
    req.set_phone_last4(last4);
    v1::LookupDossierResponse resp;
    return a_->stub->LookupDossier(&ctx, req, &resp);
  }
};

TEST_F(IntakeAccessTest, AReplayAnswersOnlyThoseWhoMayActOnTheDossier) {
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  const std::string request_id = "9b1f0c1e-5d7a-4a8e-8a53-7d2f6c4e1a01";
  v1::WithdrawDossierResponse resp;
  ASSERT_TRUE(Withdraw("counter_officer", kTayMo, sub.dossier().name(),
                       request_id, &resp)
                  .ok());
  // Another ward's officer sends the same request (its id is in the audit
  // trail): refused, with nothing of the dossier.
  v1::WithdrawDossierResponse other;
  EXPECT_THAT(Withdraw("counter_officer", kHaDinh, sub.dossier().name(),
                       request_id, &other),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_FALSE(other.has_dossier());
  // The ward's own retry still gets its answer.
  v1::WithdrawDossierResponse again;
  ASSERT_TRUE(Withdraw("counter_officer", kTayMo, sub.dossier().name(),
                       request_id, &again)
                  .ok());
  EXPECT_EQ(again.dossier().code(), sub.dossier().code());
}

TEST_F(IntakeAccessTest, ASubmissionReplayedFromAnotherWardIsRefused) {
  const v1::SubmitDossierRequest req = Birth(kTayMo);
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, req, &sub).ok());
  // Hạ Đình's officer sends the very same request twice: the first time
  // its agency is not in the replica's catalog yet (the batch reads it),
  // the second time it is (checked before the batch). Refused both times,
  // with nothing of the dossier, and audited once each.
  for (int i = 0; i < 2; ++i) {
    v1::SubmitDossierResponse other;
    EXPECT_THAT(Submit(*a_, req, &other, kHaDinh),
                GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED))
        << "attempt " << i;
    EXPECT_FALSE(other.has_dossier()) << "attempt " << i;
    EXPECT_TRUE(other.receipt_html().empty()) << "attempt " << i;
  }
  grpc::ClientContext ctx;
  As(ctx, "supervisor", kHaDinh);
  v1::ListAuditEntriesRequest list;
  list.set_resource(req.parent());
  v1::ListAuditEntriesResponse got;
  ASSERT_TRUE(a_->stub->ListAuditEntries(&ctx, list, &got).ok());
  int denied = 0;
  for (const auto& e : got.entries()) {
    if (e.action() == "SubmitDossier" && e.outcome() == "PERMISSION_DENIED" &&
        e.actor_agency() == kHaDinh) {
      ++denied;
    }
  }
  EXPECT_EQ(denied, 2);
  // Tây Mỗ's own retry still gets its dossier and receipt.
  v1::SubmitDossierResponse again;
  ASSERT_TRUE(Submit(*a_, req, &again).ok());
  EXPECT_EQ(again.dossier().code(), sub.dossier().code());
  EXPECT_FALSE(again.receipt_html().empty());
}

TEST_F(IntakeAccessTest, ASupervisorsAuditTrailStopsAtTheirSubtree) {
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  v1::WithdrawDossierResponse resp;
  ASSERT_TRUE(Withdraw("counter_officer", kTayMo, sub.dossier().name(),
                       "2c7e4b7a-0f7e-4f0e-9a55-0f1b2c3d4e5f", &resp)
                  .ok());
  const auto entries = [&](const std::string& agency) {
    grpc::ClientContext ctx;
    As(ctx, "supervisor", agency);
    v1::ListAuditEntriesRequest req;
    req.set_resource(sub.dossier().name());
    v1::ListAuditEntriesResponse got;
    EXPECT_TRUE(a_->stub->ListAuditEntries(&ctx, req, &got).ok());
    return got.entries_size();
  };
  EXPECT_EQ(entries("000.00.19.H26"), 2);  // Nam Từ Liêm, above Tây Mỗ
  EXPECT_EQ(entries(kHaDinh), 0);          // another district's ward
  // What Hạ Đình's own officers did (here: a refused look at Tây Mỗ's
  // dossier) is theirs to see.
  grpc::ClientContext ctx;
  As(ctx, "counter_officer", kHaDinh);
  v1::GetDossierRequest get;
  get.set_name(sub.dossier().name());
  v1::GetDossierResponse got;
  ASSERT_THAT(a_->stub->GetDossier(&ctx, get, &got),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_EQ(entries(kHaDinh), 1);
  EXPECT_EQ(entries("000.00.19.H26"), 3);  // and about Tây Mỗ's dossier
}

TEST_F(IntakeAccessTest, ABurstOfRefusedCallsIsAllAuditedAndStallsNothing) {
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  // Twice as many refused calls at once as the replica has connections.
  constexpr int kCalls = 8;
  std::atomic<int> denied{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&] {
      grpc::ClientContext ctx;
      As(ctx, "counter_officer", kHaDinh);
      v1::GetDossierRequest get;
      get.set_name(sub.dossier().name());
      v1::GetDossierResponse got;
      if (a_->stub->GetDossier(&ctx, get, &got).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED) {
        ++denied;
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(denied, kCalls);  // none UNAVAILABLE for want of a connection
  EXPECT_EQ(Count("SELECT count(*) FROM intake.audit WHERE action = "
                  "'GetDossier' AND outcome = 'PERMISSION_DENIED'"),
            kCalls);
}

TEST_F(IntakeAccessTest, LookupRefusesWhatIsNoDossierCodeAndCountsNothing) {
  for (const std::string& code :
       {std::string("x"), std::string("'; DROP TABLE"), std::string(11000, '9'),
        std::string("001.08.19.H26-2612-0001"),
        std::string("001.08.19.H26-261207-01")}) {
    EXPECT_THAT(Lookup(code, "5678"),
                GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT))
        << code.substr(0, 40);
  }
  EXPECT_THAT(Lookup("001.08.19.H26-261207-0001", "56a8"),
              GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(Count("SELECT count(*) FROM intake.lookup_failures"), 0);
  // A well-formed code of no dossier is counted (and throttled) as a miss.
  EXPECT_THAT(Lookup("001.08.19.H26-261207-0001", "5678"),
              GrpcStatusIs(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(Count("SELECT count(*) FROM intake.lookup_failures"), 1);
}

TEST_F(IntakeAccessTest, ConcurrentWrongGuessesAreCountedOneAfterAnother) {
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  constexpr int kGuesses = 16;
  std::atomic<int> checked{0}, throttled{0};
  std::vector<std::thread> guessers;
  for (int i = 0; i < kGuesses; ++i) {
    guessers.emplace_back([&, i] {
      const grpc::Status s =
          Lookup(sub.dossier().code(), absl::StrCat(1000 + i));
      if (s.error_code() == grpc::StatusCode::NOT_FOUND) ++checked;
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        ++throttled;
      }
    });
  }
  for (std::thread& t : guessers) t.join();
  // Five wrong digits are tried (--lookup_max_failures); the rest wait
  // out the window without being checked.
  EXPECT_EQ(checked, 5);
  EXPECT_EQ(throttled, kGuesses - 5);
}

TEST_F(IntakeAccessTest, MalformedFiltersAndFormKindsAreRefused) {
  grpc::ClientContext ctx;
  As(ctx, "counter_officer", kTayMo);
  v1::ListDossiersRequest list;
  list.set_parent(absl::StrCat("agencies/", kTayMo));
  list.set_procedure("LT.01");  // not procedures/LT.01: no filter at all
  v1::ListDossiersResponse listed;
  EXPECT_THAT(a_->stub->ListDossiers(&ctx, list, &listed),
              GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));

  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  grpc::ClientContext ctx2;
  As(ctx2, "counter_officer", kTayMo);
  v1::RenderFormRequest form;
  form.set_name(sub.dossier().name());
  form.set_kind(static_cast<v1::FormKind>(99));
  v1::RenderFormResponse rendered;
  EXPECT_THAT(a_->stub->RenderForm(&ctx2, form, &rendered),
              GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
}

TEST_F(IntakeAccessTest, ALateDispatchLeavesTheStepTheCitizenSees) {
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  const std::string name = sub.dossier().name();
  const auto deliver = [&](const google::protobuf::Message& m) {
    return a_->server
        .HandleEvent(grpc_util::MakeEvent(m, "routing", name, clock_.Now()))
        .ok();
  };
  const auto step = [&] {
    grpc::ClientContext ctx;
    As(ctx, "counter_officer", kTayMo);
    v1::GetDossierRequest get;
    get.set_name(name);
    v1::GetDossierResponse got;
    EXPECT_TRUE(a_->stub->GetDossier(&ctx, get, &got).ok());
    return got.dossier().current_step();
  };
  routing::v1::TaskDispatched civil;
  civil.set_dossier(name);
  civil.set_leg_id("civil_status");
  civil.set_agency(absl::StrCat("agencies/", kTayMo));
  ASSERT_TRUE(deliver(civil));
  // The leg as the procedure names it, not its id.
  EXPECT_EQ(step(),
            "Đang giải quyết: Đăng ký khai sinh, cấp số định danh cá nhân "
            "cho trẻ");
  routing::v1::LegSupplementRequested asked;
  asked.set_dossier(name);
  asked.set_leg_id("civil_status");
  asked.set_agency(absl::StrCat("agencies/", kTayMo));
  asked.set_reason("Thiếu văn bản xác nhận việc sinh");
  asked.add_missing_items("Văn bản xác nhận của người làm chứng");
  ASSERT_TRUE(deliver(asked));
  const std::string waiting = step();
  ASSERT_EQ(waiting.rfind("Đang giải quyết", 0), std::string::npos);
  // A parallel leg's dispatch, arriving after the request.
  routing::v1::TaskDispatched residency = civil;
  residency.set_leg_id("residency");
  ASSERT_TRUE(deliver(residency));
  EXPECT_EQ(step(), waiting);
}

}  // namespace
}  // namespace lienthong::intake
