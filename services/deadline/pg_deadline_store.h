#pragma once

// DeadlineStore on PostgreSQL (schema `deadline`, migrations/). The inbox
// and outbox belong to the shared outbox machinery, so they are injected:
// both run inside the same pqxx transaction as the clock change.

#include <functional>
#include <string>

#include "pqxx/pqxx"
#include "services/deadline/deadline_store.h"
#include "services/deadline/pg_tx_runner.h"

namespace lienthong::deadline {

struct PgHooks {
  // Records an inbound event id; false if already there.
  std::function<absl::StatusOr<bool>(pqxx::work&, const std::string&)>
      mark_inbound;
  // Appends an event for each of its destinations.
  std::function<absl::Status(pqxx::work&, const OutgoingEvent&)> append_outbox;
};

class PgDeadlineStore final : public DeadlineStore {
 public:
  PgDeadlineStore(PgTxRunner& runner, PgHooks hooks)
      : runner_(runner), hooks_(std::move(hooks)) {}

  absl::Status InTransaction(
      const std::function<absl::Status(DeadlineTx&)>& fn) override;
  absl::StatusOr<absl::optional<Clock>> GetClock(
      const std::string& name) override;
  absl::StatusOr<std::vector<Clock>> ListClocks(const ClockQuery& q) override;
  absl::StatusOr<std::vector<ReportRow>> Report(const ReportQuery& q) override;
  absl::StatusOr<std::vector<CalendarVersion>> ListCalendars() override;
  absl::StatusOr<absl::optional<CalendarVersion>> LatestCalendar(
      const std::string& calendar_id, absl::Time at) override;
  absl::StatusOr<absl::optional<std::vector<std::string>>> AgencyAncestors(
      const std::string& agency_code) override;
  absl::StatusOr<absl::optional<CalendarVersion>> CalendarByRequestId(
      const std::string& request_id) override;

 private:
  PgTxRunner& runner_;
  PgHooks hooks_;
};

}  // namespace lienthong::deadline
