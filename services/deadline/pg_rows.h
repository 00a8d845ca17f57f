#pragma once

// Row <-> Clock/CalendarVersion mapping and parameter building for
// PgDeadlineStore (internal to services/deadline).

#include <deque>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "pqxx/pqxx"
#include "services/deadline/deadline_store.h"

namespace lienthong::deadline::pg {

// Positional parameters, some NULL. libpqxx 6 sends a null `const char*` as
// SQL NULL, so values live in `storage_` and `ptrs_` points into it.
class Params {
 public:
  Params& Text(std::string v) {
    storage_.push_back(std::move(v));
    ptrs_.push_back(storage_.back().c_str());
    return *this;
  }
  Params& Int(int64_t v) { return Text(absl::StrCat(v)); }
  Params& OptInt(absl::optional<int> v) {
    return v.has_value() ? Int(*v) : Null();
  }
  Params& Bool(bool v) { return Text(v ? "true" : "false"); }
  Params& Null() {
    ptrs_.push_back(nullptr);
    return *this;
  }
  Params& Us(absl::Time t) { return Int(absl::ToUnixMicros(t)); }
  Params& OptUs(absl::optional<absl::Time> t) {
    return t.has_value() ? Us(*t) : Null();
  }
  // InfinitePast stands for "never" in Clock.
  Params& NeverableUs(absl::Time t) {
    return t == absl::InfinitePast() ? Null() : Us(t);
  }
  pqxx::result Exec(pqxx::work& w, const std::string& sql) const {
    return w.exec_params(sql, pqxx::prepare::make_dynamic_params(ptrs_));
  }

 private:
  std::deque<std::string> storage_;  // stable addresses
  std::vector<const char*> ptrs_;
};

// Array literal for text[] ({"a","b"}), quoting every element.
std::string TextArray(const std::vector<std::string>& items);

absl::Time FromUs(const pqxx::field& f);
absl::optional<absl::Time> OptFromUs(const pqxx::field& f);

inline constexpr char kClockCols[] =
    "name, kind, dossier_code, leg_id, agency_code, agency_tier, "
    "array_to_string(agency_path, chr(31)), procedure_code, calendar_id, "
    "limit_us, cutoff_minute, supplement_policy, "
    "deadline.ts_to_us(received_at), deadline.ts_to_us(original_due_at), "
    "deadline.ts_to_us(run_started_at), deadline.ts_to_us(counting_starts), "
    "consumed_before_us, deadline.ts_to_us(due_at), "
    "deadline.ts_to_us(due_soon_at), state, due_soon_fired, overdue_fired, "
    "deadline.ts_to_us(paused_at), deadline.ts_to_us(stopped_at), "
    "stop_reason, outcome, deadline.ts_to_us(new_appointment), "
    "deadline.ts_to_us(next_fire_at), version, calendar_version";
inline constexpr char kInsertClock[] =
    "INSERT INTO deadline.clocks (name, kind, dossier_code, leg_id, "
    "agency_code, agency_tier, agency_path, procedure_code, calendar_id, "
    "limit_us, cutoff_minute, supplement_policy, received_at, "
    "original_due_at, run_started_at, counting_starts, consumed_before_us, "
    "due_at, due_soon_at, state, due_soon_fired, overdue_fired, paused_at, "
    "stopped_at, stop_reason, outcome, new_appointment, next_fire_at, "
    "calendar_version, version) VALUES ($1, $2, $3, $4, $5, $6, $7::text[], "
    "$8, $9, $10, $11, "
    "$12, deadline.us_to_ts($13), deadline.us_to_ts($14), "
    "deadline.us_to_ts($15), deadline.us_to_ts($16), $17, "
    "deadline.us_to_ts($18), deadline.us_to_ts($19), $20, $21, $22, "
    "deadline.us_to_ts($23), deadline.us_to_ts($24), $25, $26, "
    "deadline.us_to_ts($27), deadline.us_to_ts($28), $29, 1)";
// Identity columns never change after insert. The counting rules do: the
// calendar (a change of calendar), the rule on supplement and the cut-off
// (a leg dispatched before its dossier's clock adopts the dossier's).
inline constexpr char kUpdateClock[] =
    "UPDATE deadline.clocks SET calendar_id = $2, supplement_policy = $21, "
    "cutoff_minute = $22, "
    "received_at = deadline.us_to_ts($3), "
    "original_due_at = deadline.us_to_ts($4), "
    "run_started_at = deadline.us_to_ts($5), "
    "counting_starts = deadline.us_to_ts($6), consumed_before_us = $7, "
    "due_at = deadline.us_to_ts($8), due_soon_at = deadline.us_to_ts($9), "
    "state = $10, due_soon_fired = $11, overdue_fired = $12, "
    "paused_at = deadline.us_to_ts($13), stopped_at = deadline.us_to_ts($14), "
    "stop_reason = $15, outcome = $16, "
    "new_appointment = deadline.us_to_ts($17), "
    "next_fire_at = deadline.us_to_ts($18), calendar_version = $20, "
    "version = version + 1 WHERE name = $1 AND version = $19";
inline constexpr char kCalendarCols[] =
    "calendar_id, version, deadline.ts_to_us(effective_from), data, "
    "deadline.ts_to_us(created_at), created_by, reason, "
    "applied_at IS NOT NULL, request_id, moved";

// One line per moved appointment: clock TAB dossier TAB old_us TAB new_us.
std::string EncodeMoved(const std::vector<MovedAppointment>& moved);
std::vector<MovedAppointment> DecodeMoved(const std::string& text);

Clock ClockFromRow(const pqxx::row& r);
// Parameters $1..$28 of kInsertClock.
Params ClockParams(const Clock& c);
// Parameters $1..$22 of kUpdateClock.
Params UpdateParams(const Clock& c);
std::vector<Clock> Clocks(const pqxx::result& r);
CalendarVersion CalendarFromRow(const pqxx::row& r);

}  // namespace lienthong::deadline::pg
