#include "services/deadline/deadline_events.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "libs/calendar/calendar_data.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "lienthong/deadline/v1/events.pb.h"
#include "lienthong/intake/v1/events.pb.h"
#include "lienthong/routing/v1/events.pb.h"

namespace lienthong::deadline {
namespace {

using google::protobuf::Timestamp;
using google::protobuf::util::TimeUtil;

absl::Time FromTs(const Timestamp& t) {
  // Microseconds: what PostgreSQL keeps. Not seconds * 1000000, which
  // overflows for an absurd (unvalidated) timestamp; absl saturates, and
  // the calendar refuses the result (outside years 0001-9999).
  return absl::FromUnixSeconds(t.seconds()) +
         absl::Microseconds(t.nanos() / 1000);
}
void ToTs(absl::Time t, Timestamp* out) {
  const int64_t us = absl::ToUnixMicros(t);
  *out = TimeUtil::MicrosecondsToTimestamp(us);
}

Tier TierOf(common::v1::Tier t) {
  switch (t) {
    case common::v1::TIER_PROVINCE:
      return Tier::kProvince;
    case common::v1::TIER_DISTRICT:
      return Tier::kDistrict;
    case common::v1::TIER_COMMUNE:
      return Tier::kCommune;
    default:
      return Tier::kUnspecified;
  }
}

absl::Status Bad(absl::string_view field, absl::string_view what) {
  return common::InvalidArgument("INVALID_EVENT",
                                 {{std::string(field), std::string(what)}});
}

absl::StatusOr<absl::optional<int>> Cutoff(const std::string& text) {
  if (text.empty()) return absl::optional<int>();
  int minute = 0;
  if (!calendar::ParseMinuteOfDay(text, &minute).ok()) {
    return Bad("procedure.cutoff_local_time", "must be HH:MM");
  }
  return absl::optional<int>(minute);
}

template <typename T>
absl::StatusOr<T> Unpack(const common::v1::Event& e) {
  T msg;
  if (!e.payload().UnpackTo(&msg)) return Bad("payload", "cannot be decoded");
  return msg;
}

InboundEvent Base(const common::v1::Event& e, InboundKind kind,
                  const std::string& dossier, const Timestamp& at) {
  InboundEvent in;
  in.event_id = e.event_id();
  in.kind = kind;
  in.dossier_code = StripCollection(dossier, "dossiers");
  in.occurred_at = at.seconds() != 0 || at.nanos() != 0
                       ? FromTs(at)
                       : FromTs(e.occur_time());
  return in;
}

}  // namespace

std::string StripCollection(const std::string& name,
                            absl::string_view collection) {
  const std::string prefix = absl::StrCat(collection, "/");
  if (absl::StartsWith(name, prefix)) return name.substr(prefix.size());
  return name;
}

absl::StatusOr<absl::Duration> FromProto(const common::v1::WorkingDuration& d) {
  if (d.amount() <= 0) return Bad("duration.amount", "must be positive");
  absl::Duration out;
  switch (d.unit()) {
    case common::v1::WORKING_DURATION_UNIT_DAYS:
      out = calendar::kWorkingDay * d.amount();
      break;
    case common::v1::WORKING_DURATION_UNIT_HOURS:
      out = absl::Hours(d.amount());
      break;
    default:
      return Bad("duration.unit", "must be DAYS or HOURS");
  }
  // As a clock's limit may be (DeadlineRules::Start): a longer one is a
  // mistake, and walking it would cost years of calendar days.
  if (out > calendar::kWorkingDay * 365) {
    return Bad("duration.amount", "at most 365 working days");
  }
  return out;
}

common::v1::WorkingDuration ToProtoDuration(absl::Duration working_time) {
  common::v1::WorkingDuration d;
  if (working_time % calendar::kWorkingDay == absl::ZeroDuration()) {
    d.set_unit(common::v1::WORKING_DURATION_UNIT_DAYS);
    d.set_amount(static_cast<int32_t>(working_time / calendar::kWorkingDay));
  } else {
    d.set_unit(common::v1::WORKING_DURATION_UNIT_HOURS);
    d.set_amount(static_cast<int32_t>(absl::ToInt64Hours(working_time)));
  }
  return d;
}

std::string NewEventId() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  uint64_t hi, lo;
  {
    absl::MutexLock lock(&mu);
    hi = absl::Uniform<uint64_t>(*gen);
    lo = absl::Uniform<uint64_t>(*gen);
  }
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32,
                         (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                         lo & 0xffffffffffffULL);
}

