#pragma once

// The intake rules, pure: agency and procedure validation (legs form a
// DAG), dossier validation against the procedure version (every violation at
// once), who may receive what, dossier codes, appointments in working time.
// No gRPC, no PostgreSQL.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/calendar/working_calendar.h"
#include "libs/common/dossier_code.h"
#include "lienthong/intake/v1/resources.pb.h"

namespace lienthong::intake {

inline constexpr size_t kMaxDocumentBytes = 2 * 1024 * 1024;

// Asia/Ho_Chi_Minh (fixed +07:00 when tzdata is missing; no DST since 1975).
absl::TimeZone VietnamTime();

// A list RPC's page size: 50 when unset, at most 500.
int PageSize(int requested);

// `agencies/{code}` <-> code; "" when the name is malformed.
std::string AgencyName(absl::string_view code);
std::string AgencyCodeOf(absl::string_view name);
std::string ProcedureName(absl::string_view code);
std::string ProcedureCodeOf(absl::string_view name);
std::string DossierName(absl::string_view code);
std::string DossierCodeOf(absl::string_view name);
// NOT_FOUND naming the dossier; INVALID_ARGUMENT for a malformed name.
absl::Status DossierNotFound(const std::string& code);
absl::Status BadDossierName();

// QCVN 102:2016 shape: `ddd.dd.dd.Ldd`, e.g. `000.00.00.H26`,
// `000.21.25.H26` (the last group: the first-level unit, H26 Hà Nội).
bool IsAgencyCode(absl::string_view code);

absl::Status ValidateAgency(const v1::Agency& agency);

// Fields, documents, online level, legal time, and legs: unique ids, known
// dependencies, no cycles, inputs produced by an upstream leg.
absl::Status ValidateProcedure(const v1::Procedure& procedure);

// Legs in an order where every leg comes after its dependencies, or
// INVALID_ARGUMENT naming a leg on a cycle.
absl::StatusOr<std::vector<std::string>> TopologicalLegOrder(
    const v1::Procedure& procedure);

// Every violation of the dossier against its procedure version, as one
// INVALID_ARGUMENT with field violations.
absl::Status ValidateDossier(const v1::Dossier& dossier,
                             const v1::Procedure& procedure);

// FAILED_PRECONDITION unless `agency` is a receiving unit (one-stop unit or
// people's committee) of a tier the procedure lists, and the procedure is
// in force at `at`.
absl::Status CheckMayReceive(const v1::Procedure& procedure,
                             const v1::Agency& agency, absl::Time at);

// `<agency code>-<yymmdd>-<NNNN>`: the date is the local (Vietnam) date of
// receipt; the sequence has at least 4 digits.
std::string FormatDossierCode(absl::string_view agency_code, absl::CivilDay day,
                              int64_t sequence);
// Whether `code` has that shape (libs/common/dossier_code.h, shared with
// the services that are handed dossier codes).
using common::IsDossierCode;
// What a citizen, who proved only the code and 4 phone digits, may be
// answered about a dossier: its code, procedure, state, step, times and
// rating. No applicant, fields, documents or results.
v1::Dossier CitizenView(const v1::Dossier& d);
absl::CivilDay LocalDay(absl::Time t);

// The appointment: the procedure's legal time in working time from the
// receipt, honouring its afternoon cut-off.
absl::StatusOr<absl::Time> ComputeAppointment(
    const calendar::WorkingCalendar& cal, absl::Time received,
    const v1::Procedure& procedure);

// "15:00" -> 900; nullopt for "" ; error for malformed.
absl::StatusOr<absl::optional<int>> ParseCutoff(absl::string_view hhmm);

}  // namespace lienthong::intake
