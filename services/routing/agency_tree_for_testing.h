#pragma once

// An agency tree in memory for routing's tests (the AgencyDirectory seam):
// district D with its social-insurance office D-SI, and ward W under it
// with its one-stop unit W-1CUA, justice officer W-TP and police W-CA.

#include <map>
#include <string>
#include <vector>

#include "services/routing/route_planner.h"

namespace lienthong::routing {

class TreeDirectory : public AgencyDirectory {
 public:
  TreeDirectory() {
    Add("D", "", common::v1::AGENCY_KIND_PEOPLES_COMMITTEE,
        common::v1::TIER_DISTRICT);
    Add("D-SI", "D", common::v1::AGENCY_KIND_SOCIAL_INSURANCE,
        common::v1::TIER_DISTRICT);
    Add("W", "D", common::v1::AGENCY_KIND_PEOPLES_COMMITTEE,
        common::v1::TIER_COMMUNE);
    Add("W-1CUA", "W", common::v1::AGENCY_KIND_ONE_STOP_UNIT,
        common::v1::TIER_COMMUNE);
    Add("W-TP", "W", common::v1::AGENCY_KIND_JUSTICE, common::v1::TIER_COMMUNE);
    Add("W-CA", "W", common::v1::AGENCY_KIND_POLICE, common::v1::TIER_COMMUNE);
  }
  // As when intake cannot be reached (and nothing is cached).
  void SetUnreachable(bool unreachable) { unreachable_ = unreachable; }
  absl::StatusOr<intake::v1::Agency> Get(const std::string& code) override {
    if (unreachable_) return absl::UnavailableError("intake is away");
    auto it = by_code_.find(code);
    if (it == by_code_.end()) return absl::NotFoundError(code);
    return it->second;
  }
  absl::StatusOr<std::vector<intake::v1::Agency>> ChildrenOfKind(
      const std::string& unit, common::v1::AgencyKind kind) override {
    std::vector<intake::v1::Agency> out;
    for (auto& [c, a] : by_code_) {
      if (a.parent() == "agencies/" + unit && a.kind() == kind)
        out.push_back(a);
    }
    return out;
  }

 private:
  bool unreachable_ = false;
  void Add(const std::string& code, const std::string& parent,
           common::v1::AgencyKind kind, common::v1::Tier tier) {
    intake::v1::Agency a;
    a.set_code(code);
    a.set_name("agencies/" + code);
    a.set_display_name("Cơ quan " + code);
    a.set_kind(kind);
    a.set_tier(tier);
    if (!parent.empty()) {
      a.set_parent("agencies/" + parent);
      // Root first, as intake stores them.
      *a.mutable_ancestor_codes() = by_code_.at(parent).ancestor_codes();
      a.add_ancestor_codes(parent);
    }
    a.set_administrative_unit(kind == common::v1::AGENCY_KIND_PEOPLES_COMMITTEE
                                  ? a.name()
                                  : "agencies/" + parent);
    by_code_[code] = a;
  }
  std::map<std::string, intake::v1::Agency> by_code_;
};

}  // namespace lienthong::routing
