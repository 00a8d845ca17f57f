#include "services/notify/notify_events.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/grpc_util/proto_time.h"
#include "lienthong/deadline/v1/events.pb.h"
#include "lienthong/intake/v1/events.pb.h"
#include "lienthong/routing/v1/events.pb.h"

namespace lienthong::notify {
namespace {

using ::testing::ElementsAre;

TEST(NotifyEventsTest, ReceivingAgencyIsTheDossierCodePrefix) {
  EXPECT_EQ(ReceivingAgencyOf("dossiers/000.00.14.H26-260312-0042"),
            "000.00.14.H26");
  EXPECT_EQ(ReceivingAgencyOf("000.00.00.H26-260101-12345"), "000.00.00.H26");
  EXPECT_EQ(ReceivingAgencyOf("dossiers/nonsense"), "");
  EXPECT_EQ(ReceivingAgencyOf(""), "");
}

TEST(NotifyEventsTest, CitizenAddressFollowsPreferenceThenFallsBack) {
  struct Case {
    Contact c;
    std::optional<Channel> want;
  };
  const Case cases[] = {
      {{"0912345678", "a@b.vn", std::nullopt}, Channel::kSms},
      {{"0912345678", "a@b.vn", Channel::kEmail}, Channel::kEmail},
      {{"0912345678", "", Channel::kEmail}, Channel::kSms},
      {{"", "a@b.vn", Channel::kSms}, Channel::kEmail},
      {{"", "a@b.vn", Channel::kWebhook}, Channel::kEmail},
      {{"", "", Channel::kSms}, std::nullopt},
  };
  for (const Case& c : cases) {
    std::optional<Address> a = ChooseCitizenAddress(c.c);
    ASSERT_EQ(a.has_value(), c.want.has_value());
    if (a.has_value()) {
      EXPECT_EQ(a->channel, *c.want);
    }
  }
}

TEST(NotifyEventsTest, DossierReceivedCarriesValuesContactAndAgencies) {
  intake::v1::DossierReceived m;
  m.set_dossier("dossiers/000.00.14.H26-260312-0042");
  m.mutable_receiving_agency()->set_display_name(
      "Bộ phận một cửa Phường Tây Mỗ");
  m.mutable_applicant_contact()->set_phone("0912345678");
  m.mutable_applicant_contact()->set_preferred_channel(
      common::v1::CONTACT_CHANNEL_EMAIL);
  m.set_masked_applicant_name("N*** V*** A***");
  m.set_procedure_display_name("Đăng ký khai sinh");
  grpc_util::ToProto(absl::FromCivil(absl::CivilSecond(2026, 3, 18, 9, 30, 0),
                                     absl::UTCTimeZone()),
                     m.mutable_appointment_time());
  m.add_agency_ancestor_codes("000.00.00.H26");
  common::v1::Event e;
  e.set_event_id("e1");
  e.mutable_payload()->PackFrom(m);
  absl::StatusOr<std::optional<NotificationPlan>> p = PlanFromEvent(e);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->has_value());
  const NotificationPlan& plan = **p;
  EXPECT_EQ(plan.event_type, "dossier_received");
  EXPECT_EQ(plan.values.at("dossier_code"), "000.00.14.H26-260312-0042");
  EXPECT_EQ(plan.values.at("appointment_time"), "16:30 ngày 18/03/2026");
  EXPECT_EQ(plan.values.at("agency_name"), "Bộ phận một cửa Phường Tây Mỗ");
  EXPECT_EQ(plan.values.count("receive_time"), 0u);  // unset: absent
  ASSERT_TRUE(plan.citizen.has_value());
  EXPECT_EQ(plan.citizen->preferred, Channel::kEmail);
  EXPECT_THAT(plan.agency_codes, ElementsAre("000.00.14.H26", "000.00.00.H26"));
}

TEST(NotifyEventsTest, TaskDispatchedGoesToTheTaskAgencyOnly) {
  routing::v1::TaskDispatched m;
  m.set_dossier("dossiers/000.00.14.H26-260312-0042");
  m.set_agency("agencies/000.04.14.H26");
  m.add_agency_ancestor_codes("000.00.00.H26");
  common::v1::Event e;
  e.set_event_id("e2");
  e.mutable_payload()->PackFrom(m);
  auto p = PlanFromEvent(e);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_FALSE((*p)->citizen.has_value());
  EXPECT_THAT((*p)->agency_codes,
              ElementsAre("000.04.14.H26", "000.00.00.H26"));
}

common::v1::Event Wrap(const google::protobuf::Message& m) {
  common::v1::Event e;
  e.set_event_id("e-table");
  e.mutable_payload()->PackFrom(m);
  return e;
}

// Every event the issue names, and who hears of it.
TEST(NotifyEventsTest, EveryNamedEventReachesItsRecipients) {
  constexpr char kDossier[] = "dossiers/001.08.19.H26-260312-0042";
  const absl::Time t = absl::FromCivil(absl::CivilSecond(2026, 3, 20, 9, 30, 0),
                                       absl::UTCTimeZone());
  common::v1::Contact contact;
  contact.set_phone("0912345678");

  intake::v1::DossierSupplementRequested supplement;
  supplement.set_dossier(kDossier);
  supplement.set_reason("Thiếu tờ khai");
  *supplement.mutable_applicant_contact() = contact;
  intake::v1::ApologyIssued apology;
  apology.set_dossier(kDossier);
  grpc_util::ToProto(t, apology.mutable_new_appointment_time());
  *apology.mutable_applicant_contact() = contact;
  intake::v1::AppointmentRescheduled rescheduled;
  rescheduled.set_dossier(kDossier);
  grpc_util::ToProto(t, rescheduled.mutable_new_appointment_time());
  rescheduled.set_reason("Thay đổi lịch làm việc");
  *rescheduled.mutable_applicant_contact() = contact;
  rescheduled.add_agency_ancestor_codes("000.00.00.H26");
  intake::v1::DossierRefused refused;
  refused.set_dossier(kDossier);
  refused.set_reason("Không thuộc thẩm quyền");
  *refused.mutable_applicant_contact() = contact;
  intake::v1::DossierReadyForReturn ready;
  ready.set_dossier(kDossier);
  *ready.mutable_applicant_contact() = contact;
  deadline::v1::ClockDueSoon due_soon;
  due_soon.mutable_clock()->set_dossier(kDossier);
  due_soon.mutable_clock()->set_kind(deadline::v1::CLOCK_KIND_LEG);
  due_soon.mutable_clock()->set_agency("agencies/000.00.19.H26");
  grpc_util::ToProto(t, due_soon.mutable_clock()->mutable_due_time());
  deadline::v1::ClockOverdue overdue;
  overdue.mutable_clock()->set_dossier(kDossier);
  overdue.mutable_clock()->set_kind(deadline::v1::CLOCK_KIND_DOSSIER);
  overdue.mutable_clock()->set_agency("agencies/001.08.19.H26");
  grpc_util::ToProto(t, overdue.mutable_clock()->mutable_due_time());
  routing::v1::TaskCancelled cancelled;
  cancelled.set_dossier(kDossier);
  cancelled.set_task("tasks/7f0c2a");
  cancelled.set_leg_id("health_insurance");
  cancelled.set_agency("agencies/000.00.19.H26");
  cancelled.set_reason("Hồ sơ bị từ chối ở bước khác");

  struct Case {
    const google::protobuf::Message* event;
    std::string type;
    bool citizen;
    std::vector<std::string> agencies;
    bool with_ancestors;
    std::string key, value;  // one template value it must carry
  };
  const Case cases[] = {
      {&supplement,
       "supplement_requested",
       true,
       {"001.08.19.H26"},
       false,
       "reason",
       "Thiếu tờ khai"},
      {&apology,
       "apology_issued",
       true,
       {"001.08.19.H26"},
       false,
       "new_appointment_time",
       "16:30 ngày 20/03/2026"},
      // A calendar change: the citizen and the receiving office only.
      {&rescheduled,
       "appointment_rescheduled",
       true,
       {"001.08.19.H26"},
       false,
       "new_appointment_time",
       "16:30 ngày 20/03/2026"},
      {&refused,
       "dossier_refused",
       true,
       {"001.08.19.H26"},
       false,
       "reason",
       "Không thuộc thẩm quyền"},
      {&ready,
       "ready_for_return",
       true,
       {"001.08.19.H26"},
       false,
       "dossier_code",
       "001.08.19.H26-260312-0042"},
      // The officers of the receiving office and of the leg's agency; their
      // supervisors through the remembered ancestors.
      {&due_soon,
       "clock_due_soon",
       false,
       {"001.08.19.H26", "000.00.19.H26"},
       true,
       "clock_kind",
       "bước xử lý"},
      {&overdue,
       "clock_overdue",
       false,
       {"001.08.19.H26"},
       true,
       "due_time",
       "16:30 ngày 20/03/2026"},
      // Only the agency whose task was cancelled.
      {&cancelled,
       "task_cancelled",
       false,
       {"000.00.19.H26"},
       false,
       "leg_id",
       "health_insurance"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.type);
    absl::StatusOr<std::optional<NotificationPlan>> p =
        PlanFromEvent(Wrap(*c.event));
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_TRUE(p->has_value());
    const NotificationPlan& plan = **p;
    EXPECT_EQ(plan.event_type, c.type);
    EXPECT_EQ(plan.event_id, "e-table");
    EXPECT_EQ(plan.dossier, kDossier);
    EXPECT_EQ(plan.citizen.has_value(), c.citizen);
    if (c.citizen) {
      EXPECT_EQ(plan.citizen->phone, "0912345678");
    }
    EXPECT_EQ(plan.agency_codes, c.agencies);
    EXPECT_EQ(plan.with_ancestors, c.with_ancestors);
    ASSERT_EQ(plan.values.count(c.key), 1u) << c.key;
    EXPECT_EQ(plan.values.at(c.key), c.value);
    // Every value a plan carries is a placeholder its templates may use.
    const EventTypeSpec* spec = FindEventType(plan.event_type);
    ASSERT_NE(spec, nullptr);
    for (const auto& [k, v] : plan.values) {
      const bool known =
          std::count(spec->required.begin(), spec->required.end(), k) +
              std::count(spec->optional.begin(), spec->optional.end(), k) >
          0;
      EXPECT_TRUE(known) << k;
    }
  }
}

TEST(NotifyEventsTest, AppointmentRescheduledTellsTheCitizenOldAndNewTimes) {
  intake::v1::AppointmentRescheduled m;
  m.set_dossier("dossiers/001.08.19.H26-261123-0001");
  // 09:00 in Hà Nội, Thursday 26/11 -> Friday 27/11.
  grpc_util::ToProto(absl::FromCivil(absl::CivilSecond(2026, 11, 26, 2, 0, 0),
                                     absl::UTCTimeZone()),
                     m.mutable_old_appointment_time());
  grpc_util::ToProto(absl::FromCivil(absl::CivilSecond(2026, 11, 27, 2, 0, 0),
                                     absl::UTCTimeZone()),
                     m.mutable_new_appointment_time());
  m.set_reason("Thay đổi lịch làm việc");
  m.mutable_applicant_contact()->set_phone("0912345678");
  m.mutable_applicant_contact()->set_email("an@example.vn");
  m.mutable_applicant_contact()->set_preferred_channel(
      common::v1::CONTACT_CHANNEL_EMAIL);
  m.mutable_receiving_agency()->set_code("001.08.19.H26");
  m.mutable_receiving_agency()->set_display_name(
      "Bộ phận một cửa Phường Tây Mỗ");
  m.add_agency_ancestor_codes("000.00.00.H26");
  m.add_agency_ancestor_codes("000.00.19.H26");
  m.set_procedure_display_name("Đăng ký khai sinh");
  m.set_calendar("calendars/vn");
  auto p = PlanFromEvent(Wrap(m));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->has_value());
  const NotificationPlan& plan = **p;
  EXPECT_EQ(plan.event_type, "appointment_rescheduled");
  EXPECT_EQ(plan.values.at("dossier_code"), "001.08.19.H26-261123-0001");
  EXPECT_EQ(plan.values.at("old_appointment_time"), "09:00 ngày 26/11/2026");
  EXPECT_EQ(plan.values.at("new_appointment_time"), "09:00 ngày 27/11/2026");
  EXPECT_EQ(plan.values.at("reason"), "Thay đổi lịch làm việc");
  EXPECT_EQ(plan.values.at("agency_name"), "Bộ phận một cửa Phường Tây Mỗ");
  EXPECT_EQ(plan.values.at("procedure_name"), "Đăng ký khai sinh");
  // The citizen on the channel they chose.
  ASSERT_TRUE(plan.citizen.has_value());
  std::optional<Address> to = ChooseCitizenAddress(*plan.citizen);
  ASSERT_TRUE(to.has_value());
  EXPECT_EQ(to->channel, Channel::kEmail);
  // The receiving office's webhooks, not its supervisors'; their ancestors
  // are remembered for later clock events.
  EXPECT_THAT(plan.agency_codes, ElementsAre("001.08.19.H26"));
  EXPECT_FALSE(plan.with_ancestors);
  ASSERT_EQ(plan.ancestors.size(), 1u);
  EXPECT_EQ(plan.ancestors[0].first, "001.08.19.H26");
  EXPECT_THAT(plan.ancestors[0].second,
              ElementsAre("000.00.00.H26", "000.00.19.H26"));
}

