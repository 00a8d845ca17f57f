#pragma once

// DeadlineStore on PostgreSQL (schema `deadline`, migrations/). The inbox
// and outbox are libs/db's (`deadline.inbox`, `deadline.outbox`), written in
// the same transaction as the clock change.

#include <string>

#include "libs/common/clock.h"
#include "libs/db/pool.h"
#include "pqxx/pqxx"
#include "services/deadline/deadline_store.h"

namespace lienthong::deadline {

// Sent (NotifyAfterCommit) when a calendar version is stored or takes
// effect: every replica's calendar cache loop listens and drops its
// copies, instead of counting new clocks with them until they expire.
inline constexpr char kCalendarsChangedChannel[] = "deadline_calendars";

class PgDeadlineStore final : public DeadlineStore {
 public:
  PgDeadlineStore(db::Pool& pool, const common::Clock& clock)
      : pool_(pool), clock_(clock) {}

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

 private:
  db::Pool& pool_;
  const common::Clock& clock_;
};

}  // namespace lienthong::deadline
