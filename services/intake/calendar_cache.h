#pragma once

// The working-time calendars intake computes appointments with: cached
// copies of every calendar the deadline service has in force ("vn" and the
// province calendars "vn-<province>"), so a counter keeps receiving while
// the deadline service is away. A dossier follows its procedure's calendar
// when the procedure names one, else its receiving agency's, chosen as the
// deadline service chooses its clock's
// (calendar::ChooseCalendarId), so the appointment on the receipt and the
// legal due time agree. Starts from the copies intake stored, else the
// bundled data/calendars/vn.json as "vn"; a refresher loop installs new
// versions when the deadline service answers. The versions listed to take
// over later are stored too, so a restart while the deadline service is
// away still switches to them on time. Pure: the fetch and the
// storage are given as functions (calendar_source.h wires gRPC and
// PostgreSQL).
//
// Thread-safe: the calendars held are an immutable CalendarSet swapped
// whole under a mutex, so a reader takes one pointer and reads on.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "libs/calendar/working_calendar.h"
#include "libs/common/clock.h"

namespace lienthong::intake {

// A calendar document, the calendar it is a version of ("vn", "vn-H26"),
// and the label recorded on dossiers ("vn@3", "vn-H26@1", "vn@bundled").
struct CalendarCopy {
  std::string id;
  std::string json;
  std::string version;
  // Set for a version not yet in force when it was listed (or stored): the
  // time it takes over (Upcoming).
  absl::optional<absl::Time> takes_effect;
};

// The version number in label `version` ("vn-H26@2" -> 2); -1 for a label
// without one ("vn@bundled").
int64_t VersionNumber(absl::string_view version);

// A copy that was skipped, and why.
struct SkippedCopy {
  std::string version;  // "vn-H26@2"
  absl::Status status;
};

// What a dossier is stamped with: the calendar and its version label.
struct CalendarSnapshot {
  std::shared_ptr<const calendar::WorkingCalendar> calendar;
  std::string version;
};

// A calendar version that takes over at `from`.
struct TimedSnapshot {
  absl::Time from;
  CalendarSnapshot snapshot;
};

// The calendars held at one moment, by id. Always holds "vn". Besides the
// versions in force when they were fetched or stored (by_id), the versions
// listed to take over later (upcoming, by id, in time order): a dossier
// received once one's time has come follows it, as the deadline service's clock
// does, without waiting for the next refresh.
class CalendarSet {
 public:
  using Map = std::map<std::string, CalendarSnapshot, std::less<>>;
  using Upcoming =
      std::map<std::string, std::vector<TimedSnapshot>, std::less<>>;

  // `by_id` must hold "vn" (CalendarCache's sets always do).
  explicit CalendarSet(Map by_id, Upcoming upcoming = {})
      : by_id_(std::move(by_id)), upcoming_(std::move(upcoming)) {}

  // The calendar dossiers received by `agency_code` follow.
  const CalendarSnapshot& For(absl::string_view agency_code) const;
  // The calendar a dossier of a procedure naming `procedure_calendar`
  // (`calendars/{id}`, empty when it names none) received by `agency_code`
  // follows: the procedure's when held, else the agency's.
  const CalendarSnapshot& For(absl::string_view agency_code,
                              absl::string_view procedure_calendar) const;
  // The same, for a dossier received at `now`: an upcoming version whose
  // time has come counts as in force (and a calendar whose first version
  // it is, as existing).
  const CalendarSnapshot& For(absl::string_view agency_code,
                              absl::string_view procedure_calendar,
                              absl::Time now) const;
  // Null when calendar `id` is not held.
  const CalendarSnapshot* Find(absl::string_view id) const;
  // The version of calendar `id` in force at `now`: the highest numbered of
  // the one held and the upcoming ones whose time has come; null when none
  // is.
  const CalendarSnapshot* At(absl::string_view id, absl::Time now) const;
  const Map& by_id() const { return by_id_; }
  const Upcoming& upcoming() const { return upcoming_; }

 private:
  Map by_id_;
  Upcoming upcoming_;
};

// Parses and validates `copy` (INVALID_ARGUMENT when it does not parse, or
// is a document of another calendar than `copy.id`).
absl::StatusOr<CalendarSnapshot> ParseCalendarCopy(const CalendarCopy& copy);

class CalendarCache {
 public:
  // `national` is "vn" until a copy replaces it, labelled `version`.
  CalendarCache(std::shared_ptr<const calendar::WorkingCalendar> national,
                std::string version);

  // Every calendar held, at once: a submission batch picks each dossier's
  // from one set.
  std::shared_ptr<const CalendarSet> Calendars() const;
  // The calendar dossiers received by `agency_code` follow, now.
  CalendarSnapshot Snapshot(absl::string_view agency_code) const;

