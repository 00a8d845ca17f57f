#pragma once
// The default Vietnamese templates (templates/default_templates.json,
// compiled in), seeded as version 1 of every (event type, channel) that has
// no template yet.

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/notify/templates.h"

namespace lienthong::notify {

absl::string_view DefaultTemplatesJson();

// Parses a templates file of that shape.
absl::StatusOr<std::vector<TemplateText>> ParseTemplatesJson(
    absl::string_view json);

// The compiled-in defaults (parsed once).
const std::vector<TemplateText>& DefaultTemplates();

}  // namespace lienthong::notify
