#include "services/intake/appointment_moves.h"

#include "gtest/gtest.h"
#include "services/intake/dossier_state.h"

namespace lienthong::intake {
namespace {

absl::Time Vn(int d, int h) {
  return absl::FromCivil(absl::CivilSecond(2026, 11, d, h, 0, 0),
                         absl::FixedTimeZone(7 * 3600));
}

TEST(AppointmentMovesTest, OnlyOpenDossiersMove) {
  for (DossierState s : kAllDossierStates) {
    const AppointmentMove m{s, Vn(26, 9), Vn(26, 9), Vn(27, 9)};
    const bool open = s == v1::DOSSIER_STATE_RECEIVED ||
                      s == v1::DOSSIER_STATE_IN_PROCESSING ||
                      s == v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED;
    EXPECT_EQ(RescheduledAppointment(m).has_value(), open) << StateName(s);
  }
  EXPECT_FALSE(RescheduledAppointment({v1::DOSSIER_STATE_UNSPECIFIED, Vn(26, 9),
                                       Vn(26, 9), Vn(27, 9)})
                   .has_value());
}

TEST(AppointmentMovesTest, AppointmentFollowsTheClockUnlessTheOfficeSetALater) {
  constexpr DossierState kOpen = v1::DOSSIER_STATE_IN_PROCESSING;
  struct Case {
    const char* what;
    AppointmentMove m;
    absl::optional<absl::Time> want;
  };
  const Case cases[] = {
      {"the receipt's, later",
       {kOpen, Vn(26, 9), Vn(26, 9), Vn(27, 9)},
       Vn(27, 9)},
      {"the receipt's, earlier (a make-up day)",
       {kOpen, Vn(26, 9), Vn(26, 9), Vn(25, 9)},
       Vn(25, 9)},
      {"within a second of the clock's",
       {kOpen, Vn(26, 9) + absl::Milliseconds(400), Vn(26, 9), Vn(27, 9)},
       Vn(27, 9)},
      {"behind the clock after a supplement",
       {kOpen, Vn(26, 9), Vn(27, 9), Vn(30, 9)},
       Vn(30, 9)},
      {"an apology's, the clock moves before it",
       {kOpen, Vn(30, 9), Vn(26, 9), Vn(27, 9)},
       absl::nullopt},
      {"an apology's, the clock moves past it",
       {kOpen, Vn(27, 9), Vn(26, 9), Vn(30, 9)},
       Vn(30, 9)},
      {"already there",
       {kOpen, Vn(27, 9), Vn(26, 9), Vn(27, 9)},
       absl::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RescheduledAppointment(c.m), c.want) << c.what;
  }
}

TEST(AppointmentMovesTest, StaleMovesAreJudgedWithinTheDossiersOwnCalendar) {
  struct Case {
    const char* dossier_version;
    const char* id;
    int version;
    bool want;
  };
  const Case cases[] = {
      {"vn@7", "vn", 7, true},  // the same version again
      {"vn@7", "vn", 6, true},  // an older one, delivered late
      {"vn@7", "vn", 8, false},
      {"vn-H26@1", "vn-H26", 1, true},
      {"vn-H26@3", "vn-H26", 2, true},
      {"vn-H26@1", "vn-H26", 2, false},
      {"vn@bundled", "vn", 1, false},  // the bundled copy has seen none
      // Another calendar's change is never stale for this dossier: its
      // id is a prefix, or has one, of the dossier's.
      {"vn-H26@5", "vn", 1, false},
      {"vn@5", "vn-H26", 1, false},
      {"vn-H26@5", "vn-H2", 1, false},
      {"", "vn", 1, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(AlreadyAtOrPast(c.dossier_version, c.id, c.version), c.want)
        << c.dossier_version << " vs " << c.id << "@" << c.version;
  }
}

}  // namespace
}  // namespace lienthong::intake
