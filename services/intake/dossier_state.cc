#include "services/intake/dossier_state.h"

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

namespace lienthong::intake {
namespace {

struct StateRow {
  DossierState state;
  absl::string_view name;
  absl::string_view name_vi;
  int national_code;  // Cổng dịch vụ công quốc gia
};

// The one table of names and national status codes (the national
// portal's TrangThaiHoSo: 1 new … 10 returned; dossier_state_test.cc lists
// them all).
constexpr StateRow kStates[] = {
    {v1::DOSSIER_STATE_RECEIVED, "RECEIVED", "Đã tiếp nhận", 2},
    {v1::DOSSIER_STATE_IN_PROCESSING, "IN_PROCESSING", "Đang giải quyết", 4},
    {v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED, "SUPPLEMENT_REQUESTED",
     "Yêu cầu bổ sung hồ sơ", 5},
    // 8 "Dừng xử lý": the deciding agency stopped it (6 is a request to
    // pay fees).
    {v1::DOSSIER_STATE_REFUSED, "REFUSED", "Từ chối giải quyết", 8},
    {v1::DOSSIER_STATE_WITHDRAWN, "WITHDRAWN", "Công dân rút hồ sơ", 7},
    {v1::DOSSIER_STATE_READY_FOR_RETURN, "READY_FOR_RETURN",
     "Có kết quả, chờ trả", 9},
    {v1::DOSSIER_STATE_RETURNED, "RETURNED", "Đã trả kết quả", 10},
};

const StateRow* Row(DossierState s) {
  for (const StateRow& r : kStates) {
    if (r.state == s) return &r;
  }
  return nullptr;
}

}  // namespace

absl::string_view EventName(DossierEvent e) {
  switch (e) {
    case DossierEvent::kStartProcessing:
      return "START_PROCESSING";
    case DossierEvent::kRequestSupplement:
      return "REQUEST_SUPPLEMENT";
    case DossierEvent::kSupplement:
      return "SUPPLEMENT";
    case DossierEvent::kReadyForReturn:
      return "READY_FOR_RETURN";
    case DossierEvent::kReturn:
      return "RETURN";
    case DossierEvent::kWithdraw:
      return "WITHDRAW";
    case DossierEvent::kRefuse:
      return "REFUSE";
  }
  return "UNKNOWN";
}

absl::string_view StateName(DossierState s) {
  const StateRow* r = Row(s);
  return r == nullptr ? "UNSPECIFIED" : r->name;
}

absl::string_view StateNameVi(DossierState s) {
  const StateRow* r = Row(s);
  return r == nullptr ? "Không xác định" : r->name_vi;
}

int NationalStatusCode(DossierState s) {
  const StateRow* r = Row(s);
  return r == nullptr ? 0 : r->national_code;
}

bool IsTerminal(DossierState s) {
  return s == v1::DOSSIER_STATE_RETURNED || s == v1::DOSSIER_STATE_WITHDRAWN ||
         s == v1::DOSSIER_STATE_REFUSED;
}

absl::StatusOr<DossierState> NextState(DossierState from, DossierEvent event) {
  using E = DossierEvent;
  switch (from) {
    case v1::DOSSIER_STATE_RECEIVED:
      switch (event) {
        case E::kStartProcessing:
          return v1::DOSSIER_STATE_IN_PROCESSING;
        case E::kRequestSupplement:
          return v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED;
        case E::kReadyForReturn:  // a procedure without legs
          return v1::DOSSIER_STATE_READY_FOR_RETURN;
        case E::kWithdraw:
          return v1::DOSSIER_STATE_WITHDRAWN;
        case E::kRefuse:
          return v1::DOSSIER_STATE_REFUSED;
        default:
          break;
      }
      break;
    case v1::DOSSIER_STATE_IN_PROCESSING:
      switch (event) {
        case E::kStartProcessing:  // a later leg dispatched: no change
          return v1::DOSSIER_STATE_IN_PROCESSING;
        case E::kRequestSupplement:
          return v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED;
        case E::kReadyForReturn:
          return v1::DOSSIER_STATE_READY_FOR_RETURN;
        case E::kWithdraw:
          return v1::DOSSIER_STATE_WITHDRAWN;
        case E::kRefuse:
          return v1::DOSSIER_STATE_REFUSED;
        default:
          break;
      }
      break;
    case v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED:
      switch (event) {
        case E::kSupplement:
          return v1::DOSSIER_STATE_IN_PROCESSING;
        case E::kRequestSupplement:  // a parallel leg asks for more too
          return v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED;
        case E::kWithdraw:
          return v1::DOSSIER_STATE_WITHDRAWN;
        case E::kRefuse:
          return v1::DOSSIER_STATE_REFUSED;
        default:
          break;
      }
      break;
    case v1::DOSSIER_STATE_READY_FOR_RETURN:
      if (event == E::kReturn) return v1::DOSSIER_STATE_RETURNED;
      break;
    default:
      break;
  }
  return common::WithLocalizedMessage(
      common::FailedPrecondition(
          "ILLEGAL_TRANSITION",
          absl::StrCat("dossier is ", StateName(from), "; ", EventName(event),
                       " is not allowed"),
          {{"state", std::string(StateName(from))},
           {"event", std::string(EventName(event))}}),
      absl::StrCat("Hồ sơ đang ở trạng thái \"", StateNameVi(from),
                   "\", không thực hiện được thao tác này."));
}

}  // namespace lienthong::intake
