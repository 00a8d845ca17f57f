#include "services/deadline/event_handler.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "absl/strings/string_view.h"
#include "libs/common/errors.h"
#include "libs/logging/logging.h"
#include "libs/metrics/metrics.h"
#include "services/deadline/deadline_events.h"

namespace lienthong::deadline {

namespace {

// INVALID_ARGUMENT reasons that the event itself causes (HandleEvent's and
// the calendar's checks of its times and durations): delivering it again
// fails the same way. Any other reason (a stored calendar that no longer
// parses, say) is ours to repair, and the event must wait for it.
bool CausedByTheEvent(const absl::Status& s) {
  if (s.code() != absl::StatusCode::kInvalidArgument) return false;
  static constexpr absl::string_view kReasons[] = {
      "INVALID_EVENT",     "INVALID_CLOCK",     "INVALID_TIME",
      "NEGATIVE_DURATION", "DURATION_TOO_LONG", "INVALID_CUTOFF",
      "SPAN_TOO_LONG"};
  const std::string reason = common::GetErrorDetails(s).reason;
  return std::find(std::begin(kReasons), std::end(kReasons), reason) !=
         std::end(kReasons);
}

// An event the service can never apply: logged and counted (the
// LienthongEventsRejected alert), then acknowledged by the caller.
void Reject(const common::v1::Event& e, const absl::Status& why) {
  const std::string reason = common::GetErrorDetails(why).reason;
  logging::Event("event_rejected")
      .With("event_id", e.event_id())
      .With("type", e.type())
      .With("source", e.source())
      .With("reason", reason)
      .Warn();
  metrics::Counter(kEventsRejectedName, kEventsRejectedHelp)
      .Add({{"type", e.type()}, {"reason", reason}})
      .Increment();
}

}  // namespace

grpc_util::EventHandler MakeEventHandler(DeadlineService& service) {
  return [&service](const common::v1::Event& e) -> absl::StatusOr<bool> {
    absl::StatusOr<absl::optional<InboundEvent>> in = DecodeEvent(e);
    if (!in.ok()) {
      if (in.status().code() != absl::StatusCode::kInvalidArgument ||
          e.event_id().empty()) {
        return in.status();
      }
      Reject(e, in.status());
      return service.Acknowledge(e.event_id());
    }
    if (!in->has_value()) return service.Acknowledge(e.event_id());
    absl::StatusOr<bool> applied = service.HandleEvent(**in);
    if (!applied.ok() && CausedByTheEvent(applied.status()) &&
        !e.event_id().empty()) {
      // The event is wrong, not the moment (a clock it cannot start, e.g.
      // no agency): delivering it again would fail the same way, for ever.
      // Rejected and acknowledged, as an event that does not decode.
      Reject(e, applied.status());
      return service.Acknowledge(e.event_id());
    }
    if (applied.ok() && *applied) {
      logging::Event("event_applied")
          .With("event_id", e.event_id())
          .With("type", e.type())
          .With("dossier", (*in)->dossier_code)
          .Debug();
    }
    return applied;
  };
}

}  // namespace lienthong::deadline
