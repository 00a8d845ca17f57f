#pragma once

// What every notify integration fixture starts from: a fresh database with
// notify's migrations and default templates, the enqueuer, a scratch
// directory for the sinks, and a fake clock at 12/3/2026 09:00 in Hà Nội.
// Sinks, transport and sender are each test's own.

#include <memory>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "libs/db/migrations.h"
#include "libs/db/pool.h"
#include "libs/db/transaction.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"
#include "notify_migrations.h"
#include "services/notify/default_templates.h"
#include "services/notify/delivery_policy.h"
#include "services/notify/enqueuer.h"
#include "services/notify/notify_store.h"
#include "tests/integration/notify_sinks.h"

namespace lienthong::notify::testing {

// A local time in Asia/Ho_Chi_Minh.
inline absl::Time Hcm(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), VietnamZone());
}

class NotifyStoreTest : public ::testing::Test {
 protected:
  // Call first in SetUp.
  void SetUpStore(const EnqueueOptions& enqueue = {}) {
    db::PoolOptions o;
    o.dsn = lienthong::testing::PgCluster::Get().NewDatabase();
    o.size = 4;
    pool_ = std::make_unique<db::Pool>(o);
    ASSERT_THAT(db::Migrate(*pool_, "notify", Migrations()),
                lienthong::testing::IsOk());
    store_ = std::make_unique<PgNotifyStore>(*pool_);
    ASSERT_THAT(store_->SeedTemplates(DefaultTemplates(), clock_.Now()),
                lienthong::testing::IsOk());
    enqueuer_ = std::make_unique<Enqueuer>(*store_, clock_, enqueue);
    dir_ = ScratchDir();
  }

  // Enqueues `plan` in a transaction of its own; the new deliveries' ids.
  std::vector<std::string> Enqueue(const NotificationPlan& plan) {
    absl::StatusOr<std::vector<std::string>> ids = db::WithTransaction(
        *pool_,
        [&](pqxx::work& tx) { return enqueuer_->EnqueueInTx(tx, plan); });
    EXPECT_TRUE(ids.ok()) << ids.status();
    return ids.ok() ? *ids : std::vector<std::string>{};
  }

  common::FakeClock clock_{Hcm(2026, 3, 12, 9, 0)};
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<PgNotifyStore> store_;
  std::unique_ptr<Enqueuer> enqueuer_;
  std::string dir_;
};

}  // namespace lienthong::notify::testing
