#pragma once

// Validation of typed values against their declarations
// (lienthong.common.v1.FieldSpec): a procedure's form fields and a leg's
// outputs use the same rules. Pure.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "libs/common/errors.h"
#include "lienthong/common/v1/common.pb.h"

namespace lienthong::fields {

// Why `value` is not a valid `spec` value, in English; nullopt when valid.
// Presence is not checked here (see ValidateValues).
absl::optional<std::string> CheckValue(const common::v1::FieldSpec& spec,
                                       absl::string_view value);

// Whether `pattern` (a TEXT field's, RE2 syntax, matched against the whole
// value) compiles.
bool IsValidPattern(const std::string& pattern);

// A 12-digit personal identification number (số định danh cá nhân).
bool IsPersonalId(absl::string_view s);
// A Vietnamese phone number: 10 digits starting with 0, or +84 and 9 digits.
bool IsPhone(absl::string_view s);
// One that takes SMS: a mobile number, 0[35789] and 8 digits, or the same
// in E.164 (+84[35789] and 8 digits).
bool IsMobilePhone(absl::string_view s);
// local@domain: no spaces, controls or characters that need quoting
// (<>()[]\,;:"), a domain of non-empty dot-separated labels (at least two).
bool IsEmail(absl::string_view s);
// YYYY-MM-DD, a real calendar date.
bool IsDate(absl::string_view s);

// Checks `values` against `specs`: every required key present and
// non-empty, every value valid, no unknown or repeated keys. Violations are
// appended with field paths `<prefix>[<key>]`.
void ValidateValues(
    const google::protobuf::RepeatedPtrField<common::v1::FieldSpec>& specs,
    const google::protobuf::RepeatedPtrField<common::v1::FieldValue>& values,
    absl::string_view prefix, std::vector<common::FieldViolation>* violations);

}  // namespace lienthong::fields
