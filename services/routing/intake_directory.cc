#include "services/routing/intake_directory.h"

#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/status_conversion.h"

namespace lienthong::routing {

IntakeDirectory::IntakeDirectory(std::shared_ptr<grpc::Channel> channel,
                                 const common::Clock& clock, absl::Duration ttl,
                                 absl::Duration deadline)
    : stub_(intake::v1::IntakeService::NewStub(channel)),
      clock_(clock),
      ttl_(ttl),
      deadline_(deadline) {}

absl::StatusOr<intake::v1::Agency> IntakeDirectory::Get(
    const std::string& code) {
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = agencies_.find(code);
    if (it != agencies_.end() && now - it->second.first < ttl_) {
      return it->second.second;
    }
  }
  grpc::ClientContext ctx;
  grpc_util::PrepareContext(ctx, deadline_, "service", "", "routing");
  intake::v1::GetAgencyRequest req;
  req.set_name("agencies/" + code);
  intake::v1::GetAgencyResponse resp;
  grpc::Status s = stub_->GetAgency(&ctx, req, &resp);
  absl::MutexLock lock(&mu_);
  if (!s.ok()) {
    // A stale entry beats no answer while intake is away.
    auto it = agencies_.find(code);
    if (it != agencies_.end() &&
        s.error_code() == grpc::StatusCode::UNAVAILABLE) {
      return it->second.second;
    }
    return grpc_util::FromGrpcStatus(s);
  }
  agencies_[code] = {now, resp.agency()};
  return resp.agency();
}

absl::StatusOr<std::vector<intake::v1::Agency>> IntakeDirectory::ChildrenOfKind(
    const std::string& unit_code, common::v1::AgencyKind kind) {
  const absl::Time now = clock_.Now();
  const auto key = std::make_pair(unit_code, static_cast<int>(kind));
  {
    absl::MutexLock lock(&mu_);
    auto it = children_.find(key);
    if (it != children_.end() && now - it->second.first < ttl_) {
      return it->second.second;
    }
  }
  grpc::ClientContext ctx;
  grpc_util::PrepareContext(ctx, deadline_, "service", "", "routing");
  intake::v1::ListAgenciesRequest req;
  req.set_parent("agencies/" + unit_code);
  req.set_kind(kind);
  req.set_page_size(500);
  intake::v1::ListAgenciesResponse resp;
  grpc::Status s = stub_->ListAgencies(&ctx, req, &resp);
  absl::MutexLock lock(&mu_);
  if (!s.ok()) {
    auto it = children_.find(key);
    if (it != children_.end() &&
        s.error_code() == grpc::StatusCode::UNAVAILABLE) {
      return it->second.second;
    }
    return grpc_util::FromGrpcStatus(s);
  }
  std::vector<intake::v1::Agency> out(resp.agencies().begin(),
                                      resp.agencies().end());
  children_[key] = {now, out};
  for (const auto& a : out) agencies_[a.code()] = {now, a};
  return out;
}

}  // namespace lienthong::routing
