// IntakeServer: the agency tree — read it (get, list children, resolve a
// subtree) and change it (UpsertAgency; a move carries the subtree along).

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/db/transaction.h"
#include "services/intake/intake_logic.h"
#include "services/intake/intake_server.h"
#include "services/intake/pg_intake_store.h"

namespace lienthong::intake {

using grpc_util::Role;

grpc::Status IntakeServer::GetAgency(grpc::ServerContext* ctx,
                                     const v1::GetAgencyRequest* req,
                                     v1::GetAgencyResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string code = AgencyCodeOf(req->name());
  if (code.empty()) {
    return Done(common::InvalidArgument("BAD_NAME",
                                        {{"name", "must be agencies/{code}"}}));
  }
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    auto a = pg::GetAgency(tx, code);
    if (!a) {
      return common::NotFound("AGENCY_NOT_FOUND",
                              absl::StrCat("agency ", code, " does not exist"),
                              {{"agency", code}});
    }
    *resp->mutable_agency() = *a;
    return absl::OkStatus();
  }));
}

grpc::Status IntakeServer::ListAgencies(grpc::ServerContext* ctx,
                                        const v1::ListAgenciesRequest* req,
                                        v1::ListAgenciesResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string parent =
      req->parent().empty() ? "" : AgencyCodeOf(req->parent());
  if (!req->parent().empty() && parent.empty()) {
    return Done(common::InvalidArgument(
        "BAD_NAME", {{"parent", "must be agencies/{code}"}}));
  }
  const int limit = PageSize(req->page_size());
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    std::string subtree;
    if (req->recursive() && !parent.empty()) {
      subtree = pg::PathOf(tx, parent);
      if (subtree.empty()) {
        return common::NotFound(
            "AGENCY_NOT_FOUND",
            absl::StrCat("agency ", parent, " does not exist"),
            {{"agency", parent}});
      }
    }
    std::vector<v1::Agency> list =
        pg::ListAgencies(tx, parent, subtree, req->kind(), req->tier(),
                         req->page_token(), limit + 1);
    for (int i = 0; i < static_cast<int>(list.size()) && i < limit; ++i) {
      *resp->add_agencies() = list[i];
    }
    if (static_cast<int>(list.size()) > limit) {
      resp->set_next_page_token(list[limit - 1].code());
    }
    return absl::OkStatus();
  }));
}

grpc::Status IntakeServer::ResolveAgencySubtree(
    grpc::ServerContext* ctx, const v1::ResolveAgencySubtreeRequest* req,
    v1::ResolveAgencySubtreeResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string code = AgencyCodeOf(req->name());
  if (code.empty()) {
    return Done(common::InvalidArgument("BAD_NAME",
                                        {{"name", "must be agencies/{code}"}}));
  }
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    auto root = pg::GetAgency(tx, code);
    if (!root) {
      return common::NotFound("AGENCY_NOT_FOUND",
                              absl::StrCat("agency ", code, " does not exist"),
                              {{"agency", code}});
    }
    *resp->add_agencies() = *root;
    for (auto& a :
         pg::ListAgencies(tx, "", pg::PathOf(tx, code), 0, 0, "", 100000)) {
      *resp->add_agencies() = std::move(a);
    }
    return absl::OkStatus();
  }));
}

