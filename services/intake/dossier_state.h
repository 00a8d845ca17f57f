#pragma once

// The dossier lifecycle as a pure state machine, and its mapping to the
// national public-service portal's status codes (one table, below).

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lienthong/intake/v1/resources.pb.h"

namespace lienthong::intake {

using v1::DossierState;

enum class DossierEvent {
  kStartProcessing,    // a first leg was dispatched to an agency
  kRequestSupplement,  // an agency asked the citizen for more
  kSupplement,         // the citizen supplemented
  kReadyForReturn,     // every leg done
  kReturn,             // result handed back
  kWithdraw,           // citizen withdrew
  kRefuse,             // refused (at the counter or by a leg)
};

inline constexpr DossierEvent kAllDossierEvents[] = {
    DossierEvent::kStartProcessing, DossierEvent::kRequestSupplement,
    DossierEvent::kSupplement,      DossierEvent::kReadyForReturn,
    DossierEvent::kReturn,          DossierEvent::kWithdraw,
    DossierEvent::kRefuse};

inline constexpr DossierState kAllDossierStates[] = {
    v1::DOSSIER_STATE_RECEIVED,
    v1::DOSSIER_STATE_IN_PROCESSING,
    v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED,
    v1::DOSSIER_STATE_READY_FOR_RETURN,
    v1::DOSSIER_STATE_RETURNED,
    v1::DOSSIER_STATE_WITHDRAWN,
    v1::DOSSIER_STATE_REFUSED};

absl::string_view EventName(DossierEvent e);
absl::string_view StateName(DossierState s);    // "RECEIVED", ...
absl::string_view StateNameVi(DossierState s);  // "Đã tiếp nhận", ...

// The next state, or FAILED_PRECONDITION (reason ILLEGAL_TRANSITION) naming
// the current state and the event.
absl::StatusOr<DossierState> NextState(DossierState from, DossierEvent event);

// The national portal's status code (1 new … 10 returned).
int NationalStatusCode(DossierState s);

// Whether the dossier is finished (no further transitions but rating).
bool IsTerminal(DossierState s);

}  // namespace lienthong::intake
