// intake over real gRPC (127.0.0.1:0) and a real PostgreSQL (the audit
// chain's tests are in intake_audit_chain_test.cc).

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_format.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/testing/lock_waiters.h"
#include "lienthong/routing/v1/events.pb.h"
#include "services/intake/intake_test_fixture.h"

namespace lienthong::intake {
namespace {

using ::lienthong::testing::GrpcStatusIs;
using namespace testing_support;  // NOLINT

TEST_F(IntakeIntegrationTest,
       SubmitIssuesCodeAppointmentEventsAndReplaysIdempotently) {
  const auto req = Birth(kTayMo);
  v1::SubmitDossierResponse first;
  ASSERT_TRUE(Submit(*a_, req, &first).ok());
  const v1::Dossier& d = first.dossier();
  EXPECT_EQ(d.code(), "001.08.19.H26-261123-0001");
  EXPECT_EQ(d.state(), v1::DOSSIER_STATE_RECEIVED);
  EXPECT_EQ(d.national_status_code(), 2);
  // Monday 09:00 + 3 working days = Thursday 09:00 (+07:00).
  EXPECT_EQ(d.appointment_time().seconds(),
            absl::ToUnixSeconds(
                absl::FromCivil(absl::CivilSecond(2026, 11, 26, 9, 0, 0),
                                absl::FixedTimeZone(7 * 3600))));
  EXPECT_NE(first.receipt_html().find("HẸN TRẢ KẾT QUẢ"), std::string::npos);
  // DossierReceived for routing, deadline and notify, in the same commit.
  EXPECT_EQ(Count("SELECT count(*) FROM intake.outbox WHERE event_type = "
                  "'lienthong.intake.v1.DossierReceived'"),
            3);

  v1::SubmitDossierResponse again;
  ASSERT_TRUE(Submit(*a_, req, &again).ok());
  EXPECT_EQ(again.dossier().code(), d.code());
  EXPECT_EQ(again.receipt_html(), first.receipt_html());  // printed again
  EXPECT_EQ(Count("SELECT count(*) FROM intake.dossiers"), 1);

  auto changed = req;
  changed.mutable_dossier()->mutable_applicant()->set_full_name("Lê Văn Bình");
  v1::SubmitDossierResponse reused;
  grpc::Status s = Submit(*a_, changed, &reused);
  EXPECT_THAT(s, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(common::GetErrorDetails(grpc_util::FromGrpcStatus(s)).reason,
            "REQUEST_ID_REUSED");
}

TEST_F(IntakeIntegrationTest, BadInputGetsClearErrorsAndLosesNothing) {
  auto req = Birth(kTayMo);
  req.mutable_dossier()->mutable_applicant()->set_personal_id("12");
  req.mutable_dossier()->clear_documents();
  v1::SubmitDossierResponse resp;
  grpc::Status s = Submit(*a_, req, &resp);
  ASSERT_THAT(s, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  auto details = common::GetErrorDetails(grpc_util::FromGrpcStatus(s));
  EXPECT_EQ(details.domain, "lienthong.intake");
  EXPECT_EQ(details.field_violations.size(), 3u);  // id + 2 documents

  auto unknown = Birth("999.99.99.H26");
  s = Submit(*a_, unknown, &resp, "999.99.99.H26");
  EXPECT_THAT(s, GrpcStatusIs(grpc::StatusCode::NOT_FOUND));
  EXPECT_NE(s.error_message().find("999.99.99.H26"), std::string::npos);

  // The district one-stop may not receive a ward-tier procedure.
  auto district = Birth("000.90.19.H26");
  s = Submit(*a_, district, &resp, "000.00.19.H26");
  EXPECT_THAT(s, GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));

  // No request_id: a retry could not be told from a new dossier.
  auto anonymous = Birth(kTayMo);
  anonymous.clear_request_id();
  s = Submit(*a_, anonymous, &resp);
  ASSERT_THAT(s, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  details = common::GetErrorDetails(grpc_util::FromGrpcStatus(s));
  ASSERT_EQ(details.field_violations.size(), 1u);
  EXPECT_EQ(details.field_violations[0].field, "request_id");
  EXPECT_EQ(Count("SELECT count(*) FROM intake.dossiers"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM intake.outbox"), 0);
}

TEST_F(IntakeIntegrationTest,
       OfficersActOnlyInTheirSubtreeAndDenialsAreAudited) {
  v1::SubmitDossierResponse resp;
  grpc::Status s = Submit(*a_, Birth(kTayMo), &resp, kHaDinh);
  EXPECT_THAT(s, GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &resp).ok());
  grpc::ClientContext ctx;
  As(ctx, "counter_officer", kHaDinh);
  v1::GetDossierRequest get;
  get.set_name(resp.dossier().name());
  v1::GetDossierResponse got;
  EXPECT_THAT(a_->stub->GetDossier(&ctx, get, &got),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  // The district above Tây Mỗ sees it.
  grpc::ClientContext ctx2;
  As(ctx2, "supervisor", "000.00.19.H26");
  EXPECT_TRUE(a_->stub->GetDossier(&ctx2, get, &got).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM intake.audit WHERE outcome = "
                  "'PERMISSION_DENIED'"),
            2);
}

// A counter that retries a submission while the first attempt is still in
// flight sends the same request (same request_id) twice at once, maybe to
// two replicas: every answer is the one dossier, no second dossier or event
// is written, and the day's sequence has no gap for the twin that rolled
// back.
TEST_F(IntakeIntegrationTest, ConcurrentTwinsOfOneSubmissionMakeOneDossier) {
  // Both replicas start a second batch whenever one may (however few
  // wait), so that each runs two at once here.
  IntakeOptions o = Replica::Options();
  o.submit_batch_min_queued = 1;
  a_ = std::make_unique<Replica>(dsn_, clock_, o);
  Replica b(dsn_, clock_, o);
  const auto req = Birth(kTayMo);
  constexpr int kTwins = 6;
  // The moment is forced: another session holds the day's counter row (an
  // uncommitted insert) until twins on both replicas have passed their
  // request-id lookup and wait for that row. Each replica runs up to two
  // submission batches at once and writes one of a request's twins per
  // batch, so two twins wait per replica; its third waits for a batch.
  pqxx::connection blocker(dsn_);
  pqxx::work hold(blocker);
  hold.exec(
      "INSERT INTO intake.dossier_sequences (agency_code, day, last_value) "
      "VALUES ('001.08.19.H26', '2026-11-23', 0)");
  std::vector<std::string> codes(kTwins);
  std::vector<grpc::Status> results(kTwins);
  std::vector<std::thread> threads;
  for (int t = 0; t < kTwins; ++t) {
    threads.emplace_back([&, t] {
      v1::SubmitDossierResponse resp;
      results[t] = Submit(t % 2 == 0 ? *a_ : b, req, &resp);
      codes[t] = resp.dossier().code();
    });
  }
  EXPECT_EQ(testing::WaitForLockWaiters(dsn_, 4), 4)
      << "two batches per replica should wait for the counter";
  hold.commit();
  for (auto& t : threads) t.join();
  for (int t = 0; t < kTwins; ++t) {
    EXPECT_TRUE(results[t].ok()) << t << ": " << results[t].error_message();
    EXPECT_EQ(codes[t], "001.08.19.H26-261123-0001") << t;
  }
  EXPECT_EQ(Count("SELECT count(*) FROM intake.dossiers"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM intake.idempotency"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM intake.outbox WHERE event_type = "
                  "'lienthong.intake.v1.DossierReceived'"),
            3);
  v1::SubmitDossierResponse next;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &next).ok());
  EXPECT_EQ(next.dossier().code(), "001.08.19.H26-261123-0002");
}

TEST_F(IntakeIntegrationTest,
       ConcurrentSubmitsOnTwoReplicasGiveUniqueGapFreeCodes) {
  Replica b(dsn_, clock_);
  constexpr int kPerThread = 15;
  std::vector<std::string> codes[4];
  // Both replicas seal while the submissions run: an entry the sealers pass
  // over while its transaction runs must still end up in the chain.
  std::atomic<bool> submitting{true};
  std::vector<std::thread> sealers;
  for (Replica* r : {a_.get(), &b}) {
    sealers.emplace_back([&submitting, r] {
      while (submitting.load()) {
        absl::StatusOr<int64_t> n = r->server.SealAuditOnce();
        EXPECT_TRUE(n.ok()) << n.status();
      }
    });
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Replica& r = t % 2 == 0 ? *a_ : b;
      for (int i = 0; i < kPerThread; ++i) {
        v1::SubmitDossierResponse resp;
        grpc::Status s = Submit(r, Birth(kTayMo), &resp);
        EXPECT_TRUE(s.ok()) << s.error_message();
        codes[t].push_back(resp.dossier().code());
      }
    });
  }
  for (auto& t : threads) t.join();
  submitting = false;
  for (auto& t : sealers) t.join();
  std::set<std::string> all;
  for (auto& c : codes) all.insert(c.begin(), c.end());
  ASSERT_EQ(all.size(), 4u * kPerThread);
  int n = 1;
  for (const std::string& c : all) {  // sorted: -0001 .. -0060, no gaps
    EXPECT_EQ(
        c, absl::StrCat("001.08.19.H26-261123-", absl::StrFormat("%04d", n++)));
  }
  // Both replicas' audit entries end in one intact chain, sealed by both.
  Replica* replicas[] = {a_.get(), &b};
  for (Replica* r : replicas) ASSERT_TRUE(r->server.SealAuditOnce().ok());
  grpc::ClientContext ctx;
  As(ctx, "admin", "000.00.00.H26");
  v1::VerifyAuditChainResponse chain;
  ASSERT_TRUE(b.stub->VerifyAuditChain(&ctx, {}, &chain).ok());
  EXPECT_TRUE(chain.intact()) << chain.problem();
  EXPECT_EQ(chain.checked(), Count("SELECT count(*) FROM intake.audit"));
}

TEST_F(IntakeIntegrationTest, TwoParallelLegsAskingForSupplementsAreBothTold) {
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  const std::string name = sub.dossier().name();
  const auto ask = [&](const std::string& leg, const std::string& agency,
                       const std::string& reason, const std::string& item) {
    routing::v1::LegSupplementRequested m;
    m.set_dossier(name);
    m.set_leg_id(leg);
    m.set_agency("agencies/" + agency);
    m.set_reason(reason);
    m.add_missing_items(item);
    return a_->server.HandleEvent(
        grpc_util::MakeEvent(m, "routing", name, clock_.Now()));
  };
  ASSERT_TRUE(ask("residency", "001.08.19.H26", "Thiếu giấy tờ chỗ ở",
                  "Giấy xác nhận chỗ ở hợp pháp")
                  .value_or(false));
  ASSERT_TRUE(ask("health_insurance", "000.91.19.H26", "Thiếu thông tin thẻ",
                  "Mã số BHXH của mẹ")
                  .value_or(false));
  // Both requests reach the citizen (notify) and deadline; both are on the
  // control slip.
  EXPECT_EQ(Count("SELECT count(*) FROM intake.outbox WHERE event_type = "
                  "'lienthong.intake.v1.DossierSupplementRequested' AND "
                  "destination = 'notify'"),
            2);
  grpc::ClientContext ctx;
  As(ctx, "counter_officer", kTayMo);
  v1::GetControlSlipRequest slip;
  slip.set_name(name);
  v1::GetControlSlipResponse got;
  ASSERT_TRUE(a_->stub->GetControlSlip(&ctx, slip, &got).ok());
  EXPECT_EQ(got.dossier().state(), v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED);
  ASSERT_EQ(got.transitions_size(), 3);
  EXPECT_EQ(got.transitions(2).from_state(),
            v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED);
  EXPECT_EQ(got.transitions(2).to_state(),
            v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED);
  EXPECT_EQ(got.transitions(2).reason(),
            "Thiếu thông tin thẻ; Mã số BHXH của mẹ");
  // The printed request lists both legs' requests with their items; a
  // refusal it never had cannot be printed.
  const auto render = [&](v1::FormKind kind, v1::RenderFormResponse* out) {
    grpc::ClientContext rctx;
    As(rctx, "counter_officer", kTayMo);
    v1::RenderFormRequest req;
    req.set_name(name);
    req.set_kind(kind);
    return a_->stub->RenderForm(&rctx, req, out);
  };
  v1::RenderFormResponse form;
  ASSERT_TRUE(render(v1::FORM_KIND_SUPPLEMENT_REQUEST, &form).ok());
  EXPECT_NE(form.html().find(
                "<li>Thiếu giấy tờ chỗ ở; Giấy xác nhận chỗ ở hợp pháp</li>"),
            std::string::npos);
  EXPECT_NE(form.html().find("<li>Thiếu thông tin thẻ; Mã số BHXH của mẹ</li>"),
            std::string::npos);
  EXPECT_THAT(render(v1::FORM_KIND_REFUSAL, &form),
              GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_THAT(render(v1::FORM_KIND_APOLOGY, &form),
              GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
}

// The apology slip printed again later is the one handed over: the
// appointment it replaced, the new one, the officer's reason.
TEST_F(IntakeIntegrationTest, AnApologySlipPrintsAgainAsIssued) {
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  grpc::ClientContext ctx;
  As(ctx, "counter_officer", kTayMo);
  v1::IssueApologyRequest req;
  req.set_name(sub.dossier().name());
  req.set_reason("Chờ xác minh");
  grpc_util::ToProto(absl::FromCivil(absl::CivilSecond(2026, 11, 30, 9, 0, 0),
                                     absl::FixedTimeZone(7 * 3600)),
                     req.mutable_new_appointment_time());
  v1::IssueApologyResponse issued;
  ASSERT_TRUE(a_->stub->IssueApology(&ctx, req, &issued).ok());
  EXPECT_NE(issued.apology_html().find("09:00 ngày 26/11/2026"),
            std::string::npos);
  grpc::ClientContext rctx;
  As(rctx, "counter_officer", kTayMo);
  v1::RenderFormRequest render;
  render.set_name(sub.dossier().name());
  render.set_kind(v1::FORM_KIND_APOLOGY);
  v1::RenderFormResponse again;
  ASSERT_TRUE(a_->stub->RenderForm(&rctx, render, &again).ok());
  EXPECT_EQ(again.html(), issued.apology_html());
}

TEST_F(IntakeIntegrationTest, LifecycleThroughRoutingEventsToReturnAndRating) {
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  const std::string name = sub.dossier().name();
  routing::v1::RouteCompleted done;
  done.set_dossier(name);
  auto* out = done.add_outputs();
  out->set_key("birth_certificate_number");
  out->set_value("123/2026");
  const common::v1::Event e =
      grpc_util::MakeEvent(done, "routing", name, clock_.Now());
  EXPECT_EQ(a_->server.HandleEvent(e).value_or(false), true);
  EXPECT_EQ(a_->server.HandleEvent(e).value_or(true), false);  // replay: once

  grpc::ClientContext c1;
  As(c1, "counter_officer", kTayMo);
  v1::GetDossierRequest get;
  get.set_name(name);
  v1::GetDossierResponse got;
  ASSERT_TRUE(a_->stub->GetDossier(&c1, get, &got).ok());
  EXPECT_EQ(got.dossier().state(), v1::DOSSIER_STATE_READY_FOR_RETURN);
  EXPECT_EQ(got.dossier().results(0).value(), "123/2026");

  // Withdrawing a finished dossier is illegal and names the state.
  grpc::ClientContext c2;
  As(c2, "counter_officer", kTayMo);
  v1::WithdrawDossierRequest w;
  w.set_name(name);
  w.set_reason("Công dân đổi ý");
  v1::WithdrawDossierResponse wr;
  grpc::Status s = a_->stub->WithdrawDossier(&c2, w, &wr);
  EXPECT_THAT(s, GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_NE(s.error_message().find("READY_FOR_RETURN"), std::string::npos);

  // The result is handed back 1.25 s later: the control slip keeps the
  // sub-second part, so it orders against other systems' steps.
  clock_.Advance(absl::Milliseconds(1250));
  grpc::ClientContext c3;
  As(c3, "counter_officer", kTayMo);
  v1::ReturnResultRequest ret;
  ret.set_name(name);
  v1::ReturnResultResponse rr;
  ASSERT_TRUE(a_->stub->ReturnResult(&c3, ret, &rr).ok());
  EXPECT_EQ(rr.dossier().national_status_code(), 10);

  // Only the applicant rates, once: a citizen proves it with the phone's
  // last 4 digits (the applicant's is ...5678), as for LookupDossier.
  const auto rate = [&](const std::string& role, const std::string& last4,
                        v1::RateDossierResponse* out = nullptr) {
    grpc::ClientContext c4;
    As(c4, role, role == "citizen" ? "" : kTayMo);
    v1::RateDossierRequest req;
    req.set_name(name);
    req.set_rating(5);
    req.set_comment("Cán bộ hướng dẫn tận tình, đúng hẹn.");
    req.set_phone_last4(last4);
    v1::RateDossierResponse resp;
    grpc::Status st = a_->stub->RateDossier(&c4, req, &resp);
    if (out != nullptr) *out = resp;
    return st;
  };
  EXPECT_THAT(rate("citizen", ""),
              GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  {
    // A name that is no dossier code is refused before anything is counted.
    grpc::ClientContext cx;
    As(cx, "citizen", "");
    v1::RateDossierRequest junk;
    junk.set_name(absl::StrCat("dossiers/", std::string(2000, 'x')));
    junk.set_rating(5);
    junk.set_phone_last4("5678");
    v1::RateDossierResponse ignored;
    EXPECT_THAT(a_->stub->RateDossier(&cx, junk, &ignored),
                GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  }
  EXPECT_THAT(rate("citizen", "0000"),
              GrpcStatusIs(grpc::StatusCode::NOT_FOUND));
  EXPECT_THAT(rate("agency_system", ""),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  v1::RateDossierResponse rated;
  ASSERT_TRUE(rate("citizen", "5678", &rated).ok());
  EXPECT_EQ(rated.dossier().rating(), 5);
  EXPECT_EQ(rated.dossier().rating_comment(),
            "Cán bộ hướng dẫn tận tình, đúng hẹn.");
  // The citizen proved only the code and 4 digits: nothing personal back.
  EXPECT_EQ(rated.dossier().code(), sub.dossier().code());
  EXPECT_EQ(rated.dossier().state(), v1::DOSSIER_STATE_RETURNED);
  EXPECT_FALSE(rated.dossier().has_applicant());
  EXPECT_EQ(rated.dossier().fields_size(), 0);
  EXPECT_EQ(rated.dossier().documents_size(), 0);
  EXPECT_EQ(rated.dossier().results_size(), 0);
  EXPECT_THAT(rate("counter_officer", ""),
              GrpcStatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  grpc::ClientContext c5;
  As(c5, "counter_officer", kTayMo);
  v1::GetControlSlipRequest slip;
  slip.set_name(name);
  v1::GetControlSlipResponse slipresp;
  ASSERT_TRUE(a_->stub->GetControlSlip(&c5, slip, &slipresp).ok());
  ASSERT_EQ(slipresp.transitions_size(), 3);  // received, ready, returned
  EXPECT_EQ(slipresp.transitions(2).to_state(), v1::DOSSIER_STATE_RETURNED);
  EXPECT_EQ(grpc_util::FromProto(slipresp.transitions(2).time()) -
                grpc_util::FromProto(slipresp.transitions(1).time()),
            absl::Milliseconds(1250));
}

// A dossier finished on time stays on time for the citizen while its
// result waits at the counter past the appointment; an open one does not.
TEST_F(IntakeIntegrationTest, LookupKeepsTheVerdictADossierFinishedWith) {
  v1::SubmitDossierResponse ready, open;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &ready).ok());
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &open).ok());
  routing::v1::RouteCompleted done;
  done.set_dossier(ready.dossier().name());
  ASSERT_TRUE(a_->server
                  .HandleEvent(grpc_util::MakeEvent(
                      done, "routing", done.dossier(), clock_.Now()))
                  .ok());
  clock_.Advance(absl::Hours(24 * 10));  // well past both appointments
  auto on_time = [&](const v1::Dossier& d) {
    grpc::ClientContext ctx;
    v1::LookupDossierRequest req;
    req.set_code(d.code());
    req.set_phone_last4("5678");
    v1::LookupDossierResponse r;
    EXPECT_TRUE(a_->stub->LookupDossier(&ctx, req, &r).ok());
    return r.on_time();
  };
  EXPECT_TRUE(on_time(ready.dossier()));
  EXPECT_FALSE(on_time(open.dossier()));
}

TEST_F(IntakeIntegrationTest, CitizenLookupShowsMaskedDataAndIsThrottled) {
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  auto lookup = [&](const std::string& last4, v1::LookupDossierResponse* r) {
    grpc::ClientContext ctx;
    v1::LookupDossierRequest req;
    req.set_code(sub.dossier().code());
    req.set_phone_last4(last4);
    return a_->stub->LookupDossier(&ctx, req, r);
  };
  v1::LookupDossierResponse r;
  ASSERT_TRUE(lookup("5678", &r).ok());
  EXPECT_EQ(r.masked_applicant_name(), "N*** V*** A***");
  EXPECT_TRUE(r.on_time());
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(lookup("0000", &r), GrpcStatusIs(grpc::StatusCode::NOT_FOUND));
  }
  EXPECT_THAT(lookup("5678", &r),
              GrpcStatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
  clock_.Advance(absl::Minutes(16));
  EXPECT_TRUE(lookup("5678", &r).ok());
}

}  // namespace
}  // namespace lienthong::intake