TEST(NotifyEventsTest, DeadlinesAppointmentsMovedItselfNotifiesNobody) {
  // Intake applies it and tells the citizen with AppointmentRescheduled.
  deadline::v1::AppointmentsMoved m;
  auto* a = m.add_moved_appointments();
  a->set_dossier("dossiers/001.08.19.H26-261123-0001");
  a->set_kind(deadline::v1::CLOCK_KIND_DOSSIER);
  auto p = PlanFromEvent(Wrap(m));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->has_value());
}

TEST(NotifyEventsTest, AncestorsAreRememberedFromTheEventsThatCarryThem) {
  intake::v1::DossierReceived received;
  received.set_dossier("dossiers/001.08.19.H26-260312-0042");
  received.add_agency_ancestor_codes("000.00.19.H26");
  received.add_agency_ancestor_codes("000.00.00.H26");
  auto p = PlanFromEvent(Wrap(received));
  ASSERT_TRUE(p.ok() && p->has_value());
  ASSERT_EQ((*p)->ancestors.size(), 1u);
  EXPECT_EQ((*p)->ancestors[0].first, "001.08.19.H26");
  EXPECT_THAT((*p)->ancestors[0].second,
              ElementsAre("000.00.19.H26", "000.00.00.H26"));

  routing::v1::TaskDispatched dispatched;
  dispatched.set_dossier("dossiers/001.08.19.H26-260312-0042");
  dispatched.set_agency("agencies/000.04.19.H26");
  dispatched.add_agency_ancestor_codes("000.00.19.H26");
  p = PlanFromEvent(Wrap(dispatched));
  ASSERT_TRUE(p.ok() && p->has_value());
  ASSERT_EQ((*p)->ancestors.size(), 1u);
  EXPECT_EQ((*p)->ancestors[0].first, "000.04.19.H26");
}

TEST(NotifyEventsTest, OtherEventsNotifyNobody) {
  routing::v1::TaskCompleted m;
  common::v1::Event e;
  e.mutable_payload()->PackFrom(m);
  auto p = PlanFromEvent(e);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->has_value());
}

}  // namespace
}  // namespace lienthong::notify
