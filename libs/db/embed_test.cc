#include <cstdlib>
#include <fstream>
#include <sstream>

#include "embed_test_migrations.h"
#include "gtest/gtest.h"

namespace lienthong::db {
namespace {

std::string ReadSource(const std::string& rel) {
  std::ifstream in(std::string(std::getenv("LIENTHONG_SOURCE_DIR")) + "/" + rel,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(EmbedMigrationsTest, FilesAreEmbeddedByteForByteInOrder) {
  const std::vector<Migration> m = embed_test::Migrations();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].version, 1);
  EXPECT_EQ(m[0].name, "create_a");
  EXPECT_EQ(m[1].version, 2);
  EXPECT_EQ(m[0].sql,
            ReadSource("libs/db/testdata/migrations/0001_create_a.sql"));
  EXPECT_EQ(m[1].sql,
            ReadSource("libs/db/testdata/migrations/0002_create_b.sql"));
  // CRLF, a backslash and the old raw-string delimiter survive as bytes.
  EXPECT_EQ(m[2].version, 3);
  EXPECT_EQ(m[2].name, "crlf_and_quotes");
  const std::string crlf =
      ReadSource("libs/db/testdata/migrations/0003_crlf_and_quotes.sql");
  ASSERT_NE(crlf.find("\r\n"), std::string::npos);
  ASSERT_NE(crlf.find(")lt_sql\""), std::string::npos);
  EXPECT_EQ(m[2].sql, crlf);
  EXPECT_EQ(Sha256Hex(m[2].sql), Sha256Hex(crlf));
  EXPECT_EQ(Sha256Hex(m[1].sql).size(), 64u);
}

}  // namespace
}  // namespace lienthong::db
