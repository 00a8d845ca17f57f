#include "tools/demo/demo_outcome.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lienthong::demo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

DossierOutcome Good(const std::string& code) {
  DossierOutcome d;
  d.code = code;
  d.state = intake::v1::DOSSIER_STATE_RETURNED;
  d.notifications.landed = 3;
  return d;
}

TEST(ProblemsTest, NoneWhenBothReturnedToldAndSigned) {
  EXPECT_THAT(Problems({Good("A"), Good("B")}, {}), IsEmpty());
}

TEST(ProblemsTest, ADossierNotReturnedIsAFailure) {
  DossierOutcome b = Good("B");
  b.state = intake::v1::DOSSIER_STATE_REFUSED;
  EXPECT_THAT(Problems({Good("A"), b}, {}),
              ElementsAre(AllOf(HasSubstr("dossier B not returned"),
                                HasSubstr("DOSSIER_STATE_REFUSED"))));
  b.state = intake::v1::DOSSIER_STATE_READY_FOR_RETURN;
  EXPECT_THAT(Problems({b}, {}),
              ElementsAre(HasSubstr("DOSSIER_STATE_READY_FOR_RETURN")));
}

TEST(ProblemsTest, EveryFailedCallIsNamed) {
  DossierOutcome a = Good("A");
  a.errors = {"ReturnResult: FAILED_PRECONDITION: illegal",
              "GetRoute: UNAVAILABLE: down"};
  EXPECT_THAT(Problems({a}, {}),
              ElementsAre(HasSubstr("dossier A: ReturnResult"),
                          HasSubstr("dossier A: GetRoute: UNAVAILABLE")));
}

TEST(ProblemsTest, NoMessageLandedIsAFailure) {
  DossierOutcome a = Good("A");
  a.notifications.landed = 0;
  EXPECT_THAT(Problems({Good("B"), a}, {}),
              ElementsAre(HasSubstr("dossier A: no message landed")));
}

TEST(ProblemsTest, AnInvalidWebhookSignatureIsAFailure) {
  DossierOutcome a = Good("A");
  a.notifications.invalid_signatures = 1;
  EXPECT_THAT(Problems({a}, {}),
              ElementsAre(HasSubstr("1 webhook signature(s) invalid")));
}

TEST(ProblemsTest, NotifyNotDoneAndNotifyUnreachableAreFailures) {
  DossierOutcome a = Good("A");
  a.notifications.unsettled = "no ready_for_return delivery yet";
  EXPECT_THAT(Problems({a}, {"ListDeliveries: UNAVAILABLE: down"}),
              ElementsAre(HasSubstr("ListDeliveries: UNAVAILABLE"),
                          HasSubstr("dossier A: notify not done")));
}

TEST(FailureLineTest, OneLineNamingEveryProblem) {
  const std::string line = FailureLine({"x", "y"});
  EXPECT_EQ(line, "demo: FAILED (thất bại): x; y");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace lienthong::demo
