#include "services/notify/notify_server.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/uuid.h"
#include "libs/db/migrations.h"
#include "libs/db/outbox.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "libs/logging/logging.h"
#include "services/notify/notify_events.h"
#include "services/notify/send_request.h"

namespace lienthong::notify {

using grpc_util::Caller;
using grpc_util::Role;

namespace {

constexpr char kDomain[] = "lienthong.notify";

grpc::Status Done(const absl::Status& s) {
  return grpc_util::ToGrpcStatus(s, kDomain);
}

v1::DeliveryState StateToProto(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending:
      return v1::DELIVERY_STATE_PENDING;
    case DeliveryState::kSending:
      return v1::DELIVERY_STATE_SENDING;
    case DeliveryState::kSent:
      return v1::DELIVERY_STATE_SENT;
    case DeliveryState::kFailed:
      return v1::DELIVERY_STATE_FAILED;
    case DeliveryState::kDeadLetter:
      return v1::DELIVERY_STATE_DEAD_LETTER;
  }
  return v1::DELIVERY_STATE_UNSPECIFIED;
}

bool IsStaff(const Caller& c) {
  return c.role == Role::kAdmin || c.role == Role::kService ||
         c.role == Role::kSupervisor || c.role == Role::kCounterOfficer ||
         c.role == Role::kAgencySystem;
}

bool SeesEverything(const Caller& c) {
  return c.role == Role::kAdmin || c.role == Role::kService;
}

// Another subtree's delivery answers as one that does not exist, so ids
// cannot be probed (the refusal is still audited).
absl::Status HiddenUnlessAllowed(absl::Status access) {
  if (absl::IsPermissionDenied(access)) {
    return common::NotFound("DELIVERY_NOT_FOUND", "no such delivery");
  }
  return access;
}

absl::Status Denied(absl::string_view what) {
  return common::PermissionDenied("ROLE_NOT_ALLOWED", what);
}

// What a SendNotification asks for, as a digest: a retry with the same
// request_id must ask for exactly this. Length-prefixed fields, values in
// key order (the map's wire order is not stable).
std::string RequestHash(const v1::SendNotificationRequest& req,
                        absl::string_view event_type) {
  std::string canon;
  auto add = [&canon](absl::string_view s) {
    absl::StrAppend(&canon, s.size(), ":", s, ";");
  };
  add(event_type);
  add(req.dossier());
  add(absl::StrCat(static_cast<int>(req.channel())));
  add(req.recipient().phone());
  add(req.recipient().email());
  add(absl::StrCat(static_cast<int>(req.recipient().preferred_channel())));
  std::map<std::string, std::string> values(req.values().begin(),
                                            req.values().end());
  for (const auto& [k, v] : values) {
    add(k);
    add(v);
  }
  return db::Sha256Hex(canon);
}

absl::Status RequestIdReused() {
  return common::InvalidArgument(
      "REQUEST_ID_REUSED",
      {{"request_id",
        "was already used for a different request; use a new UUID"}});
}

absl::StatusOr<std::string> DeliveryId(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, "deliveries/") || !common::IsUuid(name)) {
    return common::InvalidArgument("INVALID_NAME",
                                   {{"name", "must be deliveries/{uuid}"}});
  }
  return std::string(name);
}

}  // namespace

void DeliveryToProto(const DeliveryRecord& d, v1::Delivery* out) {
  out->set_name(absl::StrCat("deliveries/", d.id));
  out->set_event_id(d.event_id);
  out->set_event_type(d.event_type);
  out->set_dossier(d.dossier);
  out->set_channel(ChannelToProto(d.channel));
  out->set_masked_recipient(d.masked_recipient);
  out->set_state(StateToProto(d.state));
  for (const AttemptRecord& a : d.attempt_log) {
    v1::Attempt* p = out->add_attempts();
    grpc_util::ToProto(a.time, p->mutable_attempt_time());
    p->set_response_code(a.response_code);
    grpc_util::ToProto(a.latency, p->mutable_latency());
    p->set_error(a.error);
    p->set_success(a.success);
  }
  out->set_rendered_preview(d.preview);
  out->set_sms_segments(d.sms_segments);
  grpc_util::ToProto(d.create_time, out->mutable_create_time());
  if (d.state == DeliveryState::kPending || d.state == DeliveryState::kFailed) {
    grpc_util::ToProto(d.next_attempt_time, out->mutable_next_attempt_time());
  }
  if (d.sent_time.has_value()) {
    grpc_util::ToProto(*d.sent_time, out->mutable_sent_time());
  }
}

