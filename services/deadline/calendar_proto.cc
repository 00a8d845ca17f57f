// Calendar resource <-> the CalendarData JSON libs/calendar reads.

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/calendar/calendar_json.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpc_util/proto_time.h"
#include "services/deadline/deadline_server.h"

namespace lienthong::deadline {
namespace {

void WeeklyToProto(const calendar::WeeklyHours& hours,
                   google::protobuf::RepeatedPtrField<v1::WeekdayHours>* out) {
  for (int d = 0; d < 7; ++d) {
    if (hours[d].empty()) continue;
    v1::WeekdayHours* w = out->Add();
    w->set_weekday(d + 1);
    for (const calendar::Segment& s : hours[d]) {
      w->add_segments(calendar::FormatSegment(s));
    }
  }
}

void WeeklyFromProto(
    const google::protobuf::RepeatedPtrField<v1::WeekdayHours>& in,
    const std::string& field, calendar::WeeklyHours* out,
    std::vector<common::FieldViolation>* v) {
  for (int i = 0; i < in.size(); ++i) {
    const v1::WeekdayHours& w = in[i];
    const std::string f = absl::StrCat(field, "[", i, "]");
    if (w.weekday() < 1 || w.weekday() > 7) {
      v->push_back({f + ".weekday", "must be 1 (Monday) to 7 (Sunday)"});
      continue;
    }
    for (int j = 0; j < w.segments_size(); ++j) {
      calendar::Segment s;
      if (!calendar::ParseSegment(w.segments(j), &s).ok()) {
        v->push_back(
            {absl::StrCat(f, ".segments[", j, "]"), "must be HH:MM-HH:MM"});
        continue;
      }
      (*out)[w.weekday() - 1].push_back(s);
    }
  }
}

}  // namespace

absl::Status CalendarToProto(const CalendarVersion& v, v1::Calendar* out) {
  LT_ASSIGN_OR_RETURN(calendar::CalendarData d,
                      calendar::ParseCalendarJson(v.json));
  out->set_name(absl::StrCat("calendars/", v.calendar_id));
  out->set_version(static_cast<int32_t>(v.version));
  grpc_util::ToProto(v.effective_from, out->mutable_effective_time());
  out->set_time_zone(d.time_zone);
  WeeklyToProto(d.office_hours, out->mutable_office_hours());
  WeeklyToProto(d.reception_hours, out->mutable_reception_hours());
  for (const calendar::Holiday& h : d.holidays) {
    v1::Holiday* p = out->add_holidays();
    p->set_first_day(calendar::FormatDay(h.first));
    p->set_last_day(calendar::FormatDay(h.last));
    p->set_display_name(h.name);
    p->set_note(h.note);
  }
  for (const calendar::MakeUpDay& m : d.make_up_days) {
    v1::MakeUpDay* p = out->add_make_up_days();
    p->set_day(calendar::FormatDay(m.day));
    p->set_display_name(m.name);
    p->set_note(m.note);
  }
  if (d.default_cutoff_minute.has_value()) {
    out->set_default_cutoff_local_time(
        calendar::FormatMinuteOfDay(*d.default_cutoff_minute));
  }
  out->set_json(v.json);
  return absl::OkStatus();
}

absl::StatusOr<std::string> CalendarJsonFromProto(const v1::Calendar& c,
                                                  const std::string& id) {
  if (!c.json().empty()) return c.json();
  std::vector<common::FieldViolation> v;
  calendar::CalendarData d;
  d.id = id;
  d.name = id;
  d.time_zone = c.time_zone().empty() ? "Asia/Ho_Chi_Minh" : c.time_zone();
  WeeklyFromProto(c.office_hours(), "calendar.office_hours", &d.office_hours,
                  &v);
  WeeklyFromProto(c.reception_hours(), "calendar.reception_hours",
                  &d.reception_hours, &v);
  if (!c.default_cutoff_local_time().empty()) {
    int minute = 0;
    if (!calendar::ParseMinuteOfDay(c.default_cutoff_local_time(), &minute)
             .ok() ||
        minute >= calendar::kMinutesPerDay) {
      v.push_back({"calendar.default_cutoff_local_time",
                   "must be HH:MM, 00:00 to 23:59"});
    } else {
      d.default_cutoff_minute = minute;
    }
  }
  for (int i = 0; i < c.holidays_size(); ++i) {
    const v1::Holiday& h = c.holidays(i);
    calendar::Holiday hol;
    const std::string f = absl::StrCat("calendar.holidays[", i, "]");
    if (!calendar::ParseDay(h.first_day(), &hol.first)) {
      v.push_back({f + ".first_day", "must be YYYY-MM-DD"});
    }
    if (h.last_day().empty()) {
      hol.last = hol.first;
    } else if (!calendar::ParseDay(h.last_day(), &hol.last)) {
      v.push_back({f + ".last_day", "must be YYYY-MM-DD"});
    }
    hol.name = h.display_name();
    hol.note = h.note();
    d.holidays.push_back(std::move(hol));
  }
  // A make-up day works the hours of a normal Monday.
  const std::vector<calendar::Segment> make_up_hours =
      d.office_hours[0].empty() ? calendar::StandardOfficeHours()[0]
                                : d.office_hours[0];
  for (int i = 0; i < c.make_up_days_size(); ++i) {
    calendar::MakeUpDay m;
    if (!calendar::ParseDay(c.make_up_days(i).day(), &m.day)) {
      v.push_back({absl::StrCat("calendar.make_up_days[", i, "].day"),
                   "must be YYYY-MM-DD"});
    }
    m.name = c.make_up_days(i).display_name().empty()
                 ? "Ngày làm bù"
                 : c.make_up_days(i).display_name();
    m.note = c.make_up_days(i).note();
    m.hours = make_up_hours;
    d.make_up_days.push_back(std::move(m));
  }
  if (!v.empty()) {
    return common::InvalidArgument("CALENDAR_INVALID", std::move(v),
                                   "calendar data is invalid");
  }
  LT_RETURN_IF_ERROR(calendar::Validate(d));
  return calendar::ToJson(d);
}

}  // namespace lienthong::deadline
