#pragma once
// Notify's data in domain types, and its PostgreSQL store (schema
// `notify`). Deliveries are one per (event, recipient, channel); senders
// claim due ones with FOR UPDATE SKIP LOCKED under a lease, so N replicas
// share the work and a sender that dies mid-send loses nothing: its lease
// runs out and another sender takes the delivery again (receivers dedupe on
// the delivery id).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "libs/db/pool.h"
#include "pqxx/pqxx"
#include "services/notify/channel.h"
#include "services/notify/templates.h"

namespace lienthong::notify {

enum class DeliveryState { kPending, kSending, kSent, kFailed, kDeadLetter };
absl::string_view StateName(DeliveryState s);  // "pending", ...
absl::StatusOr<DeliveryState> ParseState(absl::string_view name);

struct AttemptRecord {
  absl::Time time;
  int response_code = 0;
  absl::Duration latency;
  std::string error;
  bool success = false;
};

struct DeliveryRecord {
  std::string id;  // UUID
  std::string event_id;
  std::string event_type;
  std::string dossier;  // "dossiers/{code}" or empty
  Channel channel = Channel::kSms;
  std::string recipient;  // raw: never log it
  std::string masked_recipient;
  bool citizen = false;
  std::string webhook_id;
  std::string subject;
  std::string body;
  std::string preview;
  int sms_segments = 0;
  DeliveryState state = DeliveryState::kPending;
  int attempts = 0;  // since the last replay
  absl::Time create_time;
  absl::Time next_attempt_time;
  std::optional<absl::Time> sent_time;
  std::string claim_token;     // set by Claim
  std::string request_hash;    // set by ByRequestId
  std::string webhook_secret;  // set by Claim for webhooks
  // Set by Claim for webhooks whose secret changed recently: the one it
  // replaced, which also signs until it expires.
  std::string webhook_previous_secret;
  std::string webhook_url;                 // set by Claim for webhooks
  std::vector<AttemptRecord> attempt_log;  // oldest first (Get/List)
};

struct NewDelivery {
  std::string id;  // UUID chosen by the caller
  std::string event_id;
  std::string event_type;
  std::string dossier;
  Channel channel = Channel::kSms;
  std::string recipient;
  std::string masked_recipient;
  bool citizen = false;
  std::string webhook_id;
  std::string subject;
  std::string body;
  std::string preview;
  int sms_segments = 0;
  absl::Time next_attempt_time;
  std::string request_id;    // SendNotification only
  std::string request_hash;  // SendNotification only: digest of the request
};

struct StoredTemplate {
  TemplateText text;
  int version = 0;
  absl::Time create_time;
};

struct Webhook {
  std::string id;  // UUID
  std::string agency_code;
  std::string url;
  std::string secret;
  // SaveWebhook, changing the secret: until when the one it replaces still
  // signs deliveries (alongside the new one).
  absl::Time previous_secret_expire_time;
  std::vector<std::string> event_types;
  absl::Time create_time;
};

struct DeliveryFilter {
  std::string dossier;
  std::string recipient;
  std::optional<DeliveryState> state;
  // When set, only deliveries about dossiers received by this agency or one
  // below it (notify.agency_ancestors).
  std::string subtree_of;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

// What one PurgeFinished() run deleted.
struct DeliveryPurgeCounts {
  int64_t deliveries = 0;
  int64_t attempts = 0;
};

struct ChannelStats {
  Channel channel = Channel::kSms;
  int64_t dead_letters = 0;
  absl::Duration oldest_due_age;  // due but unsent; zero when none
};

// A finished attempt: the outcome the sender decided.
struct AttemptOutcome {
  AttemptRecord attempt;
  DeliveryState new_state = DeliveryState::kSent;  // sent/failed/dead_letter
  absl::Time next_attempt_time;                    // when failed
};

// Who changed what, for notify.audit. `outcome` is "OK" or
// "PERMISSION_DENIED".
struct AuditEntry {
  std::string agency, subject, role, peer;
  std::string action;    // the RPC
  std::string resource;  // e.g. deliveries/{id}, dossiers/{code}
  std::string request_id;
  std::string outcome = "OK";
};

class PgNotifyStore {
 public:
  // Appends `e` to notify.audit in the caller's transaction.
  void Audit(pqxx::work& tx, const AuditEntry& e, absl::Time now);

  explicit PgNotifyStore(db::Pool& pool) : pool_(pool) {}
  db::Pool& pool() { return pool_; }