absl::StatusOr<Caller> NotifyServer::Authenticate(grpc::ServerContext* ctx) {
  return grpc_util::CallerOf(*ctx, options_.insecure_dev_auth);
}

AuditEntry NotifyServer::AuditFor(const Caller& c, absl::string_view action,
                                  absl::string_view request_id) const {
  AuditEntry a;
  a.agency = c.agency_code;
  a.subject = c.subject;
  a.role = std::string(grpc_util::RoleName(c.role));
  a.peer = c.peer;
  a.action = std::string(action);
  a.request_id = std::string(request_id);
  return a;
}

absl::Status NotifyServer::AuditDenied(const Caller& c,
                                       absl::string_view action,
                                       absl::string_view resource,
                                       absl::Status denial) {
  AuditEntry a = AuditFor(c, action, "");
  a.resource = std::string(resource);
  a.outcome = "PERMISSION_DENIED";
  const absl::Status s =
      db::WithTransaction(store_.pool(), [&](pqxx::work& tx) {
        store_.Audit(tx, a, clock_.Now());
        return absl::OkStatus();
      });
  grpc_util::LogDenied(c, action, resource, s.ok());
  return denial;
}

absl::Status NotifyServer::CheckDossierAccess(const Caller& c,
                                              absl::string_view action,
                                              absl::string_view dossier) {
  if (SeesEverything(c)) return absl::OkStatus();
  const auto denied = [&] {
    return AuditDenied(
        c, action, dossier.empty() ? "deliveries" : dossier,
        common::PermissionDenied(
            "OUTSIDE_AGENCY_SUBTREE",
            dossier.empty()
                ? std::string("name a dossier of your agency's subtree")
                : absl::StrCat(dossier,
                               " was received outside the caller's agency "
                               "subtree"),
            {{"agency", c.agency_code}}));
  };
  if (dossier.empty() || c.agency_code.empty() || c.role == Role::kCitizen) {
    return denied();
  }
  const std::string receiving = ReceivingAgencyOf(dossier);
  if (receiving == c.agency_code) return absl::OkStatus();
  LT_ASSIGN_OR_RETURN(
      std::vector<std::string> above,
      db::WithTransaction(
          store_.pool(),
          [&](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
            return store_.AncestorsOf(tx, {receiving});
          }));
  if (std::find(above.begin(), above.end(), c.agency_code) != above.end()) {
    return absl::OkStatus();
  }
  return denied();
}

