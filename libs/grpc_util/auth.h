#pragma once

// Who is calling. In production the caller is identified by its mTLS client
// certificate: subject O = agency code, CN = officer or system id, OU = role.
// Only with --insecure_dev_auth, the same comes from the metadata headers
// x-lienthong-agency, x-lienthong-subject and x-lienthong-role.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

namespace lienthong::grpc_util {

enum class Role {
  kUnknown,
  kCounterOfficer,
  kSupervisor,
  kAgencySystem,
  kAdmin,
  kCitizen,
  kService,  // another lienthong service (event relays)
};

struct Caller {
  std::string agency_code;
  std::string subject;
  Role role = Role::kUnknown;
  std::string peer;
};

absl::string_view RoleName(Role role);
Role ParseRole(absl::string_view name);

// UNAUTHENTICATED when no identity can be established.
absl::StatusOr<Caller> CallerOf(const grpc::ServerContextBase& ctx,
                                bool insecure_dev_auth);

// Parses a PEM certificate's subject into agency/subject/role.
absl::StatusOr<Caller> CallerFromPem(absl::string_view pem);

// The warning every service logs for a refused attempt (its own audit
// trail has the row; `audited` says whether writing it succeeded).
void LogDenied(const Caller& c, absl::string_view action,
               absl::string_view resource, bool audited);

}  // namespace lienthong::grpc_util
