#include "services/intake/calendar_cache.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/calendar/calendar_choice.h"
#include "libs/calendar/calendar_json.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace lienthong::intake {

int64_t VersionNumber(absl::string_view version) {
  const size_t at = version.rfind('@');
  int64_t n = -1;
  if (at == absl::string_view::npos ||
      !absl::SimpleAtoi(version.substr(at + 1), &n) || n < 0) {
    return -1;
  }
  return n;
}

const CalendarSnapshot& CalendarSet::For(absl::string_view agency_code) const {
  return For(agency_code, "");
}

const CalendarSnapshot& CalendarSet::For(
    absl::string_view agency_code, absl::string_view procedure_calendar) const {
  // Before any upcoming version's time: the versions in force when fetched.
  return For(agency_code, procedure_calendar, absl::InfinitePast());
}

const CalendarSnapshot& CalendarSet::For(absl::string_view agency_code,
                                         absl::string_view procedure_calendar,
                                         absl::Time now) const {
  const std::string id = calendar::ChooseCalendarId(
      calendar::CalendarIdOfName(procedure_calendar), agency_code,
      [&](absl::string_view c) { return At(c, now) != nullptr; });
  return *At(id, now);  // "vn" is always held
}

const CalendarSnapshot* CalendarSet::Find(absl::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

const CalendarSnapshot* CalendarSet::At(absl::string_view id,
                                        absl::Time now) const {
  const CalendarSnapshot* out = Find(id);
  if (auto it = upcoming_.find(id); it != upcoming_.end()) {
    for (const TimedSnapshot& t : it->second) {
      if (t.from > now) break;
      // A version numbered at or below the one held never takes over (the
      // deadline service's own is the highest effective one): held for
      // later before a later version came into force.
      if (out == nullptr ||
          VersionNumber(t.snapshot.version) > VersionNumber(out->version)) {
        out = &t.snapshot;
      }
    }
  }
  return out;
}

absl::StatusOr<CalendarSnapshot> ParseCalendarCopy(const CalendarCopy& copy) {
  LT_ASSIGN_OR_RETURN(calendar::CalendarData data,
                      calendar::ParseCalendarJson(copy.json));
  // Held under `copy.id`, a document of another calendar would time that
  // calendar's agencies by the wrong rules.
  if (data.id != copy.id) {
    return common::InvalidArgument(
        "CALENDAR_ID_MISMATCH",
        {{"calendar.id", absl::StrCat("the document is calendar ", data.id,
                                      ", not ", copy.id)}});
  }
  LT_ASSIGN_OR_RETURN(calendar::WorkingCalendar cal,
                      calendar::WorkingCalendar::Create(std::move(data)));
  return CalendarSnapshot{
      std::make_shared<const calendar::WorkingCalendar>(std::move(cal)),
      copy.version};
}

CalendarCache::CalendarCache(
    std::shared_ptr<const calendar::WorkingCalendar> national,
    std::string version) {
  CalendarSet::Map by_id;
  by_id[calendar::kNationalCalendarId] = {std::move(national),
                                          std::move(version)};
  current_ = std::make_shared<const CalendarSet>(std::move(by_id));
}

std::shared_ptr<const CalendarSet> CalendarCache::Calendars() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

CalendarSnapshot CalendarCache::Snapshot(absl::string_view agency_code) const {
  return Calendars()->For(agency_code);
}

absl::Status CalendarCache::Install(const CalendarCopy& copy) {
  LT_ASSIGN_OR_RETURN(CalendarSnapshot snapshot, ParseCalendarCopy(copy));
  Put(copy.id, std::move(snapshot));
  return absl::OkStatus();
}

void CalendarCache::Put(const std::string& id, CalendarSnapshot snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  CalendarSet::Map by_id = current_->by_id();
  by_id[id] = std::move(snapshot);
  current_ = std::make_shared<const CalendarSet>(std::move(by_id),
                                                 current_->upcoming());
}

void CalendarCache::SetUpcoming(CalendarSet::Upcoming upcoming) {
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::make_shared<const CalendarSet>(current_->by_id(),
                                                 std::move(upcoming));
}

bool CalendarCache::Remove(absl::string_view id) {
  if (id == calendar::kNationalCalendarId) return false;
  std::lock_guard<std::mutex> lock(mu_);
  if (current_->Find(id) == nullptr) return false;
  CalendarSet::Map by_id = current_->by_id();
  by_id.erase(by_id.find(id));
  current_ = std::make_shared<const CalendarSet>(std::move(by_id),
                                                 current_->upcoming());
  return true;
}

namespace {

// Per calendar, in time order, the versions that take over: walking
// forward in time, a version is in force from its effective time when it
// is numbered above every version effective before it (the highest
// effective one is in force, as the deadline service picks); of versions
// effective at the same instant, only the highest.
std::map<std::string, std::vector<const ListedCalendar*>> Takeovers(
    const std::vector<ListedCalendar>& listed) {
  std::map<std::string, std::vector<const ListedCalendar*>> by_id;
  for (const ListedCalendar& l : listed) by_id[l.id].push_back(&l);
  for (auto& [id, versions] : by_id) {
    std::sort(versions.begin(), versions.end(),
              [](const ListedCalendar* a, const ListedCalendar* b) {
                return std::make_pair(a->effective_from, a->version) <
                       std::make_pair(b->effective_from, b->version);
              });
    std::vector<const ListedCalendar*> taking_over;
    for (const ListedCalendar* l : versions) {
      if (!taking_over.empty() && l->version <= taking_over.back()->version) {
        continue;
      }
      if (!taking_over.empty() &&
          taking_over.back()->effective_from == l->effective_from) {
        taking_over.pop_back();  // superseded at the same instant
      }
      taking_over.push_back(l);
    }
    versions = std::move(taking_over);
  }
  return by_id;
}

CalendarCopy CopyOf(const ListedCalendar& l) {
  return {l.id, l.json, absl::StrCat(l.id, "@", l.version)};
}

}  // namespace

std::vector<CalendarCopy> InForce(const std::vector<ListedCalendar>& listed,
                                  absl::Time now) {
  std::vector<CalendarCopy> out;
  for (const auto& [id, versions] : Takeovers(listed)) {
    const ListedCalendar* in_force = nullptr;
    for (const ListedCalendar* l : versions) {
      if (l->effective_from > now) break;
      in_force = l;
    }
    if (in_force != nullptr) out.push_back(CopyOf(*in_force));
  }
  return out;
}

std::vector<CalendarCopy> Upcoming(const std::vector<ListedCalendar>& listed,
                                   absl::Time now) {
  std::vector<CalendarCopy> out;
  for (const auto& [id, versions] : Takeovers(listed)) {
    for (const ListedCalendar* l : versions) {
      if (l->effective_from <= now) continue;
      CalendarCopy c = CopyOf(*l);
      c.takes_effect = l->effective_from;
      out.push_back(std::move(c));
    }
  }
  return out;
}

namespace {

// Whether `held` holds `copy` (the same version) for later.
bool HoldsUpcoming(const CalendarSet& held, const CalendarCopy& copy) {
  auto it = held.upcoming().find(copy.id);
  if (it == held.upcoming().end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const TimedSnapshot& t) {
                       return t.snapshot.version == copy.version;
                     });
}

}  // namespace

