#include "services/deadline/deadline_server.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/calendar/calendar_data.h"
#include "libs/calendar/calendar_json.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "services/deadline/deadline_events.h"
#include "services/deadline/deadline_requests.h"

namespace lienthong::deadline {
namespace {

constexpr char kDomain[] = "lienthong.deadline";

using grpc_util::Caller;
using grpc_util::Role;

grpc::Status Done(const absl::Status& s) {
  return grpc_util::ToGrpcStatus(s, kDomain);
}

bool SeesEverything(const Caller& c) {
  return c.role == Role::kAdmin || c.role == Role::kService;
}

void RowToProto(const ReportRow& r, v1::OnTimeReportRow* out) {
  out->set_received(r.received);
  out->set_finished_early(r.finished_early);
  out->set_finished_on_time(r.finished_on_time);
  out->set_finished_late(r.finished_late);
  out->set_in_progress_on_time(r.open_on_time);
  out->set_in_progress_overdue(r.open_overdue);
  const int64_t finished =
      r.finished_early + r.finished_on_time + r.finished_late;
  // Nothing finished: no rate. 1 would rank a ward that finished nothing
  // (and has dossiers overdue) as the best of all.
  out->set_any_finished(finished > 0);
  out->set_on_time_rate(
      finished == 0
          ? 0.0
          : static_cast<double>(r.finished_early + r.finished_on_time) /
                static_cast<double>(finished));
}

std::string TierGroup(const std::string& tier_name) {
  if (tier_name == "province") return "TIER_PROVINCE";
  if (tier_name == "district") return "TIER_DISTRICT";
  if (tier_name == "commune") return "TIER_COMMUNE";
  return "TIER_UNSPECIFIED";
}

// "agency/subject", as the audit trail names a caller.
std::string ActorOf(const Caller& c) {
  return absl::StrCat(c.agency_code, "/", c.subject);
}

}  // namespace

absl::StatusOr<Caller> DeadlineServer::Authenticate(grpc::ServerContext* ctx) {
  return grpc_util::CallerOf(*ctx, insecure_dev_auth_);
}

absl::Status DeadlineServer::CheckSubtree(const Caller& caller,
                                          const std::string& agency,
                                          const std::string& action) {
  if (SeesEverything(caller)) return absl::OkStatus();
  // A citizen's certificate may name an agency; it still sees no agency's
  // clocks or reports.
  if (!caller.agency_code.empty() && caller.role != Role::kCitizen) {
    // An agency no clock has named yet (a new ward of the caller's
    // district, say) cannot be placed in the tree, and has nothing to show
    // anyone: answered empty, not refused.
    LT_ASSIGN_OR_RETURN(absl::optional<bool> within,
                        service_.WithinIfKnown(agency, caller.agency_code));
    if (within.value_or(true)) return absl::OkStatus();
  }
  service_
      .AuditDenied(ActorOf(caller), caller.peer, action,
                   absl::StrCat("agencies/", agency))
      .IgnoreError();
  return common::PermissionDenied("OUTSIDE_SUBTREE",
                                  "the agency is outside the caller's subtree",
                                  {{"agency", agency}});
}

// --- calendars -------------------------------------------------------------

absl::Status DeadlineServer::DoGetCalendar(grpc::ServerContext* ctx,
                                           const v1::GetCalendarRequest& req,
                                           v1::GetCalendarResponse* resp) {
  LT_RETURN_IF_ERROR(Authenticate(ctx).status());
  LT_ASSIGN_OR_RETURN(std::string id, CalendarId(req.name(), "name"));
  // 0 is "no version given"; a negative one names none, not the latest.
  if (req.version() < 0) {
    return common::InvalidArgument(
        "INVALID_VERSION", {{"version", "must be 1 or more (0: not given)"}});
  }
  absl::optional<absl::Time> at;
  if (req.has_at_time()) {
    LT_ASSIGN_OR_RETURN(at, RequestTime(req.at_time(), "at_time"));
  }
  LT_ASSIGN_OR_RETURN(CalendarVersion v,
                      service_.GetCalendar(id, at, req.version()));
  return CalendarToProto(v, resp->mutable_calendar());
}

grpc::Status DeadlineServer::GetCalendar(grpc::ServerContext* ctx,
                                         const v1::GetCalendarRequest* req,
                                         v1::GetCalendarResponse* resp) {
  return Done(DoGetCalendar(ctx, *req, resp));
}

absl::Status DeadlineServer::DoListCalendars(
    grpc::ServerContext* ctx, const v1::ListCalendarsRequest& req,
    v1::ListCalendarsResponse* resp) {
  LT_RETURN_IF_ERROR(Authenticate(ctx).status());
  std::string after_id, after_version_text;
  int64_t after_version = 0;
  if (!req.page_token().empty()) {
    LT_RETURN_IF_ERROR(
        ParseToken(req.page_token(), &after_id, &after_version_text));
    if (!absl::SimpleAtoi(after_version_text, &after_version)) {
      return common::InvalidArgument("INVALID_PAGE_TOKEN",
                                     {{"page_token", "not from this list"}});
    }
  }
  LT_ASSIGN_OR_RETURN(std::vector<CalendarVersion> all,
                      service_.ListCalendars());
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return std::tie(a.calendar_id, a.version) <
           std::tie(b.calendar_id, b.version);
  });
  const int page = PageSize(req.page_size());
  for (const CalendarVersion& v : all) {
    if (!req.page_token().empty() && std::tie(v.calendar_id, v.version) <=
                                         std::tie(after_id, after_version)) {
      continue;
    }
    if (resp->calendars_size() == page) {
      const v1::Calendar& last = resp->calendars(page - 1);
      resp->set_next_page_token(Token(StripCollection(last.name(), "calendars"),
                                      absl::StrCat(last.version())));
      break;
    }
    LT_RETURN_IF_ERROR(CalendarToProto(v, resp->add_calendars()));
  }
  return absl::OkStatus();
}

