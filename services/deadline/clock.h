#pragma once

// The deadline service's domain types: a legal clock per dossier and per leg.
// No gRPC, no pqxx. Times are absl::Time (UTC); durations are working time.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace lienthong::deadline {

enum class ClockKind { kDossier = 1, kLeg = 2 };
enum class ClockState { kRunning = 1, kPaused = 2, kStopped = 3 };
// Where a clock stands against its due time (what the scanner has fired).
enum class Urgency { kOnTrack = 1, kDueSoon = 2, kOverdue = 3 };
// How a stopped clock finished against its due time.
enum class Outcome { kNone = 0, kEarly = 1, kOnTime = 2, kLate = 3 };
// On supplement the clock either restarts from scratch (the current rule:
// the time limit counts from receipt of the complete dossier) or resumes
// with what was left.
enum class SupplementPolicy { kRestart = 1, kResume = 2 };
enum class StopReason {
  kNone = 0,
  kDone = 1,       // result ready / leg completed
  kRefused = 2,    // a refusal is a (negative) result: it counts as finished
  kWithdrawn = 3,  // the citizen withdrew: not counted as finished
  kCancelled = 4,  // a leg cancelled because the dossier ended elsewhere
};

// Agency tiers, root first in `ancestors`.
enum class Tier {
  kUnspecified = 0,
  kProvince = 1,
  kDistrict = 2,
  kCommune = 3
};

struct AgencyRef {
  std::string code;  // "000.00.00.H26"
  Tier tier = Tier::kUnspecified;
  std::vector<std::string> ancestors;  // city first; excludes `code`
};

struct Clock {
  // "dossiers/{dossier}" or "dossiers/{dossier}/legs/{leg}".
  std::string name;
  ClockKind kind = ClockKind::kDossier;
  std::string dossier_code;
  std::string leg_id;  // empty for a dossier clock
  AgencyRef agency;    // receiving agency (dossier) or the leg's agency
  std::string procedure_code;
  std::string calendar_id;  // which calendar counts this clock ("vn")
  // The version of that calendar its due time was computed with (a later
  // version that leaves the due time where it was does not change it); 0
  // for a clock stored before versions were recorded.
  int64_t calendar_version = 0;

  absl::Duration limit;  // legal working time
  absl::optional<int> cutoff_minute;
  SupplementPolicy supplement_policy = SupplementPolicy::kRestart;

  absl::Time received_at;      // when the dossier/leg first started
  absl::Time original_due_at;  // the first appointment
  // The current run: it started at run_started_at (receipt or supplement),
  // counting from counting_starts, with consumed_before_run already used.
  absl::Time run_started_at;
  absl::Time counting_starts;
  absl::Duration consumed_before_run;
  absl::Time due_at;       // current due time
  absl::Time due_soon_at;  // when what is left reaches the threshold

  ClockState state = ClockState::kRunning;
  bool due_soon_fired = false;
  bool overdue_fired = false;
  absl::Time paused_at = absl::InfinitePast();
  absl::Time stopped_at = absl::InfinitePast();
  StopReason stop_reason = StopReason::kNone;
  Outcome outcome = Outcome::kNone;
  // An officer's new appointment after an apology; the clock still counts as
  // late against due_at.
  absl::optional<absl::Time> new_appointment;
  // When the scanner must look at this clock next; none when nothing is left
  // to fire (paused, stopped, overdue already fired).
  absl::optional<absl::Time> next_fire_at;
  int64_t version = 0;

  Urgency urgency() const {
    return overdue_fired    ? Urgency::kOverdue
           : due_soon_fired ? Urgency::kDueSoon
                            : Urgency::kOnTrack;
  }
};

// A transition the scanner fires.
struct Firing {
  Urgency urgency;       // kDueSoon or kOverdue
  absl::Time scheduled;  // the instant it became due (for the lag metric)
};

// How a change to one clock moves the pre-aggregated report counters.
struct ReportDelta {
  int received = 0;  // on the receipt's local day
  int finished_early = 0;
  int finished_on_time = 0;
  int finished_late = 0;
  int open_on_time = 0;  // in progress, not overdue (running or paused)
  int open_overdue = 0;
  bool empty() const {
    return received == 0 && finished_early == 0 && finished_on_time == 0 &&
           finished_late == 0 && open_on_time == 0 && open_overdue == 0;
  }
};

const char* KindName(ClockKind k);    // "dossier", "leg"
const char* StateName(ClockState s);  // "running", "paused", "stopped"
const char* UrgencyName(Urgency u);   // "on_track", "due_soon", "overdue"
const char* OutcomeName(Outcome o);   // "none", "early", "on_time", "late"
const char* TierName(Tier t);         // "province", "district", "commune"

}  // namespace lienthong::deadline
