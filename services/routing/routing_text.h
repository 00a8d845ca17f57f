#pragma once

// Routing's small conversions, shared by its .cc files: timestamps as
// statement parameters, and task names.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "libs/db/prepared.h"
#include "lienthong/routing/v1/routing_service.pb.h"

namespace lienthong::routing {

using db::PgTime;

// An event about one leg's task, with the task's dossier, name, leg id
// and (where the event has one) agency filled in.
template <typename Event>
Event LegEventFor(const v1::Task& t) {
  Event ev;
  ev.set_dossier(t.dossier());
  ev.set_task(t.name());
  ev.set_leg_id(t.leg_id());
  if constexpr (requires { ev.set_agency(t.agency()); }) {
    ev.set_agency(t.agency());
  }
  return ev;
}

// The id in `tasks/{id}`; 0 when the name is not a task's.
inline int64_t TaskIdOf(const std::string& name) {
  int64_t id = 0;
  if (name.rfind("tasks/", 0) != 0 || !absl::SimpleAtoi(name.substr(6), &id)) {
    return 0;
  }
  return id;
}

// A bigint[] parameter's text: "{1,2,3}".
inline std::string BigintArray(const std::vector<int64_t>& values) {
  return absl::StrCat("{", absl::StrJoin(values, ","), "}");
}

inline absl::Status BadTaskName() {
  return common::InvalidArgument("BAD_NAME", {{"name", "must be tasks/{id}"}});
}

}  // namespace lienthong::routing