grpc::Status DeadlineServer::ListCalendars(grpc::ServerContext* ctx,
                                           const v1::ListCalendarsRequest* req,
                                           v1::ListCalendarsResponse* resp) {
  return Done(DoListCalendars(ctx, *req, resp));
}

absl::Status DeadlineServer::DoUpdateCalendar(
    grpc::ServerContext* ctx, const v1::UpdateCalendarRequest& req,
    v1::UpdateCalendarResponse* resp) {
  LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
  if (caller.role != Role::kAdmin) {
    service_
        .AuditDenied(ActorOf(caller), caller.peer, "UpdateCalendar",
                     req.calendar().name())
        .IgnoreError();
    return common::PermissionDenied("ADMIN_ONLY",
                                    "only administrators change calendars");
  }
  LT_ASSIGN_OR_RETURN(std::string id,
                      CalendarId(req.calendar().name(), "calendar.name"));
  if (!req.calendar().has_effective_time()) {
    return common::InvalidArgument("CALENDAR_INVALID",
                                   {{"calendar.effective_time", "required"}});
  }
  LT_ASSIGN_OR_RETURN(
      const absl::Time effective,
      RequestTime(req.calendar().effective_time(), "calendar.effective_time"));
  LT_ASSIGN_OR_RETURN(std::string json,
                      CalendarJsonFromProto(req.calendar(), id));
  LT_ASSIGN_OR_RETURN(
      CalendarUpdate u,
      service_.UpdateCalendar(id, json, effective, ActorOf(caller), "",
                              req.request_id(), caller.peer));
  LT_RETURN_IF_ERROR(CalendarToProto(u.version, resp->mutable_calendar()));
  for (const MovedAppointment& m : u.moved) {
    MovedToProto(m, resp->add_moved_appointments());
  }
  return absl::OkStatus();
}

grpc::Status DeadlineServer::UpdateCalendar(
    grpc::ServerContext* ctx, const v1::UpdateCalendarRequest* req,
    v1::UpdateCalendarResponse* resp) {
  return Done(DoUpdateCalendar(ctx, *req, resp));
}

absl::Status DeadlineServer::DoComputeDueTime(
    grpc::ServerContext* ctx, const v1::ComputeDueTimeRequest& req,
    v1::ComputeDueTimeResponse* resp) {
  LT_RETURN_IF_ERROR(Authenticate(ctx).status());
  std::string id = "vn";
  if (!req.calendar().empty()) {
    LT_ASSIGN_OR_RETURN(id, CalendarId(req.calendar(), "calendar"));
  }
  if (!req.has_start_time()) {
    return common::InvalidArgument("INVALID_ARGUMENT",
                                   {{"start_time", "required"}});
  }
  LT_ASSIGN_OR_RETURN(const absl::Time start,
                      RequestTime(req.start_time(), "start_time"));
  LT_ASSIGN_OR_RETURN(absl::Duration limit, FromProto(req.duration()));
  calendar::AddOptions options;
  if (!req.cutoff_local_time().empty()) {
    int minute = 0;
    if (!calendar::ParseMinuteOfDay(req.cutoff_local_time(), &minute).ok()) {
      return common::InvalidArgument("INVALID_ARGUMENT",
                                     {{"cutoff_local_time", "must be HH:MM"}});
    }
    options.cutoff_minute = minute;
  }
  LT_ASSIGN_OR_RETURN(auto cal, service_.CalendarWithVersion(id));
  LT_ASSIGN_OR_RETURN(
      absl::Time due,
      cal.first.AddWorkingDuration(start, calendar::WorkingDuration::Of(limit),
                                   options));
  // The calendar stops at local year 9999, which in a zone west of UTC can
  // still pass what a Timestamp holds: an error, never a wrong time.
  if (!InTimestampRange(due)) {
    return common::InvalidArgument("INVALID_TIME",
                                   {{"start_time",
                                     "the due time would fall after "
                                     "9999-12-31T23:59:59.999999999Z"}},
                                   "time outside a Timestamp's range");
  }
  grpc_util::ToProto(due, resp->mutable_due_time());
  resp->set_calendar_version(
      absl::StrCat("calendars/", id, "/versions/", cal.second));
  return absl::OkStatus();
}

