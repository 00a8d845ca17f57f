#include "services/notify/default_templates.h"

#include <cstdio>
#include <cstdlib>

#include "libs/common/errors.h"
#include "nlohmann/json.hpp"

namespace lienthong::notify {

absl::StatusOr<std::vector<TemplateText>> ParseTemplatesJson(
    absl::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr,
                                             /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("templates") ||
      !doc["templates"].is_array()) {
    return common::InvalidArgument(
        "INVALID_TEMPLATES_FILE",
        {{"templates", "expected {\"templates\": [...]}"}});
  }
  std::vector<TemplateText> out;
  for (const nlohmann::json& t : doc["templates"]) {
    if (!t.is_object() || !t.contains("event_type") || !t.contains("channel") ||
        !t.contains("body") || !t["event_type"].is_string() ||
        !t["channel"].is_string() || !t["body"].is_string()) {
      return common::InvalidArgument(
          "INVALID_TEMPLATES_FILE",
          {{"templates", "each needs event_type, channel and body strings"}});
    }
    TemplateText text;
    text.event_type = t["event_type"].get<std::string>();
    absl::StatusOr<Channel> channel =
        ParseChannel(t["channel"].get<std::string>());
    if (!channel.ok()) return channel.status();
    text.channel = *channel;
    text.body = t["body"].get<std::string>();
    if (t.contains("subject") && t["subject"].is_string()) {
      text.subject = t["subject"].get<std::string>();
    }
    out.push_back(std::move(text));
  }
  return out;
}

const std::vector<TemplateText>& DefaultTemplates() {
  static const auto* const kTemplates = [] {
    absl::StatusOr<std::vector<TemplateText>> parsed =
        ParseTemplatesJson(DefaultTemplatesJson());
    if (!parsed.ok()) {
      // A build-time data file: the unit test catches this first.
      std::fprintf(stderr, "notify: default templates do not parse\n");
      std::abort();
    }
    return new std::vector<TemplateText>(*std::move(parsed));
  }();
  return *kTemplates;
}

}  // namespace lienthong::notify
