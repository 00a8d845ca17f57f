#pragma once

// Storage for the deadline service, in domain types. Everything that must
// commit together (a clock change, its report counters, its outgoing events,
// the inbox mark of the event that caused it) happens inside one
// DeadlineStore::InTransaction call.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "services/deadline/clock.h"

namespace lienthong::deadline {

// InsertCalendar's reasons (ALREADY_EXISTS) for a row already stored.
inline constexpr char kRequestIdTaken[] = "REQUEST_ID_TAKEN";
inline constexpr char kCalendarVersionExists[] = "CALENDAR_VERSION_EXISTS";

// An open clock whose due time a calendar change moved.
struct MovedAppointment {
  std::string clock_name;
  std::string dossier_code;
  absl::Time old_due;
  absl::Time new_due;
  // Receivers act on a dossier's appointment, not on a leg's limit.
  ClockKind kind = ClockKind::kDossier;
};

// One stored version of a calendar.
struct CalendarVersion {
  std::string calendar_id;  // "vn", "vn-H26"
  int64_t version = 0;      // 1, 2, …
  absl::Time effective_from;
  std::string json;  // calendar::ToJson of the data
  absl::Time created_at;
  std::string created_by;  // subject of the admin who changed it
  std::string reason;      // why (the decision's number, …)
  // Whether open clocks have been recomputed with it (set when it is
  // stored already effective, or by the scanner once it becomes so).
  bool applied = false;
  std::string request_id;  // the admin call's, for idempotent retries
  // The appointments the change moved, kept so a retry of the admin call
  // returns the first response whole.
  std::vector<MovedAppointment> moved;
};

// An event for another service, appended to the outbox in the transaction
// of the change that caused it; the relay delivers it.
struct OutgoingEvent {
  std::string event_id;  // UUID
  std::string type;      // "deadline.clock_overdue"
  std::string payload;   // serialized lienthong.common.v1 event envelope
  std::vector<std::string> destinations;  // "notify", "intake"
};

// An audit record of an admin change.
struct AuditEntry {
  std::string actor;
  std::string action;  // "UpdateCalendar"
  std::string target;  // "calendars/vn"
  std::string detail;  // JSON
  absl::Time at;
  std::string peer;            // the caller's address
  std::string outcome = "OK";  // or "PERMISSION_DENIED"
};

// Which clocks ListClocks returns.
struct ClockQuery {
  std::string agency_subtree;  // agency code: it and everything under it
  absl::optional<ClockKind> kind;
  Urgency urgency = Urgency::kOverdue;  // kDueSoon lists due-soon, not overdue
  int page_size = 50;
  // Resume after this (due_at, name), from the previous page's last row.
  absl::optional<absl::Time> after_due_at;
  std::string after_name;
};

enum class ReportGroupBy { kNone, kAgency, kProcedure, kTier };

struct ReportQuery {
  std::string agency_subtree;
  absl::CivilDay first_day;  // inclusive, local days
  absl::CivilDay last_day;   // inclusive
  ClockKind kind = ClockKind::kDossier;
  ReportGroupBy group_by = ReportGroupBy::kNone;
};

struct ReportRow {
  std::string key;  // agency code, procedure code, tier name; "" for kNone
  int64_t received = 0;
  int64_t finished_early = 0;
  int64_t finished_on_time = 0;
  int64_t finished_late = 0;
  int64_t open_on_time = 0;  // now, not over the period
  int64_t open_overdue = 0;
};

// Open clocks by kind and what they show (the clocks gauge).
struct OpenClockCount {
  ClockKind kind;
  std::string state;  // "on_track", "due_soon", "overdue", "paused"
  int64_t count = 0;
};

class DeadlineTx {
 public:
  virtual ~DeadlineTx() = default;

  // Records an inbound event id; false when it was already recorded (a
  // redelivery: the caller applies nothing). Event ids are UUIDs:
  // INVALID_ARGUMENT (INVALID_EVENT) for anything else.
  virtual absl::StatusOr<bool> MarkInbound(const std::string& event_id) = 0;

  // Clocks of a dossier (its own and its legs'), locked for update.
  virtual absl::StatusOr<std::vector<Clock>> LockDossierClocks(
      const std::string& dossier_code) = 0;
  // ALREADY_EXISTS if the name is taken.
  virtual absl::Status InsertClock(const Clock& c) = 0;
  // Writes `c` if its stored version is c.version, then bumps the version
  // (ABORTED otherwise). What InsertClock fixed stays as inserted: the
  // clock's identity (kind, dossier_code, leg_id, agency, procedure_code)
  // and its limit. Every other member is written.
  virtual absl::Status UpdateClock(Clock& c) = 0;

