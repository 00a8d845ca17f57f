#include "services/deadline/deadline_events.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "libs/calendar/test_calendars.h"
#include "lienthong/deadline/v1/events.pb.h"
#include "lienthong/intake/v1/events.pb.h"
#include "lienthong/routing/v1/events.pb.h"

namespace lienthong::deadline {
namespace {

using calendar::testing::Vn;
using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp Ts(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

template <typename M>
common::v1::Event Envelope(const M& m, const std::string& id) {
  common::v1::Event e;
  e.set_event_id(id);
  e.set_type(m.GetTypeName());
  e.mutable_payload()->PackFrom(m);
  return e;
}

TEST(DeadlineEventsTest, DecodesDossierReceivedWithEverythingTheClockNeeds) {
  intake::v1::DossierReceived m;
  m.set_dossier("dossiers/000.01.01.H26-260309-0001");
  m.mutable_receiving_agency()->set_code("000.01.01.H26");
  m.mutable_receiving_agency()->set_tier(common::v1::TIER_COMMUNE);
  m.add_agency_ancestor_codes("000.00.00.H26");
  m.add_agency_ancestor_codes("000.00.01.H26");
  m.mutable_procedure()->set_code("1.001193");
  m.mutable_procedure()->mutable_legal_time()->set_unit(
      common::v1::WORKING_DURATION_UNIT_DAYS);
  m.mutable_procedure()->mutable_legal_time()->set_amount(5);
  m.mutable_procedure()->set_cutoff_local_time("15:00");
  m.mutable_procedure()->set_clock_on_supplement(
      intake::v1::CLOCK_ON_SUPPLEMENT_RESUME);
  *m.mutable_receive_time() = Ts(Vn(2026, 3, 9, 10, 0));
  absl::StatusOr<absl::optional<InboundEvent>> in =
      DecodeEvent(Envelope(m, "e1"));
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_TRUE(in->has_value());
  const InboundEvent& e = **in;
  EXPECT_EQ(e.kind, InboundKind::kDossierReceived);
  EXPECT_EQ(e.event_id, "e1");
  EXPECT_EQ(e.dossier_code, "000.01.01.H26-260309-0001");
  EXPECT_EQ(e.agency.code, "000.01.01.H26");
  EXPECT_EQ(e.agency.tier, Tier::kCommune);
  EXPECT_THAT(e.agency.ancestors,
              ::testing::ElementsAre("000.00.00.H26", "000.00.01.H26"));
  EXPECT_EQ(e.limit, absl::Hours(40));
  EXPECT_EQ(e.cutoff_minute, 15 * 60);
  EXPECT_EQ(e.supplement_policy, SupplementPolicy::kResume);
  EXPECT_EQ(e.occurred_at, Vn(2026, 3, 9, 10, 0));
  EXPECT_TRUE(e.calendar_id.empty());
}

TEST(DeadlineEventsTest, DecodesRoutingLegEvents) {
  routing::v1::TaskDispatched d;
  d.set_dossier("dossiers/D1");
  d.set_task("tasks/t-1");
  d.set_agency("agencies/000.01.01.H26.CA");
  d.set_agency_tier(common::v1::TIER_COMMUNE);
  d.mutable_time_limit()->set_unit(common::v1::WORKING_DURATION_UNIT_HOURS);
  d.mutable_time_limit()->set_amount(12);
  d.set_procedure("procedures/1.001193");
  absl::StatusOr<absl::optional<InboundEvent>> in =
      DecodeEvent(Envelope(d, "e2"));
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ((*in)->kind, InboundKind::kLegDispatched);
  EXPECT_EQ((*in)->leg_id, "t-1");
  EXPECT_EQ((*in)->agency.code, "000.01.01.H26.CA");
  EXPECT_EQ((*in)->procedure_code, "1.001193");
  EXPECT_EQ((*in)->limit, absl::Hours(12));

  routing::v1::LegResumed r;
  r.set_dossier("dossiers/D1");
  r.set_task("tasks/t-1");
  in = DecodeEvent(Envelope(r, "e3"));
  ASSERT_TRUE(in.ok());
  EXPECT_EQ((*in)->kind, InboundKind::kLegResumed);

  routing::v1::RouteCompleted ignored;
  in = DecodeEvent(Envelope(ignored, "e4"));
  ASSERT_TRUE(in.ok());
  EXPECT_FALSE(in->has_value());
}

TEST(DeadlineEventsTest, RejectsEventsMissingWhatTheClockNeeds) {
  intake::v1::DossierReceived m;
  m.set_dossier("dossiers/D1");
  m.mutable_receiving_agency()->set_code("000.01.01.H26");
  EXPECT_EQ(DecodeEvent(Envelope(m, "e")).status().code(),
            absl::StatusCode::kInvalidArgument);  // no legal time
  EXPECT_EQ(DecodeEvent(Envelope(m, "")).status().code(),
            absl::StatusCode::kInvalidArgument);  // no event id
}

TEST(DeadlineEventsTest, EncodesOverdueNoticeForNotifyAndIntake) {
  Clock c;
  c.name = "dossiers/D1";
  c.kind = ClockKind::kDossier;
  c.dossier_code = "D1";
  c.agency.code = "000.01.01.H26";
  c.procedure_code = "1.001193";
  c.calendar_id = "vn";
  c.limit = absl::Hours(40);
  c.due_at = Vn(2026, 3, 16, 10, 0);
  c.overdue_fired = c.due_soon_fired = true;
  const OutgoingEvent out = EncodeNotice(
      {Urgency::kOverdue, c, Vn(2026, 3, 16, 10, 0, 2), -absl::Seconds(2)});
  EXPECT_EQ(out.type, "lienthong.deadline.v1.ClockOverdue");
  EXPECT_THAT(out.destinations, ::testing::ElementsAre("notify", "intake"));
  common::v1::Event e;
  ASSERT_TRUE(e.ParseFromString(out.payload));
  EXPECT_EQ(e.event_id(), out.event_id);
  EXPECT_EQ(e.event_id().size(), 36u);
  EXPECT_EQ(e.source(), "deadline");
  EXPECT_EQ(e.dossier(), "dossiers/D1");
  v1::ClockOverdue m;
  ASSERT_TRUE(e.payload().UnpackTo(&m));
  EXPECT_EQ(m.clock().name(), "clocks/D1");
  EXPECT_EQ(m.clock().state(), v1::CLOCK_STATE_OVERDUE);
  EXPECT_EQ(m.clock().legal_time().unit(),
            common::v1::WORKING_DURATION_UNIT_DAYS);
  EXPECT_EQ(m.clock().legal_time().amount(), 5);
  EXPECT_EQ(m.clock().remaining_working_seconds(), -2);
  EXPECT_NE(NewEventId(), NewEventId());
}

TEST(DeadlineEventsTest, CalendarPublishedGoesToIntake) {
  CalendarVersion v;
  v.calendar_id = "vn-H26";
  v.version = 2;
  v.effective_from = Vn(2026, 3, 10, 0, 0);
  const OutgoingEvent out = EncodeCalendarPublished(v, Vn(2026, 3, 9, 12, 0));
  EXPECT_EQ(out.type, "lienthong.deadline.v1.CalendarPublished");
  EXPECT_THAT(out.destinations, ::testing::ElementsAre("intake"));
  common::v1::Event e;
  ASSERT_TRUE(e.ParseFromString(out.payload));
  EXPECT_EQ(e.event_id(), out.event_id);
  EXPECT_EQ(e.source(), "deadline");
  v1::CalendarPublished p;
  ASSERT_TRUE(e.payload().UnpackTo(&p));
  EXPECT_EQ(p.calendar(), "calendars/vn-H26");
  EXPECT_EQ(p.version(), 2);
  EXPECT_EQ(absl::FromUnixSeconds(p.effective_time().seconds()),
            Vn(2026, 3, 10, 0, 0));
}

TEST(DeadlineEventsTest, AppointmentsMovedSaysWhichClockKindMoved) {
  CalendarVersion v;
  v.calendar_id = "vn";
  v.version = 3;
  const OutgoingEvent out = EncodeAppointmentsMoved(
      v,
      {{"dossiers/D1", "D1", Vn(2026, 3, 16, 10, 0), Vn(2026, 3, 17, 10, 0),
        ClockKind::kDossier},
       {"dossiers/D1/legs/t-1", "D1", Vn(2026, 3, 11, 10, 0),
        Vn(2026, 3, 12, 10, 0), ClockKind::kLeg}},
      Vn(2026, 3, 9, 12, 0), MoveCause::kCalendarChange);
  EXPECT_EQ(out.type, "lienthong.deadline.v1.AppointmentsMoved");
  EXPECT_THAT(out.destinations, ::testing::ElementsAre("intake", "notify"));
  // A supplement's move goes to intake alone, marked as such.
  const OutgoingEvent supplemented =
      EncodeAppointmentsMoved({.calendar_id = "vn"},
                              {{"dossiers/D1", "D1", Vn(2026, 3, 16, 10, 0),
                                Vn(2026, 3, 18, 10, 0), ClockKind::kDossier}},
                              Vn(2026, 3, 9, 12, 0), MoveCause::kSupplement);
  EXPECT_THAT(supplemented.destinations, ::testing::ElementsAre("intake"));
  common::v1::Event se;
  ASSERT_TRUE(se.ParseFromString(supplemented.payload));
  v1::AppointmentsMoved sm;
  ASSERT_TRUE(se.payload().UnpackTo(&sm));
  EXPECT_TRUE(sm.after_supplement());
  EXPECT_FALSE(sm.receipt_correction());
  // So does a corrected receipt: notify has no calendar change to record.
  const OutgoingEvent corrected = EncodeAppointmentsMoved(
      v,
      {{"dossiers/D2", "D2", Vn(2026, 3, 16, 10, 0), Vn(2026, 3, 17, 10, 0),
        ClockKind::kDossier}},
      Vn(2026, 3, 9, 12, 0), MoveCause::kReceiptCorrection);
  EXPECT_THAT(corrected.destinations, ::testing::ElementsAre("intake"));
  common::v1::Event ce;
  ASSERT_TRUE(ce.ParseFromString(corrected.payload));
  v1::AppointmentsMoved cm;
  ASSERT_TRUE(ce.payload().UnpackTo(&cm));
  EXPECT_TRUE(cm.receipt_correction());
  EXPECT_FALSE(cm.after_supplement());
  EXPECT_EQ(cm.version(), 3);
  common::v1::Event e;
  ASSERT_TRUE(e.ParseFromString(out.payload));
  EXPECT_EQ(e.event_id(), out.event_id);
  v1::AppointmentsMoved m;
  ASSERT_TRUE(e.payload().UnpackTo(&m));
  EXPECT_EQ(m.calendar(), "calendars/vn");
  EXPECT_EQ(m.version(), 3);
  EXPECT_FALSE(m.after_supplement());
  EXPECT_FALSE(m.receipt_correction());
  ASSERT_EQ(m.moved_appointments_size(), 2);
  EXPECT_EQ(m.moved_appointments(0).clock(), "clocks/D1");
  EXPECT_EQ(m.moved_appointments(0).kind(), v1::CLOCK_KIND_DOSSIER);
  EXPECT_EQ(m.moved_appointments(0).dossier(), "dossiers/D1");
  EXPECT_EQ(m.moved_appointments(0).new_due_time().seconds(),
            absl::ToUnixSeconds(Vn(2026, 3, 17, 10, 0)));
  EXPECT_EQ(m.moved_appointments(1).clock(), "clocks/D1/tasks/t-1");
  EXPECT_EQ(m.moved_appointments(1).kind(), v1::CLOCK_KIND_LEG);
}

TEST(DeadlineEventsTest, ClockNamesMapBothWays) {
  EXPECT_EQ(*ClockStoreName("clocks/D1"), "dossiers/D1");
  EXPECT_EQ(*ClockStoreName("dossiers/D1"), "dossiers/D1");
  EXPECT_EQ(*ClockStoreName("clocks/D1/tasks/t-1"), "dossiers/D1/legs/t-1");
  EXPECT_FALSE(ClockStoreName("agencies/x").ok());
  EXPECT_FALSE(ClockStoreName("clocks/D1/legs/t").ok());
  Clock leg;
  leg.kind = ClockKind::kLeg;
  leg.dossier_code = "D1";
  leg.leg_id = "t-1";
  EXPECT_EQ(ClockResourceName(leg), "clocks/D1/tasks/t-1");
}

}  // namespace
}  // namespace lienthong::deadline
