#pragma once

// Printable Vietnamese forms as complete UTF-8 HTML documents: the receipt
// with its appointment (giấy tiếp nhận hồ sơ và hẹn trả kết quả), the
// supplement request, the refusal, the process-control slip and the apology
// with a new appointment. Times are shown in Asia/Ho_Chi_Minh. Pure.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lienthong/intake/v1/resources.pb.h"

namespace lienthong::intake {

struct FormContext {
  v1::Dossier dossier;
  // Not owned (they outlive the rendering); unset prints as empty.
  const v1::Procedure* procedure = nullptr;
  const v1::Agency* receiving_agency = nullptr;
  std::vector<v1::Transition> transitions;
  std::string officer;  // who received it (receipt)
  // Supplement: every request of the current round (parallel legs each ask
  // for theirs); refusal, apology: one.
  std::vector<std::string> reasons;
  google::protobuf::Timestamp previous_appointment;  // apology
  google::protobuf::Timestamp new_appointment;       // apology
};

// The reason IssueApology's transition carries, in front of the officer's.
inline constexpr char kApologyReasonPrefix[] = "Xin lỗi, hẹn lại: ";
// What an appointment moved by a calendar change puts between its reason
// and the new time on its transition.
inline constexpr char kNewAppointmentMarker[] = ", hẹn trả kết quả mới: ";

// Fills `c` for printing `kind` again from the dossier's history
// (c.transitions, oldest first): the receiving officer; for a supplement
// request, the requests since the last supplement; for a refusal, its
// reason; for an apology, the latest one's reason and the appointment it
// replaced. The appointment printed is the one in force now (after a
// calendar move the receipt is the citizen's new appointment slip). An
// apology and an appointment move are steps in place (from_state =
// to_state); they are never a supplement request, even while the dossier
// waits for one. FAILED_PRECONDITION when the dossier never took that
// step.
absl::Status FillFromHistory(v1::FormKind kind, FormContext& c);

std::string HtmlEscape(absl::string_view s);
// "14:30 ngày 24/11/2026"
std::string FormatLocalTime(const google::protobuf::Timestamp& t);

std::string RenderForm(v1::FormKind kind, const FormContext& ctx);

}  // namespace lienthong::intake
