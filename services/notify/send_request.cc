#include "services/notify/send_request.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "libs/common/dossier_code.h"
#include "libs/common/errors.h"
#include "libs/common/utf8.h"
#include "libs/common/uuid.h"
#include "libs/fields/field_validation.h"

namespace lienthong::notify {

absl::StatusOr<CheckedSend> CheckSendRequest(
    const v1::SendNotificationRequest& req) {
  std::vector<common::FieldViolation> v;
  if (!common::IsUuid(req.request_id())) {
    v.push_back({"request_id", "must be a UUID"});
  }
  CheckedSend out;
  out.event_type = req.event_type().empty() ? "ad_hoc" : req.event_type();
  const std::string& event_type = out.event_type;
  const EventTypeSpec* spec = FindEventType(event_type);
  if (spec == nullptr) v.push_back({"event_type", "unknown event type"});
  out.contact = ContactFromProto(req.recipient());
  const Contact& contact = out.contact;
  if (contact.phone.empty() && contact.email.empty()) {
    v.push_back({"recipient", "needs a phone or an e-mail address"});
  }
  // A bad address is refused now, not dead-lettered after the sender has
  // tried it.
  if (!contact.phone.empty() && !fields::IsMobilePhone(contact.phone)) {
    v.push_back({"recipient.phone",
                 "must be a Vietnamese mobile number: 0[35789] and 8 digits "
                 "(0912345678), or +84[35789] and 8 digits (+84912345678)"});
  }
  if (!contact.email.empty() && !fields::IsEmail(contact.email)) {
    v.push_back({"recipient.email",
                 "must be an e-mail address such as ten@example.vn"});
  }
  out.channel = ChannelFromProto(req.channel());
  const std::optional<Channel> channel = out.channel;
  if (channel == Channel::kWebhook) {
    v.push_back({"channel", "webhooks are for events, not people"});
  }
  if (channel == Channel::kSms && contact.phone.empty()) {
    v.push_back({"recipient.phone", "required for SMS"});
  }
  if (channel == Channel::kEmail && contact.email.empty()) {
    v.push_back({"recipient.email", "required for e-mail"});
  }
  std::string& dossier_code = out.dossier_code;
  if (!req.dossier().empty()) {
    absl::string_view code = req.dossier();
    if (absl::ConsumePrefix(&code, "dossiers/") &&
        common::IsDossierCode(code)) {
      dossier_code = std::string(code);
    } else {
      v.push_back({"dossier",
                   "must be dossiers/{code}, the code being <agency "
                   "code>-<yymmdd>-<sequence of 4 to 9 digits>, e.g. "
                   "dossiers/000.00.14.H26-260312-0042"});
    }
  }
  for (const auto& [k, val] : req.values()) {
    if (spec != nullptr && !common::IsValidUtf8(val)) {
      v.push_back({absl::StrCat("values[", k, "]"), "is not valid UTF-8"});
    } else if (spec != nullptr) {
      bool known = false;
      for (const std::string& n : spec->required) known |= n == k;
      for (const std::string& n : spec->optional) known |= n == k;
      if (!known) {
        v.push_back({absl::StrCat("values[", k, "]"),
                     absl::StrCat("not a placeholder of ", event_type)});
      }
    }
  }
  // What the template will be given: the values, and the dossier's code.
  out.values = Values(req.values().begin(), req.values().end());
  Values& values = out.values;
  if (!dossier_code.empty()) {
    auto [it, added] = values.emplace("dossier_code", dossier_code);
    if (!added && it->second != dossier_code) {
      v.push_back({"values[dossier_code]",
                   "must be the code of `dossier` (or left out)"});
    }
  }
  std::vector<std::string> missing;
  if (spec != nullptr) {
    missing = MissingRequiredValues(*spec, values);
    // A malformed dossier is reported on `dossier` already.
    if (!req.dossier().empty() && dossier_code.empty()) {
      std::erase(missing, "dossier_code");
    }
    for (const std::string& k : missing) {
      v.push_back({absl::StrCat("values[", k, "]"),
                   absl::StrCat(
                       "is required for ", event_type, " (", ValueLabel(k), ")",
                       k == "dossier_code" ? "; or name the dossier" : "")});
    }
  }
  if (!v.empty()) {
    std::vector<std::string> labels;
    for (const std::string& k : missing) labels.push_back(ValueLabel(k));
    return common::WithLocalizedMessage(
        common::InvalidArgument("INVALID_NOTIFICATION", v),
        missing.empty()
            ? absl::StrCat("Yêu cầu gửi thông báo chưa hợp lệ: ", v.size(),
                           " mục cần sửa.")
            : absl::StrCat("Thiếu thông tin bắt buộc để gửi thông báo: ",
                           absl::StrJoin(labels, ", "), "."));
  }
  return out;
}

}  // namespace lienthong::notify
