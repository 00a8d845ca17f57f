#include "services/intake/forms.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "services/intake/dossier_state.h"
#include "services/intake/intake_logic.h"

namespace lienthong::intake {
namespace {

std::string Page(absl::string_view title, absl::string_view agency,
                 absl::string_view body) {
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"vi\">\n<head><meta charset=\"utf-8\">"
      "<title>",
      HtmlEscape(title),
      "</title><style>body{font-family:'Times New Roman',serif;max-width:"
      "760px;margin:2em auto}h1{text-align:center;font-size:1.3em}"
      ".hdr{display:flex;justify-content:space-between}td,th{border:1px solid "
      "#444;padding:4px 8px}table{border-collapse:collapse;width:100%}"
      "</style></head>\n<body>\n<div class=\"hdr\"><div><b>",
      HtmlEscape(agency),
      "</b></div><div><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br>Độc lập - "
      "Tự do - Hạnh phúc</div></div>\n<h1>",
      HtmlEscape(title), "</h1>\n", body, "\n</body>\n</html>\n");
}

std::string Row(absl::string_view label, absl::string_view value) {
  return absl::StrCat("<p>", HtmlEscape(label), ": <b>", HtmlEscape(value),
                      "</b></p>\n");
}

const v1::Procedure& ProcedureOf(const FormContext& c) {
  return c.procedure != nullptr ? *c.procedure
                                : v1::Procedure::default_instance();
}

std::string Common(const FormContext& c) {
  const v1::Dossier& d = c.dossier;
  return absl::StrCat(Row("Mã hồ sơ", d.code()),
                      Row("Thủ tục", ProcedureOf(c).display_name()),
                      Row("Người nộp", d.applicant().full_name()));
}

// "75.000 đồng" (Vietnamese thousands separator), "Không thu" for none.
std::string Fee(int64_t vnd) {
  if (vnd <= 0) return "Không thu";
  std::string digits = absl::StrCat(vnd), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += '.';
    out += digits[i];
  }
  return absl::StrCat(out, " đồng");
}

// The reasons as a list (one line each).
std::string Reasons(const std::vector<std::string>& reasons) {
  std::string items;
  for (const std::string& r : reasons) {
    absl::StrAppend(&items, "<li>", HtmlEscape(r), "</li>");
  }
  return absl::StrCat("<ul>", items, "</ul>\n");
}

std::string FirstReason(const FormContext& c) {
  return c.reasons.empty() ? "" : c.reasons.front();
}

// Two signature blocks: the applicant's and the receiving officer's.
std::string Signatures(absl::string_view officer) {
  return absl::StrCat(
      "<table style=\"border:none;margin-top:2em\"><tr>"
      "<td style=\"border:none;text-align:center\"><b>NGƯỜI NỘP HỒ SƠ</b>"
      "<br><i>(Ký và ghi rõ họ tên)</i></td>"
      "<td style=\"border:none;text-align:center\"><b>NGƯỜI TIẾP NHẬN HỒ "
      "SƠ</b><br><i>(Ký và ghi rõ họ tên)</i><br><br><br>",
      HtmlEscape(officer), "</td></tr></table>\n");
}

}  // namespace

absl::Status FillFromHistory(v1::FormKind kind, FormContext& c) {
  std::vector<std::string> supplement_round, refusal, apology;
  bool in_supplement = false;
  for (const v1::Transition& t : c.transitions) {
    if (t.from_state() == v1::DOSSIER_STATE_UNSPECIFIED && c.officer.empty()) {
      c.officer = t.actor_subject();  // the receipt
    }
    const bool is_apology = t.from_state() == t.to_state() &&
                            absl::StartsWith(t.reason(), kApologyReasonPrefix);
    const bool moves_appointment =
        t.from_state() == t.to_state() &&
        (is_apology || t.has_previous_appointment_time() ||
         absl::StrContains(t.reason(), kNewAppointmentMarker));
    if (moves_appointment) {
      if (is_apology) {
        apology = {t.reason().substr(sizeof(kApologyReasonPrefix) - 1)};
        c.previous_appointment = t.previous_appointment_time();
      }
      continue;  // never a supplement request
    }
    if (t.to_state() == v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED) {
      // A new round after a supplement; a parallel leg's request (from the
      // same state) joins the round.
      if (!in_supplement) supplement_round.clear();
      in_supplement = true;
      supplement_round.push_back(t.reason());
    } else if (t.from_state() == v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED) {
      in_supplement = false;
    }
    if (t.to_state() == v1::DOSSIER_STATE_REFUSED &&
        t.from_state() != v1::DOSSIER_STATE_REFUSED) {
      refusal = {t.reason()};
    }
  }
  // A form printed again gives the appointment in force now (a receipt
  // after a calendar move is the citizen's new appointment slip).
  c.new_appointment = c.dossier.appointment_time();
  const auto never = [&](absl::string_view reason, absl::string_view step) {
    return common::FailedPrecondition(
        std::string(reason), absl::StrCat("dossier ", c.dossier.code(),
                                          " has no ", step, " to print"));
  };
  switch (kind) {
    case v1::FORM_KIND_SUPPLEMENT_REQUEST:
      if (supplement_round.empty()) {
        return never("NO_SUPPLEMENT_REQUEST", "supplement request");
      }
      c.reasons = std::move(supplement_round);
      break;
    case v1::FORM_KIND_REFUSAL:
      if (refusal.empty()) return never("NOT_REFUSED", "refusal");
      c.reasons = std::move(refusal);
      break;
    case v1::FORM_KIND_APOLOGY:
      if (apology.empty()) return never("NO_APOLOGY", "apology");
      c.reasons = std::move(apology);
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t plain = 0;  // start of the run not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    const char* entity = nullptr;
    switch (s[i]) {
      case '&':
        entity = "&amp;";
        break;
      case '<':
        entity = "&lt;";
        break;
      case '>':
        entity = "&gt;";
        break;
      case '"':
        entity = "&quot;";
        break;
      case '\'':
        entity = "&#39;";
        break;
      default:
        continue;
    }
    out.append(s.data() + plain, i - plain);
    out += entity;
    plain = i + 1;
  }
  out.append(s.data() + plain, s.size() - plain);
  return out;
}