absl::Status NotifyServer::DoSend(grpc::ServerContext* ctx,
                                  const v1::SendNotificationRequest& req,
                                  v1::SendNotificationResponse* resp) {
  LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
  if (!IsStaff(caller)) {
    return AuditDenied(caller, "SendNotification", req.dossier(),
                       Denied("citizens cannot send notifications"));
  }
  LT_ASSIGN_OR_RETURN(CheckedSend checked, CheckSendRequest(req));
  const std::string& event_type = checked.event_type;
  const Contact& contact = checked.contact;
  if (!req.dossier().empty()) {
    LT_RETURN_IF_ERROR(
        CheckDossierAccess(caller, "SendNotification", req.dossier()));
  }

  NotificationPlan plan;
  plan.event_id = req.request_id();
  plan.request_id = req.request_id();
  plan.event_type = event_type;
  plan.dossier = req.dossier();
  plan.occur_time = clock_.Now();
  plan.values = std::move(checked.values);
  plan.citizen = contact;
  plan.citizen_channel = checked.channel;
  plan.request_hash = RequestHash(req, event_type);
  auto existing = [&]() -> absl::StatusOr<std::optional<DeliveryRecord>> {
    return db::WithTransaction(store_.pool(), [&](pqxx::work& tx) {
      return store_.ByRequestId(tx, req.request_id());
    });
  };
  LT_ASSIGN_OR_RETURN(std::optional<DeliveryRecord> prior, existing());
  if (!prior.has_value() && req.dossier().empty() &&
      caller.role == Role::kCounterOfficer) {
    // A message about no dossier goes to any number in the agency's name,
    // and no subtree shows it afterwards: a supervisor's decision. (Checked
    // after the replay, so a retry of a send made before this rule still
    // gets its delivery.)
    return AuditDenied(
        caller, "SendNotification", "deliveries",
        common::PermissionDenied(
            "AD_HOC_NEEDS_SUPERVISOR",
            "a counter officer's message names a dossier of the agency's "
            "subtree (dossier); messages about no dossier are sent by a "
            "supervisor, an agency system or an administrator",
            {{"agency", caller.agency_code}}));
  }
  if (!prior.has_value()) {
    absl::StatusOr<std::vector<std::string>> ids = db::WithTransaction(
        store_.pool(),
        [&](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
          LT_ASSIGN_OR_RETURN(std::optional<DeliveryRecord> again,
                              store_.ByRequestId(tx, req.request_id()));
          if (again.has_value()) return std::vector<std::string>{again->id};
          absl::StatusOr<std::vector<std::string>> queued =
              enqueuer_.EnqueueInTx(tx, plan);
          if (queued.ok() && !queued->empty()) {
            AuditEntry a =
                AuditFor(caller, "SendNotification", req.request_id());
            a.resource = absl::StrCat("deliveries/", queued->front());
            store_.Audit(tx, a, clock_.Now());
          }
          return queued;
        });
    if (!ids.ok() && !absl::IsAlreadyExists(ids.status())) return ids.status();
    if (ids.ok() && ids->empty()) {
      return common::FailedPrecondition(
          "NO_TEMPLATE", "no template for this event type and channel",
          {{"event_type", event_type}});
    }
    LT_ASSIGN_OR_RETURN(prior, existing());
  }
  if (!prior.has_value()) {
    return common::Internal("DELIVERY_MISSING", "queued delivery not found");
  }
  // Rows from before request hashes were kept are checked by recipient.
  if (prior->request_hash.empty() ? (prior->recipient != contact.phone &&
                                     prior->recipient != contact.email)
                                  : prior->request_hash != plan.request_hash) {
    return RequestIdReused();
  }
  DeliveryToProto(*prior, resp->mutable_delivery());
  return absl::OkStatus();
}

grpc::Status NotifyServer::SendNotification(
    grpc::ServerContext* ctx, const v1::SendNotificationRequest* req,
    v1::SendNotificationResponse* resp) {
  return Done(DoSend(ctx, *req, resp));
}

absl::Status NotifyServer::DoList(grpc::ServerContext* ctx,
                                  const v1::ListDeliveriesRequest& req,
                                  v1::ListDeliveriesResponse* resp) {
  LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
  if (!IsStaff(caller)) {
    return AuditDenied(caller, "ListDeliveries", req.dossier(),
                       Denied("citizens cannot list deliveries"));
  }
  DeliveryFilter f;
  if (!req.dossier().empty() || SeesEverything(caller) ||
      caller.agency_code.empty()) {
    LT_RETURN_IF_ERROR(
        CheckDossierAccess(caller, "ListDeliveries", req.dossier()));
  } else {
    f.subtree_of = caller.agency_code;  // every dossier of its subtree
  }
  f.dossier = req.dossier();
  f.recipient = req.recipient();
  switch (req.state()) {
    case v1::DELIVERY_STATE_PENDING:
      f.state = DeliveryState::kPending;
      break;
    case v1::DELIVERY_STATE_SENDING:
      f.state = DeliveryState::kSending;
      break;
    case v1::DELIVERY_STATE_SENT:
      f.state = DeliveryState::kSent;
      break;
    case v1::DELIVERY_STATE_FAILED:
      f.state = DeliveryState::kFailed;
      break;
    case v1::DELIVERY_STATE_DEAD_LETTER:
      f.state = DeliveryState::kDeadLetter;
      break;
    default:
      break;
  }
  LT_ASSIGN_OR_RETURN(Page<DeliveryRecord> page,
                      store_.List(f, req.page_size(), req.page_token()));
  for (const DeliveryRecord& d : page.items) {
    DeliveryToProto(d, resp->add_deliveries());
  }
  resp->set_next_page_token(page.next_page_token);
  return absl::OkStatus();
}

