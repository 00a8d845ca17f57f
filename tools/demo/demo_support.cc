#include "tools/demo/demo_support.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/proto_time.h"
#include "services/intake/dossier_state.h"

namespace lienthong::demo {

absl::TimeZone Hanoi() {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone("Asia/Ho_Chi_Minh", &tz))
    tz = absl::FixedTimeZone(7 * 3600);
  return tz;
}

std::string Local(const google::protobuf::Timestamp& t, const char* format) {
  if (t.seconds() == 0 && t.nanos() == 0) return "—";
  return Local(grpc_util::FromProto(t), format);
}

std::string Local(absl::Time t, const char* format) {
  return absl::FormatTime(format, t, Hanoi());
}

void Officer(grpc::ClientContext& ctx, const std::string& counter) {
  grpc_util::PrepareContext(ctx, absl::Seconds(10), "counter_officer", counter,
                            "can-bo-mot-cua");
}

std::string DossierStateVi(intake::v1::DossierState s) {
  return std::string(intake::StateNameVi(s));
}

std::string DossierStateLabel(intake::v1::DossierState s) {
  return absl::StrCat(intake::StateNameVi(s), " (",
                      intake::v1::DossierState_Name(s), ")");
}

std::string TaskOutcomeVi(routing::v1::TaskState s) {
  switch (s) {
    case routing::v1::TASK_STATE_WAITING:
      return "chờ bước trước";
    case routing::v1::TASK_STATE_READY:
      return "chờ xử lý";
    case routing::v1::TASK_STATE_CLAIMED:
      return "đang xử lý";
    case routing::v1::TASK_STATE_DONE:
      return "hoàn thành";
    case routing::v1::TASK_STATE_SUPPLEMENT_REQUESTED:
      return "yêu cầu bổ sung";
    case routing::v1::TASK_STATE_REFUSED:
      return "từ chối";
    case routing::v1::TASK_STATE_CANCELLED:
      return "đã hủy";
    default:
      return "không xác định";
  }
}

std::string OnTimeVerdict(const google::protobuf::Timestamp& finished,
                          const google::protobuf::Timestamp& appointment) {
  const auto unset = [](const google::protobuf::Timestamp& t) {
    return t.seconds() == 0 && t.nanos() == 0;
  };
  if (unset(finished)) return "chưa hoàn thành";
  if (unset(appointment)) return "không có hẹn trả";
  const absl::Time f = grpc_util::FromProto(finished);
  const absl::Time due = grpc_util::FromProto(appointment);
  if (f < due) return "đúng hạn (trước hẹn)";
  if (f == due) return "đúng hạn";
  return "trễ hạn";
}

std::string RpcError(const std::string& rpc, const grpc::Status& s) {
  return absl::StrCat(
      rpc, ": ",
      absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())),
      s.error_message().empty() ? "" : ": ", s.error_message());
}

}  // namespace lienthong::demo
