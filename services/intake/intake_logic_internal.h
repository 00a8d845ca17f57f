#pragma once

// Checks intake_logic.cc and procedure_validation.cc share (not part of
// intake_logic.h's interface).

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "lienthong/common/v1/common.pb.h"

namespace lienthong::intake::internal {

// Required, valid UTF-8 text of at most `max` characters.
void RequireText(absl::string_view path, absl::string_view value,
                 std::vector<common::FieldViolation>* out, size_t max = 500);
// A working duration as time (a working day is calendar::kWorkingDay).
absl::Duration WorkingTimeOf(const common::v1::WorkingDuration& d);

}  // namespace lienthong::intake::internal
