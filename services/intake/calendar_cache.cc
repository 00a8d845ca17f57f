#include "services/intake/calendar_cache.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/calendar/calendar_choice.h"
#include "libs/calendar/calendar_json.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace lienthong::intake {

const CalendarSnapshot& CalendarSet::For(absl::string_view agency_code) const {
  return For(agency_code, "");
}

const CalendarSnapshot& CalendarSet::For(
    absl::string_view agency_code, absl::string_view procedure_calendar) const {
  const std::string id = calendar::ChooseCalendarId(
      calendar::CalendarIdOfName(procedure_calendar), agency_code,
      [this](absl::string_view c) { return Find(c) != nullptr; });
  return by_id_.find(id)->second;  // "vn" is always held
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
      out = &t.snapshot;
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

std::vector<CalendarCopy> InForce(const std::vector<ListedCalendar>& listed,
                                  absl::Time now) {
  std::map<std::string, const ListedCalendar*> best;
  for (const ListedCalendar& l : listed) {
    if (l.effective_from > now) continue;
    const ListedCalendar*& b = best[l.id];
    if (b == nullptr || l.version > b->version) b = &l;
  }
  std::vector<CalendarCopy> out;
  out.reserve(best.size());
  for (const auto& [id, l] : best) {
    out.push_back({id, l->json, absl::StrCat(id, "@", l->version)});
  }
  return out;
}

std::vector<CalendarCopy> Upcoming(const std::vector<ListedCalendar>& listed,
                                   absl::Time now) {
  std::map<std::string, std::vector<const ListedCalendar*>> by_id;
  for (const ListedCalendar& l : listed) by_id[l.id].push_back(&l);
  std::vector<CalendarCopy> out;
  for (auto& [id, versions] : by_id) {
    std::sort(versions.begin(), versions.end(),
              [](const ListedCalendar* a, const ListedCalendar* b) {
                return std::make_pair(a->effective_from, a->version) <
                       std::make_pair(b->effective_from, b->version);
              });
    // Walking forward in time, a version takes over when it is numbered
    // above every version effective before it (the highest effective one
    // is in force).
    int64_t highest = -1;
    for (size_t i = 0; i < versions.size(); ++i) {
      const ListedCalendar& l = *versions[i];
      if (l.version <= highest) continue;
      highest = l.version;
      const bool superseded_at_once =
          i + 1 < versions.size() &&
          versions[i + 1]->effective_from == l.effective_from;
      if (l.effective_from <= now || superseded_at_once) continue;
      out.push_back(
          {id, l.json, absl::StrCat(id, "@", l.version), l.effective_from});
    }
  }
  return out;
}

absl::StatusOr<CalendarRefresh> CalendarRefresher::RunOnce() const {
  LT_ASSIGN_OR_RETURN(std::vector<CalendarCopy> fetched, fetch());
  const std::shared_ptr<const CalendarSet> held = cache->Calendars();
  CalendarRefresh out;
  std::vector<CalendarCopy> copies;
  CalendarSet::Upcoming upcoming;
  for (CalendarCopy& copy : fetched) {
    if (!copy.takes_effect.has_value()) {
      copies.push_back(std::move(copy));
      continue;
    }
    absl::StatusOr<CalendarSnapshot> parsed = ParseCalendarCopy(copy);
    if (!parsed.ok()) {
      out.invalid.push_back({copy.version, parsed.status()});
      continue;
    }
    upcoming[copy.id].push_back({*copy.takes_effect, *std::move(parsed)});
    out.upcoming.push_back(copy.version);
  }
  // The upcoming versions held until now that these copies do not hold
  // in force (one not stored yet): kept, so a version that came into force
  // since the last refresh still times dossiers meanwhile. Swapped in after
  // the installs, never leaving a moment with neither.
  std::set<std::string> not_installed;
  std::set<std::string, std::less<>> listed;
  for (const CalendarCopy& copy : copies) {
    listed.insert(copy.id);
    const CalendarSnapshot* current = held->Find(copy.id);
    if (current != nullptr && current->version == copy.version) continue;
    absl::StatusOr<CalendarSnapshot> parsed = ParseCalendarCopy(copy);
    if (!parsed.ok()) {
      out.invalid.push_back({copy.version, parsed.status()});
      continue;
    }
    // Stored before it is used: a copy that could not be stored is still
    // "new" on the next refresh, which stores it then.
    if (persist) {
      if (absl::Status s = persist(copy); !s.ok()) {
        out.storage_failed.push_back({copy.version, s});
        not_installed.insert(copy.version);
        continue;
      }
    }
    cache->Put(copy.id, *std::move(parsed));
    out.installed.push_back(copy.version);
  }
  for (const auto& [id, versions] : held->upcoming()) {
    for (const TimedSnapshot& t : versions) {
      if (not_installed.count(t.snapshot.version) > 0) {
        std::vector<TimedSnapshot>& into = upcoming[id];
        into.insert(into.begin(), t);  // in force already: before the rest
      }
    }
  }
  cache->SetUpcoming(std::move(upcoming));
  for (const auto& [id, snapshot] : held->by_id()) {
    if (id == calendar::kNationalCalendarId || listed.count(id) > 0) continue;
    if (forget) {
      if (absl::Status s = forget(id); !s.ok()) {
        out.storage_failed.push_back({snapshot.version, s});
        continue;
      }
    }
    if (cache->Remove(id)) out.removed.push_back(id);
  }
  return out;
}

}  // namespace lienthong::intake
