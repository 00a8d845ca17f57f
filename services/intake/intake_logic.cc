#include "services/intake/intake_logic.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/utf8.h"
#include "libs/fields/field_validation.h"
#include "services/intake/intake_logic_internal.h"

namespace lienthong::intake {
namespace {

using common::FieldViolation;

std::string StripNamePrefix(absl::string_view name, absl::string_view prefix) {
  if (!absl::ConsumePrefix(&name, prefix) || name.empty() ||
      name.find('/') != absl::string_view::npos) {
    return "";
  }
  return std::string(name);
}

}  // namespace

namespace internal {

void RequireText(absl::string_view path, absl::string_view value,
                 std::vector<FieldViolation>* out, size_t max) {
  if (value.empty()) {
    out->push_back({std::string(path), "is required"});
  } else if (!common::IsValidUtf8(value)) {
    out->push_back({std::string(path), "must be valid UTF-8"});
  } else if (common::Utf8Length(value) > max) {
    out->push_back({std::string(path),
                    absl::StrCat("must be at most ", max, " characters")});
  }
}

absl::Duration WorkingTimeOf(const common::v1::WorkingDuration& d) {
  return d.unit() == common::v1::WORKING_DURATION_UNIT_DAYS
             ? calendar::kWorkingDay * d.amount()
             : absl::Hours(d.amount());
}

}  // namespace internal

using internal::RequireText;
using internal::WorkingTimeOf;

int PageSize(int requested) {
  if (requested <= 0) return 50;
  return std::min(requested, 500);
}

absl::TimeZone VietnamTime() {
  static const absl::TimeZone* tz = [] {
    auto* z = new absl::TimeZone();
    if (!absl::LoadTimeZone("Asia/Ho_Chi_Minh", z)) {
      *z = absl::FixedTimeZone(7 * 3600);
    }
    return z;
  }();
  return *tz;
}

std::string AgencyName(absl::string_view code) {
  return absl::StrCat("agencies/", code);
}
std::string AgencyCodeOf(absl::string_view name) {
  return StripNamePrefix(name, "agencies/");
}
std::string ProcedureName(absl::string_view code) {
  return absl::StrCat("procedures/", code);
}
std::string ProcedureCodeOf(absl::string_view name) {
  return StripNamePrefix(name, "procedures/");
}
std::string DossierName(absl::string_view code) {
  return absl::StrCat("dossiers/", code);
}
std::string DossierCodeOf(absl::string_view name) {
  return StripNamePrefix(name, "dossiers/");
}

absl::Status DossierNotFound(const std::string& code) {
  return common::NotFound("DOSSIER_NOT_FOUND",
                          absl::StrCat("dossier ", code, " does not exist"),
                          {{"dossier", code}});
}

absl::Status BadDossierName() {
  return common::InvalidArgument("BAD_NAME",
                                 {{"name", "must be dossiers/{code}"}});
}

bool IsAgencyCode(absl::string_view code) {
  // QCVN 102:2016: three groups of digits (3, 2, 2) and the unit of the
  // first level, a letter and two digits (H26 for Hà Nội): 000.00.14.H26.
  const std::vector<absl::string_view> g = absl::StrSplit(code, '.');
  const auto digits = [](absl::string_view s, size_t n) {
    return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
             return absl::ascii_isdigit(static_cast<unsigned char>(c));
           });
  };
  return g.size() == 4 && digits(g[0], 3) && digits(g[1], 2) &&
         digits(g[2], 2) && g[3].size() == 3 &&
         absl::ascii_isupper(static_cast<unsigned char>(g[3][0])) &&
         digits(g[3].substr(1), 2);
}

