#pragma once

// What the deadline service's EventSinkService does with each event.

#include "libs/grpc_util/event_sink.h"
#include "services/deadline/deadline_service.h"

namespace lienthong::deadline {

// Decodes and applies; an event type we do not act on is acknowledged (its
// id recorded) and so is one we cannot decode: it is logged and dropped
// rather than blocking the sender's relay forever. Database failures are
// returned, so the sender retries the batch.
grpc_util::EventHandler MakeEventHandler(DeadlineService& service);

}  // namespace lienthong::deadline
