#pragma once

// The CLI's commands over gRPC. Each returns the process's exit status: 0
// done, 1 the server refused or failed, 2 a bad input file (nothing sent),
// 3 a broken audit chain.

#include <memory>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/grpc_util/channel.h"
#include "lienthong/deadline/v1/deadline_service.grpc.pb.h"
#include "lienthong/intake/v1/intake_service.grpc.pb.h"

namespace lienthong::cli {

// What every command needs, from the flags.
struct Session {
  std::unique_ptr<intake::v1::IntakeService::Stub> intake;
  std::string intake_address;
  grpc_util::ClientTls tls;
  // The deadline of every call (--timeout).
  absl::Duration timeout = absl::Seconds(30);
  bool json = false;
  // Dev auth only: the x-lienthong-* identity sent to the server.
  std::string dev_role, dev_agency, dev_subject;
};

int Seed(const Session& s, const std::string& dir);
int Submit(const Session& s, const std::string& file,
           const std::string& request_id_flag);
int Get(const Session& s, const std::string& code);
int List(const Session& s, const std::string& agency);
int Lookup(const Session& s, const std::string& code, const std::string& last4);
int Form(const Session& s, const std::string& code, intake::v1::FormKind kind);
int AuditVerify(const Session& s);

// IssueApology: the dossier's new appointment and why it is late; prints
// the apology slip (--json: the response, dossier and apology_html).
struct Apology {
  std::string code;
  absl::Time new_appointment;
  std::string reason;
  std::string request_id_flag;
};
int IssueApology(const Session& s, const Apology& a);

struct ReportQuery {
  std::string agency;
  absl::CivilDay from, to;  // inclusive, Hà Nội days
  deadline::v1::ReportGrouping group_by;
  std::string deadline_address;
};
int Report(const Session& s, const ReportQuery& q);

}  // namespace lienthong::cli
