#include "tools/agency-sim/sim_policy.h"

#include <string>

#include "gtest/gtest.h"

namespace lienthong::agency_sim {
namespace {

TEST(IsHomeBirthTest, AnyCaseAnyAccentingOfTaiNha) {
  struct Case {
    std::string place;
    bool want;
  };
  const Case cases[] = {
      {"Tại nhà, phường Tây Mỗ", true},  // the demo's second dossier
      {"tại nhà", true},
      {"TẠI NHÀ, PHƯỜNG TÂY MỖ", true},
      {"Tại Nhà", true},
      {"Sinh tại nhà riêng", true},
      // The same letters as base + combining marks (NFD), as some
      // keyboards and copied text give them.
      {"Ta\xcc\xa3i nha\xcc\x80", true},
      {"Tai nha, to dan pho 3", true},  // typed without tone marks
      {"Tại  nhà", true},               // two spaces
      {"Tại\xc2\xa0nhà", true},         // a no-break space
      {"Bệnh viện Phụ sản Hà Nội", false},
      {"Nhà hộ sinh Tây Mỗ", false},
      {"Tại nhà hộ sinh Tây Mỗ", false},  // a maternity home is a facility
      {"Khu tái định cư Nhà Bè", false},
      {"", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsHomeBirth(c.place), c.want) << c.place;
  }
}

TEST(FoldVietnameseTest, LowerCaseWithoutDiacritics) {
  EXPECT_EQ(FoldVietnamese("Đường Trần Hưng Đạo"), "duong tran hung dao");
  EXPECT_EQ(FoldVietnamese("ỨNG HÒA  Mỹ Đức"), "ung hoa my duc");
  // Bytes that are not UTF-8 pass through instead of being lost.
  EXPECT_EQ(FoldVietnamese("a\xff"
                           "B"),
            "a\xff"
            "b");
}

TEST(IsTransientTest, OnlyErrorsARetryCanFix) {
  EXPECT_TRUE(IsTransient(grpc::StatusCode::UNAVAILABLE));
  EXPECT_TRUE(IsTransient(grpc::StatusCode::DEADLINE_EXCEEDED));
  EXPECT_TRUE(IsTransient(grpc::StatusCode::ABORTED));
  EXPECT_FALSE(IsTransient(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_FALSE(IsTransient(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_FALSE(IsTransient(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_FALSE(IsTransient(grpc::StatusCode::CANCELLED));
}

TEST(BackoffTest, DoublesUpToTheCap) {
  const absl::Duration initial = absl::Milliseconds(500);
  const absl::Duration max = absl::Seconds(5);
  EXPECT_EQ(Backoff(0, initial, max), absl::Milliseconds(500));
  EXPECT_EQ(Backoff(1, initial, max), absl::Seconds(1));
  EXPECT_EQ(Backoff(2, initial, max), absl::Seconds(2));
  EXPECT_EQ(Backoff(3, initial, max), absl::Seconds(4));
  EXPECT_EQ(Backoff(4, initial, max), absl::Seconds(5));
  EXPECT_EQ(Backoff(1000, initial, max), absl::Seconds(5));
}

}  // namespace
}  // namespace lienthong::agency_sim
