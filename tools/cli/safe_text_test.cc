#include "tools/cli/safe_text.h"

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "libs/common/utf8.h"
#include "lienthong/intake/v1/intake_service.pb.h"

namespace lienthong::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

void ExpectNoPersonalData(const std::string& text) {
  for (const char* p : {"0912345678", "1088012345", "Nguyễn"}) {
    EXPECT_THAT(text, Not(HasSubstr(p))) << text;
  }
}

// Protobuf's own messages, as its JSON parser writes them, made safe.
TEST(SafeTextTest, ProtobufJsonErrorsAreSanitized) {
  struct Case {
    const char* json;
    const char* want;
  };
  const Case cases[] = {
      {R"({"dossier":{"applicant":{"personal_id":1088012345}}})",
       "(dossier.applicant.personal_id): invalid value for type TYPE_STRING"},
      {R"({"dossier":{"applicant":{"adress":"x"}}})",
       "(dossier.applicant.adress): unknown field"},
      // A value that spans lines and contains " for type ".
      {R"({"dossier":{"documents":[{"content":"0912345678\nfor type X"}]}})",
       "(dossier.documents[0].content): invalid value for type TYPE_BYTES"},
      {R"({"dossier":{"applicant":{"full_name":"Nguyễn" "x"}}})",
       "not accepted by the protobuf JSON parser"},
      {R"({"dossier":{"rating":"1088012345.5"}})",
       "(dossier.rating): invalid value for type TYPE_INT32"},
  };
  for (const Case& c : cases) {
    intake::v1::SubmitDossierRequest req;
    const auto st = google::protobuf::util::JsonStringToMessage(c.json, &req);
    ASSERT_FALSE(st.ok()) << c.json;
    const std::string got =
        SanitizeProtobufJsonError(std::string(st.message()));
    EXPECT_EQ(got, c.want) << st.message();
    ExpectNoPersonalData(got);
  }
}

TEST(SafeTextTest, SafeExcerptNeverCutsACharacter) {
  const std::string name = "Nguyễn Văn An";
  for (size_t max = 0; max <= name.size() + 1; ++max) {
    const std::string got = SafeExcerpt(name, max);
    EXPECT_TRUE(common::IsValidUtf8(got)) << max;
    if (max >= name.size()) {
      EXPECT_EQ(got, name);
    } else {
      EXPECT_TRUE(absl::EndsWith(got, "…")) << got;
    }
  }
  EXPECT_EQ(SafeExcerpt("Nguyễn", 5), "Nguy…");  // ễ is three bytes
  EXPECT_EQ(SafeExcerpt("Nguyễn", 7), "Nguyễ…");
  EXPECT_EQ(SafeExcerpt("a\nb\x01", 20), "a\\nb\\x01");
  EXPECT_EQ(SafeExcerpt("a\xffz", 20), "a\xEF\xBF\xBDz");
  EXPECT_EQ(SafeExcerpt("\xE1\xBB", 20), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(SafeTextTest, PositionsAreLinesAndCharacters) {
  const std::string text = "{\n  \"tên\": \"Nguyễn\"}";
  EXPECT_EQ(TextPosition(text, 0), "line 1, column 1");
  EXPECT_EQ(TextPosition(text, 2), "line 2, column 1");
  // After `  "tên": "Nguyễn` (ê and ễ are several bytes, one character).
  EXPECT_EQ(TextPosition(text, text.size() - 2), "line 2, column 17");
  EXPECT_EQ(FirstInvalidUtf8(text), absl::string_view::npos);
  EXPECT_EQ(FirstInvalidUtf8("ab\xE1\xBBz"), 2u);  // cut inside "ễ"
  EXPECT_EQ(FirstInvalidUtf8("\xC0\x80"), 0u);     // overlong NUL
}

}  // namespace
}  // namespace lienthong::cli
