#include "services/deadline/pg_rows.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace lienthong::deadline::pg {

std::string TextArray(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& s : items) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') q.push_back('\\');
      q.push_back(c);
    }
    quoted.push_back(q + "\"");
  }
  return absl::StrCat("{", absl::StrJoin(quoted, ","), "}");
}

absl::Time FromUs(const pqxx::field& f) {
  return absl::FromUnixMicros(f.as<int64_t>());
}
absl::optional<absl::Time> OptFromUs(const pqxx::field& f) {
  if (f.is_null()) return absl::nullopt;
  return FromUs(f);
}

Clock ClockFromRow(const pqxx::row& r) {
  Clock c;
  c.name = r[0].as<std::string>();
  c.kind = static_cast<ClockKind>(r[1].as<int>());
  c.dossier_code = r[2].as<std::string>();
  c.leg_id = r[3].as<std::string>();
  c.agency.code = r[4].as<std::string>();
  c.agency.tier = static_cast<Tier>(r[5].as<int>());
  std::vector<std::string> path =
      absl::StrSplit(r[6].as<std::string>(), '\x1f', absl::SkipEmpty());
  if (!path.empty()) path.pop_back();  // the agency itself
  c.agency.ancestors = std::move(path);
  c.procedure_code = r[7].as<std::string>();
  c.calendar_id = r[8].as<std::string>();
  c.limit = absl::Microseconds(r[9].as<int64_t>());
  if (!r[10].is_null()) c.cutoff_minute = r[10].as<int>();
  c.supplement_policy = static_cast<SupplementPolicy>(r[11].as<int>());
  c.received_at = FromUs(r[12]);
  c.original_due_at = FromUs(r[13]);
  c.run_started_at = FromUs(r[14]);
  c.counting_starts = FromUs(r[15]);
  c.consumed_before_run = absl::Microseconds(r[16].as<int64_t>());
  c.due_at = FromUs(r[17]);
  c.due_soon_at = FromUs(r[18]);
  c.state = static_cast<ClockState>(r[19].as<int>());
  c.due_soon_fired = r[20].as<bool>();
  c.overdue_fired = r[21].as<bool>();
  c.paused_at = OptFromUs(r[22]).value_or(absl::InfinitePast());
  c.stopped_at = OptFromUs(r[23]).value_or(absl::InfinitePast());
  c.stop_reason = static_cast<StopReason>(r[24].as<int>());
  c.outcome = static_cast<Outcome>(r[25].as<int>());
  c.new_appointment = OptFromUs(r[26]);
  c.next_fire_at = OptFromUs(r[27]);
  c.version = r[28].as<int64_t>();
  c.calendar_version = r[29].as<int64_t>();
  return c;
}

namespace {

// The columns a clock's runs change, from received_at to next_fire_at, in
// the order kInsertClock and kUpdateClock name them.
Params& RunColumns(const Clock& c, Params& p) {
  return p.Us(c.received_at)
      .Us(c.original_due_at)
      .Us(c.run_started_at)
      .Us(c.counting_starts)
      .Int(absl::ToInt64Microseconds(c.consumed_before_run))
      .Us(c.due_at)
      .Us(c.due_soon_at)
      .Int(static_cast<int>(c.state))
      .Bool(c.due_soon_fired)
      .Bool(c.overdue_fired)
      .NeverableUs(c.paused_at)
      .NeverableUs(c.stopped_at)
      .Int(static_cast<int>(c.stop_reason))
      .Int(static_cast<int>(c.outcome))
      .OptUs(c.new_appointment)
      .OptUs(c.next_fire_at);
}

}  // namespace

// Parameters $1.. in the column order of the INSERT/UPDATE below.
Params ClockParams(const Clock& c) {
  std::vector<std::string> path = c.agency.ancestors;
  path.push_back(c.agency.code);
  Params p;
  p.Text(c.name)
      .Int(static_cast<int>(c.kind))
      .Text(c.dossier_code)
      .Text(c.leg_id)
      .Text(c.agency.code)
      .Int(static_cast<int>(c.agency.tier))
      .Text(TextArray(path))
      .Text(c.procedure_code)
      .Text(c.calendar_id)
      .Int(absl::ToInt64Microseconds(c.limit))
      .OptInt(c.cutoff_minute)
      .Int(static_cast<int>(c.supplement_policy));
  RunColumns(c, p).Int(c.calendar_version);
  return p;
}

Params UpdateParams(const Clock& c) {
  Params p;
  p.Text(c.name).Text(c.calendar_id);
  RunColumns(c, p)
      .Int(c.version)
      .Int(c.calendar_version)
      .Int(static_cast<int>(c.supplement_policy))
      .OptInt(c.cutoff_minute);
  return p;
}

std::vector<Clock> Clocks(const pqxx::result& r) {
  std::vector<Clock> out;
  out.reserve(r.size());
  for (const pqxx::row& row : r) out.push_back(ClockFromRow(row));
  return out;
}

CalendarVersion CalendarFromRow(const pqxx::row& r) {
  CalendarVersion v;
  v.calendar_id = r[0].as<std::string>();
  v.version = r[1].as<int64_t>();
  v.effective_from = FromUs(r[2]);
  v.json = r[3].as<std::string>();
  v.created_at = FromUs(r[4]);
  v.created_by = r[5].as<std::string>();
  v.reason = r[6].as<std::string>();
  v.applied = r[7].as<bool>();
  v.request_id = r[8].is_null() ? "" : r[8].as<std::string>();
  v.moved = DecodeMoved(r[9].as<std::string>());
  return v;
}

std::string EncodeMoved(const std::vector<MovedAppointment>& moved) {
  std::string out;
  for (const MovedAppointment& m : moved) {
    absl::StrAppend(&out, m.clock_name, "\t", m.dossier_code, "\t",
                    absl::ToUnixMicros(m.old_due), "\t",
                    absl::ToUnixMicros(m.new_due), "\n");
  }
  return out;
}

std::vector<MovedAppointment> DecodeMoved(const std::string& text) {
  std::vector<MovedAppointment> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    int64_t old_us = 0, new_us = 0;
    if (f.size() != 4 || !absl::SimpleAtoi(f[2], &old_us) ||
        !absl::SimpleAtoi(f[3], &new_us)) {
      continue;
    }
    // The kind is not stored: a leg's clock is `dossiers/{code}/legs/{id}`.
    out.push_back({f[0], f[1], absl::FromUnixMicros(old_us),
                   absl::FromUnixMicros(new_us),
                   absl::StrContains(f[0], "/legs/") ? ClockKind::kLeg
                                                     : ClockKind::kDossier});
  }
  return out;
}

}  // namespace lienthong::deadline::pg
