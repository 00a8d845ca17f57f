#pragma once

// What the CLI prints: Vietnamese text for officers, JSON Lines for scripts.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "lienthong/deadline/v1/deadline_service.pb.h"
#include "lienthong/intake/v1/intake_service.pb.h"
#include "lienthong/intake/v1/resources.pb.h"

namespace lienthong::cli {

// One compact JSON object with proto field names and no newline inside (a
// newline in a value is escaped), so every --json output is JSON Lines.
// Every scalar field is there, false, 0 and "" included; int64 values are
// strings, as the proto3 JSON mapping has them.
std::string JsonLine(const google::protobuf::Message& m);

// "HH:MM dd/mm/yyyy" in Hà Nội time; "—" when unset (the epoch), as the
// forms print it, rather than a 1970 appointment.
std::string LocalTime(const google::protobuf::Timestamp& t);
// Asia/Ho_Chi_Minh, or UTC+7 without tzdata (Vietnam has no DST).
absl::TimeZone VietnamZone();

// The state as officers say it: the dossier's current step when the server
// set one ("Đang giải quyết: civil_status"), else the state's Vietnamese
// name ("Đã tiếp nhận"), never the enum's English name.
std::string StateText(const intake::v1::Dossier& d);

// The dossier as text; `request_id`, when given, is shown too (submit).
std::string DossierText(const intake::v1::Dossier& d,
                        absl::string_view request_id = "");

// "<code>  <state>  hẹn <appointment>": one line of `list`.
std::string DossierListLine(const intake::v1::Dossier& d);

// One line of `lookup`: "<code>: <step>, hẹn trả <appointment> (đúng hạn)".
// A refused or withdrawn dossier gets no on-time verdict: it will not be
// finished, so "(đúng hạn)" would tell the citizen something untrue.
std::string LookupLine(const intake::v1::LookupDossierResponse& r);

// submit --json: {"request_id": "...", "dossier": {...}}.
std::string SubmitJson(const intake::v1::Dossier& d,
                       absl::string_view request_id);

struct SeedCounts {
  int agencies = 0;           // in the seed file
  int agencies_upserted = 0;  // new or changed; the others were skipped
  int procedures = 0;         // in the seed file
  int procedure_versions_added = 0;
};

std::string SeedText(const SeedCounts& c);
std::string SeedJson(const SeedCounts& c);

// What a failed form command (receipt, slip, supplement, refusal, apology)
// prints after the error: for a form of a step the dossier never took
// (FAILED_PRECONDITION NO_SUPPLEMENT_REQUEST, NOT_REFUSED or NO_APOLOGY), a
// line in Vietnamese for the officer (unindented), unless the server sent its
// own (LocalizedMessage); else "".
std::string FormFailureHint(const absl::Status& status);

// The on-time report as CSV (UTF-8, a header row, then a TONG row).
std::string ReportCsv(const deadline::v1::GetOnTimeReportResponse& r);

}  // namespace lienthong::cli
