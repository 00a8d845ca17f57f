#pragma once

// The deadline service's use cases over a DeadlineStore: clocks started,
// paused, resumed and stopped by other services' events; the scanner that
// fires due-soon and overdue; calendar administration; queries. No gRPC and
// no pqxx here: deadline_server.cc converts protos, pg_deadline_store.cc
// talks to PostgreSQL. Thread-safe.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/calendar/coverage_watch.h"
#include "libs/calendar/working_calendar.h"
#include "libs/common/clock.h"
#include "services/deadline/deadline_logic.h"
#include "services/deadline/deadline_store.h"

namespace lienthong::deadline {

// What other services tell us, already decoded from their events.
enum class InboundKind {
  kDossierReceived = 1,     // intake: start the dossier clock
  kLegDispatched,           // routing: start a leg clock
  kSupplementRequested,     // pause the dossier clock (and the leg's)
  kSupplemented,            // resume/restart them
  kLegCompleted,            // stop the leg clock: done
  kLegRefused,              // stop the leg clock: refused
  kLegCancelled,            // stop the leg clock: cancelled
  kDossierCompleted,        // ready for return: stop the dossier clock, done
  kDossierRefused,          // stop: refused (open legs cancelled)
  kDossierWithdrawn,        // stop: withdrawn (open legs cancelled)
  kAppointmentRescheduled,  // intake's apology: record the new appointment
  kLegResumed,              // routing: the leg's supplement came back
};

struct InboundEvent {
  std::string event_id;
  InboundKind kind = InboundKind::kDossierReceived;
  absl::Time occurred_at;
  std::string dossier_code;
  std::string leg_id;
  AgencyRef agency;  // received / dispatched
  std::string procedure_code;
  absl::Duration limit;  // legal working time, received / dispatched
  absl::optional<int> cutoff_minute;
  SupplementPolicy supplement_policy = SupplementPolicy::kRestart;
  absl::optional<absl::Time> new_appointment;
  // The procedure's calendar; empty: by agency (vn-<province>, else vn).
  std::string calendar_id;
  // DossierReceived: the appointment intake printed on the receipt.
  absl::optional<absl::Time> receipt_appointment;
};

// A due-soon or overdue transition, handed to the encoder for the outbox.
struct ClockNotice {
  Urgency urgency;
  Clock clock;  // after the transition
  absl::Time fired_at;
  absl::Duration remaining;  // working time left (negative when overdue)
};

// Turns a notice into the outbox row(s) (protos live in the encoder).
using NoticeEncoder = std::function<OutgoingEvent(const ClockNotice&)>;

struct ScanResult {
  int claimed = 0;
  int due_soon = 0;
  int overdue = 0;
  int overdue_legs = 0;              // of `overdue`, leg clocks
  std::vector<absl::Duration> lags;  // due instant -> commit, per firing
};

// Why appointments moved.
enum class MoveCause {
  kCalendarChange,     // a calendar version took effect
  kSupplement,         // a supplemented dossier's clock counts again
  kReceiptCorrection,  // intake printed the receipt with an older copy
};

// Announces moved appointments (outbox row): those a calendar version
// moved, a dossier's due time moved by its supplement (the version then
// names only the calendar the clock follows), or a receipt corrected to
// the due time its clock counts with `version`.
using MovedEncoder = std::function<OutgoingEvent(
    const CalendarVersion&, const std::vector<MovedAppointment>&, absl::Time,
    MoveCause)>;

// Announces a calendar version just stored (outbox row, for intake).
using PublishedEncoder =
    std::function<OutgoingEvent(const CalendarVersion&, absl::Time)>;

struct CalendarUpdate {
  CalendarVersion version;
  std::vector<MovedAppointment> moved;
};

// What ActivateDueCalendars did: the appointments moved by the calendars
// activated, and the calendars whose pending version failed to (each stays
// pending and is tried again on the next pass).
struct CalendarActivation {
  struct Failure {
    std::string calendar_id;
    absl::Status status;
  };
  std::vector<MovedAppointment> moved;
  std::vector<Failure> failed;
};

struct ServiceOptions {
  DueSoonPolicy due_soon;
  int scan_batch = 500;
  // How long a replica trusts its cached calendar before re-reading the
  // latest version (another replica may have changed it).
  absl::Duration calendar_cache_ttl = absl::Seconds(30);
};

class DeadlineService {
 public:
  DeadlineService(DeadlineStore& store, const common::Clock& clock,
                  NoticeEncoder encoder, ServiceOptions options = {});

