#pragma once

// Printable Vietnamese forms as complete UTF-8 HTML documents: the receipt
// with its appointment (giấy tiếp nhận hồ sơ và hẹn trả kết quả), the
// supplement request, the refusal, the process-control slip and the apology
// with a new appointment. Times are shown in Asia/Ho_Chi_Minh. Pure.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "lienthong/intake/v1/resources.pb.h"

namespace lienthong::intake {

struct FormContext {
  v1::Dossier dossier;
  // Not owned (they outlive the rendering); unset prints as empty.
  const v1::Procedure* procedure = nullptr;
  const v1::Agency* receiving_agency = nullptr;
  std::vector<v1::Transition> transitions;
  std::string reason;  // supplement / refusal / apology reason
  google::protobuf::Timestamp new_appointment;  // apology
};

std::string HtmlEscape(absl::string_view s);
// "14:30 ngày 24/11/2026"
std::string FormatLocalTime(const google::protobuf::Timestamp& t);

std::string RenderForm(v1::FormKind kind, const FormContext& ctx);

}  // namespace lienthong::intake
