#pragma once

// intake's PostgreSQL storage, schema `intake`. Every function runs inside
// the caller's transaction (db::WithTransaction), so a state change, its
// transition row, its audit row and its outbox events commit together.
// Resources are stored as protobuf bytes beside their query columns.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "libs/db/outbox.h"
#include "libs/db/prepared.h"
#include "lienthong/intake/v1/resources.pb.h"
#include "pqxx/pqxx"

namespace lienthong::intake::pg {

using db::PgTime;  // timestamptz parameters

// Agencies.
absl::optional<v1::Agency> GetAgency(pqxx::work& tx, const std::string& code);
// '/root/.../code/' of an existing agency; "" when unknown.
std::string PathOf(pqxx::work& tx, const std::string& code);
struct AgencyForCaller {
  absl::optional<v1::Agency> agency;
  std::string path;         // of `agency`
  std::string caller_path;  // "" when the caller's agency is unknown
};
// An agency with its path and the caller's agency path, in one round trip.
AgencyForCaller GetAgencyForCaller(pqxx::work& tx, const std::string& code,
                                   const std::string& caller_code);
void PutAgency(pqxx::work& tx, const v1::Agency& a, const std::string& path,
               absl::Time now);
// Children of `parent` ("" = roots), or the whole subtree under `path` when
// `subtree_path` is set; ordered by code, after `after_code`.
std::vector<v1::Agency> ListAgencies(pqxx::work& tx, const std::string& parent,
                                     const std::string& subtree_path, int kind,
                                     int tier, const std::string& after_code,
                                     int limit);
// Re-roots the paths of `code`'s descendants after a move.
void RewriteSubtreePaths(pqxx::work& tx, const std::string& old_path,
                         const std::string& new_path);

// Procedures.
absl::optional<v1::Procedure> GetProcedure(pqxx::work& tx,
                                           const std::string& code, int version,
                                           absl::Time at);
int LatestProcedureVersion(pqxx::work& tx, const std::string& code);
void PutProcedure(pqxx::work& tx, const v1::Procedure& p, absl::Time now);
std::vector<v1::Procedure> ListProcedures(pqxx::work& tx, absl::Time at,
                                          const std::string& after_code,
                                          int limit);

// Dossiers.
int64_t NextSequence(pqxx::work& tx, const std::string& agency_code,
                     absl::CivilDay day);
void InsertDossier(pqxx::work& tx, const v1::Dossier& d,
                   const std::string& agency_path, absl::Time now);
absl::optional<v1::Dossier> GetDossier(pqxx::work& tx, const std::string& code,
                                       bool for_update);
// The receiving agency's path of a dossier ("" when unknown).
std::string DossierAgencyPath(pqxx::work& tx, const std::string& code);
void UpdateDossier(pqxx::work& tx, const v1::Dossier& d, absl::Time now);

// While one lives (a delivered batch of events' transaction body, on this
// thread), the batch's dossiers are read and locked in one statement and
// kept here: GetDossier and UpdateDossier work on this copy, AddTransition
// and the service's Emit collect, and Flush writes every changed dossier,
// every transition and every event in one statement each, before the
// commit. Dropped unflushed with a rolled-back attempt.
class DossierBatch {
 public:
  DossierBatch();
  ~DossierBatch();
  DossierBatch(const DossierBatch&) = delete;
  DossierBatch& operator=(const DossierBatch&) = delete;
  // The one living on this thread, or null.
  static DossierBatch* Current();

  // Locks `codes`' dossiers in code order and keeps them.
  void Load(pqxx::work& tx, std::vector<std::string> codes);
  void Emit(db::OutboxEntry e) { events_.push_back(std::move(e)); }
  void Flush(pqxx::work& tx, absl::Time now);

