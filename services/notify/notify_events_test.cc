#include "services/notify/notify_events.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/grpc_util/proto_time.h"
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
