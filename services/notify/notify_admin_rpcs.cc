// Templates and webhooks RPCs of NotifyServer.

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/utf8.h"
#include "libs/common/uuid.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "libs/logging/logging.h"
#include "services/notify/notify_events.h"
#include "services/notify/notify_server.h"
#include "services/notify/sms.h"
#include "services/notify/transport.h"

namespace lienthong::notify {

using grpc_util::Caller;
using grpc_util::Role;

namespace {

grpc::Status Done(const absl::Status& s) {
  return grpc_util::ToGrpcStatus(s, "lienthong.notify");
}

void TemplateToProto(const StoredTemplate& t, v1::Template* out) {
  out->set_name(absl::StrCat("templates/", t.text.event_type, ".",
                             ChannelName(t.text.channel)));
  out->set_event_type(t.text.event_type);
  out->set_channel(ChannelToProto(t.text.channel));
  out->set_version(t.version);
  out->set_subject(t.text.subject);
  out->set_body(t.text.body);
  grpc_util::ToProto(t.create_time, out->mutable_create_time());
}

void WebhookToProto(const Webhook& w, v1::Webhook* out) {
  out->set_name(absl::StrCat("webhooks/", w.id));
  out->set_agency(absl::StrCat("agencies/", w.agency_code));
  out->set_url(w.url);
  for (const std::string& t : w.event_types) out->add_event_types(t);
  grpc_util::ToProto(w.create_time, out->mutable_create_time());
}

bool IsReader(const Caller& c) {
  return c.role != Role::kUnknown && c.role != Role::kCitizen;
}

// Admins manage every agency's webhooks; an agency's own system or
// supervisor manages that agency's.
bool ManagesAgency(const Caller& c, absl::string_view agency_code) {
  if (c.role == Role::kAdmin) return true;
  return (c.role == Role::kAgencySystem || c.role == Role::kSupervisor) &&
         !c.agency_code.empty() && c.agency_code == agency_code;
}

absl::StatusOr<std::pair<std::string, Channel>> ParseTemplateName(
    absl::string_view name) {
  if (absl::ConsumePrefix(&name, "templates/")) {
    const size_t dot = name.rfind('.');
    if (dot != absl::string_view::npos) {
      absl::StatusOr<Channel> c = ParseChannel(name.substr(dot + 1));
      if (c.ok()) return std::make_pair(std::string(name.substr(0, dot)), *c);
    }
  }
  return common::InvalidArgument(
      "INVALID_NAME", {{"name", "must be templates/{event_type}.{channel}"}});
}

}  // namespace

absl::Status NotifyServer::DoUpsertTemplate(
    grpc::ServerContext* ctx, const v1::UpsertTemplateRequest& req,
    v1::UpsertTemplateResponse* resp) {
  LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
  if (caller.role != Role::kAdmin) {
    return AuditDenied(
        caller, "UpsertTemplate", "templates",
        common::PermissionDenied("ADMIN_ONLY",
                                 "only administrators change templates"));
  }
  TemplateText t;
  t.event_type = req.template_().event_type();
  t.subject = req.template_().subject();
  t.body = req.template_().body();
  std::optional<Channel> channel = ChannelFromProto(req.template_().channel());
  if (!channel.has_value()) {
    return common::InvalidArgument("INVALID_TEMPLATE",
                                   {{"template.channel", "is required"}});
  }
  t.channel = *channel;
  if (!req.request_id().empty() && !common::IsUuid(req.request_id())) {
    return common::InvalidArgument("INVALID_TEMPLATE",
                                   {{"request_id", "must be a UUID"}});
  }
  LT_RETURN_IF_ERROR(ValidateTemplate(t, options_.sms_max_segments));
  LT_ASSIGN_OR_RETURN(
      StoredTemplate stored,
      store_.AddTemplateVersion(
          t, req.request_id(), clock_.Now(),
          AuditFor(caller, "UpsertTemplate", req.request_id())));
  logging::Event("template_saved")
      .With("event_type", t.event_type)
      .With("channel", std::string(ChannelName(t.channel)))
      .With("version", stored.version)
      .With("by", caller.subject)
      .Info();
  TemplateToProto(stored, resp->mutable_template_());
  if (t.channel == Channel::kSms) {
    const EventTypeSpec* spec = FindEventType(t.event_type);
    absl::StatusOr<std::string> sample =
        RenderText(t.body, spec->samples, Escape::kNone);
    if (sample.ok()) resp->set_sms_segments(SmsSegments(*sample));
  }
  return absl::OkStatus();
}

grpc::Status NotifyServer::UpsertTemplate(grpc::ServerContext* ctx,
                                          const v1::UpsertTemplateRequest* req,
                                          v1::UpsertTemplateResponse* resp) {
  return Done(DoUpsertTemplate(ctx, *req, resp));
}

grpc::Status NotifyServer::GetTemplate(grpc::ServerContext* ctx,
                                       const v1::GetTemplateRequest* req,
                                       v1::GetTemplateResponse* resp) {
  return Done([&]() -> absl::Status {
    LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
    if (!IsReader(caller)) {
      return AuditDenied(caller, "GetTemplate", req->name(),
                         common::PermissionDenied("ROLE_NOT_ALLOWED", ""));
    }
    LT_ASSIGN_OR_RETURN(auto key, ParseTemplateName(req->name()));
    LT_ASSIGN_OR_RETURN(StoredTemplate t,
                        store_.GetTemplate(key.first, key.second));
    TemplateToProto(t, resp->mutable_template_());
    return absl::OkStatus();
  }());
}

grpc::Status NotifyServer::ListTemplates(grpc::ServerContext* ctx,
                                         const v1::ListTemplatesRequest* req,
                                         v1::ListTemplatesResponse* resp) {
  return Done([&]() -> absl::Status {
    LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
    if (!IsReader(caller)) {
      return AuditDenied(caller, "ListTemplates", "templates",
                         common::PermissionDenied("ROLE_NOT_ALLOWED", ""));
    }
    LT_ASSIGN_OR_RETURN(
        Page<StoredTemplate> page,
        store_.ListTemplates(req->page_size(), req->page_token()));
    for (const StoredTemplate& t : page.items) {
      TemplateToProto(t, resp->add_templates());
    }
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  }());
}

absl::Status NotifyServer::DoRegisterWebhook(
    grpc::ServerContext* ctx, const v1::RegisterWebhookRequest& req,
    v1::RegisterWebhookResponse* resp) {
  LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
  const v1::Webhook& in = req.webhook();
  Webhook w;
  std::vector<common::FieldViolation> v;
  absl::string_view agency = in.agency();
  if (!absl::ConsumePrefix(&agency, "agencies/") || agency.empty()) {
    v.push_back({"webhook.agency", "must be agencies/{code}"});
  }
  w.agency_code = std::string(agency);
  absl::string_view id = in.name();
  if (!id.empty()) {
    if (!absl::ConsumePrefix(&id, "webhooks/") || !common::IsUuid(id)) {
      v.push_back({"webhook.name", "must be webhooks/{uuid} or empty"});
    }
    w.id = std::string(id);
  }
  w.url = in.url();
  const bool https = absl::StartsWith(w.url, "https://");
  const bool http = absl::StartsWith(w.url, "http://");
  if (!(https || (http && options_.allow_http_webhooks)) ||
      w.url.find_first_of(" \r\n") != std::string::npos) {
    v.push_back({"webhook.url", options_.allow_http_webhooks
                                    ? "must be an http(s) URL"
                                    : "must be an https URL"});
  } else if (std::optional<std::string> why =
                 WebhookUrlRefusal(w.url, options_.webhook_allow_cidrs);
             why.has_value()) {
    // Notify would call our own network for the agency and show it each
    // answer: refused here, and every send checks the addresses again.
    v.push_back({"webhook.url", absl::StrCat("host ", *why)});
  }
  w.secret = in.secret();
  if (w.id.empty() && w.secret.size() < 16) {
    v.push_back({"webhook.secret", "at least 16 characters"});
  } else if (!w.secret.empty() && w.secret.size() < 16) {
    v.push_back(
        {"webhook.secret", "at least 16 characters (or empty to keep)"});
  }
  for (const std::string& t : in.event_types()) {
    if (FindEventType(t) == nullptr) {
      v.push_back({"webhook.event_types", absl::StrCat("unknown: ", t)});
    }
    w.event_types.push_back(t);
  }
  if (!req.request_id().empty() && !common::IsUuid(req.request_id())) {
    v.push_back({"request_id", "must be a UUID"});
  }
  if (!v.empty()) return common::InvalidArgument("INVALID_WEBHOOK", v);
  if (!ManagesAgency(caller, w.agency_code)) {
    return AuditDenied(
        caller, "RegisterWebhook",
        w.id.empty() ? absl::StrCat("agencies/", w.agency_code)
                     : absl::StrCat("webhooks/", w.id),
        common::PermissionDenied(
            "OUTSIDE_AGENCY",
            "only the agency itself or an admin manages its webhooks"));
  }
  if (!w.secret.empty()) {
    LT_ASSIGN_OR_RETURN(w.secret, options_.secrets.Seal(w.secret));
  }
  w.previous_secret_expire_time =
      clock_.Now() + options_.webhook_secret_overlap;
  LT_ASSIGN_OR_RETURN(Webhook saved,
                      store_.SaveWebhook(w, req.request_id(), clock_.Now(),
                                         AuditFor(caller, "RegisterWebhook",
                                                  req.request_id())));
  WebhookToProto(saved, resp->mutable_webhook());
  return absl::OkStatus();
}

grpc::Status NotifyServer::RegisterWebhook(
    grpc::ServerContext* ctx, const v1::RegisterWebhookRequest* req,
    v1::RegisterWebhookResponse* resp) {
  return Done(DoRegisterWebhook(ctx, *req, resp));
}

grpc::Status NotifyServer::ListWebhooks(grpc::ServerContext* ctx,
                                        const v1::ListWebhooksRequest* req,
                                        v1::ListWebhooksResponse* resp) {
  return Done([&]() -> absl::Status {
    LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
    std::string agency(absl::StripPrefix(req->agency(), "agencies/"));
    if (caller.role != Role::kAdmin) {
      if (agency.empty()) agency = caller.agency_code;
      if (!ManagesAgency(caller, agency)) {
        return AuditDenied(
            caller, "ListWebhooks", absl::StrCat("agencies/", agency),
            common::PermissionDenied("OUTSIDE_AGENCY",
                                     "other agencies' webhooks are hidden"));
      }
    }
    LT_ASSIGN_OR_RETURN(
        Page<Webhook> page,
        store_.ListWebhooks(agency, req->page_size(), req->page_token()));
    for (const Webhook& w : page.items) WebhookToProto(w, resp->add_webhooks());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  }());
}

grpc::Status NotifyServer::DeleteWebhook(grpc::ServerContext* ctx,
                                         const v1::DeleteWebhookRequest* req,
                                         v1::DeleteWebhookResponse*) {
  return Done([&]() -> absl::Status {
    LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
    absl::string_view id = req->name();
    if (!absl::ConsumePrefix(&id, "webhooks/") || !common::IsUuid(id)) {
      return common::InvalidArgument("INVALID_NAME",
                                     {{"name", "must be webhooks/{uuid}"}});
    }
    if (caller.role != Role::kAdmin) {
      // Only the owning agency's system or supervisor.
      LT_ASSIGN_OR_RETURN(Page<Webhook> own,
                          store_.ListWebhooks(caller.agency_code, 500, ""));
      bool mine = false;
      for (const Webhook& w : own.items) mine |= w.id == id;
      if (!mine || !ManagesAgency(caller, caller.agency_code)) {
        return AuditDenied(caller, "DeleteWebhook", req->name(),
                           common::PermissionDenied(
                               "OUTSIDE_AGENCY", "not this agency's webhook"));
      }
    }
    return store_.DeleteWebhook(id, clock_.Now(),
                                AuditFor(caller, "DeleteWebhook", ""));
  }());
}

}  // namespace lienthong::notify
