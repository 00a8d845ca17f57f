// lienthong-agency-sim: plays agency back-office systems (civil status,
// police, social insurance) using only the public routing contract:
// watches its agencies' queues, claims, and after a delay completes each
// task with plausible outputs, or, with the given probabilities, asks for a
// supplement or refuses. A home birth without a witness is always sent back
// for a supplement (the demo's second dossier). Restartable: after a
// restart the stream starts with every task still ready, and claimed tasks
// whose lease ran out come back on their own. SIGTERM or SIGINT cancels
// every call in flight, and it exits 0. The client (claim tokens, lease
// renewal, retries, reconnecting) is agency_sim.h.

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/grpc_util/channel.h"
#include "tools/agency-sim/agency_sim.h"

ABSL_FLAG(std::string, routing, "127.0.0.1:7002", "routing host:port");
ABSL_FLAG(std::vector<std::string>, agencies, {},
          "Agency codes to play, e.g. 002.08.19.H26,003.08.19.H26");
ABSL_FLAG(absl::Duration, delay, absl::Seconds(1),
          "Working time per task before answering");
ABSL_FLAG(absl::Duration, lease, absl::Seconds(30),
          "Lease asked for on claim, renewed while a task takes longer; a "
          "crashed simulator's tasks return to the queue when it runs out");
ABSL_FLAG(bool, claim_on_delivery, false,
          "Watch with claim on delivery (each task arrives claimed with "
          "--lease) instead of calling ClaimTask per task");
ABSL_FLAG(double, supplement_probability, 0.0,
          "Probability of asking for a supplement");
ABSL_FLAG(double, refuse_probability, 0.0, "Probability of refusing");
ABSL_FLAG(std::string, ca, "", "CA (PEM) for TLS to routing");
ABSL_FLAG(std::string, cert, "", "Client certificate (PEM) for mTLS");
ABSL_FLAG(std::string, key, "", "Client key (PEM)");
ABSL_FLAG(bool, quiet, false, "Log only errors");
ABSL_FLAG(absl::Duration, reconnect_max, absl::Seconds(30),
          "Longest wait between attempts to reopen the watch stream (the "
          "wait doubles from 500ms up to it)");

namespace sim = lienthong::agency_sim;
namespace lt = lienthong;

namespace {

absl::Mutex print_mu;

// Errors go to stderr and are printed even with --quiet.
void Log(bool error, const std::string& line) {
  if (!error && absl::GetFlag(FLAGS_quiet)) return;
  absl::MutexLock lock(&print_mu);
  std::FILE* out = error ? stderr : stdout;
  std::fprintf(out, "%s\n", line.c_str());
  std::fflush(out);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // SIGTERM and SIGINT are taken by sigwait below; blocked before any thread
  // starts (gRPC's included), so no other thread is interrupted by them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const auto codes = absl::GetFlag(FLAGS_agencies);
  if (codes.empty()) {
    std::fprintf(stderr,
                 "agency-sim: --agencies must name at least one agency\n");
    return 2;
  }
  const absl::Duration lease = absl::GetFlag(FLAGS_lease);
  if (lease <= absl::ZeroDuration() || lease > absl::Hours(1)) {
    std::fprintf(stderr, "agency-sim: --lease must be over 0 and at most 1h\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_reconnect_max) <= absl::ZeroDuration()) {
    std::fprintf(stderr, "agency-sim: --reconnect_max must be over 0\n");
    return 2;
  }
  auto channel = lt::grpc_util::MakeChannel(
      absl::GetFlag(FLAGS_routing),
      {absl::GetFlag(FLAGS_ca), absl::GetFlag(FLAGS_cert),
       absl::GetFlag(FLAGS_key)});
  if (!channel.ok()) {
    std::fprintf(stderr, "agency-sim: %s\n",
                 std::string(channel.status().message()).c_str());
    return 2;
  }
  std::vector<std::unique_ptr<sim::SimAgency>> agencies;
  std::random_device rd;
  for (const std::string& code : codes) {
    sim::SimOptions o;
    o.agency = code;
    o.delay = absl::GetFlag(FLAGS_delay);
    o.lease = lease;
    o.claim_on_delivery = absl::GetFlag(FLAGS_claim_on_delivery);
    o.supplement_probability = absl::GetFlag(FLAGS_supplement_probability);
    o.refuse_probability = absl::GetFlag(FLAGS_refuse_probability);
    o.reconnect_max = absl::GetFlag(FLAGS_reconnect_max);
    o.seed = rd();
    agencies.push_back(std::make_unique<sim::SimAgency>(
        std::move(o), *channel, sim::RealSimTime(), Log));
  }
  std::vector<std::thread> threads;
  for (auto& a : agencies) threads.emplace_back([&a] { a->Run(); });
  Log(false, absl::StrCat("agency-sim: playing ", codes.size(), " agencies"));
  int sig = 0;
  sigwait(&signals, &sig);
  Log(false, absl::StrCat("agency-sim: signal ", sig, ", stopping"));
  for (auto& a : agencies) a->Stop();
  for (auto& t : threads) t.join();
  Log(false, "agency-sim: stopped");
  return 0;
}
