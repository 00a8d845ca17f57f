#include "services/routing/task_state.h"

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

namespace lienthong::routing {

absl::string_view TaskEventName(TaskEvent e) {
  switch (e) {
    case TaskEvent::kDepsDone:
      return "DEPENDENCIES_DONE";
    case TaskEvent::kClaim:
      return "CLAIM";
    case TaskEvent::kRenew:
      return "RENEW_LEASE";
    case TaskEvent::kComplete:
      return "COMPLETE";
    case TaskEvent::kRequestSupplement:
      return "REQUEST_SUPPLEMENT";
    case TaskEvent::kRefuse:
      return "REFUSE";
    case TaskEvent::kLeaseExpired:
      return "LEASE_EXPIRED";
    case TaskEvent::kResume:
      return "RESUME";
    case TaskEvent::kCancel:
      return "CANCEL";
  }
  return "UNKNOWN";
}

absl::string_view TaskStateName(TaskState s) {
  switch (s) {
    case v1::TASK_STATE_WAITING:
      return "WAITING";
    case v1::TASK_STATE_READY:
      return "READY";
    case v1::TASK_STATE_CLAIMED:
      return "CLAIMED";
    case v1::TASK_STATE_DONE:
      return "DONE";
    case v1::TASK_STATE_SUPPLEMENT_REQUESTED:
      return "SUPPLEMENT_REQUESTED";
    case v1::TASK_STATE_REFUSED:
      return "REFUSED";
    case v1::TASK_STATE_CANCELLED:
      return "CANCELLED";
    default:
      return "UNSPECIFIED";
  }
}

bool IsOpen(TaskState s) {
  return s == v1::TASK_STATE_WAITING || s == v1::TASK_STATE_READY ||
         s == v1::TASK_STATE_CLAIMED ||
         s == v1::TASK_STATE_SUPPLEMENT_REQUESTED;
}

absl::StatusOr<TaskState> NextTaskState(TaskState from, TaskEvent e) {
  using E = TaskEvent;
  if (e == E::kCancel && IsOpen(from)) return v1::TASK_STATE_CANCELLED;
  switch (from) {
    case v1::TASK_STATE_WAITING:
      if (e == E::kDepsDone) return v1::TASK_STATE_READY;
      break;
    case v1::TASK_STATE_READY:
      if (e == E::kClaim) return v1::TASK_STATE_CLAIMED;
      break;
    case v1::TASK_STATE_CLAIMED:
      switch (e) {
        case E::kRenew:
          return v1::TASK_STATE_CLAIMED;
        case E::kComplete:
          return v1::TASK_STATE_DONE;
        case E::kRequestSupplement:
          return v1::TASK_STATE_SUPPLEMENT_REQUESTED;
        case E::kRefuse:
          return v1::TASK_STATE_REFUSED;
        case E::kLeaseExpired:
          return v1::TASK_STATE_READY;
        default:
          break;
      }
      break;
    case v1::TASK_STATE_SUPPLEMENT_REQUESTED:
      if (e == E::kResume) return v1::TASK_STATE_READY;
      break;
    default:
      break;
  }
  return common::FailedPrecondition(
      "ILLEGAL_TRANSITION",
      absl::StrCat("task is ", TaskStateName(from), "; ", TaskEventName(e),
                   " is not allowed"),
      {{"state", std::string(TaskStateName(from))},
       {"event", std::string(TaskEventName(e))}});
}

}  // namespace lienthong::routing
