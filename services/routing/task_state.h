#pragma once

// A leg's task as a pure state machine:
//   WAITING --deps done--> READY --claim--> CLAIMED --complete--> DONE
//   CLAIMED --request supplement--> SUPPLEMENT_REQUESTED --resume--> READY
//   CLAIMED --refuse--> REFUSED;  CLAIMED --lease expired--> READY
//   any open state --cancel--> CANCELLED

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lienthong/routing/v1/routing_service.pb.h"

namespace lienthong::routing {

using v1::TaskState;

enum class TaskEvent {
  kDepsDone,
  kClaim,
  kRenew,
  kComplete,
  kRequestSupplement,
  kRefuse,
  kLeaseExpired,
  kResume,
  kCancel,
};

inline constexpr TaskEvent kAllTaskEvents[] = {TaskEvent::kDepsDone,
                                               TaskEvent::kClaim,
                                               TaskEvent::kRenew,
                                               TaskEvent::kComplete,
                                               TaskEvent::kRequestSupplement,
                                               TaskEvent::kRefuse,
                                               TaskEvent::kLeaseExpired,
                                               TaskEvent::kResume,
                                               TaskEvent::kCancel};
inline constexpr TaskState kAllTaskStates[] = {
    v1::TASK_STATE_WAITING,
    v1::TASK_STATE_READY,
    v1::TASK_STATE_CLAIMED,
    v1::TASK_STATE_DONE,
    v1::TASK_STATE_SUPPLEMENT_REQUESTED,
    v1::TASK_STATE_REFUSED,
    v1::TASK_STATE_CANCELLED};

absl::string_view TaskEventName(TaskEvent e);
absl::string_view TaskStateName(TaskState s);

// The next state, or FAILED_PRECONDITION (ILLEGAL_TRANSITION) naming the
// task's current state.
absl::StatusOr<TaskState> NextTaskState(TaskState from, TaskEvent event);

bool IsOpen(TaskState s);

}  // namespace lienthong::routing
