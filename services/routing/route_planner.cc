#include "services/routing/route_planner.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace lienthong::routing {
namespace {

std::string CodeOf(const std::string& name) {
  const std::string prefix = "agencies/";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

}  // namespace

std::vector<common::v1::FieldValue> InputsFor(
    const intake::v1::LegSpec& leg,
    const google::protobuf::RepeatedPtrField<common::v1::FieldValue>& fields,
    const std::vector<common::v1::FieldValue>& upstream_outputs) {
  std::vector<common::v1::FieldValue> in(fields.begin(), fields.end());
  for (const std::string& key : leg.consumes()) {
    for (const auto& out : upstream_outputs) {
      if (out.key() == key) {
        // An output overrides a dossier field of the same key.
        in.erase(std::remove_if(in.begin(), in.end(),
                                [&](const auto& f) { return f.key() == key; }),
                 in.end());
        in.push_back(out);
      }
    }
  }
  return in;
}

std::vector<std::string> NewlyReady(const intake::v1::Procedure& p,
                                    const std::vector<std::string>& done,
                                    const std::vector<std::string>& waiting) {
  const std::set<std::string> done_set(done.begin(), done.end());
  std::vector<std::string> out;
  for (const auto& leg : p.legs()) {
    if (std::find(waiting.begin(), waiting.end(), leg.id()) == waiting.end()) {
      continue;
    }
    bool ready = true;
    for (const auto& dep : leg.depends_on())
      ready = ready && done_set.count(dep);
    if (ready) out.push_back(leg.id());
  }
  return out;
}

absl::StatusOr<std::vector<PlannedTask>> PlanRoute(
    const intake::v1::Procedure& p, const intake::v1::Agency& receiving,
    const google::protobuf::RepeatedPtrField<common::v1::FieldValue>& fields,
    AgencyDirectory& dir) {
  std::vector<PlannedTask> out;
  for (const auto& leg : p.legs()) {
    // Walk up from the receiving agency's administrative unit.
    std::string unit = CodeOf(receiving.administrative_unit().empty()
                                  ? receiving.name()
                                  : receiving.administrative_unit());
    for (int i = 0; i < leg.levels_up(); ++i) {
      LT_ASSIGN_OR_RETURN(intake::v1::Agency u, dir.Get(unit));
      if (u.parent().empty()) {
        return common::FailedPrecondition(
            "NO_AGENCY_FOR_LEG",
            absl::StrCat("leg ", leg.id(), " is ", leg.levels_up(),
                         " levels above ", receiving.code(),
                         " but the tree ends at ", unit),
            {{"leg", leg.id()}});
      }
      LT_ASSIGN_OR_RETURN(intake::v1::Agency parent,
                          dir.Get(CodeOf(u.parent())));
      unit = CodeOf(parent.administrative_unit().empty()
                        ? parent.name()
                        : parent.administrative_unit());
    }
    LT_ASSIGN_OR_RETURN(std::vector<intake::v1::Agency> candidates,
                        dir.ChildrenOfKind(unit, leg.agency_kind()));
    if (candidates.empty()) {
      return common::FailedPrecondition(
          "NO_AGENCY_FOR_LEG",
          absl::StrCat("no ", common::v1::AgencyKind_Name(leg.agency_kind()),
                       " agency under ", unit, " for leg ", leg.id()),
          {{"leg", leg.id()}, {"unit", unit}});
    }
    const intake::v1::Agency& agency = candidates.front();
    PlannedTask t;
    t.task.set_leg_id(leg.id());
    t.task.set_display_name(leg.display_name());
    t.task.set_agency(absl::StrCat("agencies/", agency.code()));
    t.task.set_state(leg.depends_on().empty() ? v1::TASK_STATE_READY
                                              : v1::TASK_STATE_WAITING);
    for (const auto& d : leg.depends_on()) t.task.add_depends_on(d);
    for (const auto& o : leg.produces()) *t.task.add_expected_outputs() = o;
    *t.task.mutable_time_limit() = leg.time_limit();
    t.task.set_procedure_display_name(p.display_name());
    if (leg.depends_on().empty()) {
      for (auto& f : InputsFor(leg, fields, {})) *t.task.add_inputs() = f;
    }
    t.agency_tier = agency.tier();
    t.agency_ancestors.assign(agency.ancestor_codes().begin(),
                              agency.ancestor_codes().end());
    // Kept on the task: when it becomes ready later, its TaskDispatched and
    // hand-over need them without asking intake inside that transaction.
    t.task.set_agency_tier(agency.tier());
    *t.task.mutable_agency_ancestor_codes() = agency.ancestor_codes();
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace lienthong::routing