std::string ClockResourceName(const Clock& c) {
  if (c.kind == ClockKind::kLeg) {
    return absl::StrCat("clocks/", c.dossier_code, "/tasks/", c.leg_id);
  }
  return absl::StrCat("clocks/", c.dossier_code);
}

absl::StatusOr<std::string> ClockStoreName(const std::string& name) {
  std::string rest;
  if (absl::StartsWith(name, "clocks/")) {
    rest = name.substr(7);
  } else if (absl::StartsWith(name, "dossiers/")) {
    rest = name.substr(9);
  } else {
    return common::InvalidArgument(
        "INVALID_NAME", {{"name", "must be clocks/{id} or dossiers/{code}"}});
  }
  std::vector<std::string> parts = absl::StrSplit(rest, '/');
  if (parts.size() == 1 && !parts[0].empty()) {
    return DossierClockName(parts[0]);
  }
  if (parts.size() == 3 && parts[1] == "tasks" && !parts[0].empty() &&
      !parts[2].empty()) {
    return LegClockName(parts[0], parts[2]);
  }
  return common::InvalidArgument(
      "INVALID_NAME", {{"name", "must be clocks/{code}[/tasks/{task}]"}});
}

void ClockToProto(const Clock& c, absl::Duration remaining, v1::Clock* out) {
  out->set_name(ClockResourceName(c));
  out->set_kind(c.kind == ClockKind::kLeg ? v1::CLOCK_KIND_LEG
                                          : v1::CLOCK_KIND_DOSSIER);
  out->set_dossier(absl::StrCat("dossiers/", c.dossier_code));
  if (c.kind == ClockKind::kLeg) {
    out->set_task(absl::StrCat("tasks/", c.leg_id));
  }
  out->set_agency(absl::StrCat("agencies/", c.agency.code));
  out->set_procedure(absl::StrCat("procedures/", c.procedure_code));
  switch (c.state) {
    case ClockState::kPaused:
      out->set_state(v1::CLOCK_STATE_PAUSED);
      break;
    case ClockState::kStopped:
      out->set_state(v1::CLOCK_STATE_DONE);
      break;
    case ClockState::kRunning:
      out->set_state(c.urgency() == Urgency::kOverdue ? v1::CLOCK_STATE_OVERDUE
                     : c.urgency() == Urgency::kDueSoon
                         ? v1::CLOCK_STATE_DUE_SOON
                         : v1::CLOCK_STATE_ON_TRACK);
      break;
  }
  ToTs(c.counting_starts, out->mutable_start_time());
  ToTs(c.due_at, out->mutable_due_time());
  *out->mutable_legal_time() = ToProtoDuration(c.limit);
  if (c.state == ClockState::kStopped) {
    ToTs(c.stopped_at, out->mutable_finish_time());
    switch (c.outcome) {
      case Outcome::kEarly:
        out->set_timeliness(common::v1::TIMELINESS_EARLY);
        break;
      case Outcome::kOnTime:
        out->set_timeliness(common::v1::TIMELINESS_ON_TIME);
        break;
      case Outcome::kLate:
        out->set_timeliness(common::v1::TIMELINESS_LATE);
        break;
      case Outcome::kNone:
        break;
    }
  }
  out->set_remaining_working_seconds(absl::ToInt64Seconds(remaining));
  // As ComputeDueTime names it; a clock stored before versions were
  // recorded names its calendar only.
  out->set_calendar_version(c.calendar_version > 0
                                ? absl::StrCat("calendars/", c.calendar_id,
                                               "/versions/", c.calendar_version)
                                : absl::StrCat("calendars/", c.calendar_id));
}

void MovedToProto(const MovedAppointment& m, v1::MovedAppointment* out) {
  const bool leg = absl::StrContains(m.clock_name, "/legs/");
  std::string name = m.clock_name;
  if (absl::StartsWith(name, "dossiers/")) name = name.substr(9);
  if (leg) name = absl::StrReplaceAll(name, {{"/legs/", "/tasks/"}});
  out->set_clock(absl::StrCat("clocks/", name));
  out->set_dossier(absl::StrCat("dossiers/", m.dossier_code));
  ToTs(m.old_due, out->mutable_old_due_time());
  ToTs(m.new_due, out->mutable_new_due_time());
  out->set_kind(m.kind == ClockKind::kLeg ? v1::CLOCK_KIND_LEG
                                          : v1::CLOCK_KIND_DOSSIER);
}

