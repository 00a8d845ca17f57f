// ValidateProcedure and TopologicalLegOrder (intake_logic.h): what a
// catalog entry must be for dossiers to be received, routed and timed under
// it.

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"
#include "libs/fields/field_validation.h"
#include "services/intake/intake_logic.h"
#include "services/intake/intake_logic_internal.h"

namespace lienthong::intake {
namespace {

using common::FieldViolation;
using internal::RequireText;
using internal::WorkingTimeOf;

void ValidateDuration(absl::string_view path,
                      const common::v1::WorkingDuration& d,
                      std::vector<FieldViolation>* out) {
  if (d.unit() == common::v1::WORKING_DURATION_UNIT_UNSPECIFIED ||
      !common::v1::WorkingDurationUnit_IsValid(d.unit())) {
    out->push_back({absl::StrCat(path, ".unit"), "is required: DAYS or HOURS"});
  }
  // 365 working days at most, as the deadline service counts.
  if (d.amount() <= 0 ||
      (d.unit() == common::v1::WORKING_DURATION_UNIT_DAYS &&
       d.amount() > 365) ||
      (d.unit() == common::v1::WORKING_DURATION_UNIT_HOURS &&
       d.amount() > 365 * 8)) {
    out->push_back({absl::StrCat(path, ".amount"),
                    "must be positive and at most 365 working days"});
  }
}

}  // namespace

absl::StatusOr<std::vector<std::string>> TopologicalLegOrder(
    const v1::Procedure& p) {
  std::map<std::string, const v1::LegSpec*> legs;
  for (const auto& l : p.legs()) legs[l.id()] = &l;
  std::vector<std::string> order;
  std::map<std::string, int> mark;  // 0 new, 1 on stack, 2 done
  std::string cycle_at;
  std::function<bool(const std::string&)> visit = [&](const std::string& id) {
    if (mark[id] == 2) return true;
    if (mark[id] == 1) {
      cycle_at = id;
      return false;
    }
    mark[id] = 1;
    auto it = legs.find(id);
    if (it != legs.end()) {
      for (const std::string& dep : it->second->depends_on()) {
        if (legs.count(dep) && !visit(dep)) return false;
      }
    }
    mark[id] = 2;
    order.push_back(id);
    return true;
  };
  for (const auto& l : p.legs()) {
    if (!visit(l.id())) {
      return common::InvalidArgument(
          "LEG_CYCLE",
          {{"procedure.legs",
            absl::StrCat("legs must form a DAG; leg '", cycle_at,
                         "' depends on itself through its dependencies")}});
    }
  }
  return order;
}

namespace {

// Bounds a procedure stays within: every DossierReceived carries the whole
// procedure, and validating legs is quadratic in their number.
constexpr int kMaxProcedureFields = 300;
constexpr int kMaxProcedureDocuments = 100;
constexpr int kMaxProcedureLegs = 50;
constexpr int kMaxLegLinks = 100;  // depends_on, produces, consumes each
constexpr int kMaxEnumValues = 500;

// A field of a dossier or an output of a leg, as a FieldSpec.
void ValidateFieldSpec(const common::v1::FieldSpec& f, const std::string& path,
                       std::vector<FieldViolation>* v) {
  if (f.type() == common::v1::FIELD_TYPE_UNSPECIFIED ||
      !common::v1::FieldType_IsValid(f.type())) {
    v->push_back({absl::StrCat(path, ".type"), "is required: a FieldType"});
  }
  if (!f.pattern().empty() && !fields::IsValidPattern(f.pattern())) {
    v->push_back({absl::StrCat(path, ".pattern"),
                  "is not a valid RE2 regular expression"});
  }
  if (f.type() == common::v1::FIELD_TYPE_ENUM) {
    const bool any =
        std::any_of(f.enum_values().begin(), f.enum_values().end(),
                    [](const std::string& e) { return !e.empty(); });
    if (!any || f.enum_values_size() > kMaxEnumValues) {
      v->push_back({absl::StrCat(path, ".enum_values"),
                    absl::StrCat("ENUM needs 1 to ", kMaxEnumValues,
                                 " non-empty values")});
    }
  }
}

// Sizes first: the checks after them walk every list.
std::vector<FieldViolation> ProcedureSizes(const v1::Procedure& p) {
  std::vector<FieldViolation> v;
  auto at_most = [&](const std::string& path, int n, int max) {
    if (n > max) v.push_back({path, absl::StrCat("at most ", max)});
  };
  at_most("procedure.fields", p.fields_size(), kMaxProcedureFields);
  at_most("procedure.documents", p.documents_size(), kMaxProcedureDocuments);
  at_most("procedure.legs", p.legs_size(), kMaxProcedureLegs);
  for (int i = 0; i < p.legs_size() && i < kMaxProcedureLegs; ++i) {
    const auto& l = p.legs(i);
    const std::string path = absl::StrCat("procedure.legs[", i, "]");
    at_most(absl::StrCat(path, ".depends_on"), l.depends_on_size(),
            kMaxLegLinks);
    at_most(absl::StrCat(path, ".produces"), l.produces_size(), kMaxLegLinks);
    at_most(absl::StrCat(path, ".consumes"), l.consumes_size(), kMaxLegLinks);
  }
  return v;
}

}  // namespace

absl::Status ValidateProcedure(const v1::Procedure& p) {
  if (std::vector<FieldViolation> v = ProcedureSizes(p); !v.empty()) {
    return common::InvalidArgument("INVALID_PROCEDURE", v);
  }
  std::vector<FieldViolation> v;
  if (p.code().empty() || p.code().size() > 40 ||
      p.code().find('/') != std::string::npos) {
    v.push_back({"procedure.code", "is required (no '/')"});
  }
  RequireText("procedure.display_name", p.display_name(), &v, 1000);
  const auto bad_tier = [](int t) {
    return t == common::v1::TIER_UNSPECIFIED || !common::v1::Tier_IsValid(t);
  };
  if (p.receiving_tiers().empty() ||
      std::any_of(p.receiving_tiers().begin(), p.receiving_tiers().end(),
                  bad_tier)) {
    v.push_back(
        {"procedure.receiving_tiers", "at least one tier, each a Tier"});
  }
  if (bad_tier(p.deciding_tier())) {
    v.push_back({"procedure.deciding_tier", "is required: a Tier"});
  }
  if (p.online_level() < 1 || p.online_level() > 4) {
    v.push_back({"procedure.online_level", "must be 1 to 4"});
  }
  if (p.fee_vnd() < 0)
    v.push_back({"procedure.fee_vnd", "must not be negative"});
  ValidateDuration("procedure.legal_time", p.legal_time(), &v);
  if (p.has_effective_time()) {
    // Years 2000-9999: anything else is a typo that would never come into
    // force, or that PostgreSQL refuses.
    const auto& t = p.effective_time();
    if (t.seconds() < 946684800 || t.seconds() > 253402300799 ||
        t.nanos() < 0 || t.nanos() > 999999999) {
      v.push_back({"procedure.effective_time",
                   "must be a valid time in years 2000-9999"});
    }
  }
  if (!ParseCutoff(p.cutoff_local_time()).ok()) {
    v.push_back({"procedure.cutoff_local_time", "must be HH:MM"});
  }
  if (absl::string_view id = p.calendar();
      !id.empty() && (!absl::ConsumePrefix(&id, "calendars/") || id.empty() ||
                      absl::StrContains(id, '/'))) {
    v.push_back({"procedure.calendar",
                 "must be calendars/{id} (e.g. calendars/vn-H26) or empty"});
  }
  std::set<std::string> keys;
  for (int i = 0; i < p.fields_size(); ++i) {
    const auto& f = p.fields(i);
    const std::string path = absl::StrCat("procedure.fields[", i, "]");
    if (f.key().empty() || !keys.insert(f.key()).second) {
      v.push_back({absl::StrCat(path, ".key"), "must be unique and non-empty"});
    }
    RequireText(absl::StrCat(path, ".label"), f.label(), &v);
    ValidateFieldSpec(f, path, &v);
  }
  std::set<std::string> docs;
  for (int i = 0; i < p.documents_size(); ++i) {
    const auto& d = p.documents(i);
    if (d.code().empty() || !docs.insert(d.code()).second) {
      v.push_back({absl::StrCat("procedure.documents[", i, "].code"),
                   "must be unique and non-empty"});
    }
    RequireText(absl::StrCat("procedure.documents[", i, "].display_name"),
                d.display_name(), &v);
    if (d.originals() < 0 || d.copies() < 0 ||
        (d.required() && d.originals() + d.copies() == 0)) {
      v.push_back({absl::StrCat("procedure.documents[", i, "]"),
                   "originals and copies must not be negative, and a "
                   "required document needs at least one of them"});
    }
  }
  // Legs.
  std::map<std::string, const v1::LegSpec*> legs;
  for (int i = 0; i < p.legs_size(); ++i) {
    const auto& l = p.legs(i);
    const std::string path = absl::StrCat("procedure.legs[", i, "]");
    if (l.id().empty() || !legs.emplace(l.id(), &l).second) {
      v.push_back({absl::StrCat(path, ".id"), "must be unique and non-empty"});
    }
    RequireText(absl::StrCat(path, ".display_name"), l.display_name(), &v);
    if (l.agency_kind() == common::v1::AGENCY_KIND_UNSPECIFIED ||
        !common::v1::AgencyKind_IsValid(l.agency_kind())) {
      v.push_back({absl::StrCat(path, ".agency_kind"), "is required"});
    }
    // Tiers are numbered from the top (province 1): from every receiving
    // tier, the leg's agency must lie at or below the top of the tree.
    int lowest_receiving = common::v1::TIER_COMMUNE;
    for (int t : p.receiving_tiers())
      lowest_receiving = std::min(lowest_receiving, t);
    if (l.levels_up() < 0 || l.levels_up() >= lowest_receiving) {
      v.push_back({absl::StrCat(path, ".levels_up"),
                   "must not be negative, nor climb above the top of the "
                   "tree from a receiving tier"});
    }
    ValidateDuration(absl::StrCat(path, ".time_limit"), l.time_limit(), &v);
    if (WorkingTimeOf(l.time_limit()) > WorkingTimeOf(p.legal_time())) {
      v.push_back({absl::StrCat(path, ".time_limit"),
                   "must not exceed the procedure's legal_time"});
    }
    std::set<std::string> out_keys;
    for (int k = 0; k < l.produces_size(); ++k) {
      const auto& o = l.produces(k);
      if (o.key().empty() || !out_keys.insert(o.key()).second) {
        v.push_back({absl::StrCat(path, ".produces"),
                     "output keys must be unique and non-empty"});
      }
      ValidateFieldSpec(o, absl::StrCat(path, ".produces[", k, "]"), &v);
    }
  }
  for (int i = 0; i < p.legs_size(); ++i) {
    const auto& l = p.legs(i);
    for (const std::string& dep : l.depends_on()) {
      if (!legs.count(dep)) {
        v.push_back({absl::StrCat("procedure.legs[", i, "].depends_on"),
                     absl::StrCat("unknown leg '", dep, "'")});
      }
    }
  }
  if (!v.empty()) return common::InvalidArgument("INVALID_PROCEDURE", v);
  auto order = TopologicalLegOrder(p);
  if (!order.ok()) return order.status();
  // Every consumed output must be produced by a leg upstream of the consumer
  // (or be a dossier field).
  std::map<std::string, std::set<std::string>> upstream_outputs;
  for (const std::string& id : *order) {
    const v1::LegSpec& l = *legs[id];
    std::set<std::string> available;
    for (const std::string& dep : l.depends_on()) {
      available.insert(upstream_outputs[dep].begin(),
                       upstream_outputs[dep].end());
      for (const auto& o : legs[dep]->produces()) available.insert(o.key());
    }
    for (const std::string& c : l.consumes()) {
      if (!available.count(c) && !keys.count(c)) {
        v.push_back({absl::StrCat("procedure.legs[", id, "].consumes"),
                     absl::StrCat("'", c,
                                  "' is produced by no upstream leg and is "
                                  "not a dossier field")});
      }
    }
    upstream_outputs[id] = available;
  }
  if (!v.empty()) return common::InvalidArgument("INVALID_PROCEDURE", v);
  return absl::OkStatus();
}

}  // namespace lienthong::intake
