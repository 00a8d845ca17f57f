// The audit trail over gRPC and a real PostgreSQL: tampering is found,
// entries are sealed into one chain after their transaction commits, and
// the sealer reports what a running write holds back.

#include "libs/metrics/metrics.h"
#include "services/intake/intake_test_fixture.h"

namespace lienthong::intake {
namespace {

using namespace testing_support;  // NOLINT

TEST_F(IntakeIntegrationTest, AuditTamperingIsDetected) {
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  auto verify = [&] {
    grpc::ClientContext ctx;
    As(ctx, "admin", "000.00.00.H26");
    v1::VerifyAuditChainResponse r;
    EXPECT_TRUE(a_->stub->VerifyAuditChain(&ctx, {}, &r).ok());
    return r;
  };
  EXPECT_TRUE(verify().intact());
  db::Pool pool({dsn_, 1});
  ASSERT_TRUE(db::WithTransaction(pool, [](pqxx::work& tx) {
                tx.exec(
                    "UPDATE intake.audit SET actor_subject = 'ai-do' "
                    "WHERE id = (SELECT audit_id FROM intake.audit_chain "
                    "WHERE seq = 50)");
                return absl::OkStatus();
              }).ok());
  const auto broken = verify();
  EXPECT_FALSE(broken.intact());
  EXPECT_EQ(broken.first_bad_sequence(), 50);
  // A deleted sealed entry is found too, even when later ones are sealed
  // after it.
  ASSERT_TRUE(db::WithTransaction(pool, [](pqxx::work& tx) {
                tx.exec(
                    "DELETE FROM intake.audit WHERE id = (SELECT audit_id "
                    "FROM intake.audit_chain WHERE seq = 10)");
                return absl::OkStatus();
              }).ok());
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  const auto deleted = verify();
  EXPECT_FALSE(deleted.intact());
  EXPECT_EQ(deleted.first_bad_sequence(), 10);
  EXPECT_EQ(deleted.problem(), "entry 10 is missing");
  // Cutting off the chain's tail (here from 10 on, with the broken entries)
  // leaves no gap behind what is left; the end the sealer recorded shows it.
  const int64_t last = Count("SELECT max(seq) FROM intake.audit_chain");
  ASSERT_GT(last, 10);
  ASSERT_TRUE(db::WithTransaction(pool, [](pqxx::work& tx) {
                tx.exec("DELETE FROM intake.audit_chain WHERE seq >= 10");
                return absl::OkStatus();
              }).ok());
  const auto tail = verify();
  EXPECT_FALSE(tail.intact());
  EXPECT_EQ(tail.first_bad_sequence(), 10);
  EXPECT_EQ(tail.problem(),
            absl::StrCat("entries 10 to ", last, " are missing"));
}

TEST_F(IntakeIntegrationTest, AuditChainIsVerifiedPageByPage) {
  // A replica that reads the chain 7 entries at a time finds tampering
  // pages in, and answers as one that reads it in a single page.
  constexpr int kPage = 7;
  IntakeOptions options = Replica::Options();
  options.audit_verify_page_size = kPage;
  Replica paged(dsn_, clock_, std::move(options));
  auto verify = [&](Replica& r) {
    grpc::ClientContext ctx;
    As(ctx, "admin", "000.00.00.H26");
    v1::VerifyAuditChainResponse resp;
    EXPECT_TRUE(r.stub->VerifyAuditChain(&ctx, {}, &resp).ok());
    return resp;
  };
  auto expect_same = [&](int64_t first_bad) {
    const v1::VerifyAuditChainResponse whole = verify(*a_);
    const v1::VerifyAuditChainResponse pages = verify(paged);
    EXPECT_EQ(pages.intact(), whole.intact());
    EXPECT_EQ(pages.checked(), whole.checked());
    EXPECT_EQ(pages.first_bad_sequence(), whole.first_bad_sequence());
    EXPECT_EQ(pages.problem(), whole.problem());
    EXPECT_EQ(pages.first_bad_sequence(), first_bad);
    return pages;
  };
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  const v1::VerifyAuditChainResponse intact = expect_same(0);
  EXPECT_TRUE(intact.intact());
  ASSERT_GT(intact.checked(), 4 * kPage);  // the seeding's entries
  db::Pool pool({dsn_, 1});
  auto exec = [&](const std::string& sql) {
    ASSERT_TRUE(db::WithTransaction(pool, [&](pqxx::work& tx) {
                  tx.exec(sql);
                  return absl::OkStatus();
                }).ok());
  };
  // Each tampering lies before the previous one, so it is the first break.
  // The first entry of the fourth page, altered:
  exec(absl::StrCat(
      "UPDATE intake.audit SET actor_subject = 'ai-do' WHERE id = (SELECT "
      "audit_id FROM intake.audit_chain WHERE seq = ",
      3 * kPage + 1, ")"));
  EXPECT_EQ(expect_same(3 * kPage + 1).checked(), 3 * kPage + 1);
  // The last entry of the third page, deleted:
  exec(
      absl::StrCat("DELETE FROM intake.audit WHERE id = (SELECT audit_id FROM "
                   "intake.audit_chain WHERE seq = ",
                   3 * kPage, ")"));
  EXPECT_EQ(expect_same(3 * kPage).problem(),
            absl::StrCat("entry ", 3 * kPage, " is missing"));
  // Everything after the first page cut off: the recorded end shows it.
  const int64_t last = Count("SELECT max(seq) FROM intake.audit_chain");
  exec(absl::StrCat("DELETE FROM intake.audit_chain WHERE seq > ", kPage));
  const v1::VerifyAuditChainResponse tail = expect_same(kPage + 1);
  EXPECT_EQ(tail.checked(), kPage);
  EXPECT_EQ(tail.problem(),
            absl::StrCat("entries ", kPage + 1, " to ", last, " are missing"));
}

TEST_F(IntakeIntegrationTest, AuditEntriesAreSealedInOneChainAfterCommit) {
  // Written unsealed by the request's transaction, chained by the sealer.
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  constexpr char kUnsealed[] =
      "SELECT count(*) FROM intake.audit a WHERE NOT EXISTS (SELECT 1 FROM "
      "intake.audit_chain c WHERE c.audit_id = a.id)";
  EXPECT_EQ(Count(absl::StrCat(kUnsealed, " AND action = 'SubmitDossier'")), 1);
  const int64_t total = Count("SELECT count(*) FROM intake.audit");
  absl::StatusOr<int64_t> sealed = a_->server.SealAuditOnce();
  ASSERT_TRUE(sealed.ok());
  EXPECT_GE(*sealed, 1);
  EXPECT_EQ(Count(kUnsealed), 0);
  EXPECT_EQ(Count("SELECT max(seq) FROM intake.audit_chain"), total);
  // Sealing inserts; the audit rows themselves are never rewritten: each
  // row's version is still the one its own transaction wrote.
  EXPECT_EQ(Count("SELECT count(*) FROM intake.audit WHERE "
                  "xmin::text::bigint <> xid::text::bigint % 4294967296"),
            0);
  EXPECT_EQ(*a_->server.SealAuditOnce(), 0);  // nothing left
}

TEST_F(IntakeIntegrationTest, TheSealerReportsEntriesHeldBackByARunningWrite) {
  auto gauge = [](const char* name, const char* help) {
    return metrics::Gauge(name, help).Add({}).Value();
  };
  // A write that began first and has not committed holds back the
  // submission's entry, committed after it.
  pqxx::connection c(dsn_);
  pqxx::work running(c);
  running.exec(
      "INSERT INTO intake.lookup_failures (code, failures, "
      "window_start) VALUES ('x', 1, now())");
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  clock_.Advance(absl::Seconds(90));
  ASSERT_TRUE(a_->server.SealAuditOnce().ok());
  EXPECT_EQ(gauge(kAuditUnsealedName, kAuditUnsealedHelp), 1);
  EXPECT_DOUBLE_EQ(gauge(kAuditUnsealedAgeName, kAuditUnsealedAgeHelp), 90);
  running.commit();
  EXPECT_GE(*a_->server.SealAuditOnce(), 1);
  EXPECT_EQ(gauge(kAuditUnsealedName, kAuditUnsealedHelp), 0);
  EXPECT_EQ(gauge(kAuditUnsealedAgeName, kAuditUnsealedAgeHelp), 0);
}

}  // namespace
}  // namespace lienthong::intake
