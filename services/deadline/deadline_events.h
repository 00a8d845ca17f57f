#pragma once

// Protobuf <-> domain for the events the deadline service consumes and
// emits, and for the Clock resource. The only place that knows both the
// domain types and lienthong.*.v1.

#include <string>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "lienthong/common/v1/common.pb.h"
#include "lienthong/deadline/v1/deadline_service.pb.h"
#include "services/deadline/deadline_service.h"

namespace lienthong::deadline {

// The event as an InboundEvent, nullopt for a type the deadline service
// does not act on (it is still acknowledged). INVALID_ARGUMENT when a type
// we act on is missing what we need.
absl::StatusOr<absl::optional<InboundEvent>> DecodeEvent(
    const common::v1::Event& event);

// The outbox row for a due-soon/overdue notice: a common.v1.Event with a
// ClockDueSoon/ClockOverdue payload, for notify and (dossier clocks) intake.
OutgoingEvent EncodeNotice(const ClockNotice& notice);

// The AppointmentsMoved event after a calendar change (to intake and
// notify), or after a supplement moved a dossier's due time or to correct
// a receipt (to intake).
OutgoingEvent EncodeAppointmentsMoved(const CalendarVersion& version,
                                      const std::vector<MovedAppointment>& m,
                                      absl::Time at, MoveCause cause);

// The CalendarPublished event for a version just stored (to intake).
OutgoingEvent EncodeCalendarPublished(const CalendarVersion& version,
                                      absl::Time at);

void ClockToProto(const Clock& c, absl::Duration remaining, v1::Clock* out);
void MovedToProto(const MovedAppointment& m, v1::MovedAppointment* out);

// `clocks/{code}` (dossier) or `clocks/{code}/tasks/{task}` (leg) <-> the
// store's `dossiers/{code}[/legs/{task}]`. Also accepts `dossiers/{code}`.
std::string ClockResourceName(const Clock& c);
absl::StatusOr<std::string> ClockStoreName(const std::string& resource_name);

// `agencies/{code}` -> code (a bare code is accepted too).
std::string StripCollection(const std::string& name,
                            absl::string_view collection);

// WorkingDuration -> working time; INVALID_ARGUMENT unless positive.
absl::StatusOr<absl::Duration> FromProto(const common::v1::WorkingDuration& d);
common::v1::WorkingDuration ToProtoDuration(absl::Duration working_time);

// A random version-4 UUID.
std::string NewEventId();

}  // namespace lienthong::deadline
