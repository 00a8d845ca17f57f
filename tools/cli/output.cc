#include "tools/cli/output.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "libs/common/errors.h"
#include "libs/common/utf8.h"
#include "libs/grpc_util/proto_time.h"
#include "services/intake/dossier_state.h"

namespace lienthong::cli {
namespace {

std::string CsvField(absl::string_view v) {
  std::string out = "\"";
  for (const char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvRow(const deadline::v1::OnTimeReportRow& r) {
  // Nothing finished: no rate, left empty (0.0000 would read as 0 %).
  const std::string rate =
      r.any_finished() ? absl::StrFormat("%.4f", r.on_time_rate()) : "";
  return absl::StrFormat("%s,%s,%d,%d,%d,%d,%d,%d,%s\n", CsvField(r.group()),
                         CsvField(r.display_name()), r.received(),
                         r.finished_early(), r.finished_on_time(),
                         r.finished_late(), r.in_progress_on_time(),
                         r.in_progress_overdue(), rate);
}

}  // namespace

std::string JsonLine(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = false;
  o.preserve_proto_field_names = true;
  // Scripts read `"intact": false`, `"on_time": false` and zero counts as
  // keys that are there: by default proto3 JSON leaves out every field at
  // its default value, so a broken audit chain printed no "intact" at all.
  o.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

absl::TimeZone VietnamZone() {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone("Asia/Ho_Chi_Minh", &tz)) {
    tz = absl::FixedTimeZone(7 * 3600);  // no tzdata: Vietnam has no DST
  }
  return tz;
}

std::string LocalTime(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "—";
  return absl::FormatTime("%H:%M %d/%m/%Y", grpc_util::FromProto(t),
                          VietnamZone());
}

std::string StateText(const intake::v1::Dossier& d) {
  if (!d.current_step().empty()) return d.current_step();
  return std::string(intake::StateNameVi(d.state()));
}

std::string DossierText(const intake::v1::Dossier& d,
                        absl::string_view request_id) {
  std::string out = absl::StrCat("Mã hồ sơ:      ", d.code(), "\n");
  if (!request_id.empty()) {
    absl::StrAppend(&out, "Mã yêu cầu:    ", request_id, "\n");
  }
  const absl::string_view state = intake::StateNameVi(d.state());
  absl::StrAppend(&out, "Thủ tục:       ", d.procedure(), " (phiên bản ",
                  d.procedure_version(), ")\n", "Trạng thái:    ", state,
                  " (mã quốc gia ", d.national_status_code(), ")\n");
  if (!d.current_step().empty() && d.current_step() != state) {
    absl::StrAppend(&out, "Bước hiện tại: ", d.current_step(), "\n");
  }
  absl::StrAppend(&out, "Tiếp nhận:     ", LocalTime(d.receive_time()), "\n",
                  "Hẹn trả:       ", LocalTime(d.appointment_time()), "\n");
  for (const auto& r : d.results()) {
    absl::StrAppend(&out, "Kết quả:       ", r.key(), " = ", r.value(), "\n");
  }
  return out;
}

std::string DossierListLine(const intake::v1::Dossier& d) {
  return absl::StrCat(d.code(), "  ", StateText(d), "  hẹn ",
                      LocalTime(d.appointment_time()));
}

std::string LookupLine(const intake::v1::LookupDossierResponse& r) {
  std::string out = absl::StrCat(r.code(), ": ", r.current_step(), ", hẹn trả ",
                                 LocalTime(r.appointment_time()));
  if (r.state() != intake::v1::DOSSIER_STATE_REFUSED &&
      r.state() != intake::v1::DOSSIER_STATE_WITHDRAWN) {
    absl::StrAppend(&out, r.on_time() ? " (đúng hạn)" : " (trễ hạn)");
  }
  return out;
}

std::string SubmitJson(const intake::v1::Dossier& d,
                       absl::string_view request_id) {
  return absl::StrCat("{\"request_id\":\"", common::JsonEscape(request_id),
                      "\",\"dossier\":", JsonLine(d), "}");
}

std::string SeedText(const SeedCounts& c) {
  return absl::StrCat("seeded ", c.agencies, " agencies (", c.agencies_upserted,
                      " new or changed, ", c.agencies - c.agencies_upserted,
                      " unchanged), ", c.procedure_versions_added,
                      " new procedure versions (of ", c.procedures, ")");
}

std::string SeedJson(const SeedCounts& c) {
  return absl::StrCat(
      "{\"agencies\":", c.agencies,
      ",\"agencies_upserted\":", c.agencies_upserted,
      ",\"agencies_unchanged\":", c.agencies - c.agencies_upserted,
      ",\"procedures\":", c.procedures,
      ",\"procedure_versions_added\":", c.procedure_versions_added, "}");
}

std::string ReportCsv(const deadline::v1::GetOnTimeReportResponse& r) {
  std::string out =
      "nhom,ten,tiep_nhan,som_han,dung_han,tre_han,dang_xu_ly_trong_han,"
      "dang_xu_ly_qua_han,ty_le_dung_han\n";
  for (const auto& row : r.rows()) out += CsvRow(row);
  deadline::v1::OnTimeReportRow total = r.total();
  total.set_group("TONG");
  out += CsvRow(total);
  return out;
}

std::string FormFailureHint(const absl::Status& status) {
  if (!absl::IsFailedPrecondition(status)) return "";
  const common::ErrorDetails d = common::GetErrorDetails(status);
  // Fail() has printed the server's own Vietnamese already.
  if (!d.localized_message.empty()) return "";
  // Clients branch on the reason, never on the message (STYLE.md).
  if (d.reason == "NO_SUPPLEMENT_REQUEST") {
    return "Hồ sơ chưa có yêu cầu bổ sung nào: không có phiếu yêu cầu bổ "
           "sung để in.";
  }
  if (d.reason == "NOT_REFUSED") {
    return "Hồ sơ không bị từ chối: không có phiếu từ chối để in.";
  }
  if (d.reason == "NO_APOLOGY") {
    return "Hồ sơ chưa có phiếu xin lỗi và hẹn lại ngày trả kết quả để in.";
  }
  return "";
}

}  // namespace lienthong::cli
