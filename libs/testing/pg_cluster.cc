#include "libs/testing/pg_cluster.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace lienthong::testing {
namespace {

constexpr char kBin[] = "/usr/lib/postgresql/15/bin";

std::string AsOwner() {
  return geteuid() == 0 ? "runuser -u postgres -- " : "";
}

int Run(const std::string& cmd) { return std::system(cmd.c_str()); }

}  // namespace

PgCluster& PgCluster::Get() {
  static PgCluster* cluster = [] {
    auto* c = new PgCluster();
    if (absl::Status s = c->Init(); !s.ok()) {
      std::fprintf(stderr, "PgCluster: %s\n", std::string(s.message()).c_str());
      std::abort();
    }
    // Stop the server when the test binary exits.
    std::atexit([] { Get().Stop().IgnoreError(); });
    return c;
  }();
  return *cluster;
}

absl::Status PgCluster::Init() {
  char tmpl[] = "/tmp/lienthong-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  dir_ = tmpl;
  socket_dir_ = dir_ + "/sock";
  std::filesystem::create_directories(socket_dir_);
  std::filesystem::permissions(dir_, std::filesystem::perms::all);
  // A port number is still part of the socket file's name; no TCP is used.
  port_ = 20000 + static_cast<int>(getpid() % 30000);
  if (geteuid() == 0) Run(absl::StrCat("chown -R postgres ", dir_));
  if (Run(absl::StrCat(AsOwner(), kBin, "/initdb -D ", dir_,
                       "/data -A trust -U postgres -E UTF8 --locale=C.UTF-8 "
                       ">",
                       dir_, "/initdb.log 2>&1")) != 0) {
    return absl::InternalError(
        absl::StrCat("initdb failed; see ", dir_, "/initdb.log"));
  }
  return Start();
}

absl::Status PgCluster::Start() {
  const std::string cmd = absl::StrCat(
      AsOwner(), kBin, "/pg_ctl -D ", dir_, "/data -w -t 60 -l ", dir_,
      "/server.log -o \"-k ", socket_dir_, " -p ", port_,
      " -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
      " -c full_page_writes=off -c max_connections=300\" start >/dev/null "
      "2>&1");
  if (Run(cmd) != 0) {
    return absl::InternalError(
        absl::StrCat("pg_ctl start failed; see ", dir_, "/server.log"));
  }
  return absl::OkStatus();
}

absl::Status PgCluster::Stop() {
  if (Run(absl::StrCat(AsOwner(), kBin, "/pg_ctl -D ", dir_,
                       "/data -w -m fast stop >/dev/null 2>&1")) != 0) {
    return absl::InternalError("pg_ctl stop failed");
  }
  return absl::OkStatus();
}

std::string PgCluster::NewDatabase() {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  const std::string name = absl::StrCat("t", getpid(), "_", ++next_db_);
  Run(absl::StrCat(kBin, "/createdb -h ", socket_dir_, " -p ", port_,
                   " -U postgres ", name));
  return absl::StrCat("host=", socket_dir_, " port=", port_,
                      " user=postgres dbname=", name);
}

PgCluster::~PgCluster() = default;

}  // namespace lienthong::testing
