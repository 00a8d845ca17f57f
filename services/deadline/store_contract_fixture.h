#pragma once

// The DeadlineStore contract, run against both stores: each test of
// store_contract_*_test.cc runs once on MemoryDeadlineStore (what the
// service's unit tests use) and once on PgDeadlineStore (what runs), so the
// fake cannot drift from PostgreSQL unnoticed. What is checked is what
// deadline_store.h promises; a store that disagrees is fixed, not the test.
//
// Records are compared whole: the comparisons below bind every member of
// Clock, CalendarVersion, … with structured bindings, so a member added to
// one of them stops this compiling until it is compared (and written by
// both stores).

#include <algorithm>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/calendar/test_calendars.h"
#include "libs/common/clock.h"
#include "libs/common/uuid.h"
#include "libs/testing/status_matchers.h"
#include "services/deadline/memory_deadline_store.h"
#include "services/deadline/pg_deadline_store.h"
#include "services/deadline/pg_test_db.h"
#include "services/deadline/test_agencies.h"

namespace lienthong::deadline {

// Failure messages name the record, not its bytes.
inline void PrintTo(const Clock& c, std::ostream* os) {
  *os << "Clock{" << c.name << " v" << c.version << "}";
}
inline void PrintTo(const CalendarVersion& v, std::ostream* os) {
  *os << "CalendarVersion{" << v.calendar_id << " v" << v.version << "}";
}
inline void PrintTo(ClockKind k, std::ostream* os) { *os << KindName(k); }
inline void PrintTo(ClockState s, std::ostream* os) { *os << StateName(s); }
inline void PrintTo(Outcome o, std::ostream* os) { *os << OutcomeName(o); }
inline void PrintTo(Tier t, std::ostream* os) { *os << TierName(t); }
inline void PrintTo(SupplementPolicy p, std::ostream* os) {
  *os << "SupplementPolicy(" << static_cast<int>(p) << ")";
}
inline void PrintTo(StopReason r, std::ostream* os) {
  *os << "StopReason(" << static_cast<int>(r) << ")";
}
inline void PrintTo(const AgencyRef& a, std::ostream* os) {
  *os << a.code << "/" << TierName(a.tier) << " under ["
      << absl::StrJoin(a.ancestors, ",") << "]";
}
inline void PrintTo(const MovedAppointment& m, std::ostream* os) {
  *os << m.clock_name << " " << m.old_due << " -> " << m.new_due;
}
inline void PrintTo(const ReportRow& r, std::ostream* os) {
  *os << "ReportRow{'" << r.key << "' received " << r.received << " early "
      << r.finished_early << " on_time " << r.finished_on_time << " late "
      << r.finished_late << " open " << r.open_on_time << "/" << r.open_overdue
      << "}";
}
inline void PrintTo(const OpenClockCount& c, std::ostream* os) {
  *os << KindName(c.kind) << "/" << c.state << "=" << c.count;
}

// Equal in every member (bound, so a new member must be added here).
inline bool operator==(const AgencyRef& a, const AgencyRef& b) {
  const auto& [a_code, a_tier, a_ancestors] = a;
  const auto& [b_code, b_tier, b_ancestors] = b;
  return a_code == b_code && a_tier == b_tier && a_ancestors == b_ancestors;
}
inline bool operator==(const MovedAppointment& a, const MovedAppointment& b) {
  const auto& [a_clock, a_dossier, a_old, a_new, a_kind] = a;
  const auto& [b_clock, b_dossier, b_old, b_new, b_kind] = b;
  return a_clock == b_clock && a_dossier == b_dossier && a_old == b_old &&
         a_new == b_new && a_kind == b_kind;
}

namespace contract {

using calendar::testing::Vn;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusHasReason;
using ::lienthong::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// "field: want X, got Y" for each member that differs.
using Diffs = std::vector<std::string>;

template <typename T>
std::string Show(const T& v) {
  return ::testing::PrintToString(v);
}
template <typename T>
std::string Show(const absl::optional<T>& v) {
  return v.has_value() ? Show(*v) : "none";
}

template <typename T>
void Diff(Diffs& out, const char* field, const T& want, const T& got) {
  if (want == got) return;
  out.push_back(
      absl::StrCat(field, ": want ", Show(want), ", got ", Show(got)));
}
#define LT_DIFF(f) Diff(d, #f, w_##f, g_##f)

inline Diffs ClockDiffs(const Clock& want, const Clock& got) {
  const auto& [w_name, w_kind, w_dossier_code, w_leg_id, w_agency,
               w_procedure_code, w_calendar_id, w_calendar_version, w_limit,
               w_cutoff_minute, w_supplement_policy, w_received_at,
               w_original_due_at, w_run_started_at, w_counting_starts,
               w_consumed_before_run, w_due_at, w_due_soon_at, w_state,
               w_due_soon_fired, w_overdue_fired, w_paused_at, w_stopped_at,
               w_stop_reason, w_outcome, w_new_appointment, w_next_fire_at,
               w_version] = want;
  const auto& [g_name, g_kind, g_dossier_code, g_leg_id, g_agency,
               g_procedure_code, g_calendar_id, g_calendar_version, g_limit,
               g_cutoff_minute, g_supplement_policy, g_received_at,
               g_original_due_at, g_run_started_at, g_counting_starts,
               g_consumed_before_run, g_due_at, g_due_soon_at, g_state,
               g_due_soon_fired, g_overdue_fired, g_paused_at, g_stopped_at,
               g_stop_reason, g_outcome, g_new_appointment, g_next_fire_at,
               g_version] = got;
  Diffs d;
  LT_DIFF(name), LT_DIFF(kind), LT_DIFF(dossier_code), LT_DIFF(leg_id);
  LT_DIFF(agency), LT_DIFF(procedure_code), LT_DIFF(calendar_id);
  LT_DIFF(calendar_version), LT_DIFF(limit), LT_DIFF(cutoff_minute);
  LT_DIFF(supplement_policy), LT_DIFF(received_at), LT_DIFF(original_due_at);
  LT_DIFF(run_started_at), LT_DIFF(counting_starts);
  LT_DIFF(consumed_before_run), LT_DIFF(due_at), LT_DIFF(due_soon_at);
  LT_DIFF(state), LT_DIFF(due_soon_fired), LT_DIFF(overdue_fired);
  LT_DIFF(paused_at), LT_DIFF(stopped_at), LT_DIFF(stop_reason);
  LT_DIFF(outcome), LT_DIFF(new_appointment), LT_DIFF(next_fire_at);
  LT_DIFF(version);
  return d;
}

inline Diffs CalendarDiffs(const CalendarVersion& want,
                           const CalendarVersion& got) {
  const auto& [w_calendar_id, w_version, w_effective_from, w_json, w_created_at,
               w_created_by, w_reason, w_applied, w_request_id, w_moved] = want;
  const auto& [g_calendar_id, g_version, g_effective_from, g_json, g_created_at,
               g_created_by, g_reason, g_applied, g_request_id, g_moved] = got;
  Diffs d;
  LT_DIFF(calendar_id), LT_DIFF(version), LT_DIFF(effective_from);
  LT_DIFF(json), LT_DIFF(created_at), LT_DIFF(created_by), LT_DIFF(reason);
  LT_DIFF(applied), LT_DIFF(request_id), LT_DIFF(moved);
  return d;
}

// The order of an event's destinations means nothing (each has its line).
inline Diffs EventDiffs(const OutgoingEvent& want, const OutgoingEvent& got) {
  const auto& [w_event_id, w_type, w_payload, w_destinations] = want;
  const auto& [g_event_id, g_type, g_payload, g_destinations] = got;
  Diffs d;
  LT_DIFF(event_id), LT_DIFF(type), LT_DIFF(payload);
  std::vector<std::string> w_dest = w_destinations, g_dest = g_destinations;
  std::sort(w_dest.begin(), w_dest.end());
  std::sort(g_dest.begin(), g_dest.end());
  LT_DIFF(dest);
  return d;
}

inline Diffs AuditDiffs(const AuditEntry& want, const AuditEntry& got) {
  const auto& [w_actor, w_action, w_target, w_detail, w_at, w_peer, w_outcome] =
      want;
  const auto& [g_actor, g_action, g_target, g_detail, g_at, g_peer, g_outcome] =
      got;
  Diffs d;
  LT_DIFF(actor), LT_DIFF(action), LT_DIFF(target), LT_DIFF(detail);
  LT_DIFF(at), LT_DIFF(peer), LT_DIFF(outcome);
  return d;
}

inline Diffs RowDiffs(const ReportRow& want, const ReportRow& got) {
  const auto& [w_key, w_received, w_early, w_on_time, w_late, w_open_on_time,
               w_open_overdue] = want;
  const auto& [g_key, g_received, g_early, g_on_time, g_late, g_open_on_time,
               g_open_overdue] = got;
  Diffs d;
  LT_DIFF(key), LT_DIFF(received), LT_DIFF(early), LT_DIFF(on_time);
  LT_DIFF(late), LT_DIFF(open_on_time), LT_DIFF(open_overdue);
  return d;
}

inline Diffs CountDiffs(const OpenClockCount& want, const OpenClockCount& got) {
  const auto& [w_kind, w_state, w_count] = want;
  const auto& [g_kind, g_state, g_count] = got;
  Diffs d;
  LT_DIFF(kind), LT_DIFF(state), LT_DIFF(count);
  return d;
}

#undef LT_DIFF

// An OK StatusOr whose value matches `inner`.
MATCHER_P(OkAnd, inner, "is OK and holds a value that matches") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(inner, *arg, result_listener);
}

MATCHER_P2(SameAs, want, diffs,
           "equals " + ::testing::PrintToString(want) + " in every member") {
  const Diffs d = diffs(want, arg);
  if (!d.empty()) *result_listener << absl::StrJoin(d, "; ");
  return d.empty();
}
inline auto SameClock(const Clock& c) { return SameAs(c, ClockDiffs); }
inline auto SameCalendar(const CalendarVersion& v) {
  return SameAs(v, CalendarDiffs);
}
inline auto SameEvent(const OutgoingEvent& e) { return SameAs(e, EventDiffs); }
inline auto SameAudit(const AuditEntry& a) { return SameAs(a, AuditDiffs); }
inline auto SameRow(const ReportRow& r) { return SameAs(r, RowDiffs); }
inline auto SameCount(const OpenClockCount& c) { return SameAs(c, CountDiffs); }

// A store under test, and what it committed that only a test looks at.
class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  virtual DeadlineStore& store() = 0;
  // What AppendOutbox committed, in the order it was appended.
  virtual std::vector<OutgoingEvent> Outbox() = 0;
  // What AppendAudit committed, in the order it was appended.
  virtual std::vector<AuditEntry> Audit() = 0;
};

