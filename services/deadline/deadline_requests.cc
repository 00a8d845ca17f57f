#include "services/deadline/deadline_requests.h"

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/grpc_util/proto_time.h"
#include "services/deadline/deadline_events.h"

namespace lienthong::deadline {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

constexpr char kTimestampRange[] =
    "must lie within 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999999Z";

}  // namespace

int PageSize(int requested) {
  if (requested <= 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

bool InTimestampRange(absl::Time t) {
  return t >= absl::FromUnixSeconds(-62135596800) &&
         t < absl::FromUnixSeconds(253402300800);
}

absl::StatusOr<absl::Time> RequestTime(const google::protobuf::Timestamp& ts,
                                       const char* field) {
  const absl::Time t = grpc_util::FromProto(ts);
  if (ts.nanos() < 0 || ts.nanos() > 999999999 || !InTimestampRange(t)) {
    return common::InvalidArgument("INVALID_TIME", {{field, kTimestampRange}},
                                   "time outside a Timestamp's range");
  }
  return t;
}

std::string Token(absl::string_view a, absl::string_view b) {
  return absl::WebSafeBase64Escape(absl::StrCat(a, "\x1f", b));
}

absl::Status ParseToken(const std::string& token, std::string* a,
                        std::string* b) {
  std::string raw;
  std::vector<std::string> parts;
  if (absl::WebSafeBase64Unescape(token, &raw)) {
    parts = absl::StrSplit(raw, '\x1f');
  }
  if (parts.size() != 2) {
    return common::InvalidArgument("INVALID_PAGE_TOKEN",
                                   {{"page_token", "not from this list"}});
  }
  *a = parts[0];
  *b = parts[1];
  return absl::OkStatus();
}

absl::StatusOr<std::string> AgencyCode(const std::string& name) {
  const std::string code = StripCollection(name, "agencies");
  if (code.empty()) {
    return common::InvalidArgument("INVALID_AGENCY",
                                   {{"agency", "required: agencies/{code}"}});
  }
  return code;
}

absl::StatusOr<std::string> CalendarId(const std::string& name,
                                       const char* field) {
  const std::string id = StripCollection(name, "calendars");
  if (id.empty() || id.find('/') != std::string::npos) {
    return common::InvalidArgument("INVALID_NAME",
                                   {{field, "must be calendars/{id}"}});
  }
  return id;
}

absl::StatusOr<ReportPeriod> RequestedPeriod(
    const v1::GetOnTimeReportRequest& req) {
  if (!req.has_period_start_time() || !req.has_period_end_time()) {
    return common::InvalidArgument(
        "INVALID_PERIOD", {{"period_start_time", "start and end required"}});
  }
  const absl::Time start = grpc_util::FromProto(req.period_start_time());
  const absl::Time end = grpc_util::FromProto(req.period_end_time());
  if (!InTimestampRange(start) || !InTimestampRange(end)) {
    return common::InvalidArgument(
        "INVALID_PERIOD",
        {{"period_start_time", "start and end within years 0001-9999"}});
  }
  if (end <= start) {
    return common::InvalidArgument(
        "INVALID_PERIOD", {{"period_end_time", "must be after the start"}});
  }
  return ReportPeriod{start, end};
}

absl::Status CheckWholeLocalDays(const ReportPeriod& p,
                                 const calendar::WorkingCalendar& cal) {
  std::vector<common::FieldViolation> v;
  if (cal.StartOfDay(cal.LocalDay(p.start)) != p.start) {
    v.push_back({"period_start_time",
                 "must be a midnight in Asia/Ho_Chi_Minh (e.g. "
                 "2026-03-01T00:00:00+07:00)"});
  }
  if (cal.StartOfDay(cal.LocalDay(p.end)) != p.end) {
    v.push_back({"period_end_time",
                 "must be a midnight in Asia/Ho_Chi_Minh (the day after the "
                 "last one counted)"});
  }
  if (!v.empty()) return common::InvalidArgument("INVALID_PERIOD", v);
  return absl::OkStatus();
}

}  // namespace lienthong::deadline