std::string FormatLocalTime(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "—";
  return absl::FormatTime("%H:%M ngày %d/%m/%Y",
                          absl::FromUnixSeconds(t.seconds()), VietnamTime());
}

std::string RenderForm(v1::FormKind kind, const FormContext& c) {
  const v1::Dossier& d = c.dossier;
  const v1::Procedure& procedure = ProcedureOf(c);
  const std::string agency =
      c.receiving_agency != nullptr ? c.receiving_agency->display_name() : "";
  switch (kind) {
    case v1::FORM_KIND_RECEIPT: {
      std::string docs;
      for (const auto& doc : d.documents()) {
        std::string name = doc.code();
        for (const auto& s : procedure.documents()) {
          if (s.code() == doc.code()) name = s.display_name();
        }
        absl::StrAppend(&docs, "<tr><td>", HtmlEscape(name), "</td><td>",
                        doc.originals(), "</td><td>", doc.copies(),
                        "</td></tr>");
      }
      return Page(
          "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", agency,
          absl::StrCat(
              Row("Mã hồ sơ", d.code()),
              Row("Thủ tục", absl::StrCat(procedure.display_name(), " (mã ",
                                          procedure.code(), ")")),
              Row("Người nộp", d.applicant().full_name()),
              Row("Số điện thoại", d.applicant().contact().phone()),
              Row("Thư điện tử", d.applicant().contact().email()),
              Row("Tiếp nhận lúc", FormatLocalTime(d.receive_time())),
              "<table><tr><th>Thành phần hồ sơ</th><th>Bản chính</th><th>Bản "
              "sao</th></tr>",
              docs, "</table>\n",
              Row("Thời gian giải quyết theo quy định",
                  absl::StrCat(procedure.legal_time().amount(),
                               procedure.legal_time().unit() ==
                                       common::v1::WORKING_DURATION_UNIT_DAYS
                                   ? " ngày làm việc"
                                   : " giờ làm việc")),
              Row("Hẹn trả kết quả lúc", FormatLocalTime(d.appointment_time())),
              Row("Nơi trả kết quả", agency),
              Row("Lệ phí", Fee(procedure.fee_vnd())),
              Row("Người tiếp nhận", c.officer),
              "<p>Tra cứu tình trạng hồ sơ bằng mã hồ sơ và 4 số cuối điện "
              "thoại của người nộp.</p>\n",
              Signatures(c.officer)));
    }
    case v1::FORM_KIND_SUPPLEMENT_REQUEST:
      return Page("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", agency,
                  absl::StrCat(Common(c), "<p>Nội dung cần bổ sung:</p>\n",
                               Reasons(c.reasons),
                               "<p>Thời gian giải quyết tạm dừng cho đến khi "
                               "hồ sơ được bổ sung đầy đủ.</p>"));
    case v1::FORM_KIND_REFUSAL:
      return Page(
          "PHIẾU TỪ CHỐI TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ", agency,
          absl::StrCat(Common(c), Row("Lý do từ chối", FirstReason(c))));
    case v1::FORM_KIND_APOLOGY:
      return Page(
          "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", agency,
          absl::StrCat(Common(c),
                       Row("Ngày hẹn trả trước đây",
                           FormatLocalTime(c.previous_appointment)),
                       Row("Lý do chậm", FirstReason(c)),
                       Row("Hẹn lại ngày trả kết quả",
                           FormatLocalTime(c.new_appointment)),
                       "<p>Cơ quan chúng tôi thành thật xin lỗi ông/bà vì sự "
                       "chậm trễ này.</p>"));
    case v1::FORM_KIND_CONTROL_SLIP: {
      std::string rows;
      for (const auto& t : c.transitions) {
        absl::StrAppend(
            &rows, "<tr><td>", HtmlEscape(FormatLocalTime(t.time())),
            "</td><td>",
            // The receipt has no state before it.
            t.from_state() == v1::DOSSIER_STATE_UNSPECIFIED
                ? "Tiếp nhận hồ sơ"
                : HtmlEscape(absl::StrCat(StateNameVi(t.from_state()), " → ",
                                          StateNameVi(t.to_state()))),
            "</td><td>", HtmlEscape(t.actor_agency()), " / ",
            HtmlEscape(t.actor_subject()), "</td><td>", HtmlEscape(t.reason()),
            "</td></tr>");
      }
      return Page(
          "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", agency,
          absl::StrCat(Common(c),
                       Row("Hẹn trả", FormatLocalTime(d.appointment_time())),
                       "<table><tr><th>Thời điểm</th><th>Bước</th><th>"
                       "Người thực hiện</th><th>Ghi chú</th></tr>",
                       rows, "</table>"));
    }
    default:
      return "";
  }
}

}  // namespace lienthong::intake
