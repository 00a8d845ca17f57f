#include <map>

#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "services/routing/agency_tree_for_testing.h"
#include "services/routing/route_planner.h"
#include "services/routing/task_state.h"

namespace lienthong::routing {
namespace {

using ::lienthong::testing::StatusHasReason;
using E = TaskEvent;

TEST(TaskStateTest, EveryStateEventPair) {
  const std::map<std::pair<TaskState, E>, TaskState> legal = {
      {{v1::TASK_STATE_WAITING, E::kDepsDone}, v1::TASK_STATE_READY},
      {{v1::TASK_STATE_WAITING, E::kCancel}, v1::TASK_STATE_CANCELLED},
      {{v1::TASK_STATE_READY, E::kClaim}, v1::TASK_STATE_CLAIMED},
      {{v1::TASK_STATE_READY, E::kCancel}, v1::TASK_STATE_CANCELLED},
      {{v1::TASK_STATE_CLAIMED, E::kRenew}, v1::TASK_STATE_CLAIMED},
      {{v1::TASK_STATE_CLAIMED, E::kComplete}, v1::TASK_STATE_DONE},
      {{v1::TASK_STATE_CLAIMED, E::kRequestSupplement},
       v1::TASK_STATE_SUPPLEMENT_REQUESTED},
      {{v1::TASK_STATE_CLAIMED, E::kRefuse}, v1::TASK_STATE_REFUSED},
      {{v1::TASK_STATE_CLAIMED, E::kLeaseExpired}, v1::TASK_STATE_READY},
      {{v1::TASK_STATE_CLAIMED, E::kCancel}, v1::TASK_STATE_CANCELLED},
      {{v1::TASK_STATE_SUPPLEMENT_REQUESTED, E::kResume}, v1::TASK_STATE_READY},
      {{v1::TASK_STATE_SUPPLEMENT_REQUESTED, E::kCancel},
       v1::TASK_STATE_CANCELLED},
  };
  int checked = 0;
  for (TaskState s : kAllTaskStates) {
    for (E e : kAllTaskEvents) {
      ++checked;
      auto got = NextTaskState(s, e);
      auto it = legal.find({s, e});
      if (it != legal.end()) {
        ASSERT_TRUE(got.ok()) << TaskStateName(s) << " + " << TaskEventName(e);
        EXPECT_EQ(*got, it->second);
      } else {
        EXPECT_THAT(got, StatusHasReason(absl::StatusCode::kFailedPrecondition,
                                         "ILLEGAL_TRANSITION"))
            << TaskStateName(s) << " + " << TaskEventName(e);
        EXPECT_NE(got.status().message().find(TaskStateName(s)),
                  std::string::npos);
      }
    }
  }
  EXPECT_EQ(checked, 63);
}

intake::v1::LegSpec Leg(const std::string& id, common::v1::AgencyKind kind,
                        int levels_up, std::vector<std::string> deps,
                        std::vector<std::string> consumes = {}) {
  intake::v1::LegSpec l;
  l.set_id(id);
  l.set_display_name(id);
  l.set_agency_kind(kind);
  l.set_levels_up(levels_up);
  for (auto& d : deps) l.add_depends_on(d);
  for (auto& c : consumes) l.add_consumes(c);
  return l;
}

TEST(RoutePlannerTest, BirthWorkflowWithCrossTierLegAndJoin) {
  TreeDirectory dir;
  intake::v1::Procedure p;
  *p.add_legs() = Leg("civil", common::v1::AGENCY_KIND_JUSTICE, 0, {});
  *p.add_legs() = Leg("police", common::v1::AGENCY_KIND_POLICE, 0, {"civil"},
                      {"personal_id"});
  *p.add_legs() = Leg("bhyt", common::v1::AGENCY_KIND_SOCIAL_INSURANCE, 1,
                      {"civil"}, {"personal_id"});
  *p.add_legs() =
      Leg("archive", common::v1::AGENCY_KIND_JUSTICE, 0, {"police", "bhyt"});
  auto receiving = *dir.Get("W-1CUA");
  google::protobuf::RepeatedPtrField<common::v1::FieldValue> fields;
  auto* f = fields.Add();
  f->set_key("child_full_name");
  f->set_value("Nguyễn Minh Khôi");
  auto plan = PlanRoute(p, receiving, fields, dir);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 4u);
  EXPECT_EQ((*plan)[0].task.agency(), "agencies/W-TP");
  EXPECT_EQ((*plan)[0].task.state(), v1::TASK_STATE_READY);
  EXPECT_EQ((*plan)[0].task.inputs(0).value(), "Nguyễn Minh Khôi");
  EXPECT_EQ((*plan)[1].task.agency(), "agencies/W-CA");
  EXPECT_EQ((*plan)[1].task.state(), v1::TASK_STATE_WAITING);
  EXPECT_EQ((*plan)[2].task.agency(), "agencies/D-SI");  // one level up
  EXPECT_EQ((*plan)[2].agency_tier, common::v1::TIER_DISTRICT);

  // Police and BHYT start together after civil status; the join waits for both.
  EXPECT_EQ(NewlyReady(p, {"civil"}, {"police", "bhyt", "archive"}),
            (std::vector<std::string>{"police", "bhyt"}));
  EXPECT_TRUE(NewlyReady(p, {"civil", "police"}, {"bhyt", "archive"}) ==
              std::vector<std::string>{"bhyt"});
  EXPECT_EQ(NewlyReady(p, {"civil", "police", "bhyt"}, {"archive"}),
            (std::vector<std::string>{"archive"}));

  // Outputs flow into the inputs of the legs that consume them.
  common::v1::FieldValue pid;
  pid.set_key("personal_id");
  pid.set_value("001226012345");
  auto in = InputsFor(p.legs(1), fields, {pid});
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[1].value(), "001226012345");
}

TEST(RoutePlannerTest, MissingAgencyIsAClearPrecondition) {
  TreeDirectory dir;
  intake::v1::Procedure p;
  *p.add_legs() = Leg("tax", common::v1::AGENCY_KIND_TAX, 0, {});
  EXPECT_THAT(PlanRoute(p, *dir.Get("W-1CUA"), {}, dir),
              StatusHasReason(absl::StatusCode::kFailedPrecondition,
                              "NO_AGENCY_FOR_LEG"));
  intake::v1::Procedure too_high;
  *too_high.add_legs() = Leg("x", common::v1::AGENCY_KIND_JUSTICE, 5, {});
  EXPECT_THAT(PlanRoute(too_high, *dir.Get("W-1CUA"), {}, dir),
              StatusHasReason(absl::StatusCode::kFailedPrecondition,
                              "NO_AGENCY_FOR_LEG"));
}

}  // namespace
}  // namespace lienthong::routing
