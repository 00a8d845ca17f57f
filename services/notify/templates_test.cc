#include "services/notify/templates.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/errors.h"
#include "libs/testing/status_matchers.h"
#include "services/notify/default_templates.h"
#include "services/notify/sms.h"

namespace lienthong::notify {
namespace {

using ::lienthong::testing::StatusHasReason;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> ViolationFields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : common::GetErrorDetails(s).field_violations) {
    out.push_back(v.field + ": " + v.description);
  }
  return out;
}

TEST(TemplatesTest, RendersVietnameseSmsWithoutEscaping) {
  TemplateText t{"dossier_received", Channel::kSms, "",
                 "Hồ sơ {{dossier_code}} hẹn trả {{appointment_time}} <&>"};
  absl::StatusOr<Rendered> r =
      Render(t, {{"dossier_code", "000.00.14.H26-260312-0042"},
                 {"appointment_time", "16:30 ngày 18/03/2026 & \"sớm\""}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body,
            "Hồ sơ 000.00.14.H26-260312-0042 hẹn trả 16:30 ngày 18/03/2026 & "
            "\"sớm\" <&>");
}

TEST(TemplatesTest, EmailBodyIsHtmlEscapedButSubjectIsNot) {
  TemplateText t{"dossier_refused", Channel::kEmail,
                 "Hồ sơ {{dossier_code}} <bị từ chối>",
                 "<p>{{dossier_code}}: {{reason}}</p>"};
  absl::StatusOr<Rendered> r =
      Render(t, {{"dossier_code", "A&B"},
                 {"reason", "<script>alert('x')</script> thiếu giấy tờ"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->subject, "Hồ sơ A&B <bị từ chối>");
  EXPECT_EQ(r->body,
            "<p>A&amp;B: &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
            "thiếu giấy tờ</p>");
}

TEST(TemplatesTest, JsonEscapingForGatewayBodies) {
  absl::StatusOr<std::string> r =
      RenderText(R"({"to":"{{phone}}","text":"{{text}}"})",
                 {{"phone", "0912345678"}, {"text", "Dòng 1\n\"trích\" \\"}},
                 Escape::kJson);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, R"({"to":"0912345678","text":"Dòng 1\n\"trích\" \\"})");
}

TEST(TemplatesTest, ValuesAreNeverTemplates) {
  absl::StatusOr<std::string> r = RenderText(
      "{{message}}", {{"message", "{{dossier_code}}"}}, Escape::kNone);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "{{dossier_code}}");
}

TEST(TemplatesTest, SectionsRenderOnlyWhenValuePresent) {
  const std::string body = "A{{#reason}} vì {{reason}}{{/reason}}.";
  EXPECT_EQ(*RenderText(body, {}, Escape::kNone), "A.");
  EXPECT_EQ(*RenderText(body, {{"reason", "x"}}, Escape::kNone), "A vì x.");
}

TEST(TemplatesTest, PlaceholdersListsNamesOnceInOrder) {
  auto names = Placeholders(
      "{{a}} {{{b}}} {{&c}} {{#d}}{{a}}{{/d}} {{^e}}x{{/e}} {{! note }}", "f");
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("a", "b", "c", "d", "e"));
}

TEST(TemplatesTest, PlaceholdersRejectsBadSyntax) {
  for (const char* bad : {"{{a", "{{#a}}x", "{{/a}}", "{{#a}}{{/b}}",
                          "{{> part}}", "{{=<% %>=}}", "{{Bad}}", "{{}}"}) {
    EXPECT_THAT(
        Placeholders(bad, "template.body"),
        StatusHasReason(absl::StatusCode::kInvalidArgument, "INVALID_TEMPLATE"))
        << bad;
  }
}

TEST(TemplatesTest, ValidationReportsEveryProblemAsFieldViolations) {
  TemplateText t{"dossier_received", Channel::kSms, "Tiêu đề",
                 "Hồ sơ {{dossier_code}} {{citizen_id}}"};
  absl::Status s = ValidateTemplate(t, 3);
  EXPECT_THAT(s, StatusHasReason(absl::StatusCode::kInvalidArgument,
                                 "INVALID_TEMPLATE"));
  EXPECT_THAT(
      ViolationFields(s),
      ElementsAre(
          "template.body: unknown placeholder {{citizen_id}} for "
          "dossier_received",
          "template.subject: only e-mail templates have a subject",
          "template.body: missing required placeholder {{appointment_time}}"));
}

