#pragma once

// What the deadline service's EventSinkService does with each event.

#include "libs/grpc_util/event_sink.h"
#include "services/deadline/deadline_service.h"

namespace lienthong::deadline {

// Decodes and applies; an event type we do not act on is acknowledged (its
// id recorded) and so is one we cannot decode or can never apply (an
// INVALID_ARGUMENT whose reason the event causes: INVALID_EVENT,
// INVALID_CLOCK, times and durations the calendar refuses): it is logged
// `event_rejected`, counted in kEventsRejectedName and dropped rather than
// blocking the sender's relay forever. Every other failure (the database,
// a stored calendar that no longer parses) is returned, so the sender
// retries the batch.
grpc_util::EventHandler MakeEventHandler(DeadlineService& service);

inline constexpr char kEventsRejectedName[] =
    "lienthong_deadline_events_rejected_total";
inline constexpr char kEventsRejectedHelp[] =
    "Events acknowledged without effect because they can never be applied, "
    "by event type and reason (each one is a sender's bug; the log line "
    "event_rejected names the event).";

}  // namespace lienthong::deadline
