#include "services/deadline/memory_deadline_store.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "libs/calendar/calendar_json.h"
#include "libs/common/errors.h"
#include "libs/common/uuid.h"
#include "services/deadline/deadline_logic.h"

namespace lienthong::deadline {
namespace {

class MemoryTx final : public DeadlineTx {
 public:
  explicit MemoryTx(MemoryDeadlineStore::State& s) : s_(s) {}

  absl::StatusOr<bool> MarkInbound(const std::string& event_id) override {
    // As PostgreSQL's uuid column: an event it refuses must not be applied
    // in the unit tests.
    if (!common::IsUuid(event_id)) {
      return common::InvalidArgument("INVALID_EVENT",
                                     {{"event_id", "must be a UUID"}});
    }
    return s_.inbox.insert(event_id).second;
  }
  absl::StatusOr<std::vector<Clock>> LockDossierClocks(
      const std::string& dossier_code) override {
    std::vector<Clock> out;
    for (const auto& [name, c] : s_.clocks) {
      if (c.dossier_code == dossier_code) out.push_back(c);
    }
    return out;
  }
  absl::Status InsertClock(const Clock& c) override {
    if (!s_.clocks.emplace(c.name, c).second) {
      return common::AlreadyExists("CLOCK_EXISTS", "clock exists");
    }
    s_.clocks[c.name].version = 1;
    // As PgDeadlineStore's deadline.agencies: an agency moved since it was
    // first named takes its new place.
    std::vector<std::string> path = c.agency.ancestors;
    path.push_back(c.agency.code);
    for (size_t i = 0; i < path.size(); ++i) {
      s_.agencies[path[i]].assign(path.begin(), path.begin() + i);
    }
    return absl::OkStatus();
  }
  absl::Status UpdateClock(Clock& c) override {
    auto it = s_.clocks.find(c.name);
    if (it == s_.clocks.end() || it->second.version != c.version) {
      return common::Aborted("CLOCK_CHANGED", "clock changed concurrently");
    }
    ++c.version;
    // As in PostgreSQL, whose UPDATE leaves these columns alone: a change of
    // them here would pass the unit tests and be lost there.
    Clock& stored = it->second;
    Clock updated = c;
    updated.kind = stored.kind;
    updated.dossier_code = stored.dossier_code;
    updated.leg_id = stored.leg_id;
    updated.agency = stored.agency;
    updated.procedure_code = stored.procedure_code;
    updated.limit = stored.limit;
    stored = std::move(updated);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Clock>> ClaimDue(absl::Time now,
                                              int limit) override {
    std::vector<Clock> out;
    for (const auto& [name, c] : s_.clocks) {
      if (c.next_fire_at.has_value() && *c.next_fire_at <= now) {
        out.push_back(c);
      }
    }
    std::sort(out.begin(), out.end(), [](const Clock& a, const Clock& b) {
      return *a.next_fire_at < *b.next_fire_at;
    });
    if (static_cast<int>(out.size()) > limit) out.resize(limit);
    return out;
  }
  absl::StatusOr<std::vector<Clock>> LockOpenClocksOfCalendar(
      const std::string& calendar_id, const std::string& after_name,
      int limit) override {
    std::vector<Clock> out;
    for (auto it = s_.clocks.upper_bound(after_name);
         it != s_.clocks.end() && static_cast<int>(out.size()) < limit; ++it) {
      if (it->second.calendar_id == calendar_id &&
          it->second.state == ClockState::kRunning) {
        out.push_back(it->second);
      }
    }
    return out;
  }
  absl::Status ApplyReportDelta(const Clock& c, const ReportDelta& d,
                                absl::TimeZone tz) override {
    const int kind = static_cast<int>(c.kind);
    const int tier = static_cast<int>(c.agency.tier);
    const std::string received_day =
        calendar::FormatDay(absl::ToCivilDay(c.received_at, tz));
    const std::string stopped_day =
        c.state == ClockState::kStopped
            ? calendar::FormatDay(absl::ToCivilDay(c.stopped_at, tz))
            : "";
    for (const RollUpScope& s : RollUpScopes(c.agency)) {
      auto& r = s_.counters[{s.scope, s.via, received_day, kind,
                             c.procedure_code, tier}];
      r.received += d.received;
      auto& f = s_.counters[{s.scope, s.via, stopped_day, kind,
                             c.procedure_code, tier}];
      f.early += d.finished_early;
      f.on_time += d.finished_on_time;
      f.late += d.finished_late;
      auto& o = s_.counters[{s.scope, s.via, "", kind, c.procedure_code, tier}];
      o.open_on_time += d.open_on_time;
      o.open_overdue += d.open_overdue;
    }
    return absl::OkStatus();
  }
  absl::Status AppendOutbox(const OutgoingEvent& e) override {
    s_.outbox.push_back(e);
    return absl::OkStatus();
  }
  absl::Status AppendAudit(const AuditEntry& a) override {
    s_.audit.push_back(a);
    return absl::OkStatus();
  }
  absl::StatusOr<absl::optional<CalendarVersion>> LatestCalendar(
      const std::string& calendar_id, absl::Time at) override {
    absl::optional<CalendarVersion> best;
    for (const CalendarVersion& v : s_.calendars) {
      if (v.calendar_id == calendar_id && v.effective_from <= at &&
          (!best.has_value() || v.version > best->version)) {
        best = v;
      }
    }
    return best;
  }
  // One transaction at a time: nothing to hold off.
  absl::StatusOr<int64_t> ShareCalendar(const std::string& calendar_id,
                                        absl::Time at) override {
    absl::StatusOr<absl::optional<CalendarVersion>> v =
        LatestCalendar(calendar_id, at);
    if (!v.ok()) return v.status();
    return v->has_value() ? (*v)->version : 0;
  }
  absl::Status LockCalendar(const std::string&) override {
    return absl::OkStatus();
  }
  absl::Status InsertCalendar(const CalendarVersion& v) override {
    for (const CalendarVersion& o : s_.calendars) {
      if (!v.request_id.empty() && o.request_id == v.request_id) {
        return common::AlreadyExists(kRequestIdTaken, "exists");
      }
    }
    for (const CalendarVersion& o : s_.calendars) {
      if (o.calendar_id == v.calendar_id && o.version == v.version) {
        return common::AlreadyExists(kCalendarVersionExists, "exists");
      }
    }
    s_.calendars.push_back(v);
    return absl::OkStatus();
  }
  absl::Status SetCalendarMoved(
      const std::string& calendar_id, int64_t version,
      const std::vector<MovedAppointment>& moved) override {
    for (CalendarVersion& v : s_.calendars) {
      if (v.calendar_id == calendar_id && v.version == version) v.moved = moved;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<CalendarVersion>> ClaimPendingCalendars(
      absl::Time now, const std::string& calendar_id) override {
    std::vector<CalendarVersion> out;
    for (const CalendarVersion& v : s_.calendars) {
      if (!v.applied && v.effective_from <= now &&
          (calendar_id.empty() || v.calendar_id == calendar_id)) {
        out.push_back(v);
      }
    }
    std::sort(out.begin(), out.end(),
              [](const CalendarVersion& a, const CalendarVersion& b) {
                return std::tie(a.calendar_id, a.version) <
                       std::tie(b.calendar_id, b.version);
              });
    return out;
  }
  absl::Status MarkCalendarApplied(const std::string& calendar_id,
                                   int64_t version, absl::Time) override {
    for (CalendarVersion& v : s_.calendars) {
      if (v.calendar_id == calendar_id && v.version == version) {
        v.applied = true;
      }
    }
    return absl::OkStatus();
  }

 private:
  MemoryDeadlineStore::State& s_;
};

}  // namespace

absl::Status MemoryDeadlineStore::InTransaction(
    const std::function<absl::Status(DeadlineTx&)>& fn) {
  absl::MutexLock tx_lock(&tx_mu_);
  State copy = Snapshot();
  MemoryTx tx(copy);
  absl::Status s = fn(tx);
  if (!s.ok()) return s;
  absl::MutexLock lock(&mu_);
  state_ = std::move(copy);
  return absl::OkStatus();
}

absl::StatusOr<absl::optional<Clock>> MemoryDeadlineStore::GetClock(
    const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = state_.clocks.find(name);
  if (it == state_.clocks.end()) return absl::optional<Clock>();
  return absl::optional<Clock>(it->second);
}

absl::StatusOr<std::vector<Clock>> MemoryDeadlineStore::ListClocks(
    const ClockQuery& q) {
  absl::MutexLock lock(&mu_);
  std::vector<Clock> out;
  for (const auto& [name, c] : state_.clocks) {
    const bool in_subtree =
        c.agency.code == q.agency_subtree ||
        std::find(c.agency.ancestors.begin(), c.agency.ancestors.end(),
                  q.agency_subtree) != c.agency.ancestors.end();
    // Running clocks only: a paused one waits for the citizen, not the
    // office (as PgDeadlineStore).
    if (!in_subtree || c.state != ClockState::kRunning ||
        c.urgency() != q.urgency || (q.kind.has_value() && c.kind != *q.kind)) {
      continue;
    }
    if (q.after_due_at.has_value() &&
        std::make_pair(c.due_at, c.name) <=
            std::make_pair(*q.after_due_at, q.after_name)) {
      continue;
    }
    out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const Clock& a, const Clock& b) {
    return std::make_pair(a.due_at, a.name) < std::make_pair(b.due_at, b.name);
  });
  if (static_cast<int>(out.size()) > q.page_size) out.resize(q.page_size);
  return out;
}

absl::StatusOr<std::vector<ReportRow>> MemoryDeadlineStore::Report(
    const ReportQuery& q) {
  absl::MutexLock lock(&mu_);
  const std::string first = calendar::FormatDay(q.first_day);
  const std::string last = calendar::FormatDay(q.last_day);
  // By tier number first (0 unless grouped by tier), then by key in byte
  // order, as the PostgreSQL store sorts.
  std::map<std::pair<int, std::string>, ReportRow> rows;
  for (const auto& [key, c] : state_.counters) {
    const auto& [scope, via, day, kind, procedure, tier] = key;
    if (scope != q.agency_subtree || kind != static_cast<int>(q.kind)) continue;
    const bool open = day.empty();
    if (!open && (day < first || day > last)) continue;
    std::string group;
    switch (q.group_by) {
      case ReportGroupBy::kNone:
        break;
      case ReportGroupBy::kAgency:
        group = via;
        break;
      case ReportGroupBy::kProcedure:
        group = procedure;
        break;
      case ReportGroupBy::kTier:
        group = TierName(static_cast<Tier>(tier));
        break;
    }
    ReportRow& r = rows[{q.group_by == ReportGroupBy::kTier ? tier : 0, group}];
    r.key = group;
    if (open) {
      r.open_on_time += c.open_on_time;
      r.open_overdue += c.open_overdue;
    } else {
      r.received += c.received;
      r.finished_early += c.early;
      r.finished_on_time += c.on_time;
      r.finished_late += c.late;
    }
  }
  std::vector<ReportRow> out;
  for (auto& [k, r] : rows) out.push_back(r);
  return out;
}

absl::StatusOr<std::vector<CalendarVersion>>
MemoryDeadlineStore::ListCalendars() {
  absl::MutexLock lock(&mu_);
  return state_.calendars;
}

absl::StatusOr<absl::optional<CalendarVersion>>
MemoryDeadlineStore::LatestCalendar(const std::string& calendar_id,
                                    absl::Time at) {
  State copy = Snapshot();
  auto read = MemoryTx(copy).LatestCalendar(calendar_id, at);
  std::function<void()> hook;
  {
    absl::MutexLock lock(&mu_);
    if (after_latest_read_.first == calendar_id) {
      hook.swap(after_latest_read_.second);
      after_latest_read_.first.clear();
    }
  }
  if (hook) hook();
  return read;
}

absl::StatusOr<absl::optional<CalendarVersion>>
MemoryDeadlineStore::CalendarVersionOf(const std::string& calendar_id,
                                       int64_t version) {
  absl::MutexLock lock(&mu_);
  for (const CalendarVersion& v : state_.calendars) {
    if (v.calendar_id == calendar_id && v.version == version) {
      return absl::make_optional(v);
    }
  }
  return absl::optional<CalendarVersion>();
}

absl::StatusOr<std::vector<OpenClockCount>>
MemoryDeadlineStore::CountOpenClocks() {
  absl::MutexLock lock(&mu_);
  std::map<std::pair<int, std::string>, int64_t> counts;
  for (const auto& [name, c] : state_.clocks) {
    if (c.state == ClockState::kStopped) continue;
    const std::string state =
        c.state == ClockState::kPaused ? "paused" : UrgencyName(c.urgency());
    ++counts[{static_cast<int>(c.kind), state}];
  }
  std::vector<OpenClockCount> out;
  for (const auto& [k, n] : counts) {
    out.push_back({static_cast<ClockKind>(k.first), k.second, n});
  }
  return out;
}

absl::StatusOr<absl::optional<std::vector<std::string>>>
MemoryDeadlineStore::AgencyAncestors(const std::string& agency_code) {
  absl::MutexLock lock(&mu_);
  auto it = state_.agencies.find(agency_code);
  if (it == state_.agencies.end()) {
    return absl::optional<std::vector<std::string>>();
  }
  return absl::make_optional(it->second);
}

absl::StatusOr<absl::optional<CalendarVersion>>
MemoryDeadlineStore::CalendarByRequestId(const std::string& request_id) {
  absl::MutexLock lock(&mu_);
  for (const CalendarVersion& v : state_.calendars) {
    if (!request_id.empty() && v.request_id == request_id) {
      return absl::make_optional(v);
    }
  }
  return absl::optional<CalendarVersion>();
}

}  // namespace lienthong::deadline
