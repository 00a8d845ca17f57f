#pragma once
// lienthong.notify.v1.NotifyService (sync API): proto <-> domain,
// authorization, idempotency by request_id. Also the EventSinkService
// handler that turns other services' events into deliveries.

#include "libs/common/clock.h"
#include "libs/grpc_util/auth.h"
#include "libs/grpc_util/event_sink.h"
#include "lienthong/notify/v1/notify_service.grpc.pb.h"
#include "services/notify/enqueuer.h"
#include "services/notify/notify_store.h"
#include "services/notify/secret_box.h"
#include "services/notify/webhook_address.h"

namespace lienthong::notify {

struct ServerOptions {
  bool insecure_dev_auth = false;
  bool allow_http_webhooks = false;  // dev only: https otherwise
  // Non-public addresses a webhook URL may still name or resolve to
  // (--webhook_allow_cidrs); all others are refused at registration.
  std::vector<Cidr> webhook_allow_cidrs;
  int sms_max_segments = 3;
  SecretBox secrets;  // webhook secrets are sealed with it before storing
  // How long a changed webhook secret's predecessor still signs.
  absl::Duration webhook_secret_overlap = absl::Hours(24);
};

class NotifyServer final : public v1::NotifyService::Service {
 public:
  NotifyServer(PgNotifyStore& store, Enqueuer& enqueuer,
               const common::Clock& clock, ServerOptions options)
      : store_(store), enqueuer_(enqueuer), clock_(clock), options_(options) {}

  grpc::Status SendNotification(grpc::ServerContext* ctx,
                                const v1::SendNotificationRequest* req,
                                v1::SendNotificationResponse* resp) override;
  grpc::Status ListDeliveries(grpc::ServerContext* ctx,
                              const v1::ListDeliveriesRequest* req,
                              v1::ListDeliveriesResponse* resp) override;
  grpc::Status GetDelivery(grpc::ServerContext* ctx,
                           const v1::GetDeliveryRequest* req,
                           v1::GetDeliveryResponse* resp) override;
  grpc::Status ReplayDelivery(grpc::ServerContext* ctx,
                              const v1::ReplayDeliveryRequest* req,
                              v1::ReplayDeliveryResponse* resp) override;
  grpc::Status UpsertTemplate(grpc::ServerContext* ctx,
                              const v1::UpsertTemplateRequest* req,
                              v1::UpsertTemplateResponse* resp) override;
  grpc::Status GetTemplate(grpc::ServerContext* ctx,
                           const v1::GetTemplateRequest* req,
                           v1::GetTemplateResponse* resp) override;
  grpc::Status ListTemplates(grpc::ServerContext* ctx,
                             const v1::ListTemplatesRequest* req,
                             v1::ListTemplatesResponse* resp) override;
  grpc::Status RegisterWebhook(grpc::ServerContext* ctx,
                               const v1::RegisterWebhookRequest* req,
                               v1::RegisterWebhookResponse* resp) override;
  grpc::Status ListWebhooks(grpc::ServerContext* ctx,
                            const v1::ListWebhooksRequest* req,
                            v1::ListWebhooksResponse* resp) override;
  grpc::Status DeleteWebhook(grpc::ServerContext* ctx,
                             const v1::DeleteWebhookRequest* req,
                             v1::DeleteWebhookResponse* resp) override;

 private:
  absl::StatusOr<grpc_util::Caller> Authenticate(grpc::ServerContext* ctx);
  // OK when the caller may see and act on notifications about `dossier`:
  // administrators and services always; anyone else only for a dossier
  // received by their own agency or one below it (the ancestors notify
  // learned from the dossier's events). PERMISSION_DENIED otherwise, also
  // for an empty `dossier`.
  absl::Status CheckDossierAccess(const grpc_util::Caller& c,
                                  absl::string_view action,
                                  absl::string_view dossier);
  // An audit row naming the caller, for a change made by `action`.
  AuditEntry AuditFor(const grpc_util::Caller& c, absl::string_view action,
                      absl::string_view request_id) const;
  // Writes a PERMISSION_DENIED row for `action` on `resource` (its own
  // transaction), logs it, and returns `denial`.
  absl::Status AuditDenied(const grpc_util::Caller& c, absl::string_view action,
                           absl::string_view resource, absl::Status denial);
  absl::Status DoSend(grpc::ServerContext* ctx,
                      const v1::SendNotificationRequest& req,
                      v1::SendNotificationResponse* resp);
  absl::Status DoList(grpc::ServerContext* ctx,
                      const v1::ListDeliveriesRequest& req,
                      v1::ListDeliveriesResponse* resp);
  absl::Status DoUpsertTemplate(grpc::ServerContext* ctx,
                                const v1::UpsertTemplateRequest& req,
                                v1::UpsertTemplateResponse* resp);
  absl::Status DoRegisterWebhook(grpc::ServerContext* ctx,
                                 const v1::RegisterWebhookRequest& req,
                                 v1::RegisterWebhookResponse* resp);

  PgNotifyStore& store_;
  Enqueuer& enqueuer_;
  const common::Clock& clock_;
  const ServerOptions options_;
};

// Applies one event: records it in notify's inbox and queues its
// deliveries in the same transaction.
grpc_util::EventHandler MakeEventHandler(PgNotifyStore& store,
                                         Enqueuer& enqueuer);

void DeliveryToProto(const DeliveryRecord& d, v1::Delivery* out);

}  // namespace lienthong::notify
