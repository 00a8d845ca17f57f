// A leg's clock counts as its dossier's does (calendar, rule on supplement,
// cut-off), over real gRPC and real PostgreSQL, with the service restarted
// between events: what a later event finds is what the database kept, not
// what a replica remembered. The rules themselves are unit-tested in
// deadline_leg_clock_test.cc.

#include <string>

#include "services/deadline/deadline_server_fixture.h"

namespace lienthong::deadline {
namespace {

using namespace server_testing;  // NOLINT
using calendar::testing::Vn;

constexpr char kLeg[] = "ho-tich";

class PgLegClockTest : public DeadlineServerTest {
 protected:
  void SetUp() override {
    DeadlineServerTest::SetUp();
    // The procedure's calendar takes Tuesday 10/3 off; vn (the leg
    // agency's) does not.
    ASSERT_TRUE(
        service_
            ->UpdateCalendar("vn-ho-tich",
                             calendar::testing::VnJsonWithDaysOff(
                                 "vn-ho-tich", {absl::CivilDay(2026, 3, 10)},
                                 "Nghỉ vn-ho-tich"),
                             Vn(2026, 1, 1, 0, 0), "admin", "")
            .ok());
  }

  // Intake's DossierReceived at ward A, 5 working days, under a procedure
  // naming calendars/vn-ho-tich, the resume rule and a 15:00 cut-off.
  common::v1::Event DossierReceived(const std::string& code, absl::Time at) {
    common::v1::Event e = Received(code, kWardA, {kCity, kDistrict}, at, 5);
    intake::v1::DossierReceived m;
    EXPECT_TRUE(e.payload().UnpackTo(&m));
    m.mutable_procedure()->set_calendar("calendars/vn-ho-tich");
    m.mutable_procedure()->set_clock_on_supplement(
        intake::v1::CLOCK_ON_SUPPLEMENT_RESUME);
    m.mutable_procedure()->set_cutoff_local_time("15:00");
    return grpc_util::MakeEvent(m, "intake", m.dossier(), at);
  }
  // Routing's TaskDispatched to ward B, 2 working days: it names no
  // calendar, rule on supplement or cut-off.
  common::v1::Event TaskDispatched(const std::string& code, absl::Time at) {
    routing::v1::TaskDispatched m;
    m.set_dossier(absl::StrCat("dossiers/", code));
    m.set_task(absl::StrCat("tasks/", kLeg));
    m.set_leg_id(kLeg);
    m.set_agency(absl::StrCat("agencies/", kWardB));
    m.set_agency_tier(common::v1::TIER_COMMUNE);
    m.add_agency_ancestor_codes(kCity);
    m.add_agency_ancestor_codes(kDistrict);
    m.set_procedure("procedures/1.001193");
    m.mutable_time_limit()->set_unit(common::v1::WORKING_DURATION_UNIT_DAYS);
    m.mutable_time_limit()->set_amount(2);
    grpc_util::ToProto(at, m.mutable_dispatch_time());
    return grpc_util::MakeEvent(m, "routing", m.dossier(), at);
  }
  common::v1::Event LegSupplementRequested(const std::string& code,
                                           absl::Time at) {
    routing::v1::LegSupplementRequested m;
    m.set_dossier(absl::StrCat("dossiers/", code));
    m.set_task(absl::StrCat("tasks/", kLeg));
    m.set_leg_id(kLeg);
    m.set_agency(absl::StrCat("agencies/", kWardB));
    grpc_util::ToProto(at, m.mutable_request_time());
    return grpc_util::MakeEvent(m, "routing", m.dossier(), at);
  }
  common::v1::Event DossierSupplemented(const std::string& code,
                                        absl::Time at) {
    intake::v1::DossierSupplemented m;
    m.set_dossier(absl::StrCat("dossiers/", code));
    grpc_util::ToProto(at, m.mutable_supplement_time());
    return grpc_util::MakeEvent(m, "intake", m.dossier(), at);
  }

