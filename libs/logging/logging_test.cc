#include "libs/logging/logging.h"

#include "gtest/gtest.h"

namespace lienthong::logging {
namespace {

const absl::Time kTs =
    absl::FromUnixMillis(1764012600123);  // 2025-11-24T19:30:00.123Z

TEST(LoggingTest, LogfmtQuotesOnlyWhatNeedsIt) {
  const std::string line = Render(Format::kLogfmt, Level::kInfo, kTs,
                                  {{"event", "dossier_received"},
                                   {"dossier", "000.00.00.H26-251124-0001"},
                                   {"step", "Đăng ký khai sinh"},
                                   {"note", "say \"hi\""}});
  EXPECT_EQ(line,
            "ts=2025-11-24T19:30:00.123Z level=info event=dossier_received "
            "dossier=000.00.00.H26-251124-0001 step=\"Đăng ký khai sinh\" "
            "note=\"say \\\"hi\\\"\"");
}

TEST(LoggingTest, JsonEscapesControlCharacters) {
  const std::string line = Render(Format::kJson, Level::kWarn, kTs,
                                  {{"event", "x"}, {"msg", "a\nb\x01"}});
  EXPECT_EQ(line,
            "{\"ts\":\"2025-11-24T19:30:00.123Z\",\"level\":\"warn\","
            "\"event\":\"x\",\"msg\":\"a\\nb\\u0001\"}");
}

TEST(LoggingTest, CitizenIdIsRedacted) {
  Event e("t");
  e.With("citizen", common::CitizenId("001203004567"));
  ASSERT_FALSE(e.fields().empty());
  EXPECT_EQ(e.fields().back().first, "citizen");
  EXPECT_EQ(e.fields().back().second, "<redacted>");
  e.Info();  // without Init: the default logger, no crash
}

}  // namespace
}  // namespace lienthong::logging