  // --- templates (pg_notify_admin.cc)
  // Inserts version 1 of each (event type, channel) that has none.
  absl::Status SeedTemplates(const std::vector<TemplateText>& defaults,
                             absl::Time now);
  absl::StatusOr<StoredTemplate> CurrentTemplate(pqxx::work& tx,
                                                 absl::string_view event_type,
                                                 Channel channel);
  absl::StatusOr<StoredTemplate> GetTemplate(absl::string_view event_type,
                                             Channel channel);
  // A new version; a retry with `request_id` returns the stored one.
  // `audit` is written with the new version (not on a retry).
  absl::StatusOr<StoredTemplate> AddTemplateVersion(
      const TemplateText& t, absl::string_view request_id, absl::Time now,
      const AuditEntry& audit);
  absl::StatusOr<Page<StoredTemplate>> ListTemplates(int page_size,
                                                     absl::string_view token);

  // --- webhooks (pg_notify_admin.cc)
  // Creates (empty id) or changes a webhook; idempotent by `request_id`.
  absl::StatusOr<Webhook> SaveWebhook(const Webhook& w,
                                      absl::string_view request_id,
                                      absl::Time now, const AuditEntry& audit);
  absl::StatusOr<Page<Webhook>> ListWebhooks(absl::string_view agency_code,
                                             int page_size,
                                             absl::string_view token);
  absl::Status DeleteWebhook(absl::string_view id, absl::Time now,
                             const AuditEntry& audit);
  // Live webhooks of any of `agency_codes` that want `event_type`.
  absl::StatusOr<std::vector<Webhook>> WebhooksFor(
      pqxx::work& tx, const std::vector<std::string>& agency_codes,
      absl::string_view event_type);

  // --- agency tree, as learned from events (pg_notify_admin.cc)
  // Remembers `agency_code`'s ancestors (the latest event wins).
  absl::Status RememberAncestors(pqxx::work& tx, absl::string_view agency_code,
                                 const std::vector<std::string>& ancestors,
                                 absl::Time now);
  // The remembered ancestors of each of `agency_codes` (none when unknown).
  absl::StatusOr<std::vector<std::string>> AncestorsOf(
      pqxx::work& tx, const std::vector<std::string>& agency_codes);

  // --- deliveries (pg_notify_store.cc)
  // Inserts unless (event, recipient, channel) exists; returns the id of
  // the new or existing delivery.
  absl::StatusOr<std::string> Enqueue(pqxx::work& tx, const NewDelivery& d,
                                      absl::Time now);
  // The delivery a SendNotification `request_id` created, if any.
  absl::StatusOr<std::optional<DeliveryRecord>> ByRequestId(
      pqxx::work& tx, absl::string_view request_id);
  // Claims up to `limit` due deliveries (pending/failed whose time came, or
  // sending whose lease ran out) for `lease`; only `channel`'s when given.
  absl::StatusOr<std::vector<DeliveryRecord>> Claim(
      absl::Time now, absl::Duration lease, int limit,
      std::optional<Channel> channel = std::nullopt);
  // Records an attempt and its outcome; NOT_FOUND (reason LEASE_LOST) when
  // the claim is no longer ours.
  absl::Status Finish(const DeliveryRecord& claimed,
                      const AttemptOutcome& outcome);
  // Gives a claimed delivery back without an attempt (quiet hours, rate
  // limit), due again at `next`.
  absl::Status Release(const DeliveryRecord& claimed, absl::Time next);
  absl::StatusOr<DeliveryRecord> Get(absl::string_view id);
  absl::StatusOr<Page<DeliveryRecord>> List(const DeliveryFilter& f,
                                            int page_size,
                                            absl::string_view token);
  // DEAD_LETTER -> PENDING (attempts start again); a retry with the same
  // `request_id` returns the delivery as it is.
  absl::StatusOr<DeliveryRecord> Replay(absl::string_view id,
                                        absl::string_view request_id,
                                        absl::Time now,
                                        const AuditEntry& audit);
  // Dead letters and the oldest due, unsent delivery per channel. Reads
  // only dead-lettered and unsent rows (partial indexes), never sent ones.
  absl::StatusOr<std::vector<ChannelStats>> Stats(absl::Time now);
  // Deletes deliveries that were sent, or dead-lettered, before `cutoff`,
  // and their attempts: `batch` deliveries per transaction until none is
  // left or `stopping` returns true. Pending, failed and sending ones are
  // never touched, whatever their age.
  absl::StatusOr<DeliveryPurgeCounts> PurgeFinished(
      absl::Time cutoff, int batch,
      const std::function<bool()>& stopping = nullptr);

 private:
  db::Pool& pool_;
};

// Helpers shared by the store's files.
namespace pg {
std::string Ts(absl::Time t);  // a timestamptz literal parameter
absl::Time FromUs(const pqxx::field& f);
std::string EncodeToken(absl::string_view raw);
absl::StatusOr<std::string> DecodeToken(absl::string_view token);
int ClampPageSize(int page_size);
}  // namespace pg

}  // namespace lienthong::notify
