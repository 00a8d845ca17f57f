#include "libs/common/uuid.h"

#include <set>

#include "gtest/gtest.h"

namespace lienthong::common {
namespace {

TEST(UuidTest, NewUuidsAreWellFormedVersion4AndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = NewUuid();
    ASSERT_TRUE(IsUuid(u)) << u;
    EXPECT_EQ(u[14], '4') << u;
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(UuidTest, Version8UuidIsTheHashWithVersionAndVariantBits) {
  // SHA-256("abc") = ba7816bf 8f01 cfea 4141 40de5dae2223 b003...
  EXPECT_EQ(Version8Uuid("abc"), "ba7816bf-8f01-8fea-8141-40de5dae2223");
}

TEST(UuidTest, RejectsMalformed) {
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("not-a-uuid"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-12d3-a456-42661417400g"));
  EXPECT_TRUE(IsUuid("123e4567-e89b-12d3-a456-426614174000"));
}

}  // namespace
}  // namespace lienthong::common
