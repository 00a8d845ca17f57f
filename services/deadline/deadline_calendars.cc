// DeadlineService: calendar changes — a new version of a calendar, the
// open clocks recomputed against it when it takes effect (now or at its
// effective date), and the versions read back.

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/calendar/calendar_json.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/deadline/deadline_service.h"

namespace lienthong::deadline {
namespace {

using calendar::WorkingCalendar;

// Open clocks recomputed per transaction.
constexpr int kRecomputeBatch = 500;

// How often UpdateCalendar numbers its version again after another writer
// took the number (a replica seeding `vn`, which takes no calendar lock, on
// a new database) before it answers ABORTED.
constexpr int kVersionAttempts = 3;

// The answer to a request whose request_id already stored `first`: the same
// request again gets its version; another body under the same id is refused.
absl::StatusOr<CalendarUpdate> Replay(const CalendarVersion& first,
                                      const std::string& calendar_id,
                                      const std::string& json,
                                      absl::Time effective_from) {
  absl::StatusOr<calendar::CalendarData> again =
      calendar::ParseCalendarJson(json);
  if (first.calendar_id != calendar_id || !again.ok() ||
      calendar::ToJson(*again) != first.json ||
      first.effective_from != effective_from) {
    return common::InvalidArgument(
        "REQUEST_ID_REUSED",
        {{"request_id", "already used for a different calendar change"}});
  }
  return CalendarUpdate{first, first.moved};
}

}  // namespace

absl::Status DeadlineService::AuditDenied(const std::string& actor,
                                          const std::string& peer,
                                          const std::string& action,
                                          const std::string& target) {
  return store_.InTransaction([&](DeadlineTx& tx) {
    AuditEntry a{actor, action, target, "{}", clock_.Now()};
    a.peer = peer;
    a.outcome = "PERMISSION_DENIED";
    return tx.AppendAudit(a);
  });
}

absl::StatusOr<CalendarUpdate> DeadlineService::UpdateCalendar(
    const std::string& calendar_id, const std::string& json,
    absl::Time effective_from, const std::string& actor,
    const std::string& reason, const std::string& request_id,
    const std::string& peer) {
  // Stored in microseconds: a retry must compare (and a first response
  // report) what is stored, or a Timestamp with nanoseconds would make every
  // retry of its own request REQUEST_ID_REUSED.
  effective_from = absl::FromUnixMicros(absl::ToUnixMicros(effective_from));
  if (!request_id.empty()) {
    LT_ASSIGN_OR_RETURN(absl::optional<CalendarVersion> first,
                        store_.CalendarByRequestId(request_id));
    if (first.has_value()) {
      return Replay(*first, calendar_id, json, effective_from);
    }
  }
  LT_ASSIGN_OR_RETURN(calendar::CalendarData data,
                      calendar::ParseCalendarJson(json));
  if (data.id != calendar_id) {
    return common::InvalidArgument(
        "CALENDAR_ID_MISMATCH",
        {{"calendar.id", "must equal the calendar being updated"}});
  }
  LT_ASSIGN_OR_RETURN(WorkingCalendar cal, WorkingCalendar::Create(data));
  const std::string canonical = calendar::ToJson(data);
  CalendarUpdate update;
  const auto store = [&](DeadlineTx& tx) -> absl::Status {
    update = CalendarUpdate();
    // Clocks being started or counted again with this calendar commit
    // first (the open clocks counted again below include them); new ones
    // wait for this change and count with it.
    LT_RETURN_IF_ERROR(tx.LockCalendar(calendar_id));
    const absl::Time now = clock_.Now();
    LT_ASSIGN_OR_RETURN(absl::optional<CalendarVersion> latest,
                        tx.LatestCalendar(calendar_id, absl::InfiniteFuture()));
    CalendarVersion& v = update.version;
    v.calendar_id = calendar_id;
    v.version = latest.has_value() ? latest->version + 1 : 1;
    v.effective_from = effective_from;
    v.json = canonical;
    v.created_at = now;
    v.created_by = actor;
    v.reason = reason;
    v.applied = effective_from <= now;
    v.request_id = request_id;
    LT_RETURN_IF_ERROR(tx.InsertCalendar(v));
    if (published_encoder_) {
      LT_RETURN_IF_ERROR(tx.AppendOutbox(published_encoder_(v, now)));
    }
    AuditEntry audit{actor, "UpdateCalendar",
                     absl::StrCat("calendars/", calendar_id),
                     absl::StrCat("{\"version\":", v.version, "}"), now};
    audit.peer = peer;
    LT_RETURN_IF_ERROR(tx.AppendAudit(audit));
    if (effective_from > now) return absl::OkStatus();
    LT_RETURN_IF_ERROR(
        RecomputeOpen(tx, calendar_id, v.version, cal, now, &update.moved));
    if (!request_id.empty() && !update.moved.empty()) {
      LT_RETURN_IF_ERROR(
          tx.SetCalendarMoved(calendar_id, v.version, update.moved));
    }
    if (moved_encoder_ && !update.moved.empty()) {
      LT_RETURN_IF_ERROR(tx.AppendOutbox(
          moved_encoder_(v, update.moved, now, MoveCause::kCalendarChange)));
    }
    return absl::OkStatus();
  };
  // The number read as next may be taken meanwhile by a writer that does
  // not take the calendar's lock: a replica seeding `vn`
  // (EnsureDefaultCalendar) beside this change on a new database. The
  // change then goes on top of it with the next number, counted again in a
  // new transaction.
  absl::Status stored;
  bool number_taken = false;
  for (int attempt = 0; attempt < kVersionAttempts; ++attempt) {
    stored = store_.InTransaction(store);
    number_taken =
        common::GetErrorDetails(stored).reason == kCalendarVersionExists;
    if (!number_taken) break;
  }
  if (number_taken) {
    return common::Aborted(
        "CALENDAR_CHANGED",
        absl::StrCat("calendar ", calendar_id,
                     " got a new version while this change was stored; try "
                     "again"),
        {{"calendar", calendar_id}});
  }
  if (!stored.ok()) {
    // Another attempt with this request_id (a retry sent before the first
    // answered) committed between the check above and this insert: answer
    // as a retry after it would be answered.
    if (common::GetErrorDetails(stored).reason != kRequestIdTaken) {
      return stored;
    }
    LT_ASSIGN_OR_RETURN(absl::optional<CalendarVersion> first,
                        store_.CalendarByRequestId(request_id));
    if (!first.has_value()) return stored;
    return Replay(*first, calendar_id, json, effective_from);
  }
  const std::vector<std::string> ids{calendar_id};
  DropCached(&ids);
  return update;
}

absl::Status DeadlineService::RecomputeOpen(
    DeadlineTx& tx, const std::string& calendar_id, int64_t version,
    const WorkingCalendar& cal, absl::Time now,
    std::vector<MovedAppointment>* moved_out) {
  std::string after;
  while (true) {
    LT_ASSIGN_OR_RETURN(
        std::vector<Clock> open,
        tx.LockOpenClocksOfCalendar(calendar_id, after, kRecomputeBatch));
    for (Clock& c : open) {
      const Clock before = c;
      absl::StatusOr<bool> recomputed = rules_.Recompute(c, now, cal);
      if (!recomputed.ok()) {
        // A clock counted from a time the calendar now refuses (outside
        // years 0001-9999, stored before such times were refused) stays as
        // it was counted, rather than failing every change of its calendar.
        if (recomputed.status().code() == absl::StatusCode::kInvalidArgument) {
          continue;
        }
        return recomputed.status();
      }
      const bool moved = *recomputed;
      if (!moved && before.urgency() == c.urgency()) continue;
      if (moved) {
        c.calendar_version = version;
        NoteCoverage(c, cal, version);
      }
      LT_RETURN_IF_ERROR(tx.UpdateClock(c));
      const ReportDelta d = DeltaOf(&before, c);
      if (!d.empty()) {
        LT_RETURN_IF_ERROR(tx.ApplyReportDelta(c, d, cal.time_zone()));
      }
      if (moved) {
        moved_out->push_back(
            {c.name, c.dossier_code, before.due_at, c.due_at, c.kind});
      }
    }
    if (static_cast<int>(open.size()) < kRecomputeBatch)
      return absl::OkStatus();
    after = open.back().name;
  }
}

absl::StatusOr<CalendarActivation> DeadlineService::ActivateDueCalendars() {
  // Which calendars have a version due; each is then claimed again and
  // activated in its own transaction.
  std::vector<std::string> ids;
  LT_RETURN_IF_ERROR(store_.InTransaction([&](DeadlineTx& tx) -> absl::Status {
    ids.clear();
    LT_ASSIGN_OR_RETURN(std::vector<CalendarVersion> pending,
                        tx.ClaimPendingCalendars(clock_.Now(), ""));
    for (const CalendarVersion& v : pending) {
      if (ids.empty() || ids.back() != v.calendar_id) {
        ids.push_back(v.calendar_id);
      }
    }
    return absl::OkStatus();
  }));
  CalendarActivation result;
  std::vector<std::string> touched;
  for (const std::string& id : ids) {
    std::vector<MovedAppointment> moved;
    const absl::Status s = ActivateDueVersions(id, &moved);
    if (s.ok()) {
      result.moved.insert(result.moved.end(), moved.begin(), moved.end());
      touched.push_back(id);
    } else {
      result.failed.push_back({id, s});
    }
  }
  DropCached(&touched);
  return result;
}

absl::Status DeadlineService::ActivateDueVersions(
    const std::string& calendar_id, std::vector<MovedAppointment>* moved_out) {
  return store_.InTransaction([&](DeadlineTx& tx) -> absl::Status {
    std::vector<MovedAppointment>& moved = *moved_out;
    moved.clear();
    const absl::Time now = clock_.Now();
    LT_ASSIGN_OR_RETURN(std::vector<CalendarVersion> pending,
                        tx.ClaimPendingCalendars(now, calendar_id));
    // Another replica activated them meanwhile.
    if (pending.empty()) return absl::OkStatus();
    // As UpdateCalendar does, before reading which version is in force (a
    // change committing meanwhile supersedes these).
    LT_RETURN_IF_ERROR(tx.LockCalendar(calendar_id));
    for (const CalendarVersion& v : pending) {
      LT_RETURN_IF_ERROR(tx.MarkCalendarApplied(v.calendar_id, v.version, now));
      LT_ASSIGN_OR_RETURN(absl::optional<CalendarVersion> latest,
                          tx.LatestCalendar(v.calendar_id, now));
      // Only the version in effect now counts; older pending ones are
      // superseded.
      if (!latest.has_value() || latest->version != v.version) continue;
      LT_ASSIGN_OR_RETURN(WorkingCalendar cal, StoredCalendar(v));
      const size_t before = moved.size();
      LT_RETURN_IF_ERROR(
          RecomputeOpen(tx, v.calendar_id, v.version, cal, now, &moved));
      if (moved_encoder_ && moved.size() > before) {
        LT_RETURN_IF_ERROR(tx.AppendOutbox(moved_encoder_(
            v,
            std::vector<MovedAppointment>(moved.begin() + before, moved.end()),
            now, MoveCause::kCalendarChange)));
      }
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<CalendarVersion> DeadlineService::GetCalendar(
    const std::string& calendar_id, absl::optional<absl::Time> at,
    int64_t version) {
  absl::optional<CalendarVersion> found;
  if (version > 0) {
    LT_ASSIGN_OR_RETURN(found, store_.CalendarVersionOf(calendar_id, version));
  } else {
    LT_ASSIGN_OR_RETURN(
        found, store_.LatestCalendar(calendar_id, at.value_or(clock_.Now())));
  }
  if (!found.has_value()) {
    return common::NotFound("CALENDAR_NOT_FOUND",
                            absl::StrCat("no calendar ", calendar_id),
                            {{"calendar", calendar_id}});
  }
  return *found;
}

}  // namespace lienthong::deadline