absl::StatusOr<CalendarRefresh> CalendarRefresher::RunOnce() const {
  // Before the fetch: the list has every version published by then.
  const absl::Time listed_at =
      clock != nullptr ? clock->Now() : absl::InfinitePast();
  LT_ASSIGN_OR_RETURN(std::vector<CalendarCopy> fetched, fetch());
  const std::shared_ptr<const CalendarSet> held = cache->Calendars();
  CalendarRefresh out;
  std::vector<const CalendarCopy*> copies;
  CalendarSet::Upcoming upcoming;
  // Calendars listed at all, and those listed with a version in force.
  std::set<std::string, std::less<>> listed, in_force;
  for (const CalendarCopy& copy : fetched) {
    listed.insert(copy.id);
    if (!copy.takes_effect.has_value()) {
      in_force.insert(copy.id);
      copies.push_back(&copy);
      continue;
    }
    absl::StatusOr<CalendarSnapshot> parsed = ParseCalendarCopy(copy);
    if (!parsed.ok()) {
      out.invalid.push_back({copy.version, parsed.status()});
      continue;
    }
    // Stored before it is held, as a version in force is: one that could
    // not be stored is still new on the next refresh, which stores it then.
    // One held already was stored when first fetched (or is a stored one).
    if (persist && !HoldsUpcoming(*held, copy)) {
      if (absl::Status s = persist(copy); !s.ok()) {
        out.storage_failed.push_back({copy.version, s});
        continue;
      }
    }
    upcoming[copy.id].push_back({*copy.takes_effect, *std::move(parsed)});
    out.upcoming.push_back(copy.version);
  }
  // Calendars whose version in force could not be installed (not stored
  // yet, or invalid): the upcoming versions held for them are kept, so one
  // that came into force since the last refresh still times dossiers
  // meanwhile, not the older copy in force before it. Swapped in after the
  // installs, never leaving a moment with neither.
  std::set<std::string> not_installed;
  for (const CalendarCopy* copy : copies) {
    const CalendarSnapshot* current = held->Find(copy->id);
    if (current != nullptr && current->version == copy->version) continue;
    absl::StatusOr<CalendarSnapshot> parsed = ParseCalendarCopy(*copy);
    if (!parsed.ok()) {
      out.invalid.push_back({copy->version, parsed.status()});
      not_installed.insert(copy->id);
      continue;
    }
    // Stored before it is used: a copy that could not be stored is still
    // "new" on the next refresh, which stores it then.
    if (persist) {
      if (absl::Status s = persist(*copy); !s.ok()) {
        out.storage_failed.push_back({copy->version, s});
        not_installed.insert(copy->id);
        continue;
      }
    }
    cache->Put(copy->id, *std::move(parsed));
    out.installed.push_back(copy->version);
  }
  for (const std::string& id : not_installed) {
    auto kept = held->upcoming().find(id);
    if (kept == held->upcoming().end()) continue;
    std::vector<TimedSnapshot>& into = upcoming[id];
    for (const TimedSnapshot& t : kept->second) {
      if (std::none_of(into.begin(), into.end(), [&](const TimedSnapshot& u) {
            return u.snapshot.version == t.snapshot.version;
          })) {
        into.push_back(t);
      }
    }
    std::stable_sort(into.begin(), into.end(),
                     [](const TimedSnapshot& a, const TimedSnapshot& b) {
                       return a.from < b.from;
                     });
  }
  // Calendars held, in force or for later, that the deadline service no
  // longer lists were deleted there: every stored version is forgotten.
  // One that could not be forgotten stays held, to be forgotten next time.
  std::set<std::string> gone;
  for (const auto& [id, snapshot] : held->by_id()) gone.insert(id);
  for (const auto& [id, versions] : held->upcoming()) gone.insert(id);
  std::vector<std::string> dropped;
  for (const std::string& id : gone) {
    if (id == calendar::kNationalCalendarId || listed.count(id) > 0) continue;
    if (forget) {
      if (absl::Status s = forget(id); !s.ok()) {
        auto later = held->upcoming().find(id);
        if (later != held->upcoming().end()) upcoming[id] = later->second;
        const CalendarSnapshot* current = held->Find(id);
        out.storage_failed.push_back(
            {current != nullptr ? current->version
                                : later->second.front().snapshot.version,
             s});
        continue;
      }
    }
    dropped.push_back(id);
  }
  cache->SetUpcoming(std::move(upcoming));
  for (const std::string& id : dropped) {
    cache->Remove(id);
    out.removed.push_back(id);
  }
  // Listed with versions that take effect later only (those in force were
  // deleted there): the deadline service uses none meanwhile.
  for (const auto& [id, snapshot] : held->by_id()) {
    if (id == calendar::kNationalCalendarId || listed.count(id) == 0 ||
        in_force.count(id) > 0) {
      continue;
    }
    if (cache->Remove(id)) out.removed.push_back(id);
  }
  if (prune) {
    // Not the calendars held back above: the stored versions they still
    // time dossiers with (an upcoming one in force by now) would go as
    // superseded by a version in force that is not stored, and a restart
    // with the deadline service away would fall back to an older one.
    std::vector<CalendarCopy> judged;
    for (const CalendarCopy& c : fetched) {
      if (not_installed.count(c.id) == 0) judged.push_back(c);
    }
    out.pruned = prune(judged, listed_at);
  }
  return out;
}