grpc::Status IntakeServer::UpsertAgency(grpc::ServerContext* ctx,
                                        const v1::UpsertAgencyRequest* req,
                                        v1::UpsertAgencyResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return Done(caller.status());
  const std::string resource = AgencyName(req->agency().code());
  if (auto s = RequireRole(*caller, "UpsertAgency", resource, {Role::kAdmin});
      !s.ok()) {
    return Done(s);
  }
  if (auto s = ValidateAgency(req->agency()); !s.ok()) return Done(s);
  return Done(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
    return Idempotent(tx, "UpsertAgency", req->request_id(), *req, resp, [&] {
      // One change of the tree at a time: two moves checked side by side
      // (X under Y, Y under X) each found no cycle and both committed one.
      // Admin changes are rare; the checks below read the tree after it.
      tx.exec(
          "SELECT pg_advisory_xact_lock(hashtext('lienthong.intake.agency_"
          "tree'))");
      v1::Agency a = req->agency();
      a.set_name(AgencyName(a.code()));
      std::string parent_path;
      a.clear_ancestor_codes();
      if (!a.parent().empty()) {
        const std::string parent_code = AgencyCodeOf(a.parent());
        auto parent = pg::GetAgency(tx, parent_code);
        if (!parent) {
          return common::FailedPrecondition(
              "PARENT_NOT_FOUND",
              absl::StrCat("parent agency ", parent_code, " does not exist"),
              {{"parent", parent_code}});
        }
        // Tiers go down the tree (province, district, commune), or stay:
        // a committee's offices share its tier.
        if (a.tier() < parent->tier()) {
          return common::FailedPrecondition(
              "TIER_ABOVE_PARENT",
              absl::StrCat("a ", common::v1::Tier_Name(a.tier()),
                           " agency cannot sit under ", parent_code, ", a ",
                           common::v1::Tier_Name(parent->tier()), " agency"),
              {{"parent", parent_code}});
        }
        parent_path = pg::PathOf(tx, parent_code);
        if (parent_path.find(absl::StrCat("/", a.code(), "/")) !=
            std::string::npos) {
          return common::FailedPrecondition(
              "PARENT_CYCLE",
              "an agency cannot be moved under its own subtree");
        }
        for (const auto& anc : parent->ancestor_codes())
          a.add_ancestor_codes(anc);
        a.add_ancestor_codes(parent_code);
      }
      const std::string path =
          absl::StrCat(parent_path.empty() ? "/" : parent_path, a.code(), "/");
      // The administrative unit: itself for a people's committee, else the
      // nearest committee above.
      if (a.kind() == common::v1::AGENCY_KIND_PEOPLES_COMMITTEE ||
          a.parent().empty()) {
        a.set_administrative_unit(a.name());
      } else {
        auto parent = pg::GetAgency(tx, AgencyCodeOf(a.parent()));
        a.set_administrative_unit(parent->administrative_unit());
      }
      const std::string old_path = pg::PathOf(tx, a.code());
      const auto before = pg::GetAgency(tx, a.code());
      if (!old_path.empty()) {
        // Nor may an agency rise above its own children.
        for (const v1::Agency& child :
             pg::ListAgencies(tx, a.code(), "", 0, 0, "", 100000)) {
          if (child.tier() < a.tier()) {
            return common::FailedPrecondition(
                "TIER_BELOW_CHILD",
                absl::StrCat(a.code(), " has ", child.code(), ", a ",
                             common::v1::Tier_Name(child.tier()),
                             " agency, under it; it cannot be a ",
                             common::v1::Tier_Name(a.tier()), " agency"),
                {{"child", child.code()}});
          }
        }
      }
      resp->set_created(old_path.empty());
      if (!old_path.empty() && old_path != path) {
        // A move: dossier writes wait until it commits, and it waits for
        // those in flight, so none is left with the path before the move
        // (a submit batch writes the path as it is then: pg_submit.cc).
        // Moves are rare; a submission meanwhile waits milliseconds to
        // the rewrite's length.
        tx.exec("LOCK TABLE intake.dossiers IN SHARE ROW EXCLUSIVE MODE");
      }
      pg::PutAgency(tx, a, path, clock_.Now());
      if (!old_path.empty() && old_path != path) {
        // A move (e.g. a ward merged into another district): everything
        // below follows — the agencies' paths, ancestors and administrative
        // units, and the dossiers' paths, on which subtree access rests.
        pg::RewriteSubtreePaths(tx, old_path, path);
        pg::RewriteDossierPaths(tx, old_path, path);
        RefreshDescendants(tx, a, path);
      } else if (before.has_value() &&
                 before->administrative_unit() != a.administrative_unit()) {
        // A committee that is no longer one (or an office that became one)
        // changes the administrative unit its offices report to; routing
        // walks up the tree by it.
        RefreshDescendants(tx, a, path);
      }
      Audit(tx, *caller, "UpsertAgency", resource, req->request_id());
      *resp->mutable_agency() = a;
      return absl::OkStatus();
    });
  }));
}

void IntakeServer::RefreshDescendants(pqxx::work& tx, const v1::Agency& moved,
                                      const std::string& path) {
  std::map<std::string, std::string> unit_of = {
      {moved.code(), moved.administrative_unit()}};
  for (pg::AgencyRow& row : pg::Descendants(tx, path)) {
    v1::Agency& d = row.agency;
    // The path is "/<root>/…/<parent>/<self>/": the ancestors, root first.
    std::vector<std::string> codes =
        absl::StrSplit(row.path, '/', absl::SkipEmpty());
    d.clear_ancestor_codes();
    for (size_t i = 0; i + 1 < codes.size(); ++i)
      d.add_ancestor_codes(codes[i]);
    if (d.kind() != common::v1::AGENCY_KIND_PEOPLES_COMMITTEE) {
      auto parent = unit_of.find(AgencyCodeOf(d.parent()));
      if (parent != unit_of.end()) d.set_administrative_unit(parent->second);
    }
    unit_of[d.code()] = d.administrative_unit();
    pg::SaveAgencyBody(tx, d);
  }
}

}  // namespace lienthong::intake
