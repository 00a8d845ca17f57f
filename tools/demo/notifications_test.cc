#include "tools/demo/notifications.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lienthong::demo {
namespace {

namespace nv1 = notify::v1;

nv1::Delivery D(const std::string& event_type, nv1::DeliveryState state) {
  nv1::Delivery d;
  d.set_event_type(event_type);
  d.set_state(state);
  return d;
}

TEST(NotYetSettledTest, NoDeliveriesIsNotSettled) {
  // Right after READY_FOR_RETURN intake's outbox may not have relayed the
  // event yet: notify has nothing about the dossier, which is not "done".
  EXPECT_NE(NotYetSettled({}), "");
}

TEST(NotYetSettledTest, WaitsForTheDeliveryOfTheOutcome) {
  const std::vector<nv1::Delivery> only_received = {
      D("dossier_received", nv1::DELIVERY_STATE_SENT),
      D("supplement_requested", nv1::DELIVERY_STATE_SENT)};
  EXPECT_NE(NotYetSettled(only_received), "");
}

TEST(NotYetSettledTest, WaitsUntilEveryDeliveryIsSentOrDead) {
  for (nv1::DeliveryState open :
       {nv1::DELIVERY_STATE_PENDING, nv1::DELIVERY_STATE_SENDING,
        nv1::DELIVERY_STATE_FAILED}) {
    EXPECT_NE(NotYetSettled({D("dossier_received", nv1::DELIVERY_STATE_SENT),
                             D("ready_for_return", open)}),
              "")
        << nv1::DeliveryState_Name(open);
    EXPECT_NE(NotYetSettled({D("dossier_received", open),
                             D("ready_for_return", nv1::DELIVERY_STATE_SENT)}),
              "")
        << nv1::DeliveryState_Name(open);
  }
}

TEST(NotYetSettledTest, SettledOnceTheOutcomeIsToldAndNothingIsOpen) {
  EXPECT_EQ(NotYetSettled({D("dossier_received", nv1::DELIVERY_STATE_SENT),
                           D("ready_for_return", nv1::DELIVERY_STATE_SENT)}),
            "");
  EXPECT_EQ(
      NotYetSettled({D("dossier_received", nv1::DELIVERY_STATE_SENT),
                     D("dossier_refused", nv1::DELIVERY_STATE_DEAD_LETTER)}),
      "");
}

}  // namespace
}  // namespace lienthong::demo
