// The real lienthong-notify process, killed with SIGKILL mid-batch while
// the SMS sink is slow: after a restart every notification reaches the sink
// exactly once (by delivery id) and nothing is lost.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/strip.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "libs/common/uuid.h"
#include "libs/testing/pg_cluster.h"
#include "lienthong/notify/v1/notify_service.grpc.pb.h"
#include "tests/integration/notify_sinks.h"

namespace lienthong::notify {
namespace {

using testing::Sink;

std::string BinaryDir() {
  const char* d = std::getenv("LIENTHONG_BINARY_DIR");
  return d != nullptr ? d : ".";
}

class NotifyProcess {
 public:
  NotifyProcess(const std::string& dsn, int port, const std::string& sms_url) {
    const std::vector<std::string> args = {
        BinaryDir() + "/services/notify/lienthong-notify",
        "--db_dsn=" + dsn,
        absl::StrCat("--listen_address=127.0.0.1:", port),
        "--metrics_port=0",
        "--insecure_dev_auth",
        "--sms_gateway_url=" + sms_url,
        "--quiet_hours=off",
        "--send_batch=5",
        // A short lease (the survivor takes over soon) needs short
        // channel timeouts: at least twice the longest fits in it.
        "--send_lease=2s",
        "--sms_timeout=900ms",
        "--smtp_timeout=900ms",
        "--webhook_timeout=900ms",
        "--send_interval=50ms",
        "--drain_grace=0s"};
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (const std::string& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~NotifyProcess() { Kill(SIGTERM); }
  void Kill(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// Polls `done` (a process's progress, not the passing of time) for up to
// `seconds`.
bool WaitFor(const std::function<bool()>& done, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

TEST(NotifyKillTest, KilledMidBatchLosesNothingAndDuplicatesNothing) {
  const std::string dsn = lienthong::testing::PgCluster::Get().NewDatabase();
  auto sink = Sink::Http(testing::ScratchDir());
  sink->Delay(150);  // slow gateway: the kill lands mid-batch
  const int port = testing::FreePort();
  auto notify = std::make_unique<NotifyProcess>(dsn, port, sink->Url("/sms"));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(30)));
  auto stub = v1::NotifyService::NewStub(channel);
  constexpr int kMessages = 15;
  std::set<std::string> ids;
  for (int i = 0; i < kMessages; ++i) {
    v1::SendNotificationRequest req;
    req.set_request_id(common::NewUuid());
    req.mutable_recipient()->set_phone(absl::StrCat("09123456", 10 + i));
    (*req.mutable_values())["message"] =
        absl::StrCat("Thông báo số ", i, " từ Bộ phận một cửa.");
    v1::SendNotificationResponse resp;
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-lienthong-role", "supervisor");
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    grpc::Status s = stub->SendNotification(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ids.insert(
        std::string(absl::StripPrefix(resp.delivery().name(), "deliveries/")));
  }
  ASSERT_TRUE(WaitFor([&] { return sink->Stats()["received"] >= 3; }, 30));
  notify->Kill(SIGKILL);
  const int before = sink->Stats()["accepted"];
  EXPECT_LT(before, kMessages);  // really mid-batch

  sink->Delay(0);
  notify = std::make_unique<NotifyProcess>(dsn, port, sink->Url("/sms"));
  ASSERT_TRUE(
      WaitFor([&] { return sink->Stats()["accepted"] >= kMessages; }, 60))
      << sink->Stats().dump();
  nlohmann::json stats = sink->Stats();
  EXPECT_EQ(stats["accepted"], kMessages);
  std::set<std::string> keys;
  std::map<std::string, int> accepted_per_key;
  for (const auto& m : sink->Messages()) {
    keys.insert(m["key"]);
    ++accepted_per_key[m["key"]];
  }
  EXPECT_EQ(keys, ids);
  for (const auto& [k, n] : accepted_per_key) EXPECT_EQ(n, 1) << k;
  // At most the one message in flight at the kill was offered again, and
  // the gateway recognised it by its Idempotency-Key.
  EXPECT_LE(stats["duplicates"].get<int>(), 1);
}

}  // namespace
}  // namespace lienthong::notify