absl::StatusOr<absl::optional<InboundEvent>> DecodeEvent(
    const common::v1::Event& e) {
  if (e.event_id().empty()) return Bad("event_id", "required");
  const std::string type =
      e.payload().type_url().substr(e.payload().type_url().rfind('/') + 1);
  using absl::optional;
  if (type == "lienthong.intake.v1.DossierReceived") {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<intake::v1::DossierReceived>(e));
    InboundEvent in =
        Base(e, InboundKind::kDossierReceived, m.dossier(), m.receive_time());
    in.agency.code = m.receiving_agency().code();
    in.agency.tier = TierOf(m.receiving_agency().tier());
    in.agency.ancestors.assign(m.agency_ancestor_codes().begin(),
                               m.agency_ancestor_codes().end());
    if (in.agency.ancestors.empty()) {
      in.agency.ancestors.assign(m.receiving_agency().ancestor_codes().begin(),
                                 m.receiving_agency().ancestor_codes().end());
    }
    in.procedure_code = m.procedure().code();
    LT_ASSIGN_OR_RETURN(in.limit, FromProto(m.procedure().legal_time()));
    LT_ASSIGN_OR_RETURN(in.cutoff_minute,
                        Cutoff(m.procedure().cutoff_local_time()));
    in.supplement_policy = m.procedure().clock_on_supplement() ==
                                   intake::v1::CLOCK_ON_SUPPLEMENT_RESUME
                               ? SupplementPolicy::kResume
                               : SupplementPolicy::kRestart;
    in.calendar_id = StripCollection(m.procedure().calendar(), "calendars");
    if (m.has_appointment_time()) {
      in.receipt_appointment = FromTs(m.appointment_time());
    }
    if (in.agency.code.empty()) return Bad("receiving_agency", "required");
    return optional<InboundEvent>(std::move(in));
  }
  if (type == "lienthong.intake.v1.DossierSupplementRequested") {
    LT_ASSIGN_OR_RETURN(auto m,
                        Unpack<intake::v1::DossierSupplementRequested>(e));
    return optional<InboundEvent>(Base(e, InboundKind::kSupplementRequested,
                                       m.dossier(), m.request_time()));
  }
  if (type == "lienthong.intake.v1.DossierSupplemented") {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<intake::v1::DossierSupplemented>(e));
    return optional<InboundEvent>(
        Base(e, InboundKind::kSupplemented, m.dossier(), m.supplement_time()));
  }
  if (type == "lienthong.intake.v1.DossierWithdrawn") {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<intake::v1::DossierWithdrawn>(e));
    return optional<InboundEvent>(Base(e, InboundKind::kDossierWithdrawn,
                                       m.dossier(), m.withdraw_time()));
  }
  if (type == "lienthong.intake.v1.DossierRefused") {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<intake::v1::DossierRefused>(e));
    return optional<InboundEvent>(
        Base(e, InboundKind::kDossierRefused, m.dossier(), m.refuse_time()));
  }
  if (type == "lienthong.intake.v1.DossierReadyForReturn") {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<intake::v1::DossierReadyForReturn>(e));
    return optional<InboundEvent>(
        Base(e, InboundKind::kDossierCompleted, m.dossier(), m.ready_time()));
  }
  if (type == "lienthong.intake.v1.ApologyIssued") {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<intake::v1::ApologyIssued>(e));
    InboundEvent in =
        Base(e, InboundKind::kAppointmentRescheduled, m.dossier(), Timestamp());
    in.new_appointment = FromTs(m.new_appointment_time());
    return optional<InboundEvent>(std::move(in));
  }
  if (type == "lienthong.routing.v1.TaskDispatched") {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<routing::v1::TaskDispatched>(e));
    InboundEvent in =
        Base(e, InboundKind::kLegDispatched, m.dossier(), m.dispatch_time());
    in.leg_id = StripCollection(m.task(), "tasks");
    in.agency.code = StripCollection(m.agency(), "agencies");
    in.agency.tier = TierOf(m.agency_tier());
    in.agency.ancestors.assign(m.agency_ancestor_codes().begin(),
                               m.agency_ancestor_codes().end());
    in.procedure_code = StripCollection(m.procedure(), "procedures");
    LT_ASSIGN_OR_RETURN(in.limit, FromProto(m.time_limit()));
    if (in.leg_id.empty()) return Bad("task", "required");
    if (in.agency.code.empty()) return Bad("agency", "required");
    return optional<InboundEvent>(std::move(in));
  }
  if (type == "lienthong.routing.v1.TaskCompleted") {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<routing::v1::TaskCompleted>(e));
    InboundEvent in =
        Base(e, InboundKind::kLegCompleted, m.dossier(), m.complete_time());
    in.leg_id = StripCollection(m.task(), "tasks");
    return optional<InboundEvent>(std::move(in));
  }
  if (type == "lienthong.routing.v1.LegSupplementRequested") {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<routing::v1::LegSupplementRequested>(e));
    InboundEvent in = Base(e, InboundKind::kSupplementRequested, m.dossier(),
                           m.request_time());
    in.leg_id = StripCollection(m.task(), "tasks");
    return optional<InboundEvent>(std::move(in));
  }
  if (type == "lienthong.routing.v1.LegResumed") {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<routing::v1::LegResumed>(e));
    InboundEvent in =
        Base(e, InboundKind::kLegResumed, m.dossier(), m.resume_time());
    in.leg_id = StripCollection(m.task(), "tasks");
    return optional<InboundEvent>(std::move(in));
  }
  if (type == "lienthong.routing.v1.LegRefused") {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<routing::v1::LegRefused>(e));
    InboundEvent in =
        Base(e, InboundKind::kLegRefused, m.dossier(), m.refuse_time());
    in.leg_id = StripCollection(m.task(), "tasks");
    return optional<InboundEvent>(std::move(in));
  }
  if (type == "lienthong.routing.v1.TaskCancelled") {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<routing::v1::TaskCancelled>(e));
    InboundEvent in =
        Base(e, InboundKind::kLegCancelled, m.dossier(), m.cancel_time());
    in.leg_id = StripCollection(m.task(), "tasks");
    return optional<InboundEvent>(std::move(in));
  }
  return optional<InboundEvent>();  // not ours to act on
}

