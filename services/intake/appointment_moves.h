#pragma once

// What a calendar change does to a dossier's appointment (deadline's
// AppointmentsMoved). Pure: intake_appointments.cc applies it.

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "lienthong/intake/v1/resources.pb.h"

namespace lienthong::intake {

// One moved dossier clock as intake sees it.
struct AppointmentMove {
  v1::DossierState state = v1::DOSSIER_STATE_UNSPECIFIED;
  absl::Time appointment;  // the dossier's, now
  absl::Time old_due;      // the clock's, before the change
  absl::Time new_due;      // the clock's, after it
};

// The dossier's new appointment, or nullopt when it stays:
// - a finished dossier (returned, withdrawn, refused, or ready for return,
//   as for IssueApology) keeps what it had;
// - an appointment at or before the clock's old due time followed the clock
//   (the receipt's, or one the clock overtook after a supplement) and moves
//   to the new due time;
// - a later one was set by the receiving office (an apology slip): that
//   promise never moves earlier, only later when the new due time passes it;
// - nothing to do when it already is the new due time.
absl::optional<absl::Time> RescheduledAppointment(const AppointmentMove& m);

// Whether a dossier whose appointment follows `dossier_version` (a label
// "<calendar id>@<version>": "vn@7", "vn-H26@1", or "vn@bundled" for the
// copy shipped with the binary) has already seen `version` of calendar `id`
// or a later one: then a move for that version is older than one applied
// before (the relay does not promise order) and must not move the
// appointment back. A dossier following another calendar ("vn@7" for a
// change of "vn-H26") has not seen it.
bool AlreadyAtOrPast(absl::string_view dossier_version, absl::string_view id,
                     int version);

}  // namespace lienthong::intake
