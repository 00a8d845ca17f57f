#pragma once

// An in-memory DeadlineStore for unit tests of DeadlineService. Transactions
// run one at a time on a copy of the state that replaces it only on success,
// so a failed transaction leaves nothing behind, as in PostgreSQL.

#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/deadline/deadline_store.h"

namespace lienthong::deadline {

class MemoryDeadlineStore final : public DeadlineStore {
 public:
  struct Counters {
    int64_t received = 0, early = 0, on_time = 0, late = 0;
    int64_t open_on_time = 0, open_overdue = 0;
  };
  // (scope, via, day, kind, procedure, tier); day is empty for open counts.
  using Key =
      std::tuple<std::string, std::string, std::string, int, std::string, int>;
  struct State {
    std::set<std::string> inbox;
    std::map<std::string, Clock> clocks;
    // Each agency a clock has named, with its ancestors as last named.
    std::map<std::string, std::vector<std::string>> agencies;
    std::map<Key, Counters> counters;
    std::vector<OutgoingEvent> outbox;
    std::vector<AuditEntry> audit;
    std::vector<CalendarVersion> calendars;
  };

  absl::Status InTransaction(
      const std::function<absl::Status(DeadlineTx&)>& fn) override;
  absl::StatusOr<absl::optional<Clock>> GetClock(
      const std::string& name) override;
  absl::StatusOr<std::vector<Clock>> ListClocks(const ClockQuery& q) override;
  absl::StatusOr<std::vector<ReportRow>> Report(const ReportQuery& q) override;
  absl::StatusOr<std::vector<CalendarVersion>> ListCalendars() override;
  absl::StatusOr<absl::optional<CalendarVersion>> LatestCalendar(
      const std::string& calendar_id, absl::Time at) override;
  absl::StatusOr<absl::optional<CalendarVersion>> CalendarVersionOf(
      const std::string& calendar_id, int64_t version) override;
  absl::StatusOr<std::vector<OpenClockCount>> CountOpenClocks() override;
  absl::StatusOr<absl::optional<std::vector<std::string>>> AgencyAncestors(
      const std::string& agency_code) override;
  absl::StatusOr<absl::optional<CalendarVersion>> CalendarByRequestId(
      const std::string& request_id) override;

  State Snapshot() const {
    absl::MutexLock lock(&mu_);
    return state_;
  }

  // Runs `hook` once, after the next LatestCalendar of `calendar_id`
  // outside a transaction has read and before it returns (what another
  // replica does meanwhile).
  void AfterNextLatestCalendarRead(std::string calendar_id,
                                   std::function<void()> hook) {
    absl::MutexLock lock(&mu_);
    after_latest_read_ = {std::move(calendar_id), std::move(hook)};
  }

 private:
  absl::Mutex tx_mu_;  // one transaction at a time
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
  std::pair<std::string, std::function<void()>> after_latest_read_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::deadline
