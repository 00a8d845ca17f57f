#include "libs/fields/field_validation.h"

#include "gtest/gtest.h"

namespace lienthong::fields {
namespace {

common::v1::FieldSpec Spec(const std::string& key, common::v1::FieldType t,
                           bool required = true) {
  common::v1::FieldSpec s;
  s.set_key(key);
  s.set_type(t);
  s.set_required(required);
  return s;
}

TEST(FieldValidationTest, TypedValues) {
  struct Case {
    common::v1::FieldType type;
    std::string value;
    bool valid;
  };
  const Case cases[] = {
      {common::v1::FIELD_TYPE_PERSONAL_ID, "001225001234", true},
      {common::v1::FIELD_TYPE_PERSONAL_ID, "00122500123", false},
      {common::v1::FIELD_TYPE_PERSONAL_ID, "00122500123a", false},
      {common::v1::FIELD_TYPE_DATE, "2026-02-29", false},
      {common::v1::FIELD_TYPE_DATE, "2028-02-29", true},
      {common::v1::FIELD_TYPE_DATE, "29/02/2028", false},
      {common::v1::FIELD_TYPE_PHONE, "0912345678", true},
      {common::v1::FIELD_TYPE_PHONE, "+84912345678", true},
      {common::v1::FIELD_TYPE_PHONE, "912345678", false},
      {common::v1::FIELD_TYPE_EMAIL, "an@example.vn", true},
      {common::v1::FIELD_TYPE_EMAIL, "an@example", false},
      {common::v1::FIELD_TYPE_EMAIL, "an<x>@example.vn", false},
      {common::v1::FIELD_TYPE_EMAIL, "an@example..vn", false},
      {common::v1::FIELD_TYPE_EMAIL, "an@example.vn.", false},
      {common::v1::FIELD_TYPE_EMAIL, "an,b@example.vn", false},
      {common::v1::FIELD_TYPE_NUMBER, "3.5", true},
      {common::v1::FIELD_TYPE_NUMBER, "ba", false},
      {common::v1::FIELD_TYPE_TEXT, "Nguyễn Thị Mai", true},
      {common::v1::FIELD_TYPE_TEXT, "bad \xC3", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(!CheckValue(Spec("k", c.type), c.value).has_value(), c.valid)
        << c.value;
  }
  common::v1::FieldSpec e = Spec("sex", common::v1::FIELD_TYPE_ENUM);
  e.add_enum_values("Nam");
  e.add_enum_values("Nữ");
  EXPECT_FALSE(CheckValue(e, "Nữ").has_value());
  EXPECT_TRUE(CheckValue(e, "Khác").has_value());
  common::v1::FieldSpec t = Spec("name", common::v1::FIELD_TYPE_TEXT);
  t.set_max_length(3);
  EXPECT_FALSE(CheckValue(t, "Mỗi").has_value());  // 3 code points, 5 bytes
  EXPECT_TRUE(CheckValue(t, "Mỗi1").has_value());
}

TEST(FieldValidationTest, MobilePhonesAreTheOnesThatTakeSms) {
  for (const char* good :
       {"0912345678", "0387654321", "0512345678", "0712345678", "0812345678",
        "+84912345678", "+84387654321"}) {
    EXPECT_TRUE(IsMobilePhone(good)) << good;
  }
  for (const char* bad :
       {"", "0212345678", "0412345678", "0612345678", "0112345678",
        "02438253456", "+84212345678", "+8491234567", "84912345678",
        "091234567", "09123456789", "0912 345 678", "+84-912345678",
        "091234567a"}) {
    EXPECT_FALSE(IsMobilePhone(bad)) << bad;
  }
}

TEST(FieldValidationTest, TextPatternsMatchTheWholeValue) {
  common::v1::FieldSpec s = Spec("so_nha", common::v1::FIELD_TYPE_TEXT);
  s.set_pattern("[0-9]+[A-Z]?");
  EXPECT_FALSE(CheckValue(s, "12B").has_value());
  EXPECT_FALSE(CheckValue(s, "7").has_value());  // the compiled one again
  auto bad = CheckValue(s, "12B phố Huế");
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(*bad, "must match [0-9]+[A-Z]?");
  // Two fields, two patterns: each value meets its own.
  common::v1::FieldSpec t = Spec("ma", common::v1::FIELD_TYPE_TEXT);
  t.set_pattern("[a-z]{3}");
  EXPECT_FALSE(CheckValue(t, "abc").has_value());
  EXPECT_TRUE(CheckValue(t, "12B").has_value());
  EXPECT_FALSE(CheckValue(s, "12B").has_value());
  // A pattern that does not compile rejects every value (never crashes).
  common::v1::FieldSpec broken = Spec("x", common::v1::FIELD_TYPE_TEXT);
  broken.set_pattern("([0-9");
  EXPECT_TRUE(CheckValue(broken, "1").has_value());
}

TEST(FieldValidationTest, ReportsEveryViolationAtOnce) {
  google::protobuf::RepeatedPtrField<common::v1::FieldSpec> specs;
  *specs.Add() = Spec("child_name", common::v1::FIELD_TYPE_TEXT);
  *specs.Add() = Spec("child_dob", common::v1::FIELD_TYPE_DATE);
  *specs.Add() = Spec("note", common::v1::FIELD_TYPE_TEXT, false);
  google::protobuf::RepeatedPtrField<common::v1::FieldValue> values;
  auto* v = values.Add();
  v->set_key("child_dob");
  v->set_value("2026-13-01");
  v = values.Add();
  v->set_key("unknown");
  v->set_value("x");
  std::vector<common::FieldViolation> out;
  ValidateValues(specs, values, "dossier.fields", &out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].field, "dossier.fields[child_dob]");
  EXPECT_EQ(out[1].field, "dossier.fields[unknown]");
  EXPECT_EQ(out[2].field, "dossier.fields[child_name]");
  EXPECT_EQ(out[2].description, "is required");
}

}  // namespace
}  // namespace lienthong::fields
