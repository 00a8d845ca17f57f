#pragma once

// For tests: a DeadlineStore that forwards to another and runs a hook at a
// chosen point, where another replica then acts. Races between replicas
// happen deterministically, on the real store.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "services/deadline/deadline_store.h"

namespace lienthong::deadline::test {

class HookedDeadlineStore final : public DeadlineStore {
 public:
  explicit HookedDeadlineStore(DeadlineStore& inner) : inner_(inner) {}

  // Runs `hook` once, after the next CalendarByRequestId has read and
  // before it returns.
  void AfterNextRequestIdRead(std::function<void()> hook) {
    after_request_id_read_ = std::move(hook);
  }
  // Runs `hook` once, after the next DeadlineTx::LatestCalendar inside a
  // transaction has read and before it returns (its transaction still open).
  void AfterNextLatestReadInTransaction(std::function<void()> hook) {
    after_tx_latest_read_ = std::move(hook);
  }

  absl::Status InTransaction(
      const std::function<absl::Status(DeadlineTx&)>& fn) override {
    return inner_.InTransaction([&](DeadlineTx& tx) {
      HookedTx hooked(tx, after_tx_latest_read_);
      return fn(hooked);
    });
  }
  absl::StatusOr<absl::optional<Clock>> GetClock(
      const std::string& name) override {
    return inner_.GetClock(name);
  }
  absl::StatusOr<std::vector<Clock>> ListClocks(const ClockQuery& q) override {
    return inner_.ListClocks(q);
  }
  // Runs `hook` once, before the next Report reads (a slow database, for
  // a caller's deadline to pass first).
  void BeforeNextReport(std::function<void()> hook) {
    before_report_ = std::move(hook);
  }
  absl::StatusOr<std::vector<ReportRow>> Report(const ReportQuery& q) override {
    if (before_report_) std::exchange(before_report_, nullptr)();
    return inner_.Report(q);
  }
  absl::StatusOr<std::vector<CalendarVersion>> ListCalendars() override {
    return inner_.ListCalendars();
  }
  absl::StatusOr<std::vector<OpenClockCount>> CountOpenClocks() override {
    return inner_.CountOpenClocks();
  }
  absl::StatusOr<absl::optional<std::vector<std::string>>> AgencyAncestors(
      const std::string& agency_code) override {
    return inner_.AgencyAncestors(agency_code);
  }
  absl::StatusOr<absl::optional<CalendarVersion>> CalendarByRequestId(
      const std::string& request_id) override {
    auto r = inner_.CalendarByRequestId(request_id);
    RunOnce(after_request_id_read_);
    return r;
  }
  absl::StatusOr<absl::optional<CalendarVersion>> LatestCalendar(
      const std::string& calendar_id, absl::Time at) override {
    return inner_.LatestCalendar(calendar_id, at);
  }
  absl::StatusOr<absl::optional<CalendarVersion>> CalendarVersionOf(
      const std::string& calendar_id, int64_t version) override {
    return inner_.CalendarVersionOf(calendar_id, version);
  }

 private:
  static void RunOnce(std::function<void()>& hook) {
    if (!hook) return;
    std::function<void()> h = std::move(hook);
    hook = nullptr;
    h();
  }

  class HookedTx final : public DeadlineTx {
   public:
    HookedTx(DeadlineTx& inner, std::function<void()>& after_latest_read)
        : inner_(inner), after_latest_read_(after_latest_read) {}

    absl::StatusOr<bool> MarkInbound(const std::string& event_id) override {
      return inner_.MarkInbound(event_id);
    }
    absl::StatusOr<std::vector<Clock>> LockDossierClocks(
        const std::string& dossier_code) override {
      return inner_.LockDossierClocks(dossier_code);
    }
    absl::Status InsertClock(const Clock& c) override {
      return inner_.InsertClock(c);
    }
    absl::Status UpdateClock(Clock& c) override {
      return inner_.UpdateClock(c);
    }
    absl::StatusOr<std::vector<Clock>> ClaimDue(absl::Time now,
                                                int limit) override {
      return inner_.ClaimDue(now, limit);
    }
    absl::StatusOr<std::vector<Clock>> LockOpenClocksOfCalendar(
        const std::string& calendar_id, const std::string& after_name,
        int limit) override {
      return inner_.LockOpenClocksOfCalendar(calendar_id, after_name, limit);
    }
    absl::Status ApplyReportDelta(const Clock& c, const ReportDelta& delta,
                                  absl::TimeZone tz) override {
      return inner_.ApplyReportDelta(c, delta, tz);
    }
    absl::Status AppendOutbox(const OutgoingEvent& e) override {
      return inner_.AppendOutbox(e);
    }
    absl::Status AppendAudit(const AuditEntry& a) override {
      return inner_.AppendAudit(a);
    }
    absl::StatusOr<absl::optional<CalendarVersion>> LatestCalendar(
        const std::string& calendar_id, absl::Time at) override {
      auto r = inner_.LatestCalendar(calendar_id, at);
      RunOnce(after_latest_read_);
      return r;
    }
    absl::StatusOr<int64_t> ShareCalendar(const std::string& calendar_id,
                                          absl::Time at) override {
      return inner_.ShareCalendar(calendar_id, at);
    }
    absl::Status LockCalendar(const std::string& calendar_id) override {
      return inner_.LockCalendar(calendar_id);
    }
    absl::Status InsertCalendar(const CalendarVersion& v) override {
      return inner_.InsertCalendar(v);
    }
    absl::Status SetCalendarMoved(
        const std::string& calendar_id, int64_t version,
        const std::vector<MovedAppointment>& moved) override {
      return inner_.SetCalendarMoved(calendar_id, version, moved);
    }
    absl::StatusOr<std::vector<CalendarVersion>> ClaimPendingCalendars(
        absl::Time now, const std::string& calendar_id) override {
      return inner_.ClaimPendingCalendars(now, calendar_id);
    }
    absl::Status MarkCalendarApplied(const std::string& calendar_id,
                                     int64_t version, absl::Time at) override {
      return inner_.MarkCalendarApplied(calendar_id, version, at);
    }

   private:
    DeadlineTx& inner_;
    std::function<void()>& after_latest_read_;
  };

  DeadlineStore& inner_;
  // Not guarded: a test sets a hook before the call it waits for, on the
  // thread that makes it.
  std::function<void()> after_request_id_read_;
  std::function<void()> before_report_;
  std::function<void()> after_tx_latest_read_;
};

}  // namespace lienthong::deadline::test
