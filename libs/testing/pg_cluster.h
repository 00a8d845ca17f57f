#pragma once

// A private PostgreSQL for integration tests: once per test binary, initdb'd
// in a temp dir with Debian's binaries, listening only on a Unix socket in
// that dir; each test asks for a fresh database. Run as root, the server
// runs as the `postgres` system user (PostgreSQL refuses root). Durability
// is off here (tests only; benchmarks use tools/pg, which keeps it on).

#include <string>

#include "absl/status/status.h"

namespace lienthong::testing {

class PgCluster {
 public:
  // The process-wide cluster, started on first use; aborts the test binary
  // with a clear message if PostgreSQL cannot start.
  static PgCluster& Get();

  // Creates an empty database and returns its libpq DSN (aborts the test
  // binary when PostgreSQL refuses).
  std::string NewDatabase();

  // Really stops / starts the server (same data, same socket).
  absl::Status Stop();
  absl::Status Start();

  // The cluster's directory (data, socket, logs); removed at exit, and by a
  // reaper process if the test binary is killed.
  const std::string& dir() const { return dir_; }
  const std::string& socket_dir() const { return socket_dir_; }
  int port() const { return port_; }

  ~PgCluster();

 private:
  PgCluster() = default;
  absl::Status Init();
  std::string dir_;
  std::string socket_dir_;
  int port_ = 0;
  int next_db_ = 0;
};

}  // namespace lienthong::testing