 private:
  friend absl::optional<v1::Dossier> GetDossier(pqxx::work&, const std::string&,
                                                bool);
  friend void UpdateDossier(pqxx::work&, const v1::Dossier&, absl::Time);
  friend void AddTransition(pqxx::work&, const std::string&,
                            const v1::Transition&);
  std::map<std::string, v1::Dossier> dossiers_;
  std::map<std::string, absl::Time> updated_;  // changed, and when
  std::vector<std::pair<std::string, v1::Transition>> transitions_;
  std::vector<db::OutboxEntry> events_;
  DossierBatch* outer_;
};
struct DossierQuery {
  std::string subtree_path;
  int state = 0;
  std::string procedure_code;
  absl::optional<absl::Time> from, to;
  // Page cursor: strictly older than (receive_time, code).
  absl::optional<absl::Time> before_time;
  std::string before_code;
  int limit = 50;
};
std::vector<v1::Dossier> ListDossiers(pqxx::work& tx, const DossierQuery& q);
void AddTransition(pqxx::work& tx, const std::string& code,
                   const v1::Transition& t);
std::vector<v1::Transition> Transitions(pqxx::work& tx,
                                        const std::string& code);

// Idempotency.
struct StoredRequest {
  std::string method;
  std::string request_hash;
  std::string response;
};
// Inserts a placeholder claim for `request_id`; if another request holds it
// the stored record is returned (waiting for that transaction first).
absl::optional<StoredRequest> ClaimRequest(pqxx::work& tx,
                                           const std::string& request_id,
                                           const std::string& method,
                                           const std::string& request_hash,
                                           absl::Time now);
void SaveResponse(pqxx::work& tx, const std::string& request_id,
                  const std::string& response);
// The record stored for `request_id` (it exists).
StoredRequest LoadRequest(pqxx::work& tx, const std::string& request_id);

// A replay of SubmitDossier (pg_submit.cc).
struct SubmitStart {
  // False: a submission with this request id has committed (replay it).
  bool claimed = false;
  AgencyForCaller agency;
  absl::optional<v1::Procedure> procedure;  // the version in force at `now`
};
SubmitStart StartSubmit(pqxx::work& tx, const std::string& request_id,
                        absl::Time now, const std::string& agency_code,
                        const std::string& caller_code,
                        const std::string& procedure_code);
// SubmitDossier for a batch of submissions (one transaction, see
// submit_dossier.cc): which request ids have committed, the agencies named
// (receiving and callers') and each procedure's version in force at `now`,
// as stored, and, in the same statement, `counts[agency]` numbers from each
// agency's counter for `day` (see NextSequences; none when `counts` is
// empty).
struct AgencyRow {
  std::string path;
  v1::Agency agency;
};
struct SubmitBatchRead {
  struct Stored {
    std::string path;   // agencies only
    std::string bytes;  // the serialized body
  };
  std::set<std::string> committed_requests;
  std::map<std::string, Stored> agencies;
  std::map<std::string, Stored> procedures;
  std::map<std::string, int64_t> last;  // each counter's last value
};
SubmitBatchRead ReadSubmitBatch(pqxx::work& tx,
                                const std::vector<std::string>& request_ids,
                                const std::vector<std::string>& agency_codes,
                                const std::vector<std::string>& procedures,
                                absl::Time now,
                                const std::map<std::string, int>& counts,
                                absl::CivilDay day);
// After an agency moved (its path `old_path` became `new_path`): the
// dossiers received in its subtree take the new path.
void RewriteDossierPaths(pqxx::work& tx, const std::string& old_path,
                         const std::string& new_path);
// The agencies below `path`, parents before children.
std::vector<AgencyRow> Descendants(pqxx::work& tx, const std::string& path);
// Replaces an agency's stored body (its row's other columns unchanged).
void SaveAgencyBody(pqxx::work& tx, const v1::Agency& a);
// Takes `counts[agency]` numbers from each agency's counter for `day` (the
// rows stay locked until commit) and returns each counter's last value.
std::map<std::string, int64_t> NextSequences(
    pqxx::work& tx, const std::map<std::string, int>& counts,
    absl::CivilDay day);
// One received dossier of a batch and what its rows need.
struct ReceivedRow {
  const v1::Dossier* dossier = nullptr;
  absl::Time received_at;  // the dossier's receive time and transition's
  std::string agency_code, agency_path, procedure_code;
  std::string actor_agency, actor_subject, peer, role;
  std::string request_id, request_hash;
  std::string body, response;
  db::OutboxMessage event;  // DossierReceived
};
// Every row's dossier, first transition (to `state`, for `reason`), audit
// entry (`action`, unsealed, at `now`), request record and event (to each
// of `destinations`), in one statement. False when a request record was
// written meanwhile by a twin: roll back.
bool WriteReceivedBatch(pqxx::work& tx, const std::vector<ReceivedRow>& rows,
                        int state, const std::string& reason,
                        const std::string& action,
                        const std::vector<std::string>& destinations,
                        absl::Time now);

// Citizen lookup throttling: failures for a code within the window.
int LookupFailures(pqxx::work& tx, const std::string& code, absl::Time now,
                   absl::Duration window);
void RecordLookupFailure(pqxx::work& tx, const std::string& code,
                         absl::Time now, absl::Duration window);

}  // namespace lienthong::intake::pg