grpc::Status DeadlineServer::ComputeDueTime(
    grpc::ServerContext* ctx, const v1::ComputeDueTimeRequest* req,
    v1::ComputeDueTimeResponse* resp) {
  return Done(DoComputeDueTime(ctx, *req, resp));
}

// --- clocks ----------------------------------------------------------------

absl::StatusOr<Clock> DeadlineServer::VisibleClock(grpc::ServerContext* ctx,
                                                   const std::string& name) {
  LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
  LT_ASSIGN_OR_RETURN(std::string store_name, ClockStoreName(name));
  LT_ASSIGN_OR_RETURN(Clock c, service_.GetClock(store_name));
  if (!SeesEverything(caller)) {
    const bool own =
        caller.agency_code == c.agency.code ||
        std::find(c.agency.ancestors.begin(), c.agency.ancestors.end(),
                  caller.agency_code) != c.agency.ancestors.end();
    // Same answer as for a clock that does not exist: no probing.
    if (!own || caller.agency_code.empty() || caller.role == Role::kCitizen) {
      return common::NotFound("CLOCK_NOT_FOUND", "no such clock",
                              {{"clock", name}});
    }
  }
  return c;
}

grpc::Status DeadlineServer::GetClock(grpc::ServerContext* ctx,
                                      const v1::GetClockRequest* req,
                                      v1::GetClockResponse* resp) {
  absl::StatusOr<Clock> c = VisibleClock(ctx, req->name());
  if (!c.ok()) return Done(c.status());
  ClockToProto(*c, service_.Remaining(*c), resp->mutable_clock());
  return grpc::Status::OK;
}

absl::Status DeadlineServer::DoExplain(grpc::ServerContext* ctx,
                                       const v1::ExplainDueTimeRequest& req,
                                       v1::ExplainDueTimeResponse* resp) {
  LT_ASSIGN_OR_RETURN(Clock c, VisibleClock(ctx, req.name()));
  LT_ASSIGN_OR_RETURN(calendar::Explanation e, service_.ExplainDueTime(c.name));
  ClockToProto(c, service_.Remaining(c), resp->mutable_clock());
  for (const calendar::CountedSpan& s : e.counted) {
    v1::CountedSegment* out = resp->add_counted_segments();
    grpc_util::ToProto(s.start, out->mutable_start_time());
    grpc_util::ToProto(s.end, out->mutable_end_time());
  }
  for (const calendar::SkippedSpan& s : e.skipped) {
    v1::SkippedDay* out = resp->add_skipped_days();
    out->set_day(calendar::FormatDay(s.day));
    out->set_reason(s.description_vi);
  }
  return absl::OkStatus();
}

grpc::Status DeadlineServer::ExplainDueTime(
    grpc::ServerContext* ctx, const v1::ExplainDueTimeRequest* req,
    v1::ExplainDueTimeResponse* resp) {
  return Done(DoExplain(ctx, *req, resp));
}

