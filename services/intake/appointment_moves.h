#pragma once

// What a calendar change does to a dossier's appointment (deadline's
// AppointmentsMoved). Pure: intake_appointments.cc applies it.

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

}  // namespace lienthong::intake
