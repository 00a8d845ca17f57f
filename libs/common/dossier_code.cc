#include "libs/common/dossier_code.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace lienthong::common {

bool IsDossierCode(absl::string_view code) {
  if (code.size() > 64) return false;
  const size_t last = code.rfind('-');
  if (last == absl::string_view::npos || last < 8) return false;
  const absl::string_view seq = code.substr(last + 1);
  const absl::string_view day = code.substr(last - 6, 6);
  const absl::string_view agency = code.substr(0, last - 7);
  const auto digits = [](absl::string_view s) {
    return std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
  };
  return code[last - 7] == '-' && seq.size() >= 4 && seq.size() <= 9 &&
         digits(seq) && digits(day) && !agency.empty() &&
         std::all_of(agency.begin(), agency.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '.'; });
}

}  // namespace lienthong::common