grpc::Status NotifyServer::ListDeliveries(grpc::ServerContext* ctx,
                                          const v1::ListDeliveriesRequest* req,
                                          v1::ListDeliveriesResponse* resp) {
  return Done(DoList(ctx, *req, resp));
}

grpc::Status NotifyServer::GetDelivery(grpc::ServerContext* ctx,
                                       const v1::GetDeliveryRequest* req,
                                       v1::GetDeliveryResponse* resp) {
  return Done([&]() -> absl::Status {
    LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
    if (!IsStaff(caller)) {
      return AuditDenied(caller, "GetDelivery", req->name(),
                         Denied("citizens cannot read deliveries"));
    }
    LT_ASSIGN_OR_RETURN(std::string id, DeliveryId(req->name()));
    LT_ASSIGN_OR_RETURN(DeliveryRecord d, store_.Get(id));
    LT_RETURN_IF_ERROR(HiddenUnlessAllowed(
        CheckDossierAccess(caller, "GetDelivery", d.dossier)));
    DeliveryToProto(d, resp->mutable_delivery());
    return absl::OkStatus();
  }());
}

grpc::Status NotifyServer::ReplayDelivery(grpc::ServerContext* ctx,
                                          const v1::ReplayDeliveryRequest* req,
                                          v1::ReplayDeliveryResponse* resp) {
  return Done([&]() -> absl::Status {
    LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
    if (caller.role != Role::kAdmin && caller.role != Role::kSupervisor &&
        caller.role != Role::kCounterOfficer &&
        caller.role != Role::kAgencySystem) {
      return AuditDenied(
          caller, "ReplayDelivery", req->name(),
          Denied("only officers and agency systems replay deliveries"));
    }
    LT_ASSIGN_OR_RETURN(std::string id, DeliveryId(req->name()));
    LT_ASSIGN_OR_RETURN(DeliveryRecord before, store_.Get(id));
    LT_RETURN_IF_ERROR(HiddenUnlessAllowed(
        CheckDossierAccess(caller, "ReplayDelivery", before.dossier)));
    LT_ASSIGN_OR_RETURN(
        DeliveryRecord d,
        store_.Replay(id, req->request_id(), clock_.Now(),
                      AuditFor(caller, "ReplayDelivery", req->request_id())));
    logging::Event("delivery_replayed")
        .With("delivery", d.id)
        .With("channel", std::string(ChannelName(d.channel)))
        .With("by", caller.subject)
        .Info();
    DeliveryToProto(d, resp->mutable_delivery());
    return absl::OkStatus();
  }());
}

grpc_util::EventHandler MakeEventHandler(PgNotifyStore& store,
                                         Enqueuer& enqueuer) {
  return
      [&store, &enqueuer](const common::v1::Event& e) -> absl::StatusOr<bool> {
        absl::StatusOr<std::optional<NotificationPlan>> plan = PlanFromEvent(e);
        if (!plan.ok()) {
          // A payload we cannot read will never become readable: record it and
          // move on rather than block the sender's relay forever.
          logging::Event("event_unreadable")
              .With("type", e.type())
              .With("event", e.event_id())
              .Warn();
        }
        return db::WithTransaction(
            store.pool(), [&](pqxx::work& tx) -> absl::StatusOr<bool> {
              LT_ASSIGN_OR_RETURN(bool first,
                                  db::RecordInbox(tx, "notify", e.event_id()));
              if (!first || !plan.ok() || !plan->has_value()) return first;
              LT_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                                  enqueuer.EnqueueInTx(tx, **plan));
              logging::Event("event_queued")
                  .With("type", (*plan)->event_type)
                  .With("dossier", e.dossier())
                  .With("deliveries", static_cast<int>(ids.size()))
                  .Info();
              return true;
            });
      };
}

}  // namespace lienthong::notify
