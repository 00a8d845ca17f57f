#include "services/notify/enqueuer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/redact.h"
#include "libs/common/status_macros.h"
#include "libs/common/uuid.h"
#include "nlohmann/json.hpp"
#include "services/notify/sms.h"

namespace lienthong::notify {

std::optional<Address> ChooseCitizenAddress(const Contact& c) {
  const Channel first = c.preferred.value_or(Channel::kSms);
  const auto address_of = [&](Channel ch) -> const std::string& {
    return ch == Channel::kEmail ? c.email : c.phone;
  };
  if (first != Channel::kWebhook && !address_of(first).empty()) {
    return Address{first, address_of(first)};
  }
  for (Channel ch : {Channel::kSms, Channel::kEmail}) {
    if (!address_of(ch).empty()) return Address{ch, address_of(ch)};
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<NewDelivery>> Enqueuer::Build(
    pqxx::work& tx, const NotificationPlan& plan, Channel channel,
    absl::string_view recipient) {
  absl::StatusOr<StoredTemplate> tmpl =
      store_.CurrentTemplate(tx, plan.event_type, channel);
  if (absl::IsNotFound(tmpl.status())) return std::optional<NewDelivery>();
  if (!tmpl.ok()) return tmpl.status();
  absl::StatusOr<Rendered> r = Render(tmpl->text, plan.values);
  if (!r.ok()) return r.status();
  NewDelivery d;
  d.id = common::NewUuid();
  d.event_id = plan.event_id;
  d.event_type = plan.event_type;
  d.dossier = plan.dossier;
  d.channel = channel;
  d.recipient = std::string(recipient);
  d.request_id = plan.request_id;
  d.request_hash = plan.request_hash;
  const absl::Time now = clock_.Now();
  d.next_attempt_time = now;
  switch (channel) {
    case Channel::kSms:
      d.body = TruncateSms(r->body, options_.sms_max_segments);
      d.preview = d.body;
      d.sms_segments = SmsSegments(d.body);
      d.masked_recipient = common::MaskPhone(recipient);
      d.citizen = true;
      d.next_attempt_time = HoldUntil(options_.quiet_hours, now);
      break;
    case Channel::kEmail:
      d.subject = r->subject;
      d.body = r->body;
      d.preview = r->subject;
      d.masked_recipient = common::MaskEmail(recipient);
      d.citizen = true;
      break;
    case Channel::kWebhook: {
      nlohmann::json data = nlohmann::json::object();
      for (const auto& [k, v] : plan.values) data[k] = v;
      nlohmann::json body = {
          {"delivery_id", d.id},
          {"event_id", plan.event_id},
          {"event_type", plan.event_type},
          {"dossier", plan.dossier},
          {"occur_time", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", plan.occur_time,
                                          absl::UTCTimeZone())},
          {"text", r->body},
          {"data", data},
      };
      d.body =
          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      d.preview = r->body;
      break;
    }
  }
  return std::optional<NewDelivery>(std::move(d));
}

absl::StatusOr<std::vector<std::string>> Enqueuer::EnqueueInTx(
    pqxx::work& tx, const NotificationPlan& plan) {
  std::vector<std::string> ids;
  for (const auto& [agency, ancestors] : plan.ancestors) {
    LT_RETURN_IF_ERROR(
        store_.RememberAncestors(tx, agency, ancestors, clock_.Now()));
  }
  if (plan.citizen.has_value()) {
    Contact c = *plan.citizen;
    if (plan.citizen_channel.has_value()) c.preferred = plan.citizen_channel;
    std::optional<Address> a = ChooseCitizenAddress(c);
    if (plan.citizen_channel.has_value() && a.has_value() &&
        a->channel != *plan.citizen_channel) {
      a.reset();
    }
    if (a.has_value()) {
      absl::StatusOr<std::optional<NewDelivery>> d =
          Build(tx, plan, a->channel, a->address);
      if (!d.ok()) return d.status();
      if (d->has_value()) {
        absl::StatusOr<std::string> id = store_.Enqueue(tx, **d, clock_.Now());
        if (!id.ok()) return id.status();
        ids.push_back(*id);
      }
    }
  }
  std::vector<std::string> agencies = plan.agency_codes;
  if (plan.with_ancestors && !agencies.empty()) {
    LT_ASSIGN_OR_RETURN(std::vector<std::string> above,
                        store_.AncestorsOf(tx, plan.agency_codes));
    for (std::string& a : above) {
      if (std::find(agencies.begin(), agencies.end(), a) == agencies.end()) {
        agencies.push_back(std::move(a));
      }
    }
  }
  if (!agencies.empty()) {
    absl::StatusOr<std::vector<Webhook>> hooks =
        store_.WebhooksFor(tx, agencies, plan.event_type);
    if (!hooks.ok()) return hooks.status();
    for (const Webhook& w : *hooks) {
      absl::StatusOr<std::optional<NewDelivery>> d =
          Build(tx, plan, Channel::kWebhook, w.id);
      if (!d.ok()) return d.status();
      if (!d->has_value()) continue;
      (*d)->webhook_id = w.id;
      (*d)->masked_recipient = absl::StrCat("webhooks/", w.id);
      (*d)->request_id.clear();
      absl::StatusOr<std::string> id = store_.Enqueue(tx, **d, clock_.Now());
      if (!id.ok()) return id.status();
      ids.push_back(*id);
    }
  }
  return ids;
}

}  // namespace lienthong::notify
