#include "libs/testing/pg_cluster.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
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

// A detached process that outlives this one only to clean up after it: it
// waits for EOF on a pipe whose write end only this process holds (the end
// is close-on-exec, so the server never inherits it), then stops the server
// and removes the directory. A test binary killed by a signal or a ctest
// timeout thus leaves no server running and nothing in /tmp.
void StartReaper(const std::string& dir) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  // Everything the child needs is built before fork(): after it, only
  // async-signal-safe calls.
  const std::string cmd =
      absl::StrCat(AsOwner(), kBin, "/pg_ctl -D ", dir,
                   "/data -m immediate stop >/dev/null 2>&1; rm -rf ", dir);
  const char* argv[] = {"sh", "-c", cmd.c_str(), nullptr};
  const pid_t child = fork();
  if (child < 0) {
    close(fds[0]);
    close(fds[1]);
    return;
  }
  if (child == 0) {
    setsid();  // out of the test's process group
    if (fork() != 0) _exit(0);
    const int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    // Hold nothing of the parent's open: not ctest's output pipe, not the
    // pipe's write end.
    for (int fd = 3; fd < 4096; ++fd) {
      if (fd != fds[0]) close(fd);
    }
    char b;
    for (;;) {
      const ssize_t n = read(fds[0], &b, 1);
      if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    execv("/bin/sh", const_cast<char* const*>(argv));
    _exit(127);
  }
  close(fds[0]);
  waitpid(child, nullptr, 0);
  // fds[1] stays open for the life of this process, on purpose.
}

}  // namespace

PgCluster& PgCluster::Get() {
  static PgCluster* cluster = [] {
    auto* c = new PgCluster();
    if (absl::Status s = c->Init(); !s.ok()) {
      std::fprintf(stderr, "PgCluster: %s\n", std::string(s.message()).c_str());
      std::abort();
    }
    // Stop the server and remove its files when the test binary exits.
    std::atexit([] {
      PgCluster& c = Get();
      c.Stop().IgnoreError();
      std::error_code ignored;
      std::filesystem::remove_all(c.dir_, ignored);
    });
    return c;
  }();
  return *cluster;
}

absl::Status PgCluster::Init() {
  char tmpl[] = "/tmp/lienthong-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  dir_ = tmpl;
  StartReaper(dir_);
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
  if (Run(absl::StrCat(kBin, "/createdb -h ", socket_dir_, " -p ", port_,
                       " -U postgres ", name)) != 0) {
    std::fprintf(stderr, "PgCluster: createdb %s failed; see %s/server.log\n",
                 name.c_str(), dir_.c_str());
    std::abort();
  }
  return absl::StrCat("host=", socket_dir_, " port=", port_,
                      " user=postgres dbname=", name);
}

PgCluster::~PgCluster() = default;

}  // namespace lienthong::testing