TEST(TemplatesTest, ValidationRejectsUnknownEventTypeAndBadUtf8) {
  TemplateText t{"no_such_event", Channel::kEmail, "\xC3\x28", "\xFF"};
  absl::Status s = ValidateTemplate(t, 3);
  std::vector<std::string> f = ViolationFields(s);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_THAT(f[0], HasSubstr("template.event_type: unknown event type"));
  EXPECT_EQ(f[1], "template.body: is not valid UTF-8");
  EXPECT_EQ(f[2], "template.subject: is not valid UTF-8");
}

TEST(TemplatesTest, ValidationRejectsEmptyBody) {
  EXPECT_THAT(ViolationFields(
                  ValidateTemplate({"ad_hoc", Channel::kWebhook, "", ""}, 3)),
              ElementsAre("template.body: is required"));
}

TEST(TemplatesTest, EmailBodiesMayNotInsertValuesUnescaped) {
  for (const char* body : {"<p>{{{message}}}</p>", "<p>{{& message}}</p>"}) {
    EXPECT_THAT(ViolationFields(ValidateTemplate(
                    {"ad_hoc", Channel::kEmail, "Tin", body}, 3)),
                ElementsAre(HasSubstr("not allowed in e-mail bodies")))
        << body;
  }
  // An SMS is plain text: nothing to escape there.
  EXPECT_TRUE(
      ValidateTemplate({"ad_hoc", Channel::kSms, "", "{{{message}}}"}, 3).ok());
  // The escaped form renders markup as text.
  absl::StatusOr<Rendered> r =
      Render({"ad_hoc", Channel::kEmail, "", "<p>{{message}}</p>"},
             {{"message", "<a href=\"http://x\">bấm</a>"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "<p>&lt;a href=&quot;http://x&quot;&gt;bấm&lt;/a&gt;</p>");
}

TEST(TemplatesTest, TaskCancelledNeedsOnlyTheDossierCode) {
  EXPECT_TRUE(ValidateTemplate({"task_cancelled", Channel::kWebhook, "",
                                "Hủy {{dossier_code}}: {{reason}}"},
                               3)
                  .ok());
  EXPECT_THAT(
      ViolationFields(ValidateTemplate(
          {"task_cancelled", Channel::kWebhook, "", "Hủy {{task}}"}, 3)),
      ElementsAre("template.body: missing required placeholder "
                  "{{dossier_code}}"));
}

TEST(TemplatesTest, ValidationRejectsSmsTooLongForConfiguredSegments) {
  std::string body = "{{message}} ";
  for (int i = 0; i < 30; ++i) body += "Thông báo dài dòng. ";
  absl::Status s = ValidateTemplate({"ad_hoc", Channel::kSms, "", body}, 2);
  EXPECT_THAT(ViolationFields(s),
              ElementsAre(HasSubstr("SMS segments with typical values")));
  // Without the limit it is fine.
  EXPECT_TRUE(ValidateTemplate({"ad_hoc", Channel::kSms, "", body}, 20).ok());
}

TEST(TemplatesTest, EveryDefaultTemplateIsValidAndVietnamese) {
  const std::vector<TemplateText>& defaults = DefaultTemplates();
  ASSERT_GE(defaults.size(), 20u);
  for (const TemplateText& t : defaults) {
    SCOPED_TRACE(t.event_type + "." + std::string(ChannelName(t.channel)));
    EXPECT_TRUE(ValidateTemplate(t, 2).ok()) << ValidateTemplate(t, 2);
    const EventTypeSpec* spec = FindEventType(t.event_type);
    ASSERT_NE(spec, nullptr);
    absl::StatusOr<Rendered> r = Render(t, spec->samples);
    ASSERT_TRUE(r.ok());
    if (t.channel == Channel::kSms) {
      EXPECT_EQ(AnalyzeSms(r->body).encoding, SmsEncoding::kUcs2);
      EXPECT_LE(SmsSegments(r->body), 2);
    }
    if (t.channel == Channel::kEmail) {
      EXPECT_FALSE(r->subject.empty());
    }
  }
}

TEST(TemplatesTest, EveryCitizenEventHasSmsAndEmailDefaults) {
  for (const char* type : {"dossier_received", "supplement_requested",
                           "apology_issued", "appointment_rescheduled",
                           "dossier_refused", "ready_for_return", "ad_hoc"}) {
    for (Channel c : kAllChannels) {
      bool found = false;
      for (const TemplateText& t : DefaultTemplates()) {
        found |= t.event_type == type && t.channel == c;
      }
      EXPECT_TRUE(found) << type << "." << ChannelName(c);
    }
  }
}

TEST(TemplatesTest, DefaultReceivedSmsReadsAsExpected) {
  for (const TemplateText& t : DefaultTemplates()) {
    if (t.event_type != "dossier_received" || t.channel != Channel::kSms) {
      continue;
    }
    absl::StatusOr<Rendered> r =
        Render(t, {{"dossier_code", "000.00.14.H26-260312-0042"},
                   {"appointment_time", "16:30 ngày 18/03/2026"}});
    ASSERT_TRUE(r.ok());
    EXPECT_THAT(r->body, HasSubstr("Hồ sơ 000.00.14.H26-260312-0042 đã được "
                                   "tiếp nhận. Hẹn trả kết quả: 16:30 ngày "
                                   "18/03/2026."));
  }
}

TEST(TemplatesTest, DefaultRescheduledMessagesGiveTheNewAppointment) {
  const Values v = {{"dossier_code", "001.08.19.H26-261123-0001"},
                    {"old_appointment_time", "09:00 ngày 26/11/2026"},
                    {"new_appointment_time", "09:00 ngày 27/11/2026"},
                    {"reason", "Thay đổi lịch làm việc"},
                    {"agency_name", "Bộ phận một cửa Phường Tây Mỗ"}};
  int seen = 0;
  for (const TemplateText& t : DefaultTemplates()) {
    if (t.event_type != "appointment_rescheduled") continue;
    SCOPED_TRACE(ChannelName(t.channel));
    ++seen;
    absl::StatusOr<Rendered> r = Render(t, v);
    ASSERT_TRUE(r.ok());
    EXPECT_THAT(r->body, HasSubstr("09:00 ngày 27/11/2026"));
    switch (t.channel) {
      case Channel::kSms:
        EXPECT_EQ(r->body,
                  "Lịch hẹn trả kết quả hồ sơ 001.08.19.H26-261123-0001 đã "
                  "thay đổi. Lý do: Thay đổi lịch làm việc. Hẹn mới: 09:00 "
                  "ngày 27/11/2026.");
        EXPECT_LE(SmsSegments(r->body), 2);
        break;
      case Channel::kEmail:
        EXPECT_EQ(r->subject,
                  "Thay đổi lịch hẹn trả kết quả hồ sơ "
                  "001.08.19.H26-261123-0001");
        EXPECT_THAT(r->body, HasSubstr("Thời gian hẹn trước đây: 09:00 ngày "
                                       "26/11/2026."));
        EXPECT_THAT(r->body, HasSubstr("Lý do: Thay đổi lịch làm việc."));
        EXPECT_THAT(r->body, HasSubstr("Bộ phận một cửa Phường Tây Mỗ"));
        break;
      case Channel::kWebhook:
        EXPECT_THAT(r->body, HasSubstr("(trước: 09:00 ngày 26/11/2026)"));
        break;
    }
  }
  EXPECT_EQ(seen, 3);
}

// What a reader must never see, whichever optional values are missing: a
// masked name, an empty greeting, a sentence starting in lower case, stray
// spaces or punctuation where a value was left out.
void ExpectReadsWell(absl::string_view text, absl::string_view what) {
  for (absl::string_view bad :
       {"*", "  ", " ,", " .", " :", "()", "( )", ":.", ": .", "Ông/Bà ,",
        "<strong></strong>", "<p></p>", "<p> ", "<p>đ", "<p>đã", "{{", "}}",
        "\n "}) {
    EXPECT_THAT(std::string(text), Not(HasSubstr(std::string(bad))))
        << what << " contains \"" << bad << "\"";
  }
  EXPECT_FALSE(absl::StartsWith(text, " ")) << what;
  EXPECT_FALSE(absl::EndsWith(text, " ")) << what;
}

TEST(TemplatesTest, DefaultTemplatesReadWellWithAndWithoutOptionalValues) {
  for (const TemplateText& t : DefaultTemplates()) {
    const std::string name =
        absl::StrCat(t.event_type, ".", ChannelName(t.channel));
    SCOPED_TRACE(name);
    const EventTypeSpec* spec = FindEventType(t.event_type);
    ASSERT_NE(spec, nullptr);
    Values required;
    for (const std::string& k : spec->required) {
      ASSERT_TRUE(spec->samples.count(k)) << k;
      required[k] = spec->samples.at(k);
    }
    // All sample values (the masked name among them), and only the
    // required ones.
    for (const Values& v : {spec->samples, required}) {
      absl::StatusOr<Rendered> r = Render(t, v);
      ASSERT_TRUE(r.ok()) << r.status();
      ExpectReadsWell(r->body, name + " body");
      ExpectReadsWell(r->subject, name + " subject");
    }
  }
}

TEST(TemplatesTest, CitizenEmailGreetsWithoutTheMaskedName) {
  for (const TemplateText& t : DefaultTemplates()) {
    if (t.channel != Channel::kEmail) continue;
    SCOPED_TRACE(t.event_type);
    EXPECT_THAT(t.body, Not(HasSubstr("{{applicant_name}}")));
    const EventTypeSpec* spec = FindEventType(t.event_type);
    ASSERT_NE(spec, nullptr);
    Values v = spec->samples;
    v["applicant_name"] = "N*** V*** A***";
    absl::StatusOr<Rendered> r = Render(t, v);
    ASSERT_TRUE(r.ok());
    EXPECT_THAT(r->body, Not(HasSubstr("N***")));
    if (absl::StrContains(r->body, "Kính gửi")) {
      EXPECT_THAT(r->body, HasSubstr("<p>Kính gửi Ông/Bà,</p>"));
    }
  }
}

TEST(TemplatesTest, MissingRequiredValuesAreNamedInOrder) {
  const EventTypeSpec* received = FindEventType("dossier_received");
  ASSERT_NE(received, nullptr);
  EXPECT_THAT(MissingRequiredValues(*received, {}),
              ElementsAre("dossier_code", "appointment_time"));
  EXPECT_THAT(MissingRequiredValues(
                  *received, {{"dossier_code", "000.00.14.H26-260312-0042"},
                              {"appointment_time", "  "}}),
              ElementsAre("appointment_time"));
  EXPECT_THAT(MissingRequiredValues(
                  *received, {{"dossier_code", "000.00.14.H26-260312-0042"},
                              {"appointment_time", "16:30 ngày 18/03/2026"}}),
              ::testing::IsEmpty());
  const EventTypeSpec* ad_hoc = FindEventType("ad_hoc");
  ASSERT_NE(ad_hoc, nullptr);
  EXPECT_THAT(MissingRequiredValues(*ad_hoc, {{"dossier_code", "x"}}),
              ElementsAre("message"));
  // Every value any template takes has a Vietnamese name for people.
  for (const EventTypeSpec& spec : EventTypes()) {
    for (const auto* keys : {&spec.required, &spec.optional}) {
      for (const std::string& k : *keys) {
        EXPECT_NE(ValueLabel(k), k) << spec.event_type << " " << k;
      }
    }
  }
  EXPECT_EQ(ValueLabel("appointment_time"), "thời gian hẹn trả kết quả");
  EXPECT_EQ(ValueLabel("no_such_value"), "no_such_value");
}

TEST(TemplatesTest, ParseTemplatesJsonRejectsMalformedFiles) {
  EXPECT_FALSE(ParseTemplatesJson("{").ok());
  EXPECT_FALSE(ParseTemplatesJson(R"({"templates": [{"body": "x"}]})").ok());
  EXPECT_FALSE(ParseTemplatesJson(
                   R"({"templates": [{"event_type": "ad_hoc",
                       "channel": "fax", "body": "x"}]})")
                   .ok());
}

}  // namespace
}  // namespace lienthong::notify