class MemoryHarness final : public StoreHarness {
 public:
  DeadlineStore& store() override { return store_; }
  std::vector<OutgoingEvent> Outbox() override {
    return store_.Snapshot().outbox;
  }
  std::vector<AuditEntry> Audit() override { return store_.Snapshot().audit; }

 private:
  MemoryDeadlineStore store_;
};

// Read back with SQL: the outbox and the audit trail have no reader in the
// store (the relay and operators read the tables).
class PgHarness final : public StoreHarness {
 public:
  PgHarness() : pool_(test::FreshPool()), store_(*pool_, clock_) {}
  DeadlineStore& store() override { return store_; }
  std::vector<OutgoingEvent> Outbox() override {
    std::vector<OutgoingEvent> out;
    Read(
        "SELECT e.id::text, e.type, coalesce(e.payload, p.payload), e.dests "
        "FROM (SELECT event_id AS id, min(event_type) AS type, "
        "(array_agg(payload))[1] AS payload, array_to_string(array_agg("
        "destination), chr(31)) AS dests, min(seq) AS seq FROM "
        "deadline.outbox GROUP BY event_id) e LEFT JOIN "
        "deadline.outbox_payloads p ON p.event_id = e.id ORDER BY e.seq",
        [&](const pqxx::row& r) {
          out.push_back({r[0].as<std::string>(), r[1].as<std::string>(),
                         pqxx::binarystring(r[2]).str(),
                         absl::StrSplit(r[3].as<std::string>(), '\x1f')});
        });
    return out;
  }
  std::vector<AuditEntry> Audit() override {
    std::vector<AuditEntry> out;
    Read(
        "SELECT actor, action, target, detail, deadline.ts_to_us(at), peer, "
        "outcome FROM deadline.audit_log ORDER BY id",
        [&](const pqxx::row& r) {
          AuditEntry a{r[0].as<std::string>(), r[1].as<std::string>(),
                       r[2].as<std::string>(), r[3].as<std::string>(),
                       absl::FromUnixMicros(r[4].as<int64_t>())};
          a.peer = r[5].as<std::string>();
          a.outcome = r[6].as<std::string>();
          out.push_back(a);
        });
    return out;
  }

