// The deadline service over real gRPC (127.0.0.1:0, the shared server
// bootstrap) and real PostgreSQL: events in through EventSinkService,
// clocks, lists, reports and calendar administration out through
// DeadlineService, with identities from the dev metadata headers.

#include "services/deadline/deadline_server.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "libs/calendar/calendar_json.h"
#include "libs/calendar/default_calendar.h"
#include "libs/calendar/test_calendars.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/server.h"
#include "libs/grpc_util/status_conversion.h"
#include "libs/metrics/metrics.h"
#include "libs/testing/status_matchers.h"
#include "lienthong/intake/v1/events.pb.h"
#include "lienthong/routing/v1/events.pb.h"
#include "services/deadline/deadline_events.h"
#include "services/deadline/event_handler.h"
#include "services/deadline/pg_deadline_store.h"
#include "services/deadline/pg_test_db.h"

namespace lienthong::deadline {
namespace {

using calendar::testing::Vn;
using ::lienthong::testing::GrpcStatusIs;

constexpr char kCity[] = "000.00.00.H26";
constexpr char kDistrict[] = "000.00.01.H26";
constexpr char kWardA[] = "000.01.01.H26";
constexpr char kWardB[] = "000.02.01.H26";

struct Who {
  std::string role, agency, subject;
};
const Who kAdmin{"admin", kCity, "quan-tri"};
const Who kCityOfficer{"supervisor", kCity, "giam-sat"};
const Who kWardBOfficer{"counter_officer", kWardB, "can-bo-b"};

class DeadlineServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = test::FreshPool();
    store_ = std::make_unique<PgDeadlineStore>(*pool_, clock_);
    service_ = std::make_unique<DeadlineService>(*store_, clock_, EncodeNotice);
    service_->SetMovedEncoder(EncodeAppointmentsMoved);
    ASSERT_TRUE(service_->EnsureDefaultCalendar().ok());
    server_impl_ = std::make_unique<DeadlineServer>(*service_, clock_, true);
    sink_ = std::make_unique<grpc_util::EventSinkServer>(
        "lienthong.deadline", MakeEventHandler(*service_), true);
    grpc_util::ServerOptions o;
    o.service_label = "deadline_test";
    o.service_names = {"lienthong.deadline.v1.DeadlineService"};
    o.drain_grace = absl::ZeroDuration();
    o.shutdown_deadline = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<grpc_util::Server>> server =
        grpc_util::Server::Start(o, {server_impl_.get(), sink_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials());
    stub_ = v1::DeadlineService::NewStub(channel);
    sink_stub_ = common::v1::EventSinkService::NewStub(channel);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  // deadline.audit_log as "action outcome target actor" lines, in order.
  std::vector<std::string> AuditTrail() {
    return db::WithTransaction(
               *pool_,
               [](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
                 std::vector<std::string> out;
                 for (const auto& r : tx.exec(
                          "SELECT action || ' ' || outcome || ' ' || target || "
                          "' ' || actor || ' ' || (peer <> '')::text FROM "
                          "deadline.audit_log ORDER BY id")) {
                   out.push_back(r[0].as<std::string>());
                 }
                 return out;
               })
        .value_or(std::vector<std::string>{"error"});
  }

  void As(grpc::ClientContext& ctx, const Who& who) {
    grpc_util::PrepareContext(ctx, absl::Seconds(10), who.role, who.agency,
                              who.subject);
  }

  grpc::Status Deliver(const std::vector<common::v1::Event>& events,
                       common::v1::DeliverEventsResponse* resp) {
    grpc::ClientContext ctx;
    As(ctx, {"service", "", "intake-relay"});
    common::v1::DeliverEventsRequest req;
    for (const auto& e : events) *req.add_events() = e;
    return sink_stub_->DeliverEvents(&ctx, req, resp);
  }

  common::v1::Event Received(const std::string& code, const char* agency,
                             std::vector<std::string> ancestors, absl::Time at,
                             int days) {
    intake::v1::DossierReceived m;
    m.set_dossier(absl::StrCat("dossiers/", code));
    m.mutable_receiving_agency()->set_code(agency);
    m.mutable_receiving_agency()->set_tier(common::v1::TIER_COMMUNE);
    for (const auto& a : ancestors) m.add_agency_ancestor_codes(a);
    m.mutable_procedure()->set_code("1.001193");
    m.mutable_procedure()->mutable_legal_time()->set_unit(
        common::v1::WORKING_DURATION_UNIT_DAYS);
    m.mutable_procedure()->mutable_legal_time()->set_amount(days);
    grpc_util::ToProto(at, m.mutable_receive_time());
    return grpc_util::MakeEvent(m, "intake", m.dossier(), at);
  }

  void ReceiveTwo() {
    common::v1::DeliverEventsResponse resp;
    ASSERT_TRUE(Deliver({Received("DA", kWardA, {kCity, kDistrict},
                                  Vn(2026, 3, 9, 10, 0), 5),
                         Received("DB", kWardB, {kCity, kDistrict},
                                  Vn(2026, 3, 9, 10, 0), 1)},
                        &resp)
                    .ok());
    ASSERT_EQ(resp.applied_event_ids_size(), 2);
  }

  common::FakeClock clock_{Vn(2026, 3, 9, 10, 0)};
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<PgDeadlineStore> store_;
  std::unique_ptr<DeadlineService> service_;
  std::unique_ptr<DeadlineServer> server_impl_;
  std::unique_ptr<grpc_util::EventSinkServer> sink_;
  std::unique_ptr<grpc_util::Server> server_;
  std::unique_ptr<v1::DeadlineService::Stub> stub_;
  std::unique_ptr<common::v1::EventSinkService::Stub> sink_stub_;
};

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

TEST_F(DeadlineServerTest, ComputeDueTimeRefusesAYearsTooLongDuration) {
  grpc::ClientContext ctx;
  As(ctx, kWardBOfficer);
  v1::ComputeDueTimeRequest req;
  grpc_util::ToProto(Vn(2026, 2, 13, 16, 0), req.mutable_start_time());
  req.mutable_duration()->set_unit(common::v1::WORKING_DURATION_UNIT_DAYS);
  req.mutable_duration()->set_amount(100000);
  v1::ComputeDueTimeResponse resp;
  EXPECT_THAT(stub_->ComputeDueTime(&ctx, req, &resp),
              GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
}

// An event that can never start a clock (a legal time over a year, no
// dossier) is acknowledged, logged and counted, not redelivered for ever.
TEST_F(DeadlineServerTest, AnEventNoClockCanComeFromIsAcknowledged) {
  common::v1::Event too_long =
      Received("DX", kWardA, {kCity, kDistrict}, Vn(2026, 3, 9, 10, 0), 400);
  intake::v1::DossierReceived nameless;
  ASSERT_TRUE(too_long.payload().UnpackTo(&nameless));
  nameless.set_dossier("");
  nameless.mutable_procedure()->mutable_legal_time()->set_amount(5);
  const common::v1::Event no_dossier =
      grpc_util::MakeEvent(nameless, "intake", "", Vn(2026, 3, 9, 10, 0));
  // Counted for the alert, by type and reason.
  const auto rejected = [] {
    double n = 0;
    for (const auto& f :
         metrics::Counter(kEventsRejectedName, kEventsRejectedHelp).Collect()) {
      for (const auto& m : f.metric) {
        bool received = false, has_reason = false;
        for (const auto& l : m.label) {
          received |= l.name == "type" &&
                      l.value == "lienthong.intake.v1.DossierReceived";
          has_reason |= l.name == "reason" && !l.value.empty();
        }
        if (received && has_reason) n += m.counter.value;
      }
    }
    return n;
  };
  const double before = rejected();
  common::v1::DeliverEventsResponse resp;
  ASSERT_TRUE(Deliver({too_long, no_dossier}, &resp).ok());
  EXPECT_EQ(resp.applied_event_ids_size(), 2);
  EXPECT_FALSE(service_->GetClock("dossiers/DX").ok());
  EXPECT_EQ(rejected() - before, 2);
}

// A report's period is whole local days (a boundary inside a day would
// count it twice); absurd times and forged page tokens are the caller's
// error, not the database's.
TEST_F(DeadlineServerTest, BadPeriodsAndTokensAreInvalidArguments) {
  ReceiveTwo();
  auto report = [&](absl::Time from, absl::Time to) {
    grpc::ClientContext ctx;
    As(ctx, kCityOfficer);
    v1::GetOnTimeReportRequest req;
    req.set_agency(absl::StrCat("agencies/", kDistrict));
    grpc_util::ToProto(from, req.mutable_period_start_time());
    grpc_util::ToProto(to, req.mutable_period_end_time());
    v1::GetOnTimeReportResponse resp;
    return stub_->GetOnTimeReport(&ctx, req, &resp).error_code();
  };
  EXPECT_EQ(report(Vn(2026, 3, 1, 0, 0), Vn(2026, 4, 1, 0, 0)),
            grpc::StatusCode::OK);
  // UTC midnights: 07:00 in Hà Nội.
  EXPECT_EQ(
      report(absl::FromCivil(absl::CivilDay(2026, 3, 1), absl::UTCTimeZone()),
             absl::FromCivil(absl::CivilDay(2026, 4, 1), absl::UTCTimeZone())),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(report(Vn(2026, 3, 1, 0, 0), Vn(2026, 3, 9, 15, 0)),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(
      report(absl::FromUnixSeconds(-100000000000000), Vn(2026, 4, 1, 0, 0)),
      grpc::StatusCode::INVALID_ARGUMENT);

  grpc::ClientContext ctx;
  As(ctx, kCityOfficer);
  v1::ListOverdueRequest list;
  list.set_agency(absl::StrCat("agencies/", kDistrict));
  std::string forged;
  absl::WebSafeBase64Escape("9223372036854775807\x1fz", &forged);
  list.set_page_token(forged);
  v1::ListOverdueResponse listed;
  EXPECT_EQ(stub_->ListOverdue(&ctx, list, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// A timestamp no calendar year holds (unvalidated protobuf input) is
// INVALID_ARGUMENT at once, never walked or measured day by day.
TEST_F(DeadlineServerTest, AbsurdTimestampsAreRefusedNotWalked) {
  for (int64_t seconds : {int64_t{253402300800} + 86400 * 3,  // year 10000
                          int64_t{1} << 62, -(int64_t{1} << 62)}) {
    grpc::ClientContext ctx;
    As(ctx, kWardBOfficer);
    v1::ComputeDueTimeRequest req;
    req.mutable_start_time()->set_seconds(seconds);
    req.mutable_duration()->set_unit(common::v1::WORKING_DURATION_UNIT_DAYS);
    req.mutable_duration()->set_amount(2);
    v1::ComputeDueTimeResponse resp;
    EXPECT_THAT(stub_->ComputeDueTime(&ctx, req, &resp),
                GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT))
        << seconds;
  }

  // A supplement request dated some 30 million years on: measuring the
  // clock's run up to it would take hours. Refused and acknowledged; the
  // clock keeps running.
  ReceiveTwo();
  intake::v1::DossierSupplementRequested m;
  m.set_dossier("dossiers/DA");
  m.mutable_request_time()->set_seconds(int64_t{1000000000000000});
  const common::v1::Event far =
      grpc_util::MakeEvent(m, "intake", m.dossier(), Vn(2026, 3, 9, 11, 0));
  common::v1::DeliverEventsResponse resp;
  ASSERT_TRUE(Deliver({far}, &resp).ok());
  EXPECT_EQ(resp.applied_event_ids_size(), 1);
  absl::StatusOr<Clock> da = service_->GetClock("dossiers/DA");
  ASSERT_TRUE(da.ok()) << da.status();
  EXPECT_EQ(da->state, ClockState::kRunning);
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

}  // namespace
}  // namespace lienthong::deadline
