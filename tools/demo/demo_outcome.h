#pragma once

// The demo's own verdict. It claims that both dossiers were handed back,
// that the citizens and the ward were told and that the ward's webhooks
// were signed; it exits 0 only when every part of that is true.

#include <string>
#include <vector>

#include "lienthong/intake/v1/resources.pb.h"
#include "tools/demo/notifications.h"

namespace lienthong::demo {

struct DossierOutcome {
  std::string code;
  intake::v1::DossierState state = intake::v1::DOSSIER_STATE_UNSPECIFIED;
  std::vector<std::string> errors;  // failed calls about it (RpcError)
  DossierNotifications notifications;
};

// Everything that fell short, one item each (English, the Vietnamese in
// parentheses): a dossier not RETURNED, a failed call, notify not done with
// a dossier, no message landed for a dossier, an invalid webhook signature;
// `other` (failures about no one dossier) first. Empty when the run
// succeeded.
std::vector<std::string> Problems(const std::vector<DossierOutcome>& dossiers,
                                  const std::vector<std::string>& other);

// "demo: FAILED (thất bại): <problem>; <problem>": one line for stderr.
std::string FailureLine(const std::vector<std::string>& problems);

}  // namespace lienthong::demo
