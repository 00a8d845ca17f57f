// The deadline service over real gRPC (127.0.0.1:0, the shared server
// bootstrap) and real PostgreSQL: events in through EventSinkService,
// clocks, lists, reports and calendar administration out through
// DeadlineService, with identities from the dev metadata headers.

#include <map>
#include <string>

#include "services/deadline/deadline_server_fixture.h"

namespace lienthong::deadline {
namespace {

using namespace server_testing;  // NOLINT
using calendar::testing::Vn;
using ::lienthong::testing::GrpcStatusIs;

TEST_F(DeadlineServerTest, EventsStartClocksOnceAndGetClockShowsThem) {
  const common::v1::Event e =
      Received("DA", kWardA, {kCity, kDistrict}, Vn(2026, 3, 9, 10, 0), 5);
  common::v1::DeliverEventsResponse first, again;
  ASSERT_TRUE(Deliver({e}, &first).ok());
  ASSERT_TRUE(Deliver({e}, &again).ok());
  EXPECT_EQ(first.applied_event_ids_size(), 1);
  EXPECT_EQ(again.duplicate_event_ids_size(), 1);

  grpc::ClientContext ctx;
  As(ctx, kCityOfficer);
  v1::GetClockRequest req;
  req.set_name("dossiers/DA");
  v1::GetClockResponse resp;
  ASSERT_TRUE(stub_->GetClock(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.clock().name(), "clocks/DA");
  EXPECT_EQ(resp.clock().state(), v1::CLOCK_STATE_ON_TRACK);
  EXPECT_EQ(grpc_util::FromProto(resp.clock().due_time()),
            Vn(2026, 3, 16, 10, 0));
  EXPECT_EQ(resp.clock().remaining_working_seconds(), 40 * 3600);
  // Named as ComputeDueTime names a version.
  EXPECT_EQ(resp.clock().calendar_version(), "calendars/vn/versions/1");

  // Another ward's officer cannot see it (and cannot tell it exists).
  grpc::ClientContext other;
  As(other, kWardBOfficer);
  EXPECT_EQ(stub_->GetClock(&other, req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(DeadlineServerTest, OverdueListedForTheSubtreeOnly) {
  ReceiveTwo();
  clock_.Set(Vn(2026, 3, 11, 9, 0));  // DB (1 day) is overdue, DA is not
  ASSERT_TRUE(service_->RunScanOnce().ok());
  grpc::ClientContext ctx;
  As(ctx, kCityOfficer);
  v1::ListOverdueRequest req;
  req.set_agency(absl::StrCat("agencies/", kDistrict));
  v1::ListOverdueResponse resp;
  ASSERT_TRUE(stub_->ListOverdue(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.clocks_size(), 1);
  EXPECT_EQ(resp.clocks(0).dossier(), "dossiers/DB");
  EXPECT_EQ(resp.clocks(0).state(), v1::CLOCK_STATE_OVERDUE);
  EXPECT_LT(resp.clocks(0).remaining_working_seconds(), 0);

  grpc::ClientContext denied;
  As(denied, kWardBOfficer);
  req.set_agency(absl::StrCat("agencies/", kDistrict));
  const grpc::Status st = stub_->ListOverdue(&denied, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Refused, and on the audit trail with who and from where.
  ASSERT_EQ(AuditTrail().size(), 1u);
  EXPECT_EQ(
      AuditTrail()[0],
      absl::StrCat("ListOverdue PERMISSION_DENIED agencies/", kDistrict, " ",
                   kWardBOfficer.agency, "/", kWardBOfficer.subject, " true"));

  // A ward no clock has named yet (new in the district): nothing to show,
  // answered empty rather than refused.
  grpc::ClientContext fresh;
  As(fresh, kCityOfficer);
  req.set_agency("agencies/000.99.99.H26");
  ASSERT_TRUE(stub_->ListOverdue(&fresh, req, &resp).ok());
  EXPECT_EQ(resp.clocks_size(), 0);
  ASSERT_EQ(AuditTrail().size(), 1u);  // no denial written for it
  req.set_agency(absl::StrCat("agencies/", kDistrict));

  // A citizen's certificate naming the city sees no clocks either.
  grpc::ClientContext citizen, citizen_clock;
  As(citizen, {"citizen", kCity, "cong-dan"});
  EXPECT_EQ(stub_->ListOverdue(&citizen, req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  As(citizen_clock, {"citizen", kCity, "cong-dan"});
  v1::GetClockRequest get;
  get.set_name("dossiers/DB");
  v1::GetClockResponse clock;
  EXPECT_EQ(stub_->GetClock(&citizen_clock, get, &clock).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(DeadlineServerTest, ListPagesWithOpaqueTokens) {
  common::v1::DeliverEventsResponse r;
  std::vector<common::v1::Event> events;
  for (int i = 0; i < 5; ++i) {
    events.push_back(Received(absl::StrCat("P", i), kWardA, {kCity, kDistrict},
                              Vn(2026, 3, 9, 8, i), 1));
  }
  ASSERT_TRUE(Deliver(events, &r).ok());
  clock_.Set(Vn(2026, 3, 20, 0, 0));
  ASSERT_TRUE(service_->RunScanOnce().ok());
  std::vector<std::string> seen;
  std::string token;
  do {
    grpc::ClientContext ctx;
    As(ctx, kAdmin);
    v1::ListOverdueRequest req;
    req.set_agency(absl::StrCat("agencies/", kCity));
    req.set_page_size(2);
    req.set_page_token(token);
    v1::ListOverdueResponse resp;
    ASSERT_TRUE(stub_->ListOverdue(&ctx, req, &resp).ok());
    for (const auto& c : resp.clocks()) seen.push_back(c.dossier());
    token = resp.next_page_token();
  } while (!token.empty());
  EXPECT_THAT(
      seen, ::testing::ElementsAre("dossiers/P0", "dossiers/P1", "dossiers/P2",
                                   "dossiers/P3", "dossiers/P4"));
}

TEST_F(DeadlineServerTest, AdminCalendarChangeMovesAppointments) {
  ReceiveTwo();
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
  data->holidays.push_back({absl::CivilDay(2026, 3, 12),
                            absl::CivilDay(2026, 3, 12), "Nghỉ đột xuất", "",
                            false});
  v1::UpdateCalendarRequest req;
  req.mutable_calendar()->set_name("calendars/vn");
  req.mutable_calendar()->set_json(calendar::ToJson(*data));
  grpc_util::ToProto(Vn(2026, 3, 1, 0, 0),
                     req.mutable_calendar()->mutable_effective_time());
  req.set_request_id("5f0c7c1e-8d7a-4f3e-9a51-1c2b3d4e5f60");

  grpc::ClientContext officer;
  As(officer, kCityOfficer);
  v1::UpdateCalendarResponse resp;
  EXPECT_EQ(stub_->UpdateCalendar(&officer, req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  grpc::ClientContext admin;
  As(admin, kAdmin);
  ASSERT_TRUE(stub_->UpdateCalendar(&admin, req, &resp).ok());
  EXPECT_EQ(resp.calendar().version(), 2);
  // The refused attempt and the change, each with its caller and address.
  const std::vector<std::string> trail = AuditTrail();
  ASSERT_EQ(trail.size(), 2u);
  EXPECT_EQ(trail[0].rfind("UpdateCalendar PERMISSION_DENIED calendars/vn ", 0),
            0u)
      << trail[0];
  EXPECT_EQ(trail[1].rfind("UpdateCalendar OK calendars/vn ", 0), 0u)
      << trail[1];
  EXPECT_TRUE(absl::EndsWith(trail[1], " true")) << trail[1];
  ASSERT_EQ(resp.moved_appointments_size(), 1);  // DB was due on 10/3
  // The moved clock was counted with version 2; the other one still says
  // version 1, which counted its due time.
  for (const auto& [dossier, version] :
       {std::pair<std::string, std::string>{"DA", "calendars/vn/versions/2"},
        {"DB", "calendars/vn/versions/1"}}) {
    grpc::ClientContext get_ctx;
    As(get_ctx, kCityOfficer);
    v1::GetClockRequest get;
    get.set_name(absl::StrCat("dossiers/", dossier));
    v1::GetClockResponse got;
    ASSERT_TRUE(stub_->GetClock(&get_ctx, get, &got).ok());
    EXPECT_EQ(got.clock().calendar_version(), version) << dossier;
  }
  EXPECT_EQ(resp.moved_appointments(0).dossier(), "dossiers/DA");
  EXPECT_EQ(resp.moved_appointments(0).kind(), v1::CLOCK_KIND_DOSSIER);
  EXPECT_EQ(grpc_util::FromProto(resp.moved_appointments(0).new_due_time()),
            Vn(2026, 3, 17, 10, 0));
  EXPECT_THAT(resp.calendar().holidays(),
              ::testing::Contains(::testing::Property(
                  &v1::Holiday::display_name, "Nghỉ đột xuất")));

  grpc::ClientContext explain_ctx;
  As(explain_ctx, kAdmin);
  v1::ExplainDueTimeRequest ereq;
  ereq.set_name("clocks/DA");
  v1::ExplainDueTimeResponse eresp;
  ASSERT_TRUE(stub_->ExplainDueTime(&explain_ctx, ereq, &eresp).ok());
  EXPECT_THAT(eresp.skipped_days(),
              ::testing::Contains(::testing::Property(
                  &v1::SkippedDay::reason, "Nghỉ lễ, Tết: Nghỉ đột xuất")));

  // A retry returns the same version; another change under the same id is
  // refused.
  grpc::ClientContext retry;
  As(retry, kAdmin);
  v1::UpdateCalendarResponse again;
  ASSERT_TRUE(stub_->UpdateCalendar(&retry, req, &again).ok());
  EXPECT_EQ(again.calendar().version(), 2);
  ASSERT_EQ(again.moved_appointments_size(), 1);
  EXPECT_EQ(again.moved_appointments(0).dossier(), "dossiers/DA");
  // Read back from the stored version: the kind survives.
  EXPECT_EQ(again.moved_appointments(0).kind(), v1::CLOCK_KIND_DOSSIER);
  grpc::ClientContext reused;
  As(reused, kAdmin);
  v1::UpdateCalendarRequest other = req;
  data->holidays.push_back({absl::CivilDay(2026, 3, 13),
                            absl::CivilDay(2026, 3, 13), "Nghỉ thêm", "",
                            false});
  other.mutable_calendar()->set_json(calendar::ToJson(*data));
  EXPECT_EQ(stub_->UpdateCalendar(&reused, other, &again).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  grpc::ClientContext bad;
  As(bad, kAdmin);
  req.set_request_id("");
  req.mutable_calendar()->set_json("{\"id\": \"vn\"}");
  const grpc::Status st = stub_->UpdateCalendar(&bad, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(ClockToProtoTest, AClockStoredBeforeVersionsWereRecordedNamesItsCalendar) {
  Clock c;
  c.name = "dossiers/DA";
  c.calendar_id = "vn-H26";
  c.calendar_version = 2;
  v1::Clock shown;
  ClockToProto(c, absl::ZeroDuration(), &shown);
  EXPECT_EQ(shown.calendar_version(), "calendars/vn-H26/versions/2");
  c.calendar_version = 0;
  ClockToProto(c, absl::ZeroDuration(), &shown);
  EXPECT_EQ(shown.calendar_version(), "calendars/vn-H26");
}

TEST_F(DeadlineServerTest, ComputeDueTimeUsesTheStoredCalendar) {
  grpc::ClientContext ctx;
  As(ctx, kWardBOfficer);
  v1::ComputeDueTimeRequest req;
  grpc_util::ToProto(Vn(2026, 2, 13, 16, 0), req.mutable_start_time());
  req.mutable_duration()->set_unit(common::v1::WORKING_DURATION_UNIT_DAYS);
  req.mutable_duration()->set_amount(1);
  req.set_cutoff_local_time("15:00");
  v1::ComputeDueTimeResponse resp;
  ASSERT_TRUE(stub_->ComputeDueTime(&ctx, req, &resp).ok());
  EXPECT_EQ(grpc_util::FromProto(resp.due_time()), Vn(2026, 2, 23, 17, 0));
  EXPECT_EQ(resp.calendar_version(), "calendars/vn/versions/1");
}

TEST_F(DeadlineServerTest, ReportTotalEqualsTheSumOfItsRows) {
  ReceiveTwo();
  clock_.Set(Vn(2026, 3, 11, 9, 0));
  ASSERT_TRUE(service_->RunScanOnce().ok());
  grpc::ClientContext ctx;
  As(ctx, kCityOfficer);
  v1::GetOnTimeReportRequest req;
  req.set_agency(absl::StrCat("agencies/", kDistrict));
  grpc_util::ToProto(Vn(2026, 3, 1, 0, 0), req.mutable_period_start_time());
  grpc_util::ToProto(Vn(2026, 4, 1, 0, 0), req.mutable_period_end_time());
  v1::GetOnTimeReportResponse resp;
  ASSERT_TRUE(stub_->GetOnTimeReport(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.total().received(), 2);
  EXPECT_EQ(resp.total().in_progress_overdue(), 1);
  EXPECT_EQ(resp.total().in_progress_on_time(), 1);
  int64_t received = 0, overdue = 0;
  for (const auto& row : resp.rows()) {
    received += row.received();
    overdue += row.in_progress_overdue();
  }
  EXPECT_EQ(resp.rows_size(), 2);  // ward A, ward B
  EXPECT_EQ(received, resp.total().received());
  EXPECT_EQ(overdue, resp.total().in_progress_overdue());
}

TEST_F(DeadlineServerTest, ARowWhereNothingFinishedHasNoOnTimeRate) {
  ReceiveTwo();
  // DA (ward A) finishes on time; DB (ward B) is overdue and not finished.
  InboundEvent done;
  done.event_id = "00000000-0000-4000-8000-0000000000da";
  done.kind = InboundKind::kDossierCompleted;
  done.dossier_code = "DA";
  done.occurred_at = Vn(2026, 3, 10, 9, 0);
  clock_.Set(done.occurred_at);
  ASSERT_TRUE(service_->HandleEvent(done).ok());
  clock_.Set(Vn(2026, 3, 11, 9, 0));
  ASSERT_TRUE(service_->RunScanOnce().ok());
  grpc::ClientContext ctx;
  As(ctx, kCityOfficer);
  v1::GetOnTimeReportRequest req;
  req.set_agency(absl::StrCat("agencies/", kDistrict));
  req.set_group_by(v1::REPORT_GROUPING_AGENCY);
  grpc_util::ToProto(Vn(2026, 3, 1, 0, 0), req.mutable_period_start_time());
  grpc_util::ToProto(Vn(2026, 4, 1, 0, 0), req.mutable_period_end_time());
  v1::GetOnTimeReportResponse resp;
  ASSERT_TRUE(stub_->GetOnTimeReport(&ctx, req, &resp).ok());
  std::map<std::string, v1::OnTimeReportRow> rows;
  for (const auto& row : resp.rows()) rows[row.group()] = row;
  const v1::OnTimeReportRow& a = rows[absl::StrCat("agencies/", kWardA)];
  const v1::OnTimeReportRow& b = rows[absl::StrCat("agencies/", kWardB)];
  EXPECT_TRUE(a.any_finished());
  EXPECT_DOUBLE_EQ(a.on_time_rate(), 1.0);
  // Not 1 (100 %, the best ward): no rate at all.
  EXPECT_EQ(b.in_progress_overdue(), 1);
  EXPECT_FALSE(b.any_finished());
  EXPECT_DOUBLE_EQ(b.on_time_rate(), 0.0);
  EXPECT_TRUE(resp.total().any_finished());
  EXPECT_DOUBLE_EQ(resp.total().on_time_rate(), 1.0);
}

}  // namespace
}  // namespace lienthong::deadline
