#pragma once

// The agency simulator's rules that need no server: when a dossier is a
// home birth.

#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::agency_sim {

// `s` lower-cased and without diacritics, "đ" as "d", runs of spaces as
// one: "Tại nhà", "TẠI NHÀ", the same typed with combining marks, and
// "Tai nha" all fold to "tai nha". Other text passes through unchanged.
std::string FoldVietnamese(absl::string_view s);

// Whether a place of birth says the child was born at home ("Tại nhà, ...",
// however it is cased or accented). A maternity home ("nhà hộ sinh") is a
// health facility, not a home.
bool IsHomeBirth(absl::string_view place_of_birth);

}  // namespace lienthong::agency_sim
