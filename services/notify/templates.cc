#include "services/notify/templates.h"

#include <algorithm>
#include <exception>
#include <functional>
#include <map>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "libs/common/errors.h"
#include "libs/common/utf8.h"
#include "mstch/mstch.hpp"
#include "services/notify/sms.h"

namespace lienthong::notify {
namespace {

// libmstch escapes through one process-wide hook; each thread says which
// escaping its current render needs.
thread_local Escape tl_escape = Escape::kNone;

void InstallEscapeHook() {
  static std::once_flag once;
  std::call_once(once, [] {
    mstch::config::escape = [](const std::string& s) -> std::string {
      switch (tl_escape) {
        case Escape::kHtml:
          return HtmlEscape(s);
        case Escape::kJson:
          return common::JsonEscape(s);
        case Escape::kNone:
          break;
      }
      return s;
    };
  });
}

const Values kDossierSamples = {
    {"dossier_code", "000.00.14.H26-260312-0042"},
    {"agency_name", "Bộ phận một cửa Phường Tây Mỗ"},
    {"procedure_name",
     "Liên thông đăng ký khai sinh, thường trú, cấp thẻ BHYT"},
};

EventTypeSpec Spec(std::string type, std::vector<std::string> required,
                   std::vector<std::string> optional, Values samples) {
  Values all = kDossierSamples;
  for (auto& [k, v] : samples) all[k] = v;
  return EventTypeSpec{std::move(type), std::move(required),
                       std::move(optional), std::move(all)};
}

bool Contains(const std::vector<std::string>& v, absl::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

const std::vector<EventTypeSpec>& EventTypes() {
  static const auto* types = new std::vector<EventTypeSpec>{
      Spec("dossier_received", {"dossier_code", "appointment_time"},
           {"applicant_name", "receive_time", "procedure_name", "agency_name"},
           {{"applicant_name", "N*** V*** A***"},
            {"receive_time", "09:15 ngày 12/03/2026"},
            {"appointment_time", "16:30 ngày 18/03/2026"}}),
      Spec("supplement_requested", {"dossier_code", "reason"},
           {"request_time", "agency_name", "procedure_name"},
           {{"reason", "Thiếu bản sao giấy chứng sinh có chứng thực"},
            {"request_time", "10:00 ngày 13/03/2026"}}),
      Spec("apology_issued", {"dossier_code", "new_appointment_time"},
           {"old_appointment_time", "reason", "agency_name", "procedure_name"},
           {{"old_appointment_time", "16:30 ngày 18/03/2026"},
            {"new_appointment_time", "16:30 ngày 20/03/2026"},
            {"reason", "Cơ quan bảo hiểm xã hội cần thêm thời gian xác minh"}}),
      Spec("appointment_rescheduled", {"dossier_code", "new_appointment_time"},
           {"old_appointment_time", "reason", "agency_name", "procedure_name"},
           {{"old_appointment_time", "16:30 ngày 18/03/2026"},
            {"new_appointment_time", "16:30 ngày 19/03/2026"},
            {"reason", "Thay đổi lịch làm việc"}}),
      Spec("dossier_refused", {"dossier_code", "reason"},
           {"refuse_time", "agency_name", "procedure_name"},
           {{"reason", "Hồ sơ không thuộc thẩm quyền giải quyết của phường"},
            {"refuse_time", "14:00 ngày 14/03/2026"}}),
      Spec("ready_for_return", {"dossier_code"},
           {"appointment_time", "ready_time", "agency_name", "procedure_name"},
           {{"appointment_time", "16:30 ngày 18/03/2026"},
            {"ready_time", "11:20 ngày 17/03/2026"}}),
      Spec("clock_due_soon", {"dossier_code", "due_time"},
           {"clock_kind", "agency_code", "task", "procedure_name"},
           {{"due_time", "16:30 ngày 18/03/2026"},
            {"clock_kind", "hồ sơ"},
            {"agency_code", "000.00.14.H26"},
            {"task", "tasks/7f0c2a"}}),
      Spec("clock_overdue", {"dossier_code", "due_time"},
           {"clock_kind", "agency_code", "task", "procedure_name"},
           {{"due_time", "16:30 ngày 18/03/2026"},
            {"clock_kind", "hồ sơ"},
            {"agency_code", "000.00.14.H26"},
            {"task", "tasks/7f0c2a"}}),
      Spec("task_dispatched", {"dossier_code"},
           {"task", "leg_id", "agency_code", "procedure_name", "dispatch_time"},
           {{"task", "tasks/7f0c2a"},
            {"leg_id", "civil_status"},
            {"agency_code", "000.00.14.H26"},
            {"dispatch_time", "09:20 ngày 12/03/2026"}}),
      Spec("task_cancelled", {"dossier_code"},
           {"task", "leg_id", "agency_code", "reason", "cancel_time",
            "procedure_name"},
           {{"task", "tasks/7f0c2a"},
            {"leg_id", "health_insurance"},
            {"agency_code", "000.00.19.H26"},
            {"reason", "Hồ sơ bị từ chối ở bước khác"},
            {"cancel_time", "14:05 ngày 14/03/2026"}}),
      Spec("ad_hoc", {"message"}, {"dossier_code"},
           {{"message", "Bộ phận một cửa xin thông báo lịch nghỉ Tết."}}),
  };
  return *types;
}

const EventTypeSpec* FindEventType(absl::string_view event_type) {
  for (const EventTypeSpec& s : EventTypes()) {
    if (s.event_type == event_type) return &s;
  }
  return nullptr;
}

std::vector<std::string> MissingRequiredValues(const EventTypeSpec& spec,
                                               const Values& values) {
  std::vector<std::string> missing;
  for (const std::string& k : spec.required) {
    auto it = values.find(k);
    if (it == values.end() || absl::StripAsciiWhitespace(it->second).empty()) {
      missing.push_back(k);
    }
  }
  return missing;
}

std::string ValueLabel(absl::string_view key) {
  static const auto* labels =
      new std::map<std::string, std::string, std::less<>>{
          {"dossier_code", "mã hồ sơ"},
          {"appointment_time", "thời gian hẹn trả kết quả"},
          {"new_appointment_time", "thời gian hẹn trả kết quả mới"},
          {"old_appointment_time", "thời gian hẹn trả kết quả trước đây"},
          {"reason", "lý do"},
          {"due_time", "hạn xử lý"},
          {"message", "nội dung thông báo"},
          {"applicant_name", "tên người nộp hồ sơ"},
          {"receive_time", "thời gian tiếp nhận"},
          {"procedure_name", "tên thủ tục"},
          {"agency_name", "tên cơ quan"},
          {"agency_code", "mã cơ quan"},
          {"request_time", "thời gian yêu cầu bổ sung"},
          {"refuse_time", "thời gian từ chối"},
          {"ready_time", "thời gian có kết quả"},
          {"clock_kind", "loại thời hạn"},
          {"task", "nhiệm vụ"},
          {"leg_id", "bước xử lý"},
          {"dispatch_time", "thời gian giao nhiệm vụ"},
          {"cancel_time", "thời gian hủy nhiệm vụ"},
      };
  auto it = labels->find(key);
  return it != labels->end() ? it->second : std::string(key);
}

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> Placeholders(absl::string_view text,
                                                      absl::string_view field) {
  std::vector<std::string> names;
  std::vector<std::string> open;
  auto bad = [&](absl::string_view what) {
    return common::InvalidArgument("INVALID_TEMPLATE",
                                   {{std::string(field), std::string(what)}});
  };
  size_t pos = 0;
  while (true) {
    const size_t start = text.find("{{", pos);
    if (start == absl::string_view::npos) break;
    const bool triple = text.substr(start, 3) == "{{{";
    const absl::string_view close = triple ? "}}}" : "}}";
    const size_t body_start = start + (triple ? 3 : 2);
    const size_t end = text.find(close, body_start);
    if (end == absl::string_view::npos) return bad("unclosed {{ tag");
    absl::string_view tag = text.substr(body_start, end - body_start);
    pos = end + close.size();
    char sigil = 0;
    if (!triple && !tag.empty() &&
        absl::string_view("#^/!>=&").find(tag[0]) != absl::string_view::npos) {
      sigil = tag[0];
      tag.remove_prefix(1);
    }
    if (sigil == '!') continue;
    if (sigil == '>') return bad("partials ({{> ...}}) are not allowed");
    if (sigil == '=') return bad("delimiter changes are not allowed");
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.empty()) return bad("empty {{ }} tag");
    for (char c : tag) {
      if (!(std::islower(static_cast<unsigned char>(c)) ||
            std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
        return bad(absl::StrCat(
            "placeholder names are lower_snake_case: ", "{{", tag, "}}"));
      }
    }
    const std::string name(tag);
    if (sigil == '#' || sigil == '^') {
      open.push_back(name);
    } else if (sigil == '/') {
      if (open.empty() || open.back() != name) {
        return bad(absl::StrCat("section {{/", name, "}} closes nothing"));
      }
      open.pop_back();
      continue;
    }
    if (!Contains(names, name)) names.push_back(name);
  }
  if (!open.empty()) {
    return bad(absl::StrCat("section {{#", open.back(), "}} is not closed"));
  }
  return names;
}

absl::Status ValidateTemplate(const TemplateText& t, int sms_max_segments) {
  std::vector<common::FieldViolation> v;
  const EventTypeSpec* spec = FindEventType(t.event_type);
  if (spec == nullptr) {
    std::vector<std::string> known;
    for (const EventTypeSpec& s : EventTypes()) known.push_back(s.event_type);
    v.push_back(
        {"template.event_type", absl::StrCat("unknown event type; known: ",
                                             absl::StrJoin(known, ", "))});
  }
  struct Part {
    const char* field;
    const std::string* text;
  };
  std::vector<std::string> used_in_body;
  for (const Part& p :
       {Part{"template.body", &t.body}, Part{"template.subject", &t.subject}}) {
    const bool is_body = p.text == &t.body;
    if (!common::IsValidUtf8(*p.text)) {
      v.push_back({p.field, "is not valid UTF-8"});
      continue;
    }
    if (is_body && p.text->empty()) {
      v.push_back({p.field, "is required"});
      continue;
    }
    if (!is_body && !p.text->empty() && t.channel != Channel::kEmail) {
      v.push_back({p.field, "only e-mail templates have a subject"});
      continue;
    }
    // E-mail bodies are HTML: a value must never reach them unescaped
    // (a reason typed by an officer could carry markup or a link).
    if (is_body && t.channel == Channel::kEmail &&
        (p.text->find("{{{") != std::string::npos ||
         p.text->find("{{&") != std::string::npos)) {
      v.push_back({p.field,
                   "unescaped {{{name}}} and {{&name}} are not allowed in "
                   "e-mail bodies; values are HTML-escaped"});
    }
    absl::StatusOr<std::vector<std::string>> names =
        Placeholders(*p.text, p.field);
    if (!names.ok()) {
      for (const common::FieldViolation& f :
           common::GetErrorDetails(names.status()).field_violations) {
        v.push_back(f);
      }
      continue;
    }
    if (is_body) used_in_body = *names;
    if (spec == nullptr) continue;
    for (const std::string& n : *names) {
      if (!Contains(spec->required, n) && !Contains(spec->optional, n)) {
        v.push_back({p.field, absl::StrCat("unknown placeholder {{", n,
                                           "}} for ", t.event_type)});
      }
    }
  }
  if (spec != nullptr && common::IsValidUtf8(t.body) && !t.body.empty()) {
    for (const std::string& r : spec->required) {
      if (!Contains(used_in_body, r)) {
        v.push_back({"template.body",
                     absl::StrCat("missing required placeholder {{", r, "}}")});
      }
    }
  }
  if (v.empty() && t.channel == Channel::kSms && spec != nullptr) {
    absl::StatusOr<std::string> sample =
        RenderText(t.body, spec->samples, Escape::kNone);
    if (sample.ok() && SmsSegments(*sample) > sms_max_segments) {
      v.push_back({"template.body",
                   absl::StrCat("needs ", SmsSegments(*sample),
                                " SMS segments with typical values; at most ",
                                sms_max_segments, " allowed")});
    }
  }
  if (!v.empty()) return common::InvalidArgument("INVALID_TEMPLATE", v);
  return absl::OkStatus();
}

absl::StatusOr<std::string> RenderText(absl::string_view text,
                                       const Values& values, Escape escape) {
  InstallEscapeHook();
  mstch::map context;
  for (const auto& [k, val] : values) context.emplace(k, val);
  const Escape saved = tl_escape;
  tl_escape = escape;
  std::string out;
  try {
    out = mstch::render(std::string(text), context);
  } catch (const std::exception&) {
    tl_escape = saved;
    return common::InvalidArgument("INVALID_TEMPLATE",
                                   {{"template.body", "cannot be rendered"}});
  }
  tl_escape = saved;
  return out;
}

absl::StatusOr<Rendered> Render(const TemplateText& t, const Values& values) {
  Rendered r;
  const Escape body_escape =
      t.channel == Channel::kEmail ? Escape::kHtml : Escape::kNone;
  auto body = RenderText(t.body, values, body_escape);
  if (!body.ok()) return body.status();
  r.body = *std::move(body);
  if (!t.subject.empty()) {
    auto subject = RenderText(t.subject, values, Escape::kNone);
    if (!subject.ok()) return subject.status();
    r.subject = *std::move(subject);
  }
  return r;
}

}  // namespace lienthong::notify
