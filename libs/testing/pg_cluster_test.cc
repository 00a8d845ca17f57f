#include "libs/testing/pg_cluster.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "pqxx/pqxx"

extern char** environ;

namespace lienthong::testing {
namespace {

constexpr char kChildEnv[] = "LIENTHONG_PG_CLUSTER_TEST_CHILD_OUT";

TEST(PgClusterTest, EachDatabaseIsFreshAndSeparate) {
  const std::string a = PgCluster::Get().NewDatabase();
  const std::string b = PgCluster::Get().NewDatabase();
  ASSERT_NE(a, b);
  {
    pqxx::connection conn(a);
    pqxx::work tx(conn);
    tx.exec("CREATE TABLE t (v text)");
    tx.exec("INSERT INTO t VALUES ('Nguyễn Văn An')");
    tx.commit();
  }
  pqxx::connection conn_b(b);
  pqxx::work tx_b(conn_b);
  EXPECT_EQ(
      tx_b.exec("SELECT count(*) FROM pg_tables WHERE tablename = 't'")[0][0]
          .as<int>(),
      0);
  // Only a Unix socket: no TCP listener.
  EXPECT_EQ(tx_b.exec("SHOW listen_addresses")[0][0].as<std::string>(), "");
  EXPECT_EQ(tx_b.exec("SHOW server_encoding")[0][0].as<std::string>(), "UTF8");
}

// Run only as the child of the test below: starts a cluster, tells the
// parent where it lives, and dies without running any exit handler.
TEST(PgClusterTest, ChildThatIsKilled) {
  const char* out = std::getenv(kChildEnv);
  if (out == nullptr) GTEST_SKIP() << "helper for KilledTestBinary...";
  PgCluster& c = PgCluster::Get();
  {
    std::ofstream f(out);
    f << c.dir() << "\n";
  }
  raise(SIGKILL);
}

TEST(PgClusterTest, AKilledTestBinaryLeavesNoServerOrFilesBehind) {
  if (std::getenv(kChildEnv) != nullptr) GTEST_SKIP();
  const std::string out = PgCluster::Get().dir() + "-child-out";
  const std::string env = std::string(kChildEnv) + "=" + out;
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  envp.push_back(const_cast<char*>(env.c_str()));
  envp.push_back(nullptr);
  std::string filter = "--gtest_filter=PgClusterTest.ChildThatIsKilled";
  std::string self = std::filesystem::read_symlink("/proc/self/exe");
  char* argv[] = {self.data(), filter.data(), nullptr};
  pid_t pid;
  ASSERT_EQ(
      posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv, envp.data()), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  std::string child_dir;
  {
    std::ifstream f(out);
    std::getline(f, child_dir);
  }
  std::filesystem::remove(out);
  ASSERT_FALSE(child_dir.empty());
  // The reaper is a separate process; wait for it (not for time) with a
  // generous bound.
  const auto limit =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::filesystem::exists(child_dir) &&
         std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(std::filesystem::exists(child_dir))
      << child_dir << " is still there";
}

}  // namespace
}  // namespace lienthong::testing