RestoredCalendars RestoreCalendars(const std::vector<CalendarCopy>& stored) {
  // The stored copies as a listing: each copy in force from the infinite
  // past, each upcoming one from its time; Takeovers keeps those that
  // take over.
  std::vector<ListedCalendar> rows;
  rows.reserve(stored.size());
  for (const CalendarCopy& c : stored) {
    rows.push_back({c.id, VersionNumber(c.version),
                    c.takes_effect.value_or(absl::InfinitePast()), ""});
  }
  RestoredCalendars out;
  for (const auto& [id, versions] : Takeovers(rows)) {
    for (const ListedCalendar* l : versions) {
      const CalendarCopy& copy = stored[l - rows.data()];
      absl::StatusOr<CalendarSnapshot> parsed = ParseCalendarCopy(copy);
      if (!parsed.ok()) {
        out.invalid.push_back({copy.version, parsed.status()});
        continue;
      }
      if (copy.takes_effect.has_value()) {
        out.upcoming[id].push_back({*copy.takes_effect, *std::move(parsed)});
      } else {
        out.in_force[id] = *std::move(parsed);
      }
    }
  }
  return out;
}

std::vector<StoredCopy> StoredNotListed(const std::vector<StoredCopy>& stored,
                                        const std::vector<CalendarCopy>& listed,
                                        absl::Time listed_at) {
  struct Listing {
    std::set<std::string> versions;
    int64_t highest = -1;
    bool in_force = false;
  };
  std::map<std::string, Listing, std::less<>> by_id;
  for (const CalendarCopy& c : listed) {
    Listing& l = by_id[c.id];
    l.versions.insert(c.version);
    l.highest = std::max(l.highest, VersionNumber(c.version));
    l.in_force = l.in_force || !c.takes_effect.has_value();
  }
  std::vector<StoredCopy> out;
  for (const StoredCopy& s : stored) {
    const CalendarCopy& c = s.copy;
    auto it = by_id.find(c.id);
    if (it == by_id.end()) continue;
    const Listing& l = it->second;
    if (l.versions.count(c.version) > 0) continue;
    // Published after this listing was fetched, maybe: a later one judges.
    // The two times come from different replicas' clocks, so a version
    // stored within kReplicaClockSkew before the listing counts as after.
    if (s.stored_at >= listed_at - kReplicaClockSkew &&
        VersionNumber(c.version) > l.highest) {
      continue;
    }
    // The copy in force goes only with nothing in force to replace it.
    if (!c.takes_effect.has_value() && l.in_force) continue;
    out.push_back(s);
  }
  return out;
}

}  // namespace lienthong::intake
