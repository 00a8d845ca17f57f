#include "libs/calendar/calendar_json.h"

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "nlohmann/json.hpp"

namespace lienthong::calendar {
namespace {

using common::FieldViolation;
using nlohmann::json;

class Reader {
 public:
  std::vector<FieldViolation>& violations() { return v_; }

  void Fail(std::string field, std::string what) {
    v_.push_back({std::move(field), std::move(what)});
  }

  void OnlyKeys(const json& obj, const std::string& field,
                const std::set<std::string>& allowed) {
    for (const auto& [k, unused] : obj.items()) {
      if (allowed.count(k) == 0) {
        Fail(field.empty() ? k : absl::StrCat(field, ".", k), "unknown key");
      }
    }
  }

  std::string String(const json& obj, const char* key, const std::string& field,
                     bool required) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (required) Fail(field, "required");
      return "";
    }
    if (!it->is_string()) {
      Fail(field, "must be a string");
      return "";
    }
    return it->get<std::string>();
  }

  bool Bool(const json& obj, const char* key, const std::string& field) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return false;
    if (!it->is_boolean()) {
      Fail(field, "must be true or false");
      return false;
    }
    return it->get<bool>();
  }

  absl::CivilDay Day(const json& obj, const char* key,
                     const std::string& field) {
    const std::string text = String(obj, key, field, /*required=*/true);
    absl::CivilDay d;
    if (!text.empty() && !ParseDay(text, &d)) {
      Fail(field, "must be a date YYYY-MM-DD");
    }
    return d;
  }

  std::vector<Segment> Segments(const json& arr, const std::string& field) {
    std::vector<Segment> out;
    if (!arr.is_array()) {
      Fail(field, "must be a list of \"HH:MM-HH:MM\"");
      return out;
    }
    for (size_t i = 0; i < arr.size(); ++i) {
      Segment s;
      if (!arr[i].is_string() ||
          !ParseSegment(arr[i].get<std::string>(), &s).ok()) {
        Fail(absl::StrCat(field, "[", i, "]"), "must be \"HH:MM-HH:MM\"");
        continue;
      }
      out.push_back(s);
    }
    return out;
  }

  void Weekly(const json& obj, const char* key, WeeklyHours* out) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return;
    if (!it->is_object()) {
      Fail(key, "must be an object keyed by weekday");
      return;
    }
    std::set<std::string> days;
    for (int d = 0; d < 7; ++d) {
      days.insert(WeekdayKey(d));
      auto day = it->find(WeekdayKey(d));
      if (day == it->end()) continue;
      (*out)[d] = Segments(*day, absl::StrCat(key, ".", WeekdayKey(d)));
    }
    OnlyKeys(*it, key, days);
  }

 private:
  std::vector<FieldViolation> v_;
};

// Finds keys repeated within one object while nlohmann parses (it keeps
// only the last, so `"holidays": […], "holidays": []` would silently drop
// the first list). Tracks where the parser is, to name the key as Reader
// names fields: "holidays", "office_hours.monday", "holidays[0].name".
class DuplicateKeys {
 public:
  bool See(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        StartValue();
        frames_.push_back(Frame{/*object=*/true});
        break;
      case json::parse_event_t::array_start:
        StartValue();
        frames_.push_back(Frame{/*object=*/false});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case json::parse_event_t::key:
        if (!frames_.empty() && frames_.back().object && parsed.is_string()) {
          Frame& f = frames_.back();
          f.key = parsed.get<std::string>();
          if (!f.keys.insert(f.key).second) {
            found_.push_back({Path(), "duplicate key"});
          }
        }
        break;
      case json::parse_event_t::value:
        StartValue();
        break;
    }
    return true;  // keep everything: Parse reads the document as usual
  }

  const std::vector<FieldViolation>& found() const { return found_; }

 private:
  struct Frame {
    bool object = false;
    std::set<std::string> keys;  // object: the keys seen so far
    std::string key;             // object: the member being read
    int64_t index = -1;          // array: the element being read
  };

  // A value begins: in an array, it is the next element.
  void StartValue() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
  }

  std::string Path() const {
    std::string path;
    for (const Frame& f : frames_) {
      if (f.object) {
        absl::StrAppend(&path, path.empty() ? "" : ".", f.key);
      } else {
        absl::StrAppend(&path, "[", f.index, "]");
      }
    }
    return path;
  }

  std::vector<Frame> frames_;
  std::vector<FieldViolation> found_;
};

