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

// Vietnamese names and notes of holidays and make-up days, entered with the
// structured fields, come back as entered (the notes were dropped: the
// structured fields had none).
TEST_F(CalendarResourceTest, HolidayAndMakeUpDayNamesRoundTrip) {
  v1::Calendar c;
  c.set_name("calendars/vn-H26");
  grpc_util::ToProto(Vn(2026, 1, 1, 0, 0), c.mutable_effective_time());
  c.set_time_zone("Asia/Ho_Chi_Minh");
  StandardWeek(&c);
  v1::Holiday* tet = c.add_holidays();
  tet->set_first_day("2026-02-14");
  tet->set_last_day("2026-02-22");
  tet->set_display_name("Tết Nguyên đán Bính Ngọ");
  tet->set_note("Từ 27 tháng Chạp đến hết mùng 6 tháng Giêng");
  v1::Holiday* gio_to = c.add_holidays();
  gio_to->set_first_day("2026-04-27");
  gio_to->set_display_name("Nghỉ bù Giỗ Tổ Hùng Vương");
  v1::MakeUpDay* saturday = c.add_make_up_days();
  saturday->set_day("2026-01-10");
  saturday->set_display_name("Làm bù cho thứ Sáu 2/1/2026");
  saturday->set_note("Thông báo số 01/TB-UBND");
  v1::UpdateCalendarResponse resp;
  ASSERT_TRUE(Update(c, &resp).ok());

  Restart();
  absl::StatusOr<v1::Calendar> got = Get("calendars/vn-H26", 1);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(
      got->holidays(),
      ElementsAre(
          AllOf(Property(&v1::Holiday::first_day, "2026-02-14"),
                Property(&v1::Holiday::last_day, "2026-02-22"),
                Property(&v1::Holiday::display_name, "Tết Nguyên đán Bính Ngọ"),
                Property(&v1::Holiday::note,
                         "Từ 27 tháng Chạp đến hết mùng 6 tháng Giêng")),
          AllOf(
              Property(&v1::Holiday::first_day, "2026-04-27"),
              Property(&v1::Holiday::last_day, "2026-04-27"),
              Property(&v1::Holiday::display_name, "Nghỉ bù Giỗ Tổ Hùng Vương"),
              Property(&v1::Holiday::note, ""))));
  EXPECT_THAT(
      got->make_up_days(),
      ElementsAre(AllOf(
          Property(&v1::MakeUpDay::day, "2026-01-10"),
          Property(&v1::MakeUpDay::display_name, "Làm bù cho thứ Sáu 2/1/2026"),
          Property(&v1::MakeUpDay::note, "Thông báo số 01/TB-UBND"))));
  // The JSON document says the same.
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(got->json());
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->holidays.size(), 2u);
  EXPECT_EQ(data->holidays[0].name, "Tết Nguyên đán Bính Ngọ");
  EXPECT_EQ(data->holidays[0].note,
            "Từ 27 tháng Chạp đến hết mùng 6 tháng Giêng");
  ASSERT_EQ(data->make_up_days.size(), 1u);
  EXPECT_EQ(data->make_up_days[0].name, "Làm bù cho thứ Sáu 2/1/2026");
  EXPECT_EQ(data->make_up_days[0].note, "Thông báo số 01/TB-UBND");
}

// Sent as the JSON document, the notes of holidays and make-up days (which
// the structured fields do not carry) are kept too.
TEST_F(CalendarResourceTest, HolidayNotesInTheJsonDocumentRoundTrip) {
  absl::StatusOr<calendar::CalendarData> d =
      calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
  ASSERT_TRUE(d.ok());
  d->id = "vn-H26";
  d->holidays.push_back({absl::CivilDay(2026, 3, 12),
                         absl::CivilDay(2026, 3, 12), "Nghỉ đột xuất",
                         "Quyết định số 12/QĐ-UBND ngày 5/3/2026", true});
  v1::Calendar c;
  c.set_name("calendars/vn-H26");
  grpc_util::ToProto(Vn(2026, 1, 1, 0, 0), c.mutable_effective_time());
  c.set_json(calendar::ToJson(*d));
  v1::UpdateCalendarResponse resp;
  ASSERT_TRUE(Update(c, &resp).ok());

  Restart();
  absl::StatusOr<v1::Calendar> got = Get("calendars/vn-H26", 1);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->holidays(),
              ::testing::Contains(
                  AllOf(Property(&v1::Holiday::first_day, "2026-03-12"),
                        Property(&v1::Holiday::display_name, "Nghỉ đột xuất"),
                        Property(&v1::Holiday::note,
                                 "Quyết định số 12/QĐ-UBND ngày 5/3/2026"))));
  absl::StatusOr<calendar::CalendarData> back =
      calendar::ParseCalendarJson(got->json());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *d);
}

}  // namespace
}  // namespace lienthong::deadline