 private:
  void Read(const std::string& sql,
            const std::function<void(const pqxx::row&)>& each) {
    const absl::Status s = db::WithTransaction(*pool_, [&](pqxx::work& w) {
      for (const pqxx::row& r : w.exec(sql)) each(r);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
  }

  common::FakeClock clock_{Vn(2026, 3, 9, 10, 0)};
  std::unique_ptr<db::Pool> pool_;
  PgDeadlineStore store_;
};

struct Backend {
  std::string name;
  std::function<std::unique_ptr<StoreHarness>()> make;
};
inline std::vector<Backend> Backends() {
  return {{"Memory", [] { return std::make_unique<MemoryHarness>(); }},
          {"Postgres", [] { return std::make_unique<PgHarness>(); }}};
}
inline std::string BackendName(const ::testing::TestParamInfo<Backend>& i) {
  return i.param.name;
}
inline void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

// Monday 9/3/2026 10:00 in Hà Nội, off the whole second by some
// microseconds: what PostgreSQL keeps, to the microsecond.
inline const absl::Time kT0 = Vn(2026, 3, 9, 10, 0) + absl::Microseconds(123);

// A leg's clock with every member away from its default (a paused clock
// would not have stopped_at, nor a leg a new appointment: a store keeps
// what it is given).
inline Clock FullClock(const std::string& dossier = "000.01.01.H26-260309-0001",
                       const std::string& leg = "ho-tich") {
  Clock c;
  c.name = absl::StrCat("dossiers/", dossier, "/legs/", leg);
  c.kind = ClockKind::kLeg;
  c.dossier_code = dossier;
  c.leg_id = leg;
  c.agency = kWardA;
  c.procedure_code = "1.001193";
  c.calendar_id = "vn-H26";
  c.calendar_version = 3;
  c.limit = absl::Hours(40) + absl::Microseconds(7);
  c.cutoff_minute = 15 * 60 + 30;
  c.supplement_policy = SupplementPolicy::kResume;
  c.received_at = kT0 - absl::Hours(26);
  c.original_due_at = kT0 + absl::Hours(100) + absl::Microseconds(1);
  c.run_started_at = kT0 - absl::Hours(2) + absl::Microseconds(2);
  c.counting_starts = kT0 - absl::Hours(1) + absl::Microseconds(3);
  c.consumed_before_run = absl::Hours(3) + absl::Microseconds(4);
  c.due_at = kT0 + absl::Hours(120) + absl::Microseconds(5);
  c.due_soon_at = kT0 + absl::Hours(96) + absl::Microseconds(6);
  c.state = ClockState::kPaused;
  c.due_soon_fired = true;
  c.overdue_fired = true;
  c.paused_at = kT0 - absl::Minutes(30) + absl::Microseconds(8);
  c.stopped_at = kT0 - absl::Minutes(20) + absl::Microseconds(9);
  c.stop_reason = StopReason::kCancelled;
  c.outcome = Outcome::kLate;
  c.new_appointment = kT0 + absl::Hours(200) + absl::Microseconds(10);
  c.next_fire_at = kT0 + absl::Hours(1) + absl::Microseconds(11);
  c.version = 1;
  return c;
}

// A plain running dossier clock at `agency`, counted in vn, due in a week.
inline Clock OpenClock(const std::string& dossier, const AgencyRef& agency) {
  Clock c;
  c.name = absl::StrCat("dossiers/", dossier);
  c.kind = ClockKind::kDossier;
  c.dossier_code = dossier;
  c.agency = agency;
  c.procedure_code = "1.001193";
  c.calendar_id = "vn";
  c.calendar_version = 1;
  c.limit = absl::Hours(40);
  c.received_at = kT0;
  c.original_due_at = c.due_at = kT0 + absl::Hours(24 * 7);
  c.run_started_at = c.counting_starts = kT0;
  c.due_soon_at = kT0 + absl::Hours(24 * 6);
  c.next_fire_at = c.due_soon_at;
  c.version = 1;
  return c;
}

inline CalendarVersion Version(const std::string& id, int64_t version,
                               absl::Time effective_from) {
  CalendarVersion v;
  v.calendar_id = id;
  v.version = version;
  v.effective_from = effective_from;
  v.json = absl::StrCat("{\"id\":\"", id, "\",\"v\":", version, "}");
  v.created_at = kT0 - absl::Hours(1) + absl::Microseconds(version);
  v.created_by = "000.00.00.H26/admin";
  v.reason = absl::StrCat("Quyết định số ", version, "/QĐ-UBND");
  return v;
}

class StoreContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { harness_ = GetParam().make(); }
  DeadlineStore& store() { return harness_->store(); }

  absl::Status Tx(const std::function<absl::Status(DeadlineTx&)>& fn) {
    return store().InTransaction(fn);
  }
  void Insert(const std::vector<Clock>& clocks) {
    ASSERT_THAT(Tx([&](DeadlineTx& tx) -> absl::Status {
                  for (const Clock& c : clocks) {
                    if (absl::Status s = tx.InsertClock(c); !s.ok()) return s;
                  }
                  return absl::OkStatus();
                }),
                IsOk());
  }
  void InsertCalendars(const std::vector<CalendarVersion>& versions) {
    ASSERT_THAT(Tx([&](DeadlineTx& tx) -> absl::Status {
                  for (const CalendarVersion& v : versions) {
                    if (absl::Status s = tx.InsertCalendar(v); !s.ok()) {
                      return s;
                    }
                  }
                  return absl::OkStatus();
                }),
                IsOk());
  }
  absl::optional<Clock> Get(const std::string& name) {
    absl::StatusOr<absl::optional<Clock>> c = store().GetClock(name);
    EXPECT_THAT(c, IsOk());
    return c.ok() ? *c : absl::nullopt;
  }
  template <typename T>
  T Read(const std::function<absl::StatusOr<T>(DeadlineTx&)>& fn) {
    T out{};
    EXPECT_THAT(Tx([&](DeadlineTx& tx) -> absl::Status {
                  absl::StatusOr<T> r = fn(tx);
                  if (!r.ok()) return r.status();
                  out = *std::move(r);
                  return absl::OkStatus();
                }),
                IsOk());
    return out;
  }

  std::unique_ptr<StoreHarness> harness_;
};

}  // namespace contract
}  // namespace lienthong::deadline
