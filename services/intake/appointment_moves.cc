#include "services/intake/appointment_moves.h"

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "services/intake/dossier_state.h"

namespace lienthong::intake {

absl::optional<absl::Time> RescheduledAppointment(const AppointmentMove& m) {
  if (IsTerminal(m.state) || m.state == v1::DOSSIER_STATE_READY_FOR_RETURN ||
      m.state == v1::DOSSIER_STATE_UNSPECIFIED) {
    return absl::nullopt;
  }
  // Intake's appointment and deadline's due time are computed apart (from
  // the same receive time and calendar) and stored at different precisions;
  // within a second they are the same appointment.
  constexpr absl::Duration kSame = absl::Seconds(1);
  if (absl::AbsDuration(m.appointment - m.new_due) < kSame) {
    return absl::nullopt;
  }
  if (m.appointment < m.old_due + kSame) return m.new_due;
  if (m.new_due > m.appointment) return m.new_due;
  return absl::nullopt;
}

bool AlreadyAtOrPast(absl::string_view dossier_version, absl::string_view id,
                     int version) {
  absl::string_view v = dossier_version;
  // The id and "@" both: "vn-H26@1" is no version of "vn".
  if (!absl::ConsumePrefix(&v, id) || !absl::ConsumePrefix(&v, "@")) {
    return false;
  }
  int seen = 0;
  return absl::SimpleAtoi(v, &seen) && seen >= version;
}

}  // namespace lienthong::intake