namespace {

// `payload` in deadline's event envelope, for `destinations`; the envelope
// names `dossier` when the event is about one (empty: the payload names
// what it is about).
OutgoingEvent Outgoing(const google::protobuf::Message& payload, absl::Time at,
                       std::vector<std::string> destinations,
                       const std::string& dossier = "") {
  common::v1::Event e;
  e.set_event_id(NewEventId());
  e.set_source("deadline");
  if (!dossier.empty()) e.set_dossier(absl::StrCat("dossiers/", dossier));
  ToTs(at, e.mutable_occur_time());
  e.mutable_payload()->PackFrom(payload);
  e.set_type(payload.GetTypeName());
  OutgoingEvent out;
  out.event_id = e.event_id();
  out.type = e.type();
  out.payload = e.SerializeAsString();
  out.destinations = std::move(destinations);
  return out;
}

}  // namespace

OutgoingEvent EncodeNotice(const ClockNotice& n) {
  // The apology slip is the receiving office's job: intake hears about
  // dossier clocks; notify tells officers (and, via intake, citizens).
  std::vector<std::string> destinations = {"notify"};
  if (n.clock.kind == ClockKind::kDossier) destinations.push_back("intake");
  const auto notice = [&](auto m) {
    ClockToProto(n.clock, n.remaining, m.mutable_clock());
    ToTs(n.fired_at, m.mutable_fire_time());
    return Outgoing(m, n.fired_at, std::move(destinations),
                    n.clock.dossier_code);
  };
  return n.urgency == Urgency::kOverdue ? notice(v1::ClockOverdue())
                                        : notice(v1::ClockDueSoon());
}

OutgoingEvent EncodeAppointmentsMoved(
    const CalendarVersion& version, const std::vector<MovedAppointment>& moved,
    absl::Time at, MoveCause cause) {
  v1::AppointmentsMoved m;
  m.set_calendar(absl::StrCat("calendars/", version.calendar_id));
  m.set_version(static_cast<int32_t>(version.version));
  m.set_after_supplement(cause == MoveCause::kSupplement);
  m.set_receipt_correction(cause == MoveCause::kReceiptCorrection);
  for (const MovedAppointment& a : moved) {
    MovedToProto(a, m.add_moved_appointments());
  }
  // Notify records calendar changes; a supplement's new due time and a
  // corrected receipt reach the citizen through intake
  // (AppointmentRescheduled).
  return Outgoing(m, at,
                  cause == MoveCause::kCalendarChange
                      ? std::vector<std::string>{"intake", "notify"}
                      : std::vector<std::string>{"intake"});
}

OutgoingEvent EncodeCalendarPublished(const CalendarVersion& version,
                                      absl::Time at) {
  v1::CalendarPublished p;
  p.set_calendar(absl::StrCat("calendars/", version.calendar_id));
  p.set_version(static_cast<int32_t>(version.version));
  ToTs(version.effective_from, p.mutable_effective_time());
  return Outgoing(p, at, {"intake"});
}

}  // namespace lienthong::deadline
