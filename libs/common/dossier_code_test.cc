#include "libs/common/dossier_code.h"

#include <string>

#include "gtest/gtest.h"

namespace lienthong::common {
namespace {

TEST(DossierCodeTest, AcceptsAgencyDateSequence) {
  for (const char* good :
       {"000.00.14.H26-260312-0042", "001.08.19.H26-261207-0001",
        "000.00.00.H26-250307-12345", "H26-250307-123456789"}) {
    EXPECT_TRUE(IsDossierCode(good)) << good;
  }
}

TEST(DossierCodeTest, RejectsAnythingElse) {
  for (const char* bad :
       {"", "x", "-261207-0001", "001.08.19.H26-261207-001",
        "001.08.19.H26-261207-0000000001", "001.08.19.H26-2612070-0001",
        "001.08.19.H26-26120a-0001", "001.08.19.H26-261207-00a1",
        "001 08.19.H26-261207-0001", "001.08.19.H26_261207-0001",
        "dossiers/000.00.14.H26-260312-0042", "000.00.14.H26-260312-0042/x",
        "../000.00.14.H26-260312-0042"}) {
    EXPECT_FALSE(IsDossierCode(bad)) << bad;
  }
  EXPECT_FALSE(IsDossierCode(std::string(60, '1') + "-261207-0001"));
}

}  // namespace
}  // namespace lienthong::common
