#pragma once

// Route planning, pure: each leg of the procedure version becomes a task for
// the agency of the leg's kind in the administrative unit `levels_up` above
// the receiving agency's unit (ward civil status and ward police of the
// same ward; the district social-insurance office above it). The agency
// tree comes through an AgencyDirectory (intake's API, cached, in the
// service; a fake in tests).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lienthong/intake/v1/resources.pb.h"
#include "lienthong/routing/v1/routing_service.pb.h"

namespace lienthong::routing {

class AgencyDirectory {
 public:
  virtual ~AgencyDirectory() = default;
  virtual absl::StatusOr<intake::v1::Agency> Get(const std::string& code) = 0;
  // Direct children of `unit_code` of the given kind.
  virtual absl::StatusOr<std::vector<intake::v1::Agency>> ChildrenOfKind(
      const std::string& unit_code, common::v1::AgencyKind kind) = 0;
};

struct PlannedTask {
  routing::v1::Task task;  // state WAITING or READY
  common::v1::Tier agency_tier = common::v1::TIER_UNSPECIFIED;
  std::vector<std::string> agency_ancestors;
};

// Tasks in an order where dependencies come first. FAILED_PRECONDITION
// (NO_AGENCY_FOR_LEG) when the tree has no agency for a leg.
absl::StatusOr<std::vector<PlannedTask>> PlanRoute(
    const intake::v1::Procedure& procedure,
    const intake::v1::Agency& receiving_agency,
    const google::protobuf::RepeatedPtrField<common::v1::FieldValue>& fields,
    AgencyDirectory& directory);

// Inputs of a leg: the dossier's fields plus the outputs of every upstream
// leg it consumes.
std::vector<common::v1::FieldValue> InputsFor(
    const intake::v1::LegSpec& leg,
    const google::protobuf::RepeatedPtrField<common::v1::FieldValue>& fields,
    const std::vector<common::v1::FieldValue>& upstream_outputs);

// Which waiting legs become ready now that `done` legs are done.
std::vector<std::string> NewlyReady(
    const intake::v1::Procedure& procedure,
    const std::vector<std::string>& done_legs,
    const std::vector<std::string>& waiting_legs);

}  // namespace lienthong::routing
