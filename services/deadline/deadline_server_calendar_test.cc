// The Calendar resource over real gRPC and PostgreSQL: what an
// administrator's UpdateCalendar stores is what GetCalendar and
// ListCalendars give back, after a restart too (read back from the
// database, not from the first response).

#include <string>
#include <utility>
#include <vector>

#include "services/deadline/deadline_server_fixture.h"

namespace lienthong::deadline {
namespace {

using namespace server_testing;  // NOLINT
using calendar::testing::Vn;
using ::testing::ElementsAre;
using ::testing::Property;

// vn's office hours, as the structured fields say them.
void StandardWeek(v1::Calendar* c) {
  for (int day = 1; day <= 5; ++day) {
    v1::WeekdayHours* w = c->add_office_hours();
    w->set_weekday(day);
    w->add_segments("08:00-12:00");
    w->add_segments("13:00-17:00");
  }
}

class CalendarResourceTest : public DeadlineServerTest {
 protected:
  grpc::Status Update(const v1::Calendar& c, v1::UpdateCalendarResponse* resp,
                      const std::string& request_id = "") {
    grpc::ClientContext ctx;
    As(ctx, kAdmin);
    v1::UpdateCalendarRequest req;
    *req.mutable_calendar() = c;
    req.set_request_id(request_id);
    return stub_->UpdateCalendar(&ctx, req, resp);
  }
  absl::StatusOr<v1::Calendar> Get(const std::string& name, int version) {
    grpc::ClientContext ctx;
    As(ctx, kCityOfficer);
    v1::GetCalendarRequest req;
    req.set_name(name);
    req.set_version(version);
    v1::GetCalendarResponse resp;
    const grpc::Status s = stub_->GetCalendar(&ctx, req, &resp);
    if (!s.ok()) return grpc_util::FromGrpcStatus(s);
    return resp.calendar();
  }
};

// A default cut-off is checked, stored and given back, and counts where
// the caller names none (ComputeDueTime without `cutoff_local_time`).
TEST_F(CalendarResourceTest, TheDefaultCutoffIsStoredReturnedAndApplied) {
  v1::Calendar c;
  c.set_name("calendars/vn");
  grpc_util::ToProto(Vn(2026, 1, 1, 0, 0), c.mutable_effective_time());
  c.set_time_zone("Asia/Ho_Chi_Minh");
  StandardWeek(&c);
  c.set_default_cutoff_local_time("15:00");
  v1::UpdateCalendarResponse resp;
  ASSERT_TRUE(Update(c, &resp).ok());
  EXPECT_EQ(resp.calendar().default_cutoff_local_time(), "15:00");

  Restart();
  absl::StatusOr<v1::Calendar> got = Get("calendars/vn", 2);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->default_cutoff_local_time(), "15:00");
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(got->json());
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->default_cutoff_minute, 15 * 60);

  // Monday 15:30 plus one working day: from Tuesday, unless the request
  // names its own cut-off.
  for (const auto& [cutoff, due] :
       {std::pair<std::string, absl::Time>{"", Vn(2026, 3, 10, 17, 0)},
        {"16:00", Vn(2026, 3, 10, 15, 30)}}) {
    grpc::ClientContext ctx;
    As(ctx, kCityOfficer);
    v1::ComputeDueTimeRequest req;
    req.set_calendar("calendars/vn");
    grpc_util::ToProto(Vn(2026, 3, 9, 15, 30), req.mutable_start_time());
    req.mutable_duration()->set_unit(common::v1::WORKING_DURATION_UNIT_DAYS);
    req.mutable_duration()->set_amount(1);
    req.set_cutoff_local_time(cutoff);
    v1::ComputeDueTimeResponse computed;
    ASSERT_TRUE(stub_->ComputeDueTime(&ctx, req, &computed).ok());
    EXPECT_EQ(grpc_util::FromProto(computed.due_time()), due)
        << "cut-off '" << cutoff << "'";
  }
}

TEST_F(CalendarResourceTest, ADefaultCutoffThatIsNoTimeOfDayIsRefused) {
  for (const char* bad : {"15h", "3pm", "24:00", "15:60", "1500"}) {
    v1::Calendar c;
    c.set_name("calendars/vn");
    grpc_util::ToProto(Vn(2026, 1, 1, 0, 0), c.mutable_effective_time());
    StandardWeek(&c);
    c.set_default_cutoff_local_time(bad);
    v1::UpdateCalendarResponse resp;
    const grpc::Status s = Update(c, &resp);
    EXPECT_THAT(s, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT)) << bad;
    std::vector<std::string> fields;
    for (const common::FieldViolation& v :
         common::GetErrorDetails(grpc_util::FromGrpcStatus(s))
             .field_violations) {
      fields.push_back(v.field);
    }
    EXPECT_THAT(fields, ElementsAre("calendar.default_cutoff_local_time"))
        << bad;
  }
  // Nothing was stored.
  absl::StatusOr<v1::Calendar> latest = Get("calendars/vn", 0);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->version(), 1);
  EXPECT_EQ(latest->default_cutoff_local_time(), "");
}

}  // namespace
}  // namespace lienthong::deadline