  // Optional: when set, moved appointments are announced through the outbox
  // in the transaction that moved them. Call before serving.
  void SetMovedEncoder(MovedEncoder e) { moved_encoder_ = std::move(e); }
  // Drops every cached calendar: the next use reads the store (another
  // replica stored a version, or one took effect).
  void ForgetCachedCalendars();
  void SetPublishedEncoder(PublishedEncoder e) {
    published_encoder_ = std::move(e);
  }
  // Optional: told, once per calendar version, when a clock's due time
  // falls after the last year that version's holidays cover (counted as if
  // that year had none; main logs and counts it). Call before serving.
  void SetCoverageReport(calendar::CoverageWatch::Report r) {
    coverage_.SetReport(std::move(r));
  }

  // Stores vn.json as calendar "vn" version 1 when no version exists yet.
  absl::Status EnsureDefaultCalendar();

  // Applies an inbound event once (inbox on event_id): true when applied
  // now, false for a redelivery (which changes nothing).
  absl::StatusOr<bool> HandleEvent(const InboundEvent& e);
  // Records an event we do not act on (or cannot decode) as seen.
  absl::StatusOr<bool> Acknowledge(const std::string& event_id);

  // Claims due clocks (SKIP LOCKED), fires their transitions and commits
  // the events with them. One batch.
  absl::StatusOr<ScanResult> RunScanOnce();

  // Validates `json`, stores it as the next version, recomputes the open
  // clocks counted by it (when already effective) and returns those whose
  // due time moved. Audited.
  absl::StatusOr<CalendarUpdate> UpdateCalendar(
      const std::string& calendar_id, const std::string& json,
      absl::Time effective_from, const std::string& actor,
      const std::string& reason, const std::string& request_id = "",
      const std::string& peer = "");
  // Records a refused attempt (outcome PERMISSION_DENIED) in the audit
  // trail, in a transaction of its own.
  absl::Status AuditDenied(const std::string& actor, const std::string& peer,
                           const std::string& action,
                           const std::string& target);
  // Recomputes the open clocks of calendar versions that have become
  // effective since they were stored (the scanner calls this). Each
  // calendar is activated in a transaction of its own, so one whose version
  // cannot be applied (stored JSON that no longer parses, a recompute that
  // fails) is listed in `failed` and does not hold back the others. An error
  // only when the pending versions cannot be read at all.
  absl::StatusOr<CalendarActivation> ActivateDueCalendars();

  // The version in effect now (or at `at`), or a given version (> 0).
  absl::StatusOr<CalendarVersion> GetCalendar(
      const std::string& calendar_id,
      absl::optional<absl::Time> at = absl::nullopt, int64_t version = 0);
  absl::StatusOr<std::vector<CalendarVersion>> ListCalendars() {
    return store_.ListCalendars();
  }

  absl::StatusOr<Clock> GetClock(const std::string& name);
  // How the current due time of a clock was computed, with the calendar
  // version it was counted with (Clock::calendar_version; the version in
  // force for a clock stored before versions were recorded). INTERNAL
  // (CALENDAR_VERSION_MISSING) when that version is not stored.
  absl::StatusOr<calendar::Explanation> ExplainDueTime(const std::string& name);
  absl::Duration Remaining(const Clock& c);
  absl::StatusOr<std::vector<Clock>> ListClocks(const ClockQuery& q) {
    return store_.ListClocks(q);
  }
  absl::StatusOr<std::vector<ReportRow>> Report(const ReportQuery& q) {
    return store_.Report(q);
  }
  absl::StatusOr<std::vector<OpenClockCount>> CountOpenClocks() {
    return store_.CountOpenClocks();
  }

  // The calendar that counts clocks of agency `agency_code` for a procedure
  // naming `procedure_calendar_id` (empty: none): that calendar when a
  // version of it is in force, else "vn-<province>" (the code's last
  // segment, e.g. vn-H26) when one is, else "vn" (calendar::ChooseCalendarId,
  // which intake's appointments use too).
  absl::StatusOr<std::string> CalendarIdFor(
      const std::string& agency_code, const std::string& procedure_calendar_id);
  absl::StatusOr<calendar::WorkingCalendar> Calendar(const std::string& id);
  // The calendar in effect now and its version number.
  absl::StatusOr<std::pair<calendar::WorkingCalendar, int64_t>>
  CalendarWithVersion(const std::string& id);

