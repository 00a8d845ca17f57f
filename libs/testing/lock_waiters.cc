#include "libs/testing/lock_waiters.h"

#include <chrono>
#include <thread>

#include "pqxx/pqxx"

namespace lienthong::testing {

int WaitForLockWaiters(const std::string& dsn, int n) {
  pqxx::connection observer(dsn);
  int waiting = 0;
  for (int i = 0; i < 1000 && waiting < n; ++i) {
    pqxx::nontransaction q(observer);
    waiting = q.exec(
                   "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                   "current_database() AND wait_event_type = 'Lock'")[0][0]
                  .as<int>();
    if (waiting < n) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return waiting;
}

}  // namespace lienthong::testing
