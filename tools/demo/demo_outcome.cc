#include "tools/demo/demo_outcome.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/demo/demo_support.h"

namespace lienthong::demo {

std::vector<std::string> Problems(const std::vector<DossierOutcome>& dossiers,
                                  const std::vector<std::string>& other) {
  std::vector<std::string> out = other;
  for (const DossierOutcome& d : dossiers) {
    const std::string who = absl::StrCat("dossier ", d.code);
    if (d.state != intake::v1::DOSSIER_STATE_RETURNED) {
      out.push_back(absl::StrCat(who, " not returned, final state ",
                                 DossierStateLabel(d.state),
                                 " (chưa trả kết quả)"));
    }
    for (const std::string& e : d.errors) {
      out.push_back(absl::StrCat(who, ": ", e, " (lỗi gọi dịch vụ)"));
    }
    const DossierNotifications& n = d.notifications;
    if (!n.unsettled.empty()) {
      out.push_back(absl::StrCat(who, ": notify not done: ", n.unsettled,
                                 " (thông báo chưa gửi xong)"));
    }
    if (n.landed == 0) {
      out.push_back(absl::StrCat(who, ": no message landed in the sinks",
                                 " (không có tin nào tới nơi nhận)"));
    }
    if (n.invalid_signatures > 0) {
      out.push_back(absl::StrCat(who, ": ", n.invalid_signatures,
                                 " webhook signature(s) invalid",
                                 " (chữ ký webhook không hợp lệ)"));
    }
  }
  return out;
}

std::string FailureLine(const std::vector<std::string>& problems) {
  return absl::StrCat("demo: FAILED (thất bại): ",
                      absl::StrJoin(problems, "; "));
}

}  // namespace lienthong::demo
