#include "tools/bench/intake/in_process_intake.h"

#include "absl/strings/str_cat.h"
#include "libs/common/clock.h"
#include "tools/bench/intake/workload.h"

namespace lienthong::intake {

InProcessIntake::InProcessIntake(InProcessOptions o)
    : pool_(std::make_unique<db::Pool>(db::PoolOptions{o.dsn, o.pool_size})) {
  IntakeOptions io;
  io.insecure_dev_auth = true;
  io.calendar = std::make_shared<const calendar::WorkingCalendar>(o.calendar);
  io.submit_batch_max = o.submit_batch_max;
  io.submit_batches_in_flight = o.submit_batches_in_flight;
  io.submit_batch_min_queued = o.submit_batch_min_queued;
  service_ = std::make_unique<IntakeServer>(*pool_, common::RealClock::Get(),
                                            std::move(io));
  grpc_util::ServerOptions so;
  so.service_label = "intake";
  so.service_names = {"lienthong.intake.v1.IntakeService"};
  so.drain_grace = absl::ZeroDuration();
  so.max_threads = o.max_threads;
  auto started = grpc_util::Server::Start(so, {service_.get()});
  if (!started.ok()) Die("server", started.status());
  server_ = *std::move(started);
  // As lienthong-intake does: seal audit entries into the chain every
  // --audit_seal_interval (the service's default).
  sealer_ = std::thread([this, interval = o.seal_interval] {
    do {
      absl::StatusOr<int64_t> n = service_->SealAuditOnce();
      if (!n.ok()) Die("audit seal", n.status());
    } while (!stop_.WaitForNotificationWithTimeout(interval));
  });
}

std::string InProcessIntake::address() const {
  return absl::StrCat("127.0.0.1:", server_->port());
}

std::pair<long, long> InProcessIntake::SubmitBatchStats() const {
  const auto s = service_->SubmitBatchStats();
  return {s.jobs, s.batches};
}

void InProcessIntake::Stop() {
  if (stop_.HasBeenNotified()) return;
  stop_.Notify();
  if (sealer_.joinable()) sealer_.join();
  server_->Shutdown();
}

}  // namespace lienthong::intake