absl::Status ValidateAgency(const v1::Agency& a) {
  std::vector<FieldViolation> v;
  if (!IsAgencyCode(a.code())) {
    v.push_back({"agency.code",
                 "must be a QCVN 102:2016 style code, e.g. 000.00.00.H26"});
  }
  RequireText("agency.display_name", a.display_name(), &v);
  if (a.tier() == common::v1::TIER_UNSPECIFIED) {
    v.push_back({"agency.tier", "is required"});
  }
  if (a.kind() == common::v1::AGENCY_KIND_UNSPECIFIED) {
    v.push_back({"agency.kind", "is required"});
  }
  if (!a.parent().empty() && AgencyCodeOf(a.parent()).empty()) {
    v.push_back({"agency.parent", "must be agencies/{code}"});
  }
  if (!a.parent().empty() && AgencyCodeOf(a.parent()) == a.code()) {
    v.push_back({"agency.parent", "must not be the agency itself"});
  }
  if (!v.empty()) return common::InvalidArgument("INVALID_AGENCY", v);
  return absl::OkStatus();
}

absl::Status ValidateDossier(const v1::Dossier& d, const v1::Procedure& p) {
  std::vector<FieldViolation> v;
  if (d.channel() == common::v1::RECEIPT_CHANNEL_UNSPECIFIED) {
    v.push_back({"dossier.channel", "is required (counter, online, postal)"});
  }
  const v1::Applicant& a = d.applicant();
  RequireText("dossier.applicant.full_name", a.full_name(), &v, 200);
  if (!fields::IsPersonalId(a.personal_id())) {
    v.push_back({"dossier.applicant.personal_id",
                 "must be a 12-digit personal identification number"});
  }
  if (!a.date_of_birth().empty() && !fields::IsDate(a.date_of_birth())) {
    v.push_back({"dossier.applicant.date_of_birth", "must be YYYY-MM-DD"});
  }
  if (!a.address().empty() && !common::IsValidUtf8(a.address())) {
    v.push_back({"dossier.applicant.address", "must be valid UTF-8"});
  }
  const auto& c = a.contact();
  if (c.phone().empty()) {
    // The citizen's lookup and rating prove the applicant with its last 4
    // digits: without one, they could never follow their dossier.
    v.push_back({"dossier.applicant.contact.phone",
                 "is required: the citizen looks the dossier up with its "
                 "last 4 digits"});
  } else if (!fields::IsPhone(c.phone())) {
    v.push_back({"dossier.applicant.contact.phone",
                 "must be a Vietnamese phone number (0xxxxxxxxx)"});
  }
  if (!c.email().empty() && !fields::IsEmail(c.email())) {
    v.push_back(
        {"dossier.applicant.contact.email", "must be an e-mail address"});
  }
  fields::ValidateValues(p.fields(), d.fields(), "dossier.fields", &v);
  std::set<std::string> spec_docs;
  for (const auto& s : p.documents()) spec_docs.insert(s.code());
  std::set<std::string> given;
  for (int i = 0; i < d.documents_size(); ++i) {
    const auto& doc = d.documents(i);
    const std::string path = absl::StrCat("dossier.documents[", i, "]");
    if (!spec_docs.count(doc.code())) {
      v.push_back({absl::StrCat(path, ".code"),
                   absl::StrCat("'", doc.code(),
                                "' is not a document of this procedure")});
    }
    given.insert(doc.code());
    bool hex = doc.sha256().size() == 64;
    for (const char ch : doc.sha256()) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(ch))) hex = false;
    }
    if (!hex) {
      v.push_back({absl::StrCat(path, ".sha256"),
                   "must be the 64-hex-digit SHA-256 of the content"});
    }
    if (doc.content().size() > kMaxDocumentBytes) {
      v.push_back({absl::StrCat(path, ".content"),
                   "must be at most 2 MiB; store larger files elsewhere and "
                   "send only the hash"});
    }
  }
  for (const auto& s : p.documents()) {
    if (s.required() && !given.count(s.code())) {
      v.push_back({absl::StrCat("dossier.documents[", s.code(), "]"),
                   absl::StrCat("'", s.display_name(), "' is required")});
    }
  }
  if (!v.empty()) {
    return common::WithLocalizedMessage(
        common::InvalidArgument("INVALID_DOSSIER", v),
        absl::StrCat("Hồ sơ chưa hợp lệ: ", v.size(),
                     " mục cần sửa hoặc bổ sung."));
  }
  return absl::OkStatus();
}

