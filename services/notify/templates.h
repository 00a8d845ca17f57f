#pragma once
// Message templates: Mustache (Debian's libmstch) with a fixed set of
// placeholders per event type. Templates are validated when saved (unknown
// placeholders, missing required ones, bad UTF-8, partials or delimiter
// changes) and rendered with the escaping the channel needs: HTML for
// e-mail bodies, none for SMS text and e-mail subjects, JSON for the SMS
// gateway's request body.

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/notify/channel.h"

namespace lienthong::notify {

using Values = std::map<std::string, std::string>;

// What an event type's templates may say.
struct EventTypeSpec {
  std::string event_type;             // "dossier_received"
  std::vector<std::string> required;  // must appear in the body
  std::vector<std::string> optional;  // may appear
  Values samples;                     // typical values, for length checks
};

// The known event types, in a fixed order.
const std::vector<EventTypeSpec>& EventTypes();
// Null when `event_type` is not known.
const EventTypeSpec* FindEventType(absl::string_view event_type);

// The required values of `spec` that `values` lacks (absent, or only
// whitespace), in the spec's order: a message without them would read
// "Hẹn trả kết quả: ." or be empty.
std::vector<std::string> MissingRequiredValues(const EventTypeSpec& spec,
                                               const Values& values);

// What a value is called, in Vietnamese, for people ("thời gian hẹn trả kết
// quả" for appointment_time); the key itself for one without a name.
std::string ValueLabel(absl::string_view key);

struct TemplateText {
  std::string event_type;
  Channel channel = Channel::kSms;
  std::string subject;  // e-mail only
  std::string body;
};

enum class Escape { kNone, kHtml, kJson };

// The variable names a Mustache text uses (tags, sections, inverted
// sections), each once, in order of first use. INVALID_ARGUMENT (field
// `field`) for partials, delimiter changes, unclosed tags or unbalanced
// sections.
absl::StatusOr<std::vector<std::string>> Placeholders(absl::string_view text,
                                                      absl::string_view field);

// Checks a template before it is saved; every problem at once as field
// violations on `template.event_type`, `template.body`, `template.subject`.
// SMS bodies rendered with the sample values must fit `sms_max_segments`.
absl::Status ValidateTemplate(const TemplateText& t, int sms_max_segments);

// Renders `text` with `values` (missing ones render empty).
absl::StatusOr<std::string> RenderText(absl::string_view text,
                                       const Values& values, Escape escape);

struct Rendered {
  std::string subject;  // plain text
  std::string body;     // HTML for e-mail, plain otherwise
};

// Renders a whole template for its channel.
absl::StatusOr<Rendered> Render(const TemplateText& t, const Values& values);

std::string HtmlEscape(absl::string_view s);

}  // namespace lienthong::notify