json SegmentsJson(const std::vector<Segment>& segments) {
  json arr = json::array();
  for (const Segment& s : segments) arr.push_back(FormatSegment(s));
  return arr;
}

json WeeklyJson(const WeeklyHours& hours) {
  json obj = json::object();
  for (int d = 0; d < 7; ++d) {
    if (!hours[d].empty()) obj[WeekdayKey(d)] = SegmentsJson(hours[d]);
  }
  return obj;
}

absl::StatusOr<CalendarData> Parse(const json& root) {
  Reader r;
  CalendarData data;
  if (!root.is_object()) {
    return common::InvalidArgument("CALENDAR_INVALID",
                                   {{"", "calendar must be a JSON object"}},
                                   "calendar data is invalid");
  }
  r.OnlyKeys(
      root, "",
      {"id", "name", "time_zone", "source", "office_hours", "reception_hours",
       "holidays", "make_up_days", "default_cutoff_local_time"});
  data.id = r.String(root, "id", "id", /*required=*/true);
  data.name = r.String(root, "name", "name", false);
  data.time_zone = r.String(root, "time_zone", "time_zone", true);
  data.source = r.String(root, "source", "source", false);
  r.Weekly(root, "office_hours", &data.office_hours);
  r.Weekly(root, "reception_hours", &data.reception_hours);
  if (const std::string cutoff =
          r.String(root, "default_cutoff_local_time",
                   "default_cutoff_local_time", /*required=*/false);
      !cutoff.empty()) {
    int minute = 0;
    // 24:00 parses as a time of day but is no cut-off: Validate refuses it.
    if (ParseMinuteOfDay(cutoff, &minute).ok()) {
      data.default_cutoff_minute = minute;
    } else {
      r.Fail("default_cutoff_local_time", "must be HH:MM, 00:00 to 23:59");
    }
  }

  if (auto it = root.find("holidays"); it != root.end() && !it->is_null()) {
    if (!it->is_array()) r.Fail("holidays", "must be a list");
    for (size_t i = 0; it->is_array() && i < it->size(); ++i) {
      const json& h = (*it)[i];
      const std::string f = absl::StrCat("holidays[", i, "]");
      if (!h.is_object()) {
        r.Fail(f, "must be an object");
        continue;
      }
      r.OnlyKeys(h, f, {"name", "from", "to", "note", "tentative"});
      Holiday hol;
      hol.name = r.String(h, "name", f + ".name", true);
      hol.first = r.Day(h, "from", f + ".from");
      hol.last = h.contains("to") ? r.Day(h, "to", f + ".to") : hol.first;
      hol.note = r.String(h, "note", f + ".note", false);
      hol.tentative = r.Bool(h, "tentative", f + ".tentative");
      data.holidays.push_back(std::move(hol));
    }
  }
  if (auto it = root.find("make_up_days"); it != root.end() && !it->is_null()) {
    if (!it->is_array()) r.Fail("make_up_days", "must be a list");
    for (size_t i = 0; it->is_array() && i < it->size(); ++i) {
      const json& m = (*it)[i];
      const std::string f = absl::StrCat("make_up_days[", i, "]");
      if (!m.is_object()) {
        r.Fail(f, "must be an object");
        continue;
      }
      r.OnlyKeys(m, f, {"date", "name", "hours", "note", "tentative"});
      MakeUpDay day;
      day.day = r.Day(m, "date", f + ".date");
      day.name = r.String(m, "name", f + ".name", true);
      day.note = r.String(m, "note", f + ".note", false);
      day.tentative = r.Bool(m, "tentative", f + ".tentative");
      if (auto hours = m.find("hours"); hours != m.end()) {
        day.hours = r.Segments(*hours, f + ".hours");
      } else {
        r.Fail(f + ".hours", "required");
      }
      data.make_up_days.push_back(std::move(day));
    }
  }
  if (!r.violations().empty()) {
    return common::InvalidArgument("CALENDAR_INVALID",
                                   std::move(r.violations()),
                                   "calendar data is invalid");
  }
  LT_RETURN_IF_ERROR(Validate(data));
  return data;
}

}  // namespace

