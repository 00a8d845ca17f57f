#include "libs/grpc_util/auth.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "libs/common/errors.h"
#include "libs/logging/logging.h"

namespace lienthong::grpc_util {
namespace {

std::string EntryOf(X509_NAME* name, int nid) {
  const int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return "";
  X509_NAME_ENTRY* e = X509_NAME_get_entry(name, idx);
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(e);
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string Metadata(const grpc::ServerContextBase& ctx,
                     absl::string_view key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kCounterOfficer:
      return "counter_officer";
    case Role::kSupervisor:
      return "supervisor";
    case Role::kAgencySystem:
      return "agency_system";
    case Role::kAdmin:
      return "admin";
    case Role::kCitizen:
      return "citizen";
    case Role::kService:
      return "service";
    case Role::kUnknown:
      break;
  }
  return "unknown";
}

Role ParseRole(absl::string_view name) {
  for (Role r : {Role::kCounterOfficer, Role::kSupervisor, Role::kAgencySystem,
                 Role::kAdmin, Role::kCitizen, Role::kService}) {
    if (RoleName(r) == name) return r;
  }
  return Role::kUnknown;
}

absl::StatusOr<Caller> CallerFromPem(absl::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (cert == nullptr) {
    return common::Unauthenticated("BAD_CLIENT_CERTIFICATE",
                                   "client certificate cannot be parsed");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  Caller c;
  c.agency_code = EntryOf(name, NID_organizationName);
  c.subject = EntryOf(name, NID_commonName);
  c.role = ParseRole(EntryOf(name, NID_organizationalUnitName));
  if (c.subject.empty() || c.role == Role::kUnknown) {
    return common::Unauthenticated(
        "BAD_CLIENT_CERTIFICATE",
        "client certificate subject must carry CN (subject) and OU (role)");
  }
  return c;
}

absl::StatusOr<Caller> CallerOf(const grpc::ServerContextBase& ctx,
                                bool insecure_dev_auth) {
  const std::string peer = ctx.peer();
  auto auth = ctx.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const grpc::string_ref& v :
         auth->FindPropertyValues("x509_pem_cert")) {
      absl::StatusOr<Caller> c =
          CallerFromPem(absl::string_view(v.data(), v.size()));
      if (c.ok()) c->peer = peer;
      return c;
    }
  }
  if (insecure_dev_auth) {
    Caller c;
    c.agency_code = Metadata(ctx, "x-lienthong-agency");
    c.subject = Metadata(ctx, "x-lienthong-subject");
    c.role = ParseRole(Metadata(ctx, "x-lienthong-role"));
    c.peer = peer;
    if (c.role == Role::kUnknown) {
      return common::Unauthenticated(
          "NO_IDENTITY",
          "dev auth: set x-lienthong-role (and x-lienthong-agency, "
          "x-lienthong-subject) metadata");
    }
    if (c.subject.empty()) c.subject = "dev";
    return c;
  }
  return common::Unauthenticated(
      "NO_IDENTITY", "a client certificate identifying the caller is required");
}

void LogDenied(const Caller& c, absl::string_view action,
               absl::string_view resource, bool audited) {
  logging::Event("permission_denied")
      .With("action", action)
      .With("resource", resource)
      .With("agency", c.agency_code)
      .With("role", RoleName(c.role))
      .With("audited", audited ? "yes" : "no")
      .Warn();
}

}  // namespace lienthong::grpc_util