  // Whether `agency` is `root` or lies under it (from the agency paths the
  // clocks carry: the tree comes with the events, never from intake's
  // tables).
  absl::StatusOr<bool> IsWithin(const std::string& agency,
                                const std::string& root);
  // The same, or nullopt when no clock has named `agency` (as its own or an
  // ancestor): one never named has no clocks, lists or report rows.
  absl::StatusOr<absl::optional<bool>> WithinIfKnown(const std::string& agency,
                                                     const std::string& root);

  const DeadlineRules& rules() const { return rules_; }
  const ServiceOptions& options() const { return options_; }

 private:
  struct Cached {
    int64_t version = 0;
    absl::optional<calendar::WorkingCalendar> calendar;  // none: not stored
    absl::Time loaded_at;
  };
  absl::StatusOr<Cached> Load(const std::string& id);
  // For a clock `tx` counts (starts, or counts again): the calendar's
  // version in force, as the database has it (the cache may lag behind a
  // change another replica made), shared with `tx` so no change of it
  // commits beside (DeadlineTx::ShareCalendar).
  absl::StatusOr<std::pair<calendar::WorkingCalendar, int64_t>>
  CalendarForClock(DeadlineTx& tx, const std::string& id);
  // The calendar version clock `c`'s due time was counted with.
  absl::StatusOr<calendar::WorkingCalendar> CountedCalendar(const Clock& c);
  absl::Status Apply(DeadlineTx& tx, const InboundEvent& e);
  absl::Status Save(DeadlineTx& tx, const Clock& before, Clock& after);
  // After a DossierReceived started dossier clock `c` with version
  // `calendar_version` of its calendar: when the receipt's appointment is
  // not the clock's due time (within kReceiptTolerance), AppointmentsMoved
  // to intake for that dossier.
  absl::Status MoveStaleReceipt(DeadlineTx& tx, const InboundEvent& e,
                                const Clock& c, int64_t calendar_version);
  // Whether `e` (a DossierReceived) carries a receipt appointment
  // kReceiptTolerance or more off dossier clock `c`'s due time.
  static bool ReceiptDisagrees(const InboundEvent& e, const Clock& c);
  // Differences below this are rounding, not another calendar (intake
  // leaves moves under a minute alone too).
  static constexpr absl::Duration kReceiptTolerance = absl::Minutes(1);
  // Recomputes the open clocks of `calendar_id` with `cal`, its version
  // `version`; the moved ones are stamped with it and listed in `moved`.
  // Marks `calendar_id`'s due versions applied and recomputes its open
  // clocks with the one in force, in one transaction; `moved` lists those
  // that moved.
  absl::Status ActivateDueVersions(const std::string& calendar_id,
                                   std::vector<MovedAppointment>* moved);
  absl::Status RecomputeOpen(DeadlineTx& tx, const std::string& calendar_id,
                             int64_t version,
                             const calendar::WorkingCalendar& cal,
                             absl::Time now,
                             std::vector<MovedAppointment>* moved);

  DeadlineStore& store_;
  const common::Clock& clock_;
  NoticeEncoder encoder_;
  MovedEncoder moved_encoder_;
  PublishedEncoder published_encoder_;
  ServiceOptions options_;
  DeadlineRules rules_;
  // Drops `ids`' cached calendars (all of them when `ids` is null).
  void DropCached(const std::vector<std::string>* ids);
  // Hands clock `c`, just (re)counted with version `version` of `cal`, to
  // coverage_.
  void NoteCoverage(const Clock& c, const calendar::WorkingCalendar& cal,
                    int64_t version);
  calendar::CoverageWatch coverage_;

  absl::Mutex mu_;
  std::map<std::string, Cached> cache_ ABSL_GUARDED_BY(mu_);
  // Counts the drops: a calendar read before one is not cached after it
  // (it may be the version the drop was for).
  uint64_t cache_drops_ ABSL_GUARDED_BY(mu_) = 0;
};

// The calendar of a stored version. JSON that no longer parses (an older
// release wrote it, or a hand edit) is INTERNAL (STORED_CALENDAR_INVALID):
// the fault is ours, not the argument of whoever needs the calendar.
absl::StatusOr<calendar::WorkingCalendar> StoredCalendar(
    const CalendarVersion& v);

// "dossiers/{code}" and "dossiers/{code}/legs/{leg}".
std::string DossierClockName(const std::string& dossier_code);
std::string LegClockName(const std::string& dossier_code,
                         const std::string& leg_id);

}  // namespace lienthong::deadline
