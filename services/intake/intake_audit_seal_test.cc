// The audit sealer against real PostgreSQL: which entries a pass may seal,
// and the chain a database sealed before migration 0005 keeps.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "intake_migrations.h"
#include "libs/db/migrations.h"
#include "libs/db/pool.h"
#include "libs/db/prepared.h"
#include "libs/db/transaction.h"
#include "libs/testing/pg_cluster.h"
#include "services/intake/audit_chain.h"
#include "services/intake/pg_audit_store.h"

namespace lienthong::intake {
namespace {

using ::lienthong::testing::PgCluster;

using ::testing::ElementsAre;

std::string XactId(pqxx::work& tx) {
  return tx.exec1("SELECT pg_current_xact_id()::text")[0].as<std::string>();
}

std::vector<std::string> Resources(const std::vector<v1::AuditEntry>& chain) {
  std::vector<std::string> out;
  for (const v1::AuditEntry& e : chain) out.push_back(e.resource());
  return out;
}

v1::AuditEntry Entry(const std::string& resource) {
  v1::AuditEntry e;
  e.mutable_time()->set_seconds(1795400000);
  e.mutable_time()->set_nanos(123000);
  e.set_actor_agency("001.08.19.H26");
  e.set_actor_subject("can-bo-01");
  e.set_actor_role("counter_officer");
  e.set_peer("ipv4:127.0.0.1:1");
  e.set_action("SubmitDossier");
  e.set_resource(resource);
  e.set_outcome("OK");
  e.set_request_id(resource);
  return e;
}

class AuditSealTest : public ::testing::Test {
 protected:
  AuditSealTest() : dsn_(PgCluster::Get().NewDatabase()), pool_({dsn_, 2}) {}

  void MigrateUpTo(int version) {
    std::vector<db::Migration> m = Migrations();
    m.erase(std::remove_if(m.begin(), m.end(),
                           [&](const db::Migration& x) {
                             return x.version > version;
                           }),
            m.end());
    ASSERT_TRUE(db::Migrate(pool_, "intake", m).ok());
  }

  int Seal() {
    return db::WithTransaction(pool_,
                               [](pqxx::work& tx) -> absl::StatusOr<int> {
                                 return pg::SealAudit(tx, 1000);
                               })
        .value_or(-1);
  }

  std::vector<v1::AuditEntry> Chain() {
    return db::WithTransaction(
               pool_,
               [](pqxx::work& tx)
                   -> absl::StatusOr<std::vector<v1::AuditEntry>> {
                 return pg::ListAudit(tx, "", 0, 1000);
               })
        .value_or(std::vector<v1::AuditEntry>{});
  }

  void Append(const std::string& resource) {
    ASSERT_TRUE(db::WithTransaction(pool_, [&](pqxx::work& tx) {
                  pg::AppendAudit(tx, Entry(resource));
                  return absl::OkStatus();
                }).ok());
  }