  // Parses and validates `copy`; holds it as calendar `copy.id` (replacing
  // that calendar's previous copy, the others untouched) when it is valid,
  // INVALID_ARGUMENT and no change otherwise.
  absl::Status Install(const CalendarCopy& copy);
  // Holds `snapshot` (from ParseCalendarCopy) as calendar `id`.
  void Put(const std::string& id, CalendarSnapshot snapshot);
  // Replaces every upcoming version held with `upcoming`.
  void SetUpcoming(CalendarSet::Upcoming upcoming);
  // Stops holding calendar `id`: its agencies follow "vn" again. "vn"
  // itself stays (false).
  bool Remove(absl::string_view id);

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const CalendarSet> current_;
};

// One version of one calendar, as the deadline service lists them.
struct ListedCalendar {
  std::string id;
  int64_t version = 0;
  absl::Time effective_from;
  std::string json;
};

// Per calendar, the version in force at `now` — the highest version whose
// effective time has come, as the deadline service picks it — labelled
// "<id>@<version>", in id order. A calendar whose versions all take effect
// later is left out (the deadline service does not use it yet either).
std::vector<CalendarCopy> InForce(const std::vector<ListedCalendar>& listed,
                                  absl::Time now);

// Per calendar, the versions that take over after `now`, each at its
// effective time (the ones that will be in force then: a version listed
// later but numbered below one already in force never is), labelled like
// InForce's and with `takes_effect` set, in id then time order.
std::vector<CalendarCopy> Upcoming(const std::vector<ListedCalendar>& listed,
                                   absl::Time now);

// What one refresh did.
struct CalendarRefresh {
  using Invalid = SkippedCopy;
  std::vector<std::string> installed;  // version labels, newly held
  std::vector<Invalid> invalid;        // skipped: the previous copy stays
  // Valid, but `persist` (or `forget`) failed: retried next time.
  std::vector<Invalid> storage_failed;
  std::vector<std::string> removed;   // calendar ids no longer held
  std::vector<std::string> upcoming;  // labels of versions held for later
  // `prune`'s: when it failed, the stored versions it would have dropped
  // stay until a later refresh prunes them.
  absl::Status pruned;

  // Whether everything the listing asked for was done. False when a store,
  // a forget or the prune failed (the database, not the listing): the
  // caller refreshes again soon instead of after its whole interval. An
  // invalid copy does not count: fetching it again soon would not mend it.
  bool Complete() const { return storage_failed.empty() && pruned.ok(); }
};

// One refresh: `fetch` every calendar the deadline service has in force
// (the whole list: a calendar missing from it was deleted there); each
// whose version differs from the one held is validated, `persist`ed, then
// installed — an invalid one is skipped and the others go on, one that
// could not be stored is retried on the next refresh. Copies with
// `takes_effect` replace the upcoming versions held; each not held yet is
// `persist`ed first, like a version in force (so a restart with the
// deadline service away still switches to it on time). Calendars held but
// no longer listed are `forget`-ten (every stored version) and dropped,
// except "vn" (the fallback: it stays as last held); one listed with only
// upcoming versions is dropped until the first takes over. A calendar whose
// version in force could not be installed (not stored, or invalid) keeps
// the upcoming versions held for it until it is. Then `prune` is given the
// list (without the calendars held back so) and the `clock`'s time before
// the fetch, to drop the stored versions the list no longer has
// (StoredNotListed). On a failed
// fetch nothing changes (the status is returned for logging).
struct CalendarRefresher {
  CalendarCache* cache = nullptr;
  // Without one, `prune` judges by version numbers only (listed_at is the
  // infinite past).
  const common::Clock* clock = nullptr;
  std::function<absl::StatusOr<std::vector<CalendarCopy>>()> fetch;
  std::function<absl::Status(const CalendarCopy&)> persist;
  std::function<absl::Status(const std::string& id)> forget;
  std::function<absl::Status(const std::vector<CalendarCopy>& listed,
                             absl::Time listed_at)>
      prune;

  absl::StatusOr<CalendarRefresh> RunOnce() const;
};

// The calendars a restart holds from the `stored` copies (each calendar's
// copy in force when stored, and the upcoming ones with `takes_effect`):
// per calendar the copy in force, and the upcoming versions that take over
// after it, in time order, as the deadline service would switch to them
// (InForce, Upcoming). An upcoming copy numbered at or below a version
// before it never takes over (one stored late by a replica that listed
// before a later version came out): left out, as are the copies that do
// not parse (in `invalid`; the others are held).
struct RestoredCalendars {
  CalendarSet::Map in_force;
  CalendarSet::Upcoming upcoming;
  std::vector<SkippedCopy> invalid;
};
RestoredCalendars RestoreCalendars(const std::vector<CalendarCopy>& stored);

// A stored copy, and when it was stored (after the fetch that listed it).
struct StoredCopy {
  CalendarCopy copy;
  absl::Time stored_at;
};

// Of the `stored` copies, the ones a deadline service listing `listed`
// (one refresh's fetch, begun at `listed_at`) no longer has, to drop: of
// a calendar it lists, an upcoming version it does not list (withdrawn,
// replaced by a later version, or superseded by the version now in
// force), and the copy in force when it lists none in force. The calendars
// it does not list are left (ForgetCalendar's). A listing can judge only
// the versions published before it was fetched; one from another replica
// may be older than the copies stored. So a version stays unless it was
// stored before `listed_at` (then it was published before too; by more
// than kReplicaClockSkew, since another replica may have stored it), or is
// numbered at most as high as a version listed of its calendar (the
// deadline service numbers them as it publishes them).
// How far apart two replicas' clocks may be for StoredNotListed to tell a
// version stored before a listing from one stored after it.
inline constexpr absl::Duration kReplicaClockSkew = absl::Minutes(1);
std::vector<StoredCopy> StoredNotListed(const std::vector<StoredCopy>& stored,
                                        const std::vector<CalendarCopy>& listed,
                                        absl::Time listed_at);

}  // namespace lienthong::intake
