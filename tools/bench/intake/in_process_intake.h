#pragma once

// The intake service under test, in the bench's own process, as
// lienthong-intake runs it: its own connection pool, the service's server
// bootstrap (interceptor, access log, metrics) on 127.0.0.1:0, and the audit
// sealer every `seal_interval`. A failure to start ends the bench (Die).

#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/calendar/working_calendar.h"
#include "libs/db/pool.h"
#include "libs/grpc_util/server.h"
#include "services/intake/intake_server.h"

namespace lienthong::intake {

struct InProcessOptions {
  std::string dsn;
  int pool_size = 8;
  calendar::WorkingCalendar calendar;
  int submit_batch_max = 32;
  int submit_batches_in_flight = 2;
  int submit_batch_min_queued = 6;
  int max_threads = 0;  // the service's --max_threads
  absl::Duration seal_interval = absl::Milliseconds(100);
};

class InProcessIntake {
 public:
  explicit InProcessIntake(InProcessOptions o);
  ~InProcessIntake() { Stop(); }
  InProcessIntake(const InProcessIntake&) = delete;
  InProcessIntake& operator=(const InProcessIntake&) = delete;

  // host:port of its server.
  std::string address() const;
  // Submissions and the transactions that wrote them, so far.
  std::pair<long, long> SubmitBatchStats() const;
  // Stops the sealer, then the server. Once; later calls do nothing.
  void Stop();

 private:
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<IntakeServer> service_;
  std::unique_ptr<grpc_util::Server> server_;
  absl::Notification stop_;
  std::thread sealer_;
};

}  // namespace lienthong::intake