absl::Status CheckMayReceive(const v1::Procedure& p, const v1::Agency& a,
                             absl::Time at) {
  if (a.kind() != common::v1::AGENCY_KIND_ONE_STOP_UNIT &&
      a.kind() != common::v1::AGENCY_KIND_PEOPLES_COMMITTEE) {
    return common::FailedPrecondition(
        "NOT_A_RECEIVING_UNIT",
        absl::StrCat("agency ", a.code(),
                     " is not a one-stop unit and cannot receive dossiers"),
        {{"agency", a.code()}});
  }
  bool tier_ok = false;
  for (int t : p.receiving_tiers()) tier_ok = tier_ok || t == a.tier();
  if (!tier_ok) {
    return common::WithLocalizedMessage(
        common::FailedPrecondition(
            "TIER_MAY_NOT_RECEIVE",
            absl::StrCat("procedure ", p.code(),
                         " may not be received at this agency's tier"),
            {{"procedure", p.code()},
             {"tier", common::v1::Tier_Name(a.tier())}}),
        "Thủ tục này không được tiếp nhận tại cấp hành chính của đơn vị.");
  }
  const absl::Time eff = absl::FromUnixSeconds(p.effective_time().seconds());
  if (at < eff) {
    return common::FailedPrecondition(
        "PROCEDURE_NOT_IN_FORCE",
        absl::StrCat("procedure ", p.code(), " is not in force yet"),
        {{"procedure", p.code()}});
  }
  return absl::OkStatus();
}

absl::CivilDay LocalDay(absl::Time t) {
  return absl::ToCivilDay(t, VietnamTime());
}

std::string FormatDossierCode(absl::string_view agency_code, absl::CivilDay day,
                              int64_t sequence) {
  return absl::StrFormat("%s-%02d%02d%02d-%04d", agency_code, day.year() % 100,
                         day.month(), day.day(), sequence);
}

v1::Dossier CitizenView(const v1::Dossier& d) {
  v1::Dossier v;
  v.set_name(d.name());
  v.set_code(d.code());
  v.set_receiving_agency(d.receiving_agency());
  v.set_procedure(d.procedure());
  v.set_procedure_version(d.procedure_version());
  v.set_channel(d.channel());
  v.set_state(d.state());
  v.set_national_status_code(d.national_status_code());
  *v.mutable_receive_time() = d.receive_time();
  *v.mutable_appointment_time() = d.appointment_time();
  v.set_calendar_version(d.calendar_version());
  v.set_current_step(d.current_step());
  v.set_rating(d.rating());
  v.set_rating_comment(d.rating_comment());
  if (d.has_return_time()) *v.mutable_return_time() = d.return_time();
  v.set_late(d.late());
  *v.mutable_update_time() = d.update_time();
  return v;
}

absl::StatusOr<absl::optional<int>> ParseCutoff(absl::string_view hhmm) {
  if (hhmm.empty()) return absl::optional<int>();
  // The deadline service reads the procedure's cut-off with the calendar's
  // parser too: one that intake accepted and it refused would leave the
  // dossier without a clock. (SimpleAtoi would take " 8" and "+8".)
  int minute = 0;
  if (!calendar::ParseMinuteOfDay(std::string(hhmm), &minute).ok() ||
      minute >= calendar::kMinutesPerDay) {
    return absl::InvalidArgumentError("cut-off must be HH:MM");
  }
  return absl::optional<int>(minute);
}

absl::StatusOr<absl::Time> ComputeAppointment(
    const calendar::WorkingCalendar& cal, absl::Time received,
    const v1::Procedure& p) {
  auto cutoff = ParseCutoff(p.cutoff_local_time());
  if (!cutoff.ok()) return cutoff.status();
  calendar::AddOptions opts;
  opts.cutoff_minute = *cutoff;
  return cal.AddWorkingDuration(
      received, calendar::WorkingDuration::Of(WorkingTimeOf(p.legal_time())),
      opts);
}

}  // namespace lienthong::intake