  // Up to `limit` clocks with next_fire_at <= now, locked with FOR UPDATE
  // SKIP LOCKED so replicas share the work.
  virtual absl::StatusOr<std::vector<Clock>> ClaimDue(absl::Time now,
                                                      int limit) = 0;
  // Open (running) clocks counted by `calendar_id`, locked, in name order
  // after `after_name`, at most `limit`.
  virtual absl::StatusOr<std::vector<Clock>> LockOpenClocksOfCalendar(
      const std::string& calendar_id, const std::string& after_name,
      int limit) = 0;

  // Adds `delta` to the report counters of c's agency and every ancestor.
  virtual absl::Status ApplyReportDelta(const Clock& c,
                                        const ReportDelta& delta,
                                        absl::TimeZone tz) = 0;

  virtual absl::Status AppendOutbox(const OutgoingEvent& e) = 0;
  virtual absl::Status AppendAudit(const AuditEntry& a) = 0;

  // Calendar versions.
  virtual absl::StatusOr<absl::optional<CalendarVersion>> LatestCalendar(
      const std::string& calendar_id, absl::Time at) = 0;
  // A clock about to be counted with `calendar_id`: holds off changes of
  // that calendar (LockCalendar) until this transaction ends, and returns
  // the number of its version in force at `at` (0: none). While a change
  // of it is being applied it does not wait: ABORTED (the event is
  // delivered again, and then counted with the new version).
  virtual absl::StatusOr<int64_t> ShareCalendar(const std::string& calendar_id,
                                                absl::Time at) = 0;
  // A change of `calendar_id` (a new version, or one taking effect): waits
  // for the transactions sharing it to end and keeps new ones off until
  // this one ends, so no clock is counted with the version being replaced
  // while the open clocks are counted again with the new one.
  virtual absl::Status LockCalendar(const std::string& calendar_id) = 0;
  // Stores `v`. A row already there (committed by another transaction,
  // which this one waits for) is an answer, not a failure of the
  // transaction: ALREADY_EXISTS with reason kRequestIdTaken when another
  // version was stored with v.request_id, else kCalendarVersionExists when
  // (calendar_id, version) is taken; the transaction stays usable.
  virtual absl::Status InsertCalendar(const CalendarVersion& v) = 0;
  // Records what a version's change moved (see CalendarVersion::moved).
  virtual absl::Status SetCalendarMoved(
      const std::string& calendar_id, int64_t version,
      const std::vector<MovedAppointment>& moved) = 0;
  // Versions effective at `now` whose open clocks were not recomputed yet,
  // locked (SKIP LOCKED: one replica activates each), in (calendar_id,
  // version) order; only `calendar_id`'s when it is not empty.
  virtual absl::StatusOr<std::vector<CalendarVersion>> ClaimPendingCalendars(
      absl::Time now, const std::string& calendar_id) = 0;
  virtual absl::Status MarkCalendarApplied(const std::string& calendar_id,
                                           int64_t version, absl::Time at) = 0;
};

class DeadlineStore {
 public:
  virtual ~DeadlineStore() = default;

  // Runs `fn` in one transaction, retried on serialization failures, so
  // `fn` must be safe to run more than once.
  virtual absl::Status InTransaction(
      const std::function<absl::Status(DeadlineTx&)>& fn) = 0;

  // Reads (no transaction needed).
  virtual absl::StatusOr<absl::optional<Clock>> GetClock(
      const std::string& name) = 0;
  virtual absl::StatusOr<std::vector<Clock>> ListClocks(
      const ClockQuery& q) = 0;
  // One row per group, in a fixed order: agency and procedure codes in byte
  // order, tiers from the top (province, district, commune).
  virtual absl::StatusOr<std::vector<ReportRow>> Report(
      const ReportQuery& q) = 0;
  virtual absl::StatusOr<std::vector<CalendarVersion>> ListCalendars() = 0;
  virtual absl::StatusOr<std::vector<OpenClockCount>> CountOpenClocks() = 0;
  // Ancestors (root first) of an agency, as carried by the clocks under it
  // (the latest clock stored wins: an agency moved takes its new place);
  // nullopt when no clock under it is known (then there is nothing to show).
  virtual absl::StatusOr<absl::optional<std::vector<std::string>>>
  AgencyAncestors(const std::string& agency_code) = 0;
  // The version stored by the call with this request id, if any.
  virtual absl::StatusOr<absl::optional<CalendarVersion>> CalendarByRequestId(
      const std::string& request_id) = 0;

  // The latest version effective at `at`, outside any transaction (callable
  // while one is open: it uses its own connection).
  virtual absl::StatusOr<absl::optional<CalendarVersion>> LatestCalendar(
      const std::string& calendar_id, absl::Time at) = 0;
  // Version `version` of `calendar_id`, whether in force or not (nullopt
  // when no such version is stored), outside any transaction.
  virtual absl::StatusOr<absl::optional<CalendarVersion>> CalendarVersionOf(
      const std::string& calendar_id, int64_t version) = 0;
};

}  // namespace lienthong::deadline
