#pragma once

// lienthong.deadline.v1.DeadlineService over gRPC: proto <-> domain, who may
// see what, and nothing else. A blocking (sync API) service: every handler
// talks to PostgreSQL; the server bounds its threads (--max_threads).
//
// Who may do what:
//   UpdateCalendar                       admin
//   GetCalendar, ListCalendars,
//   ComputeDueTime                       any authenticated caller
//   GetClock, ExplainDueTime             admin, service; others only for a
//                                        clock in their agency's subtree
//   ListDueSoon, ListOverdue,
//   GetOnTimeReport                      admin, service; others only for
//                                        their agency's subtree

#include <string>

#include "libs/common/clock.h"
#include "libs/grpc_util/auth.h"
#include "lienthong/deadline/v1/deadline_service.grpc.pb.h"
#include "services/deadline/deadline_service.h"

namespace lienthong::deadline {

class DeadlineServer final : public v1::DeadlineService::Service {
 public:
  DeadlineServer(DeadlineService& service, const common::Clock& clock,
                 bool insecure_dev_auth)
      : service_(service),
        clock_(clock),
        insecure_dev_auth_(insecure_dev_auth) {}

  grpc::Status GetCalendar(grpc::ServerContext* ctx,
                           const v1::GetCalendarRequest* req,
                           v1::GetCalendarResponse* resp) override;
  grpc::Status ListCalendars(grpc::ServerContext* ctx,
                             const v1::ListCalendarsRequest* req,
                             v1::ListCalendarsResponse* resp) override;
  grpc::Status UpdateCalendar(grpc::ServerContext* ctx,
                              const v1::UpdateCalendarRequest* req,
                              v1::UpdateCalendarResponse* resp) override;
  grpc::Status ComputeDueTime(grpc::ServerContext* ctx,
                              const v1::ComputeDueTimeRequest* req,
                              v1::ComputeDueTimeResponse* resp) override;
  grpc::Status GetClock(grpc::ServerContext* ctx,
                        const v1::GetClockRequest* req,
                        v1::GetClockResponse* resp) override;
  grpc::Status ExplainDueTime(grpc::ServerContext* ctx,
                              const v1::ExplainDueTimeRequest* req,
                              v1::ExplainDueTimeResponse* resp) override;
  grpc::Status ListDueSoon(grpc::ServerContext* ctx,
                           const v1::ListDueSoonRequest* req,
                           v1::ListDueSoonResponse* resp) override;
  grpc::Status ListOverdue(grpc::ServerContext* ctx,
                           const v1::ListOverdueRequest* req,
                           v1::ListOverdueResponse* resp) override;
  grpc::Status GetOnTimeReport(grpc::ServerContext* ctx,
                               const v1::GetOnTimeReportRequest* req,
                               v1::GetOnTimeReportResponse* resp) override;

 private:
  absl::StatusOr<grpc_util::Caller> Authenticate(grpc::ServerContext* ctx);
  // PERMISSION_DENIED (audited as `action`) unless the caller may see
  // `agency`'s subtree.
  absl::Status CheckSubtree(const grpc_util::Caller& caller,
                            const std::string& agency,
                            const std::string& action);
  absl::Status DoGetCalendar(grpc::ServerContext* ctx,
                             const v1::GetCalendarRequest& req,
                             v1::GetCalendarResponse* resp);
  absl::Status DoListCalendars(grpc::ServerContext* ctx,
                               const v1::ListCalendarsRequest& req,
                               v1::ListCalendarsResponse* resp);
  absl::Status DoUpdateCalendar(grpc::ServerContext* ctx,
                                const v1::UpdateCalendarRequest& req,
                                v1::UpdateCalendarResponse* resp);
  absl::Status DoComputeDueTime(grpc::ServerContext* ctx,
                                const v1::ComputeDueTimeRequest& req,
                                v1::ComputeDueTimeResponse* resp);
  absl::StatusOr<Clock> VisibleClock(grpc::ServerContext* ctx,
                                     const std::string& name);
  absl::Status DoExplain(grpc::ServerContext* ctx,
                         const v1::ExplainDueTimeRequest& req,
                         v1::ExplainDueTimeResponse* resp);
  absl::Status DoList(grpc::ServerContext* ctx, const std::string& agency,
                      int page_size, const std::string& page_token,
                      Urgency urgency,
                      google::protobuf::RepeatedPtrField<v1::Clock>* out,
                      std::string* next_page_token);
  absl::Status DoReport(grpc::ServerContext* ctx,
                        const v1::GetOnTimeReportRequest& req,
                        v1::GetOnTimeReportResponse* resp);

  DeadlineService& service_;
  const common::Clock& clock_;
  const bool insecure_dev_auth_;
};

// The calendar version as the proto resource (structured fields and json).
absl::Status CalendarToProto(const CalendarVersion& v, v1::Calendar* out);
// The CalendarData JSON an UpdateCalendar request stands for: its `json`
// when set, else the structured fields.
absl::StatusOr<std::string> CalendarJsonFromProto(const v1::Calendar& c,
                                                  const std::string& id);

}  // namespace lienthong::deadline
