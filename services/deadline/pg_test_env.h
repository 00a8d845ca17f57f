#pragma once

// A private PostgreSQL for this directory's integration tests: one cluster
// per test binary (initdb in a temp dir, Unix socket, trust auth), a fresh
// database per test with the deadline migrations applied.
// TODO(deadline): switch to libs/testing's fixture once it lands (#3).

#include <string>

#include "absl/status/statusor.h"

namespace lienthong::deadline::testing {

// Starts the cluster on first use; the DSN of a fresh, migrated database.
absl::StatusOr<std::string> FreshDatabase();

// Applies services/deadline/migrations/*.sql plus test inbox/outbox tables.
absl::Status ApplyMigrations(const std::string& dsn);

}  // namespace lienthong::deadline::testing
