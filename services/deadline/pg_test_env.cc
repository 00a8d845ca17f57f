#include "services/deadline/pg_test_env.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/deadline/pg_tx_runner.h"

namespace lienthong::deadline::testing {
namespace {

constexpr char kBin[] = "/usr/lib/postgresql/15/bin";

struct Cluster {
  std::string dir;
  std::string socket_dir;
  int port = 0;
  int next_db = 0;
  ~Cluster() {
    if (dir.empty()) return;
    std::system(absl::StrCat(AsOwner(), kBin, "/pg_ctl -D ", dir,
                             "/data -m immediate stop >/dev/null 2>&1")
                    .c_str());
    std::filesystem::remove_all(dir);
  }
  static std::string AsOwner() {
    // initdb refuses to run as root: run the server as `postgres`.
    return geteuid() == 0 ? "runuser -u postgres -- " : "";
  }
};

absl::Mutex mu;
Cluster* cluster ABSL_GUARDED_BY(mu) = nullptr;

absl::Status Start(Cluster& c) {
  char tmpl[] = "/tmp/lt-deadline-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp");
  c.dir = tmpl;
  c.socket_dir = c.dir + "/sock";
  std::filesystem::create_directories(c.socket_dir);
  c.port = 20000 + static_cast<int>(getpid() % 20000);
  if (geteuid() == 0) {
    std::system(absl::StrCat("chown -R postgres ", c.dir).c_str());
  }
  const std::string init =
      absl::StrCat(Cluster::AsOwner(), kBin, "/initdb -D ", c.dir,
                   "/data -A trust -U postgres -E UTF8 --locale=C.UTF-8 "
                   ">/dev/null 2>&1");
  if (std::system(init.c_str()) != 0) {
    return absl::InternalError("initdb failed");
  }
  const std::string start = absl::StrCat(
      Cluster::AsOwner(), kBin, "/pg_ctl -D ", c.dir, "/data -w -l ", c.dir,
      "/log -o \"-k ", c.socket_dir, " -p ", c.port,
      " -c listen_addresses='' -c fsync=off -c max_connections=200\" start "
      ">/dev/null 2>&1");
  if (std::system(start.c_str()) != 0) {
    return absl::InternalError("pg_ctl start failed");
  }
  return absl::OkStatus();
}

std::string Dsn(const Cluster& c, const std::string& db) {
  return absl::StrCat("host=", c.socket_dir, " port=", c.port,
                      " user=postgres dbname=", db);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

absl::Status ApplyMigrations(const std::string& dsn) {
  const char* src = std::getenv("LIENTHONG_SOURCE_DIR");
  if (src == nullptr) return absl::FailedPreconditionError("no source dir");
  PgTxRunner runner(dsn);
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(
           std::string(src) + "/services/deadline/migrations")) {
    if (e.path().extension() == ".sql") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::string sql = "CREATE SCHEMA IF NOT EXISTS deadline;\n";
  for (const auto& f : files) sql += ReadFile(f.string());
  sql +=
      "CREATE TABLE deadline.test_inbox (event_id text PRIMARY KEY);"
      "CREATE TABLE deadline.test_outbox (id bigserial PRIMARY KEY, "
      "event_id text NOT NULL, destination text NOT NULL, type text NOT NULL,"
      " payload bytea NOT NULL, UNIQUE (event_id, destination));";
  return runner.Exec(sql);
}

absl::StatusOr<std::string> FreshDatabase() {
  absl::MutexLock lock(&mu);
  if (cluster == nullptr) {
    static Cluster c;
    absl::Status s = Start(c);
    if (!s.ok()) return s;
    cluster = &c;
  }
  const std::string db =
      absl::StrCat("deadline_test_", getpid(), "_", ++cluster->next_db);
  {
    PgTxRunner admin(Dsn(*cluster, "postgres"));
    // CREATE DATABASE cannot run inside a transaction.
    try {
      pqxx::connection conn(Dsn(*cluster, "postgres"));
      pqxx::nontransaction n(conn);
      n.exec(absl::StrCat("CREATE DATABASE ", db));
    } catch (const std::exception&) {
      return absl::InternalError("CREATE DATABASE failed");
    }
  }
  const std::string dsn = Dsn(*cluster, db);
  absl::Status s = ApplyMigrations(dsn);
  if (!s.ok()) return s;
  return dsn;
}

}  // namespace lienthong::deadline::testing