absl::Status DeadlineServer::DoList(
    grpc::ServerContext* ctx, const std::string& agency_name, int page_size,
    const std::string& page_token, Urgency urgency,
    google::protobuf::RepeatedPtrField<v1::Clock>* out,
    std::string* next_page_token) {
  LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
  LT_ASSIGN_OR_RETURN(std::string agency, AgencyCode(agency_name));
  LT_RETURN_IF_ERROR(CheckSubtree(
      caller, agency,
      urgency == Urgency::kOverdue ? "ListOverdue" : "ListDueSoon"));
  ClockQuery q;
  q.agency_subtree = agency;
  q.urgency = urgency;
  q.page_size = PageSize(page_size) + 1;  // one more: is there a next page?
  if (!page_token.empty()) {
    std::string due_us, name;
    LT_RETURN_IF_ERROR(ParseToken(page_token, &due_us, &name));
    int64_t us = 0;
    if (!absl::SimpleAtoi(due_us, &us) ||
        !InTimestampRange(absl::FromUnixMicros(us))) {
      return common::InvalidArgument("INVALID_PAGE_TOKEN",
                                     {{"page_token", "not from this list"}});
    }
    q.after_due_at = absl::FromUnixMicros(us);
    q.after_name = name;
  }
  LT_ASSIGN_OR_RETURN(std::vector<Clock> clocks, service_.ListClocks(q));
  const int page = PageSize(page_size);
  for (int i = 0; i < static_cast<int>(clocks.size()) && i < page; ++i) {
    ClockToProto(clocks[i], service_.Remaining(clocks[i]), out->Add());
  }
  if (static_cast<int>(clocks.size()) > page) {
    const Clock& last = clocks[page - 1];
    *next_page_token =
        Token(absl::StrCat(absl::ToUnixMicros(last.due_at)), last.name);
  }
  return absl::OkStatus();
}

grpc::Status DeadlineServer::ListDueSoon(grpc::ServerContext* ctx,
                                         const v1::ListDueSoonRequest* req,
                                         v1::ListDueSoonResponse* resp) {
  return Done(DoList(ctx, req->agency(), req->page_size(), req->page_token(),
                     Urgency::kDueSoon, resp->mutable_clocks(),
                     resp->mutable_next_page_token()));
}

grpc::Status DeadlineServer::ListOverdue(grpc::ServerContext* ctx,
                                         const v1::ListOverdueRequest* req,
                                         v1::ListOverdueResponse* resp) {
  return Done(DoList(ctx, req->agency(), req->page_size(), req->page_token(),
                     Urgency::kOverdue, resp->mutable_clocks(),
                     resp->mutable_next_page_token()));
}

// --- reports ---------------------------------------------------------------

absl::Status DeadlineServer::DoReport(grpc::ServerContext* ctx,
                                      const v1::GetOnTimeReportRequest& req,
                                      v1::GetOnTimeReportResponse* resp) {
  LT_ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
  LT_ASSIGN_OR_RETURN(std::string agency, AgencyCode(req.agency()));
  LT_RETURN_IF_ERROR(CheckSubtree(caller, agency, "GetOnTimeReport"));
  LT_ASSIGN_OR_RETURN(const ReportPeriod period, RequestedPeriod(req));
  // Counters are per local day of the national calendar's zone.
  LT_ASSIGN_OR_RETURN(calendar::WorkingCalendar cal, service_.Calendar("vn"));
  LT_RETURN_IF_ERROR(CheckWholeLocalDays(period, cal));
  ReportQuery q;
  q.agency_subtree = agency;
  q.first_day = cal.LocalDay(period.start);
  q.last_day = cal.LocalDay(period.end - absl::Microseconds(1));
  q.kind =
      req.kind() == v1::CLOCK_KIND_LEG ? ClockKind::kLeg : ClockKind::kDossier;
  LT_ASSIGN_OR_RETURN(std::vector<ReportRow> total, service_.Report(q));
  RowToProto(total.empty() ? ReportRow() : total[0], resp->mutable_total());
  resp->mutable_total()->set_group(absl::StrCat("agencies/", agency));
  switch (req.group_by()) {
    case v1::REPORT_GROUPING_PROCEDURE:
      q.group_by = ReportGroupBy::kProcedure;
      break;
    case v1::REPORT_GROUPING_TIER:
      q.group_by = ReportGroupBy::kTier;
      break;
    default:
      q.group_by = ReportGroupBy::kAgency;
      break;
  }
  LT_ASSIGN_OR_RETURN(std::vector<ReportRow> rows, service_.Report(q));
  for (const ReportRow& r : rows) {
    v1::OnTimeReportRow* out = resp->add_rows();
    RowToProto(r, out);
    switch (q.group_by) {
      case ReportGroupBy::kProcedure:
        out->set_group(absl::StrCat("procedures/", r.key));
        break;
      case ReportGroupBy::kTier:
        out->set_group(TierGroup(r.key));
        break;
      default:
        out->set_group(absl::StrCat("agencies/", r.key));
        break;
    }
  }
  return absl::OkStatus();
}

grpc::Status DeadlineServer::GetOnTimeReport(
    grpc::ServerContext* ctx, const v1::GetOnTimeReportRequest* req,
    v1::GetOnTimeReportResponse* resp) {
  return Done(DoReport(ctx, *req, resp));
}

}  // namespace lienthong::deadline
