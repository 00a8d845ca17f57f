#pragma once

// What both halves of the demo (the dossiers and the notifications) share:
// Hà Nội time, the counter officer's identity, Vietnamese names for the
// states an officer reads, and the on-time verdict.

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "lienthong/intake/v1/resources.pb.h"
#include "lienthong/routing/v1/routing_service.pb.h"

namespace lienthong::demo {

inline constexpr char kDateTime[] = "%H:%M:%S %d/%m/%Y";
inline constexpr char kTimeOfDay[] = "%H:%M:%S";

// Asia/Ho_Chi_Minh, or UTC+7 where the zone database is missing.
absl::TimeZone Hanoi();

// `t` in Hà Nội time; "—" when unset (zero).
std::string Local(const google::protobuf::Timestamp& t,
                  const char* format = kDateTime);
std::string Local(absl::Time t, const char* format = kDateTime);

// The one-stop unit's counter officer at `counter` (dev auth), 10 s
// deadline.
void Officer(grpc::ClientContext& ctx, const std::string& counter);

// "Đã trả kết quả (DOSSIER_STATE_RETURNED)": the officer's name for the
// state, then the enum the API and the logs use.
std::string DossierStateLabel(intake::v1::DossierState s);

// "Có kết quả, chờ trả": the Vietnamese name alone, for the timeline.
std::string DossierStateVi(intake::v1::DossierState s);

// What a leg's finish means, for the timeline: "hoàn thành", "từ chối", ...
std::string TaskOutcomeVi(routing::v1::TaskState s);

// The appointment against the actual finish: "đúng hạn (trước hẹn)" before
// it, "đúng hạn" exactly at it, "trễ hạn" after it; "chưa hoàn thành" when
// it never finished (unset), "không có hẹn trả" without an appointment.
std::string OnTimeVerdict(const google::protobuf::Timestamp& finished,
                          const google::protobuf::Timestamp& appointment);

// A failed call for a log or the failure line: "GetRoute: UNAVAILABLE: ...".
// The message is the server's English one, which never carries a citizen's
// identifiers.
std::string RpcError(const std::string& rpc, const grpc::Status& s);

}  // namespace lienthong::demo