  std::string dsn_;
  db::Pool pool_;
};

TEST_F(AuditSealTest, AnEntryOfARunningTransactionWaitsAndIsSealedAfterIt) {
  MigrateUpTo(1 << 30);
  // `open` takes its transaction id first, then another request commits an
  // entry behind it: sealing that one now would leave `open`'s entry before
  // the chain's end once it commits, never to be sealed.
  pqxx::connection c(dsn_);
  pqxx::work open(c);
  pg::AppendAudit(open, Entry("dossiers/open"));
  Append("dossiers/later");
  EXPECT_EQ(Seal(), 0);
  EXPECT_TRUE(Chain().empty());
  open.commit();
  EXPECT_EQ(Seal(), 2);
  std::vector<v1::AuditEntry> chain = Chain();
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_THAT(Resources(chain),
              ElementsAre("dossiers/open", "dossiers/later"));
  EXPECT_TRUE(VerifyChain(chain).intact);
  Append("dossiers/third");
  EXPECT_EQ(Seal(), 1);
  EXPECT_EQ(Seal(), 0);
  chain = Chain();
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[2].sequence(), 3);
  EXPECT_EQ(chain[2].prev_hash(), chain[1].hash());
  EXPECT_TRUE(VerifyChain(chain).intact);
}

TEST_F(AuditSealTest, EntriesAreChainedInTransactionIdOrderAsNumbers) {
  MigrateUpTo(1 << 30);
  Append("dossiers/first-written");
  Append("dossiers/second-written");
  // As numbers 9 < 10; as text "10" < "9".
  ASSERT_TRUE(db::WithTransaction(pool_, [](pqxx::work& tx) {
                tx.exec("UPDATE intake.audit SET xid = CASE resource WHEN "
                        "'dossiers/first-written' THEN '10'::xid8 ELSE "
                        "'9'::xid8 END");
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(Seal(), 2);
  std::vector<v1::AuditEntry> chain = Chain();
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_THAT(Resources(chain), ElementsAre("dossiers/second-written",
                                            "dossiers/first-written"));
}

TEST_F(AuditSealTest, TheHorizonStopsAtTheOldestRunningTransaction) {
  MigrateUpTo(1 << 30);
  // `older` takes its id before the sealer, `newer` after it; both still
  // run when the sealer reads who is running.
  pqxx::connection c1(dsn_), c2(dsn_), c3(dsn_);
  pqxx::work older(c1);
  const std::string older_xid = XactId(older);
  pqxx::work sealer(c2);
  const std::string own = XactId(sealer);
  pqxx::work newer(c3);
  pg::AppendAudit(newer, Entry("dossiers/newer"));
  EXPECT_EQ(pg::AuditSealHorizon(sealer, own), older_xid);
  older.commit();
  newer.commit();
  sealer.commit();
  // With only a newer transaction running, the horizon is the sealer's own
  // id. (A pass is one transaction: PostgreSQL reads who is running once
  // per transaction, hence a new one.)
  pqxx::work sealer2(c2);
  const std::string own2 = XactId(sealer2);
  pqxx::work newer2(c3);
  pg::AppendAudit(newer2, Entry("dossiers/newer-2"));
  EXPECT_EQ(pg::AuditSealHorizon(sealer2, own2), own2);
}

TEST_F(AuditSealTest, AChainRestoredFromALogicalDumpIntoANewServerGoesOn) {
  // A dump keeps the old server's transaction ids; the new server hands
  // out lower ones. Shifting the stored ids up plays that.
  MigrateUpTo(1 << 30);
  Append("dossiers/sealed-1");
  Append("dossiers/sealed-2");
  EXPECT_EQ(Seal(), 2);
  Append("dossiers/unsealed");
  ASSERT_TRUE(db::WithTransaction(pool_, [](pqxx::work& tx) {
                // The first entry's old id is below the ids the new server
                // hands out, the rest above: renumbering must not miss it.
                constexpr char kShift[] =
                    " SET xid = (xid::text::bigint + 4000000000)::text::xid8";
                tx.exec(absl::StrCat("UPDATE intake.audit", kShift,
                                     " WHERE resource <> 'dossiers/sealed-1'"));
                tx.exec("UPDATE intake.audit SET xid = '2' WHERE resource = "
                        "'dossiers/sealed-1'");
                tx.exec(absl::StrCat("UPDATE intake.audit_seal", kShift));
                return absl::OkStatus();
              }).ok());
  Append("dossiers/after-restore");
  EXPECT_EQ(Seal(), 2);
  std::vector<v1::AuditEntry> chain = Chain();
  ASSERT_EQ(chain.size(), 4u);
  EXPECT_THAT(Resources(chain),
              ElementsAre("dossiers/sealed-1", "dossiers/sealed-2",
                          "dossiers/unsealed", "dossiers/after-restore"));
  EXPECT_TRUE(VerifyChain(chain).intact);
  Append("dossiers/next");
  EXPECT_EQ(Seal(), 1);
  EXPECT_EQ(Chain().size(), 5u);
}

TEST_F(AuditSealTest, AChainSealedBeforeMigration5KeepsItsEntriesAndGrows) {
  // Before 0005 the sealer wrote seq, prev_hash and hash into audit rows.
  MigrateUpTo(4);
  std::string prev;
  ASSERT_TRUE(db::WithTransaction(pool_, [&](pqxx::work& tx) {
                for (int i = 1; i <= 5; ++i) {
                  v1::AuditEntry e = Entry(absl::StrCat("dossiers/old-", i));
                  pg::AppendAudit(tx, e);
                  if (i > 3) continue;  // 4 and 5 were not sealed yet
                  e.set_sequence(i);
                  e.set_prev_hash(prev);
                  e.set_hash(AuditHash(e));
                  prev = e.hash();
                  db::ExecPrepared(tx,
                                   "UPDATE intake.audit SET seq = $1, "
                                   "prev_hash = $2, hash = $3 WHERE "
                                   "request_id = $4",
                                   i, e.prev_hash(), e.hash(), e.request_id());
                }
                return absl::OkStatus();
              }).ok());
  MigrateUpTo(1 << 30);
  std::vector<v1::AuditEntry> before = Chain();
  ASSERT_EQ(before.size(), 3u);
  EXPECT_EQ(before[2].hash(), prev);
  Append("dossiers/new");
  EXPECT_EQ(Seal(), 3);
  std::vector<v1::AuditEntry> chain = Chain();
  ASSERT_EQ(chain.size(), 6u);
  EXPECT_THAT(Resources(chain),
              ElementsAre("dossiers/old-1", "dossiers/old-2", "dossiers/old-3",
                          "dossiers/old-4", "dossiers/old-5", "dossiers/new"));
  EXPECT_EQ(chain[3].prev_hash(), prev);
  EXPECT_TRUE(VerifyChain(chain).intact);
}

}  // namespace
}  // namespace lienthong::intake
