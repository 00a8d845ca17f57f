#include "tools/demo/demo_support.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/grpc_util/proto_time.h"

namespace lienthong::demo {
namespace {

google::protobuf::Timestamp At(absl::Time t) {
  google::protobuf::Timestamp ts;
  grpc_util::ToProto(t, &ts);
  return ts;
}

TEST(OnTimeVerdictTest, NamesEarlyOnTimeLateAndUnfinished) {
  const absl::Time due = absl::FromCivil(
      absl::CivilSecond(2026, 3, 9, 16, 0, 0), absl::FixedTimeZone(7 * 3600));
  struct Case {
    google::protobuf::Timestamp finished, appointment;
    std::string want;
  };
  const Case cases[] = {
      {At(due - absl::Hours(30)), At(due), "đúng hạn (trước hẹn)"},
      {At(due - absl::Nanoseconds(1)), At(due), "đúng hạn (trước hẹn)"},
      {At(due), At(due), "đúng hạn"},  // on the minute: not "early"
      {At(due + absl::Seconds(1)), At(due), "trễ hạn"},
      // Never reached ready-for-return: no verdict of being on time.
      {google::protobuf::Timestamp(), At(due), "chưa hoàn thành"},
      {At(due), google::protobuf::Timestamp(), "không có hẹn trả"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(OnTimeVerdict(c.finished, c.appointment), c.want)
        << "finished " << c.finished.seconds() << " due "
        << c.appointment.seconds();
  }
}

TEST(DossierStateLabelTest, VietnameseFirstThenTheEnum) {
  EXPECT_EQ(DossierStateLabel(intake::v1::DOSSIER_STATE_RETURNED),
            "Đã trả kết quả (DOSSIER_STATE_RETURNED)");
  EXPECT_EQ(DossierStateLabel(intake::v1::DOSSIER_STATE_REFUSED),
            "Từ chối giải quyết (DOSSIER_STATE_REFUSED)");
  EXPECT_EQ(DossierStateVi(intake::v1::DOSSIER_STATE_READY_FOR_RETURN),
            "Có kết quả, chờ trả");
}

TEST(TaskOutcomeViTest, EveryStateHasAVietnameseName) {
  for (int s = routing::v1::TaskState_MIN; s <= routing::v1::TaskState_MAX;
       ++s) {
    const std::string name =
        TaskOutcomeVi(static_cast<routing::v1::TaskState>(s));
    EXPECT_FALSE(name.empty()) << s;
    // No raw enum names (DONE, CANCELLED) in the officer's timeline.
    for (char ch : name) EXPECT_FALSE(ch >= 'A' && ch <= 'Z') << name;
  }
  EXPECT_EQ(TaskOutcomeVi(routing::v1::TASK_STATE_DONE), "hoàn thành");
}

TEST(LocalTest, HanoiTimeAndADashWhenUnset) {
  const absl::Time t = absl::FromCivil(absl::CivilSecond(2026, 3, 9, 1, 2, 3),
                                       absl::UTCTimeZone());
  EXPECT_EQ(Local(At(t)), "08:02:03 09/03/2026");
  EXPECT_EQ(Local(At(t), kTimeOfDay), "08:02:03");
  EXPECT_EQ(Local(google::protobuf::Timestamp()), "—");
}

TEST(RpcErrorTest, NamesTheCallAndTheCode) {
  EXPECT_EQ(
      RpcError("GetRoute", grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")),
      "GetRoute: UNAVAILABLE: down");
}

}  // namespace
}  // namespace lienthong::demo
