#pragma once

// A fresh, migrated `deadline` schema on libs/testing's private PostgreSQL,
// and helpers shared by this directory's integration tests.

#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "deadline_migrations.h"
#include "gtest/gtest.h"
#include "libs/db/migrations.h"
#include "libs/db/pool.h"
#include "libs/db/transaction.h"
#include "libs/testing/pg_cluster.h"

namespace lienthong::deadline::test {

inline std::unique_ptr<db::Pool> FreshPool() {
  db::PoolOptions o;
  o.dsn = lienthong::testing::PgCluster::Get().NewDatabase();
  o.size = 8;
  auto pool = std::make_unique<db::Pool>(o);
  const absl::Status s = db::Migrate(*pool, "deadline", Migrations());
  EXPECT_TRUE(s.ok()) << s;
  return pool;
}

// A stable UUID for a test's name for an event ("recv-D1"), so that sending
// it twice is a redelivery.
inline std::string Uuid(const std::string& name) {
  const size_t h = std::hash<std::string>()(name);
  return absl::StrFormat("00000000-0000-4000-8000-%012x",
                         h & 0xffffffffffffULL);
}

inline int64_t Count(db::Pool& pool, const std::string& sql) {
  int64_t n = -1;
  const absl::Status s = db::WithTransaction(pool, [&](pqxx::work& w) {
    n = w.exec(sql)[0][0].as<int64_t>();
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return n;
}

}  // namespace lienthong::deadline::test
