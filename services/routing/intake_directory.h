#pragma once

// The agency tree, read through intake's public API (never its tables) and
// cached: agencies change rarely, and routing keeps planning while intake
// is briefly away as long as the cache holds what it needs.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "lienthong/intake/v1/intake_service.grpc.pb.h"
#include "services/routing/route_planner.h"

namespace lienthong::routing {

class IntakeDirectory final : public AgencyDirectory {
 public:
  IntakeDirectory(std::shared_ptr<grpc::Channel> channel,
                  const common::Clock& clock, absl::Duration ttl,
                  absl::Duration deadline);
  absl::StatusOr<intake::v1::Agency> Get(const std::string& code) override;
  absl::StatusOr<std::vector<intake::v1::Agency>> ChildrenOfKind(
      const std::string& unit_code, common::v1::AgencyKind kind) override;

 private:
  std::unique_ptr<intake::v1::IntakeService::Stub> stub_;
  const common::Clock& clock_;
  const absl::Duration ttl_;
  const absl::Duration deadline_;
  absl::Mutex mu_;
  std::map<std::string, std::pair<absl::Time, intake::v1::Agency>> agencies_
      ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, int>,
           std::pair<absl::Time, std::vector<intake::v1::Agency>>>
      children_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::routing
