#include "services/notify/notify_events.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpc_util/proto_time.h"
#include "lienthong/deadline/v1/events.pb.h"
#include "lienthong/intake/v1/events.pb.h"
#include "lienthong/routing/v1/events.pb.h"
#include "services/notify/delivery_policy.h"

namespace lienthong::notify {
namespace {

std::string CodeOf(absl::string_view dossier) {
  return std::string(absl::StripPrefix(dossier, "dossiers/"));
}

std::string When(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return FormatVietnamTime(grpc_util::FromProto(t));
}

void Put(Values& v, const std::string& key, const std::string& value) {
  if (!value.empty()) v[key] = value;
}

template <typename T>
absl::StatusOr<T> Unpack(const common::v1::Event& e) {
  T msg;
  if (!e.payload().UnpackTo(&msg)) {
    return common::InvalidArgument("BAD_EVENT_PAYLOAD",
                                   {{"event.payload", "does not parse"}});
  }
  return msg;
}

NotificationPlan Base(const common::v1::Event& e, std::string type,
                      absl::string_view dossier) {
  NotificationPlan p;
  p.event_id = e.event_id();
  p.event_type = std::move(type);
  p.dossier = std::string(dossier.empty() ? e.dossier() : dossier);
  p.occur_time = grpc_util::FromProto(e.occur_time());
  Put(p.values, "dossier_code", CodeOf(p.dossier));
  const std::string agency = ReceivingAgencyOf(p.dossier);
  if (!agency.empty()) p.agency_codes.push_back(agency);
  return p;
}

}  // namespace

std::string ReceivingAgencyOf(absl::string_view dossier_name) {
  std::string code = CodeOf(dossier_name);
  const size_t seq = code.rfind('-');
  if (seq == std::string::npos || seq == 0) return "";
  const size_t day = code.rfind('-', seq - 1);
  if (day == std::string::npos || day == 0) return "";
  return code.substr(0, day);
}

std::optional<Channel> ChannelFromProto(common::v1::ContactChannel c) {
  switch (c) {
    case common::v1::CONTACT_CHANNEL_SMS:
      return Channel::kSms;
    case common::v1::CONTACT_CHANNEL_EMAIL:
      return Channel::kEmail;
    case common::v1::CONTACT_CHANNEL_WEBHOOK:
      return Channel::kWebhook;
    default:
      return std::nullopt;
  }
}

common::v1::ContactChannel ChannelToProto(Channel c) {
  switch (c) {
    case Channel::kSms:
      return common::v1::CONTACT_CHANNEL_SMS;
    case Channel::kEmail:
      return common::v1::CONTACT_CHANNEL_EMAIL;
    case Channel::kWebhook:
      return common::v1::CONTACT_CHANNEL_WEBHOOK;
  }
  return common::v1::CONTACT_CHANNEL_UNSPECIFIED;
}

Contact ContactFromProto(const common::v1::Contact& c) {
  return Contact{c.phone(), c.email(), ChannelFromProto(c.preferred_channel())};
}

absl::StatusOr<std::optional<NotificationPlan>> PlanFromEvent(
    const common::v1::Event& e) {
  using Plan = std::optional<NotificationPlan>;
  const google::protobuf::Any& any = e.payload();
  if (any.Is<intake::v1::DossierReceived>()) {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<intake::v1::DossierReceived>(e));
    NotificationPlan p = Base(e, "dossier_received", m.dossier());
    Put(p.values, "appointment_time", When(m.appointment_time()));
    Put(p.values, "receive_time", When(m.receive_time()));
    Put(p.values, "procedure_name", m.procedure_display_name());
    Put(p.values, "applicant_name", m.masked_applicant_name());
    Put(p.values, "agency_name", m.receiving_agency().display_name());
    p.citizen = ContactFromProto(m.applicant_contact());
    const std::vector<std::string> ancestors(m.agency_ancestor_codes().begin(),
                                             m.agency_ancestor_codes().end());
    for (const std::string& a : ancestors) p.agency_codes.push_back(a);
    const std::string receiving = ReceivingAgencyOf(p.dossier);
    if (!receiving.empty() && !ancestors.empty()) {
      p.ancestors.push_back({receiving, ancestors});
    }
    return Plan(std::move(p));
  }
  if (any.Is<intake::v1::DossierSupplementRequested>()) {
    LT_ASSIGN_OR_RETURN(auto m,
                        Unpack<intake::v1::DossierSupplementRequested>(e));
    NotificationPlan p = Base(e, "supplement_requested", m.dossier());
    Put(p.values, "reason", m.reason());
    Put(p.values, "request_time", When(m.request_time()));
    p.citizen = ContactFromProto(m.applicant_contact());
    return Plan(std::move(p));
  }
  if (any.Is<intake::v1::ApologyIssued>()) {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<intake::v1::ApologyIssued>(e));
    NotificationPlan p = Base(e, "apology_issued", m.dossier());
    Put(p.values, "old_appointment_time", When(m.old_appointment_time()));
    Put(p.values, "new_appointment_time", When(m.new_appointment_time()));
    Put(p.values, "reason", m.reason());
    p.citizen = ContactFromProto(m.applicant_contact());
    return Plan(std::move(p));
  }
  if (any.Is<intake::v1::AppointmentRescheduled>()) {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<intake::v1::AppointmentRescheduled>(e));
    NotificationPlan p = Base(e, "appointment_rescheduled", m.dossier());
    Put(p.values, "old_appointment_time", When(m.old_appointment_time()));
    Put(p.values, "new_appointment_time", When(m.new_appointment_time()));
    Put(p.values, "reason", m.reason());
    Put(p.values, "agency_name", m.receiving_agency().display_name());
    Put(p.values, "procedure_name", m.procedure_display_name());
    p.citizen = ContactFromProto(m.applicant_contact());
    // The receiving office's webhooks only (its counter hands the result
    // back at the new time); the ancestors it carries are remembered for
    // the clock events that do not.
    const std::vector<std::string> ancestors(m.agency_ancestor_codes().begin(),
                                             m.agency_ancestor_codes().end());
    const std::string receiving = ReceivingAgencyOf(p.dossier);
    if (!receiving.empty() && !ancestors.empty()) {
      p.ancestors.push_back({receiving, ancestors});
    }
    return Plan(std::move(p));
  }
  if (any.Is<intake::v1::DossierRefused>()) {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<intake::v1::DossierRefused>(e));
    NotificationPlan p = Base(e, "dossier_refused", m.dossier());
    Put(p.values, "reason", m.reason());
    Put(p.values, "refuse_time", When(m.refuse_time()));
    p.citizen = ContactFromProto(m.applicant_contact());
    return Plan(std::move(p));
  }
  if (any.Is<intake::v1::DossierReadyForReturn>()) {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<intake::v1::DossierReadyForReturn>(e));
    NotificationPlan p = Base(e, "ready_for_return", m.dossier());
    Put(p.values, "appointment_time", When(m.appointment_time()));
    Put(p.values, "ready_time", When(m.ready_time()));
    Put(p.values, "agency_name", m.receiving_agency_display_name());
    p.citizen = ContactFromProto(m.applicant_contact());
    return Plan(std::move(p));
  }
  const bool due_soon = any.Is<deadline::v1::ClockDueSoon>();
  if (due_soon || any.Is<deadline::v1::ClockOverdue>()) {
    deadline::v1::Clock clock;
    if (due_soon) {
      LT_ASSIGN_OR_RETURN(auto m, Unpack<deadline::v1::ClockDueSoon>(e));
      clock = m.clock();
    } else {
      LT_ASSIGN_OR_RETURN(auto m, Unpack<deadline::v1::ClockOverdue>(e));
      clock = m.clock();
    }
    NotificationPlan p =
        Base(e, due_soon ? "clock_due_soon" : "clock_overdue", clock.dossier());
    Put(p.values, "due_time", When(clock.due_time()));
    Put(p.values, "clock_kind",
        clock.kind() == deadline::v1::CLOCK_KIND_LEG ? "bước xử lý" : "hồ sơ");
    Put(p.values, "task", clock.task());
    const std::string agency(absl::StripPrefix(clock.agency(), "agencies/"));
    Put(p.values, "agency_code", agency);
    if (!agency.empty() && agency != ReceivingAgencyOf(p.dossier)) {
      p.agency_codes.push_back(agency);
    }
    // The clock names only the responsible agency; its supervisors (the
    // district and city above it) are the ancestors notify learned from
    // earlier events.
    p.with_ancestors = true;
    return Plan(std::move(p));
  }
  if (any.Is<routing::v1::TaskDispatched>()) {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<routing::v1::TaskDispatched>(e));
    NotificationPlan p = Base(e, "task_dispatched", m.dossier());
    const std::string agency(absl::StripPrefix(m.agency(), "agencies/"));
    // The task's agency and its supervisors, not the receiving office.
    p.agency_codes = {agency};
    const std::vector<std::string> ancestors(m.agency_ancestor_codes().begin(),
                                             m.agency_ancestor_codes().end());
    for (const std::string& a : ancestors) p.agency_codes.push_back(a);
    if (!agency.empty() && !ancestors.empty()) {
      p.ancestors.push_back({agency, ancestors});
    }
    Put(p.values, "task", m.task());
    Put(p.values, "leg_id", m.leg_id());
    Put(p.values, "agency_code", agency);
    Put(p.values, "procedure_name", m.procedure());
    Put(p.values, "dispatch_time", When(m.dispatch_time()));
    return Plan(std::move(p));
  }
  if (any.Is<routing::v1::TaskCancelled>()) {
    LT_ASSIGN_OR_RETURN(auto m, Unpack<routing::v1::TaskCancelled>(e));
    NotificationPlan p = Base(e, "task_cancelled", m.dossier());
    // A refusal elsewhere (or a withdrawal) cancelled this agency's task:
    // its system must stop working on it. Not the citizen (told by the
    // dossier's own refusal or withdrawal), not the receiving office.
    const std::string agency(absl::StripPrefix(m.agency(), "agencies/"));
    p.agency_codes.clear();
    if (!agency.empty()) p.agency_codes.push_back(agency);
    Put(p.values, "task", m.task());
    Put(p.values, "leg_id", m.leg_id());
    Put(p.values, "agency_code", agency);
    Put(p.values, "reason", m.reason());
    Put(p.values, "cancel_time", When(m.cancel_time()));
    return Plan(std::move(p));
  }
  return Plan();
}

}  // namespace lienthong::notify