  void Apply(const common::v1::Event& e) {
    common::v1::DeliverEventsResponse resp;
    const grpc::Status s = Deliver({e}, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(resp.applied_event_ids_size(), 1) << e.payload().type_url();
  }

  // GetClock as the city's supervisor sees it.
  v1::Clock ClockOf(const std::string& name) {
    grpc::ClientContext ctx;
    As(ctx, kCityOfficer);
    v1::GetClockRequest req;
    req.set_name(name);
    v1::GetClockResponse resp;
    const grpc::Status s = stub_->GetClock(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << name << ": " << s.error_message();
    return resp.clock();
  }
  static absl::Time DueOf(const v1::Clock& c) {
    return grpc_util::FromProto(c.due_time());
  }

  // The leg asks for a supplement on Wednesday 11/3 11:00, after 8 of its
  // 16 working hours in vn-ho-tich (Mon 11:00-17:00, Wed 08:00-11:00; vn
  // would count Tuesday too, all 16); the citizen brings it on Thursday
  // 12/3 09:00. The service restarts between the two.
  void SupplementTheLeg(const std::string& code) {
    ASSERT_NO_FATAL_FAILURE(
        Apply(LegSupplementRequested(code, Vn(2026, 3, 11, 11, 0))));
    EXPECT_EQ(ClockOf(absl::StrCat("clocks/", code, "/tasks/", kLeg)).state(),
              v1::CLOCK_STATE_PAUSED);
    ASSERT_NO_FATAL_FAILURE(Restart());
    ASSERT_NO_FATAL_FAILURE(
        Apply(DossierSupplemented(code, Vn(2026, 3, 12, 9, 0))));
  }

  // After SupplementTheLeg: under the resume rule in vn-ho-tich the leg
  // has the 8 hours it had left, from Thursday 09:00 (the restart rule
  // would give Monday 16/3 09:00, resuming in vn Thursday 09:00).
  void ExpectTheLegResumedInItsDossiersCalendar(const std::string& code) {
    ASSERT_NO_FATAL_FAILURE(Restart());
    const v1::Clock leg =
        ClockOf(absl::StrCat("clocks/", code, "/tasks/", kLeg));
    EXPECT_EQ(leg.state(), v1::CLOCK_STATE_ON_TRACK);
    EXPECT_EQ(DueOf(leg), Vn(2026, 3, 13, 9, 0));
    EXPECT_EQ(leg.calendar_version(), "calendars/vn-ho-tich/versions/1");
    // The dossier resumed alike: 9 of its 40 hours used.
    EXPECT_EQ(DueOf(ClockOf(absl::StrCat("clocks/", code))),
              Vn(2026, 3, 17, 17, 0));
    // As stored, read by a replica that never saw the events.
    const absl::StatusOr<Clock> stored =
        service_->GetClock(LegClockName(code, kLeg));
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->calendar_id, "vn-ho-tich");
    EXPECT_EQ(stored->supplement_policy, SupplementPolicy::kResume);
    EXPECT_EQ(stored->cutoff_minute, 15 * 60);
    EXPECT_EQ(stored->consumed_before_run, absl::Hours(8));
  }
};

TEST_F(PgLegClockTest, ALegStartedAfterItsDossierKeepsItsRulesAcrossRestarts) {
  ASSERT_NO_FATAL_FAILURE(Apply(DossierReceived("D1", Vn(2026, 3, 9, 10, 0))));
  ASSERT_NO_FATAL_FAILURE(Restart());
  ASSERT_NO_FATAL_FAILURE(Apply(TaskDispatched("D1", Vn(2026, 3, 9, 11, 0))));
  ASSERT_NO_FATAL_FAILURE(Restart());
  // 16 working hours from Monday 11:00 without Tuesday: Thursday 11:00 (in
  // vn, Wednesday 11:00).
  const v1::Clock leg = ClockOf("clocks/D1/tasks/ho-tich");
  EXPECT_EQ(DueOf(leg), Vn(2026, 3, 12, 11, 0));
  EXPECT_EQ(leg.calendar_version(), "calendars/vn-ho-tich/versions/1");

  ASSERT_NO_FATAL_FAILURE(SupplementTheLeg("D1"));
  ExpectTheLegResumedInItsDossiersCalendar("D1");
}

// Routing's line ran ahead of intake's: the leg started in its agency's
// calendar under the restart rule, and takes its dossier's when the
// dossier's clock starts, for good.
TEST_F(PgLegClockTest, ALegDispatchedFirstKeepsItsDossiersRulesAcrossRestarts) {
  ASSERT_NO_FATAL_FAILURE(Apply(TaskDispatched("D2", Vn(2026, 3, 9, 11, 0))));
  v1::Clock leg = ClockOf("clocks/D2/tasks/ho-tich");
  EXPECT_EQ(DueOf(leg), Vn(2026, 3, 11, 11, 0));
  EXPECT_EQ(leg.calendar_version(), "calendars/vn/versions/1");
  ASSERT_NO_FATAL_FAILURE(Restart());

  ASSERT_NO_FATAL_FAILURE(Apply(DossierReceived("D2", Vn(2026, 3, 9, 10, 0))));
  ASSERT_NO_FATAL_FAILURE(Restart());
  leg = ClockOf("clocks/D2/tasks/ho-tich");
  EXPECT_EQ(DueOf(leg), Vn(2026, 3, 12, 11, 0));
  EXPECT_EQ(leg.calendar_version(), "calendars/vn-ho-tich/versions/1");

  ASSERT_NO_FATAL_FAILURE(SupplementTheLeg("D2"));
  ExpectTheLegResumedInItsDossiersCalendar("D2");
}

// Dispatched Monday 16:00, after the procedure's cut-off (which no
// dispatch names) and before its dossier's clock: once that starts, the
// leg counts from the next working day, and so does its run after a
// supplement brought after the cut-off, whichever replica counts it.
TEST_F(PgLegClockTest,
       ALegDispatchedFirstKeepsItsDossiersCutoffAcrossRestarts) {
  ASSERT_NO_FATAL_FAILURE(Apply(TaskDispatched("D3", Vn(2026, 3, 9, 16, 0))));
  v1::Clock leg = ClockOf("clocks/D3/tasks/ho-tich");
  EXPECT_EQ(grpc_util::FromProto(leg.start_time()), Vn(2026, 3, 9, 16, 0));
  EXPECT_EQ(DueOf(leg), Vn(2026, 3, 11, 16, 0));  // in vn, no cut-off
  ASSERT_NO_FATAL_FAILURE(Restart());

  ASSERT_NO_FATAL_FAILURE(Apply(DossierReceived("D3", Vn(2026, 3, 9, 10, 0))));
  ASSERT_NO_FATAL_FAILURE(Restart());
  // Tuesday off: from Wednesday 08:00, due Thursday 17:00 (without the
  // cut-off, Thursday 16:00).
  leg = ClockOf("clocks/D3/tasks/ho-tich");
  EXPECT_EQ(grpc_util::FromProto(leg.start_time()), Vn(2026, 3, 11, 8, 0));
  EXPECT_EQ(DueOf(leg), Vn(2026, 3, 12, 17, 0));

  // Asked Thursday 10:00 (10 of 16 hours used), brought Thursday 16:00.
  ASSERT_NO_FATAL_FAILURE(
      Apply(LegSupplementRequested("D3", Vn(2026, 3, 12, 10, 0))));
  ASSERT_NO_FATAL_FAILURE(Restart());
  ASSERT_NO_FATAL_FAILURE(
      Apply(DossierSupplemented("D3", Vn(2026, 3, 12, 16, 0))));
  ASSERT_NO_FATAL_FAILURE(Restart());
  // The 6 hours left from Friday 08:00 (from Thursday 16:00, without the
  // cut-off, Friday 14:00).
  leg = ClockOf("clocks/D3/tasks/ho-tich");
  EXPECT_EQ(grpc_util::FromProto(leg.start_time()), Vn(2026, 3, 13, 8, 0));
  EXPECT_EQ(DueOf(leg), Vn(2026, 3, 13, 15, 0));
  // The dossier likewise: 24 of its 40 hours left from Friday 08:00.
  const v1::Clock dossier = ClockOf("clocks/D3");
  EXPECT_EQ(grpc_util::FromProto(dossier.start_time()), Vn(2026, 3, 13, 8, 0));
  EXPECT_EQ(DueOf(dossier), Vn(2026, 3, 17, 17, 0));
}

}  // namespace
}  // namespace lienthong::deadline
