#include "libs/common/redact.h"

#include <sstream>

#include "gtest/gtest.h"
#include "libs/common/strong_id.h"

namespace lienthong::common {
namespace {

TEST(RedactTest, MasksKeepOnlyWhatACitizenMaySee) {
  EXPECT_EQ(MaskPhone("0912345678"), "******5678");
  EXPECT_EQ(MaskTail("001203004567"), "********4567");
  EXPECT_EQ(MaskTail("12"), "**");
  EXPECT_EQ(MaskEmail("nguyen.van.an@example.vn"), "n***@example.vn");
  EXPECT_EQ(MaskEmail("not-an-email"), "<redacted>");
  EXPECT_EQ(MaskName("Nguyễn Văn An"), "N*** V*** A***");
  EXPECT_EQ(MaskName("Đỗ Thị Ánh"), "Đ*** T*** Á***");
}

TEST(RedactTest, CitizenIdNeverFormatsItsValue) {
  const CitizenId id("001203004567");
  std::ostringstream os;
  os << id;
  EXPECT_EQ(os.str(), "<redacted>");
  EXPECT_EQ(id.raw(), "001203004567");
}

TEST(StrongIdTest, DistinctTypesCompareByValue) {
  EXPECT_EQ(AgencyCode("000.00.00.H26"), AgencyCode("000.00.00.H26"));
  EXPECT_LT(AgencyCode("a"), AgencyCode("b"));
  static_assert(!std::is_convertible_v<AgencyCode, DossierCode>);
  static_assert(!std::is_convertible_v<std::string, AgencyCode>);
}

}  // namespace
}  // namespace lienthong::common
