#include "services/intake/dossier_state.h"

#include <map>
#include <utility>

#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"

namespace lienthong::intake {
namespace {

using E = DossierEvent;
using ::lienthong::testing::StatusHasReason;

TEST(DossierStateTest, EveryStateEventPairIsLegalOrNamedIllegal) {
  // The whole table: anything not listed is illegal.
  const std::map<std::pair<DossierState, E>, DossierState> legal = {
      {{v1::DOSSIER_STATE_RECEIVED, E::kStartProcessing},
       v1::DOSSIER_STATE_IN_PROCESSING},
      {{v1::DOSSIER_STATE_RECEIVED, E::kRequestSupplement},
       v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED},
      {{v1::DOSSIER_STATE_RECEIVED, E::kReadyForReturn},
       v1::DOSSIER_STATE_READY_FOR_RETURN},
      {{v1::DOSSIER_STATE_RECEIVED, E::kWithdraw}, v1::DOSSIER_STATE_WITHDRAWN},
      {{v1::DOSSIER_STATE_RECEIVED, E::kRefuse}, v1::DOSSIER_STATE_REFUSED},
      {{v1::DOSSIER_STATE_IN_PROCESSING, E::kStartProcessing},
       v1::DOSSIER_STATE_IN_PROCESSING},
      {{v1::DOSSIER_STATE_IN_PROCESSING, E::kRequestSupplement},
       v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED},
      {{v1::DOSSIER_STATE_IN_PROCESSING, E::kReadyForReturn},
       v1::DOSSIER_STATE_READY_FOR_RETURN},
      {{v1::DOSSIER_STATE_IN_PROCESSING, E::kWithdraw},
       v1::DOSSIER_STATE_WITHDRAWN},
      {{v1::DOSSIER_STATE_IN_PROCESSING, E::kRefuse},
       v1::DOSSIER_STATE_REFUSED},
      {{v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED, E::kSupplement},
       v1::DOSSIER_STATE_IN_PROCESSING},
      {{v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED, E::kRequestSupplement},
       v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED},
      {{v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED, E::kWithdraw},
       v1::DOSSIER_STATE_WITHDRAWN},
      {{v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED, E::kRefuse},
       v1::DOSSIER_STATE_REFUSED},
      {{v1::DOSSIER_STATE_READY_FOR_RETURN, E::kReturn},
       v1::DOSSIER_STATE_RETURNED},
  };
  int checked = 0;
  for (DossierState s : kAllDossierStates) {
    for (E e : kAllDossierEvents) {
      ++checked;
      auto it = legal.find({s, e});
      absl::StatusOr<DossierState> got = NextState(s, e);
      if (it != legal.end()) {
        ASSERT_TRUE(got.ok()) << StateName(s) << " + " << EventName(e);
        EXPECT_EQ(*got, it->second) << StateName(s) << " + " << EventName(e);
      } else {
        EXPECT_THAT(got, StatusHasReason(absl::StatusCode::kFailedPrecondition,
                                         "ILLEGAL_TRANSITION"))
            << StateName(s) << " + " << EventName(e);
        // The message names the current state.
        EXPECT_NE(got.status().message().find(StateName(s)), std::string::npos);
      }
    }
  }
  EXPECT_EQ(checked, 49);
}

TEST(DossierStateTest, ReturnedDossierCannotBeWithdrawn) {
  EXPECT_FALSE(NextState(v1::DOSSIER_STATE_RETURNED, E::kWithdraw).ok());
}

// The national portal's TrangThaiHoSo codes: 1 Mới đăng ký, 2 Được tiếp
// nhận, 3 Không được tiếp nhận, 4 Đang xử lý, 5 Yêu cầu bổ sung giấy tờ,
// 6 Yêu cầu thực hiện nghĩa vụ tài chính, 7 Công dân yêu cầu rút hồ sơ,
// 8 Dừng xử lý, 9 Đã xử lý xong, 10 Đã trả kết quả.
TEST(DossierStateTest, NationalCodesComeFromOneTable) {
  EXPECT_EQ(NationalStatusCode(v1::DOSSIER_STATE_RECEIVED), 2);
  EXPECT_EQ(NationalStatusCode(v1::DOSSIER_STATE_IN_PROCESSING), 4);
  EXPECT_EQ(NationalStatusCode(v1::DOSSIER_STATE_SUPPLEMENT_REQUESTED), 5);
  EXPECT_EQ(NationalStatusCode(v1::DOSSIER_STATE_WITHDRAWN), 7);
  // A refusal by the deciding agency stops processing (8), not a request
  // to pay fees (6).
  EXPECT_EQ(NationalStatusCode(v1::DOSSIER_STATE_REFUSED), 8);
  EXPECT_EQ(NationalStatusCode(v1::DOSSIER_STATE_READY_FOR_RETURN), 9);
  EXPECT_EQ(NationalStatusCode(v1::DOSSIER_STATE_RETURNED), 10);
  EXPECT_EQ(NationalStatusCode(v1::DOSSIER_STATE_UNSPECIFIED), 0);
  for (DossierState s : kAllDossierStates) {
    EXPECT_GE(NationalStatusCode(s), 1);
    EXPECT_LE(NationalStatusCode(s), 10);
  }
  EXPECT_TRUE(IsTerminal(v1::DOSSIER_STATE_WITHDRAWN));
  EXPECT_FALSE(IsTerminal(v1::DOSSIER_STATE_READY_FOR_RETURN));
}

}  // namespace
}  // namespace lienthong::intake
