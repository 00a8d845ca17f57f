#pragma once

// The shape of a dossier code, `<agency code>-<yymmdd>-<NNNN>` (e.g.
// `000.00.14.H26-260312-0042`): intake issues them, every service that is
// handed one checks it. Pure.

#include "absl/strings/string_view.h"

namespace lienthong::common {

// Whether `code` has that shape (an agency code of letters, digits and
// dots; six digits; four to nine digits), at most 64 bytes.
bool IsDossierCode(absl::string_view code);

}  // namespace lienthong::common
