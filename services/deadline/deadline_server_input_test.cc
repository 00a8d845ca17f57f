// What the deadline service can never use, over real gRPC and PostgreSQL:
// absurd durations and timestamps, events no clock can come from, report
// periods that are not whole local days and forged page tokens are refused
// (or, for events, acknowledged and counted), never walked, stored or
// answered INTERNAL.

#include "services/deadline/deadline_server_fixture.h"
#include "services/deadline/unreadable_calendar_testing.h"

namespace lienthong::deadline {
namespace {

using namespace server_testing;  // NOLINT
using calendar::testing::Vn;
using ::lienthong::testing::GrpcStatusIs;

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

// A stored calendar that no longer parses is the service's fault: the event
// stays unacknowledged (the sender retries it once the calendar is
// repaired) and is not counted as rejected.
TEST_F(DeadlineServerTest, AnEventIsNotDroppedForAnUnreadableStoredCalendar) {
  ASSERT_TRUE(test::StoreUnreadableVnV2(*store_, *service_).ok());
  const auto rejected = [] {
    double n = 0;
    for (const auto& f :
         metrics::Counter(kEventsRejectedName, kEventsRejectedHelp).Collect()) {
      for (const auto& m : f.metric) n += m.counter.value;
    }
    return n;
  };
  const double before = rejected();
  common::v1::DeliverEventsResponse resp;
  EXPECT_FALSE(Deliver({Received("DX", kWardA, {kCity, kDistrict},
                                 Vn(2026, 3, 9, 10, 0), 5)},
                       &resp)
                   .ok());
  EXPECT_EQ(resp.applied_event_ids_size(), 0);
  EXPECT_EQ(rejected(), before);
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

// The field violations of a refused call, as "field" strings.
std::vector<std::string> ViolatedFields(const grpc::Status& s) {
  std::vector<std::string> out;
  for (const common::FieldViolation& v :
       common::GetErrorDetails(grpc_util::FromGrpcStatus(s)).field_violations) {
    out.push_back(v.field);
  }
  return out;
}

// Seconds a Timestamp cannot hold: year 10000, and far enough on that
// PostgreSQL's conversion overflows.
constexpr int64_t kYear10000 = int64_t{253402300800} + 86400 * 3;
constexpr int64_t kFarFuture = int64_t{1} << 62;

// An effective time no Timestamp holds is the caller's error: before, a
// year-10000 one was stored (and read back as 2262) and a farther one
// overflowed PostgreSQL's conversion into INTERNAL, paging the on-call.
TEST_F(DeadlineServerTest, UpdateCalendarRefusesAnEffectiveTimeOutOfRange) {
  for (int64_t seconds : {kYear10000, kFarFuture, -kFarFuture}) {
    v1::UpdateCalendarRequest req;
    req.mutable_calendar()->set_name("calendars/vn");
    req.mutable_calendar()->set_json(
        std::string(calendar::DefaultCalendarJson()));
    req.mutable_calendar()->mutable_effective_time()->set_seconds(seconds);
    grpc::ClientContext ctx;
    As(ctx, kAdmin);
    v1::UpdateCalendarResponse resp;
    const grpc::Status st = stub_->UpdateCalendar(&ctx, req, &resp);
    EXPECT_THAT(st, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT))
        << seconds;
    EXPECT_THAT(ViolatedFields(st),
                ::testing::ElementsAre("calendar.effective_time"))
        << seconds;
  }
  absl::StatusOr<std::vector<CalendarVersion>> all = service_->ListCalendars();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 1u);  // nothing stored
}

TEST_F(DeadlineServerTest, GetCalendarRefusesAnAtTimeOutOfRange) {
  struct Case {
    int64_t seconds;
    int32_t nanos;
  };
  const int64_t in_2026 = absl::ToUnixSeconds(Vn(2026, 3, 9, 10, 0));
  // Nanos outside 0-999999999 make no valid Timestamp either.
  for (const Case& c :
       {Case{kYear10000, 0}, Case{kFarFuture, 0}, Case{-kFarFuture, 0},
        Case{in_2026, -1}, Case{in_2026, 1000000000}}) {
    v1::GetCalendarRequest req;
    req.set_name("calendars/vn");
    req.mutable_at_time()->set_seconds(c.seconds);
    req.mutable_at_time()->set_nanos(c.nanos);
    grpc::ClientContext ctx;
    As(ctx, kCityOfficer);
    v1::GetCalendarResponse resp;
    const grpc::Status st = stub_->GetCalendar(&ctx, req, &resp);
    EXPECT_THAT(st, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT))
        << c.seconds << "." << c.nanos;
    EXPECT_THAT(ViolatedFields(st), ::testing::ElementsAre("at_time"))
        << c.seconds << "." << c.nanos;
  }
}