bool ParseDay(absl::string_view text, absl::CivilDay* day) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  int y = 0, m = 0, d = 0;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  y = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 +
      (text[3] - '0');
  m = (text[5] - '0') * 10 + (text[6] - '0');
  d = (text[8] - '0') * 10 + (text[9] - '0');
  const absl::CivilDay parsed(y, m, d);
  // CivilDay normalises 2026-02-30 to March; reject instead.
  if (parsed.year() != y || parsed.month() != m || parsed.day() != d) {
    return false;
  }
  *day = parsed;
  return true;
}

std::string FormatDay(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

absl::StatusOr<CalendarData> ParseCalendarJson(absl::string_view text) {
  // Parse without exceptions; the accessors in Reader check types first, and
  // the catch is a last guard so nothing is ever thrown across our API.
  try {
    DuplicateKeys duplicates;
    const json root = json::parse(
        text.begin(), text.end(),
        [&duplicates](int, json::parse_event_t event, json& parsed) {
          return duplicates.See(event, parsed);
        },
        /*allow_exceptions=*/false);
    if (root.is_discarded()) {
      return common::InvalidArgument("CALENDAR_INVALID",
                                     {{"", "not valid JSON"}},
                                     "calendar data is not valid JSON");
    }
    if (!duplicates.found().empty()) {
      return common::InvalidArgument("CALENDAR_INVALID", duplicates.found(),
                                     "calendar data is invalid");
    }
    return Parse(root);
  } catch (const std::exception&) {
    return common::InvalidArgument("CALENDAR_INVALID",
                                   {{"", "not a valid calendar document"}},
                                   "calendar data is invalid");
  }
}

std::string ToJson(const CalendarData& data) {
  json root = json::object();
  root["id"] = data.id;
  if (!data.name.empty()) root["name"] = data.name;
  root["time_zone"] = data.time_zone;
  if (!data.source.empty()) root["source"] = data.source;
  root["office_hours"] = WeeklyJson(data.office_hours);
  root["reception_hours"] = WeeklyJson(data.reception_hours);
  json holidays = json::array();
  for (const Holiday& h : data.holidays) {
    json j = {{"name", h.name},
              {"from", FormatDay(h.first)},
              {"to", FormatDay(h.last)}};
    if (!h.note.empty()) j["note"] = h.note;
    if (h.tentative) j["tentative"] = true;
    holidays.push_back(std::move(j));
  }
  root["holidays"] = std::move(holidays);
  json make_up = json::array();
  for (const MakeUpDay& m : data.make_up_days) {
    json j = {{"date", FormatDay(m.day)},
              {"name", m.name},
              {"hours", SegmentsJson(m.hours)}};
    if (!m.note.empty()) j["note"] = m.note;
    if (m.tentative) j["tentative"] = true;
    make_up.push_back(std::move(j));
  }
  root["make_up_days"] = std::move(make_up);
  // Only when set: a release that does not know the key (intake's copies
  // during a rollout) still reads every calendar that has none.
  if (data.default_cutoff_minute.has_value()) {
    root["default_cutoff_local_time"] =
        FormatMinuteOfDay(*data.default_cutoff_minute);
  }
  // Invalid UTF-8 cannot get here through Validate; replace rather than
  // throw if a caller skipped it.
  return root.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace lienthong::calendar