// The calendar counts up to year 9999, and so must the answer: converted
// through int64 nanoseconds, a due time in 2300 came back as 2262-04-11.
TEST_F(DeadlineServerTest, ComputeDueTimeAnswersADueTimeAfter2262Exactly) {
  const absl::Time start = Vn(2300, 3, 1, 9, 30) + absl::Nanoseconds(7);
  v1::ComputeDueTimeRequest req;
  req.mutable_start_time()->set_seconds(absl::ToUnixSeconds(start));
  req.mutable_start_time()->set_nanos(7);
  req.mutable_duration()->set_unit(common::v1::WORKING_DURATION_UNIT_DAYS);
  req.mutable_duration()->set_amount(3);
  absl::StatusOr<calendar::WorkingCalendar> cal = service_->Calendar("vn");
  ASSERT_TRUE(cal.ok()) << cal.status();
  absl::StatusOr<absl::Duration> limit = FromProto(req.duration());
  ASSERT_TRUE(limit.ok()) << limit.status();
  absl::StatusOr<absl::Time> want =
      cal->AddWorkingDuration(start, calendar::WorkingDuration::Of(*limit));
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_GT(*want, start + absl::Hours(24));

  grpc::ClientContext ctx;
  As(ctx, kWardBOfficer);
  v1::ComputeDueTimeResponse resp;
  ASSERT_TRUE(stub_->ComputeDueTime(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.due_time().seconds(), absl::ToUnixSeconds(*want));
  EXPECT_EQ(grpc_util::FromProto(resp.due_time()), *want);
}

// The calendar counts up to local year 9999; west of UTC that runs past
// the last instant a Timestamp holds. A due time there is refused, not
// answered as some other time.
TEST_F(DeadlineServerTest, ComputeDueTimeRefusesADueTimeNoTimestampHolds) {
  absl::StatusOr<calendar::CalendarData> west =
      calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
  ASSERT_TRUE(west.ok()) << west.status();
  west->id = "west";
  west->name = "west";
  west->time_zone = "Pacific/Honolulu";  // UTC-10, no summer time
  ASSERT_TRUE(service_
                  ->UpdateCalendar("west", calendar::ToJson(*west),
                                   clock_.Now(), "admin", "")
                  .ok());
  const absl::TimeZone honolulu = absl::FixedTimeZone(-10 * 3600);
  // Friday 31 December 9999, 08:00 there: 18:00 UTC, still year 9999.
  const absl::Time start =
      absl::FromCivil(absl::CivilMinute(9999, 12, 31, 8, 0), honolulu);
  grpc::ClientContext ctx;
  As(ctx, kWardBOfficer);
  v1::ComputeDueTimeRequest req;
  req.set_calendar("calendars/west");
  req.mutable_start_time()->set_seconds(absl::ToUnixSeconds(start));
  req.mutable_duration()->set_unit(common::v1::WORKING_DURATION_UNIT_HOURS);
  req.mutable_duration()->set_amount(7);  // done in the afternoon there
  v1::ComputeDueTimeResponse resp;
  const grpc::Status st = stub_->ComputeDueTime(&ctx, req, &resp);
  EXPECT_THAT(st, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT))
      << resp.due_time().seconds();
  EXPECT_THAT(ViolatedFields(st), ::testing::ElementsAre("start_time"));
}

// A start no Timestamp holds is refused by name, even where the calendar
// (local years 0001-9999, here UTC+7) would count from it.
TEST_F(DeadlineServerTest, ComputeDueTimeRefusesAStartNoTimestampHolds) {
  struct Case {
    int64_t seconds;
    int32_t nanos;
  };
  const int64_t in_2026 = absl::ToUnixSeconds(Vn(2026, 3, 9, 10, 0));
  // 31 December of year 0 at 23:00 UTC is 1 January 0001 in Hà Nội.
  for (const Case& c : {Case{int64_t{-62135596800} - 3600, 0},
                        Case{in_2026, -1}, Case{in_2026, 1000000000}}) {
    grpc::ClientContext ctx;
    As(ctx, kWardBOfficer);
    v1::ComputeDueTimeRequest req;
    req.mutable_start_time()->set_seconds(c.seconds);
    req.mutable_start_time()->set_nanos(c.nanos);
    req.mutable_duration()->set_unit(common::v1::WORKING_DURATION_UNIT_DAYS);
    req.mutable_duration()->set_amount(2);
    v1::ComputeDueTimeResponse resp;
    const grpc::Status st = stub_->ComputeDueTime(&ctx, req, &resp);
    EXPECT_THAT(st, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT))
        << c.seconds << "." << c.nanos;
    EXPECT_THAT(ViolatedFields(st), ::testing::ElementsAre("start_time"))
        << c.seconds << "." << c.nanos;
  }
}

// Version 0 means "none given"; a negative one is no version at all, not
// "the latest".
TEST_F(DeadlineServerTest, GetCalendarRefusesANegativeVersion) {
  v1::GetCalendarRequest req;
  req.set_name("calendars/vn");
  req.set_version(-1);
  grpc::ClientContext ctx;
  As(ctx, kCityOfficer);
  v1::GetCalendarResponse resp;
  const grpc::Status st = stub_->GetCalendar(&ctx, req, &resp);
  EXPECT_THAT(st, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(ViolatedFields(st), ::testing::ElementsAre("version"));
}

}  // namespace
}  // namespace lienthong::deadline
