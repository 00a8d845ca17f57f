#include "libs/logging/logging.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/logging/coalescing_sink.h"

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

// The sink's writes, each as one string.
struct Writes {
  std::vector<std::string> calls;
  CoalescingSink::WriteFn Fn() {
    return [this](const char* data, size_t size) {
      calls.emplace_back(data, size);
      return static_cast<ssize_t>(size);
    };
  }
};

// The sink's clock in these tests: Line moves it to the line's time.
CoalescingSink::Now g_now;
CoalescingSink::Now FakeNow() { return g_now; }

// A line arriving at `at` on the sink's clock (its wall-clock stamp the
// same, unless `stamped` says otherwise).
spdlog::details::log_msg Line(std::chrono::milliseconds at,
                              spdlog::level::level_enum level,
                              const std::string& text,
                              std::chrono::milliseconds stamped = {}) {
  g_now = CoalescingSink::Now(at);
  return spdlog::details::log_msg(
      spdlog::log_clock::time_point(stamped.count() != 0 ? stamped : at), {},
      "lienthong", level, text);
}

using std::chrono::milliseconds;
constexpr auto kInfo = spdlog::level::info;

TEST(CoalescingSinkTest, AQuietLineIsWrittenAtOnce) {
  Writes w;
  CoalescingSink sink(w.Fn(), FakeNow);
  sink.log(Line(milliseconds(10'000), kInfo, "event=serving"));
  ASSERT_EQ(w.calls.size(), 1u);
  EXPECT_EQ(w.calls[0], "event=serving\n");
  sink.log(Line(milliseconds(10'100), kInfo, "event=rpc"));
  ASSERT_EQ(w.calls.size(), 2u) << "a line kCoalesce after the last write";
  EXPECT_EQ(w.calls[1], "event=rpc\n");
}

TEST(CoalescingSinkTest, ABurstIsWrittenInOneCall) {
  Writes w;
  CoalescingSink sink(w.Fn(), FakeNow);
  sink.log(Line(milliseconds(10'000), kInfo, "a"));
  sink.log(Line(milliseconds(10'001), kInfo, "b"));
  sink.log(Line(milliseconds(10'050), kInfo, "c"));
  ASSERT_EQ(w.calls.size(), 1u) << "b and c wait";
  sink.log(Line(milliseconds(10'100), kInfo, "d"));
  ASSERT_EQ(w.calls.size(), 2u);
  EXPECT_EQ(w.calls[1], "b\nc\nd\n") << "in order, in one write";
}

TEST(CoalescingSinkTest, TheWallClockStampsDoNotDecide) {
  Writes w;
  CoalescingSink sink(w.Fn(), FakeNow);
  sink.log(Line(milliseconds(10'000), kInfo, "a"));
  // Stamped a second earlier (the wall clock stepped back, or a thread
  // stamped it before the last one took the lock), but arriving 1 ms
  // later: it waits like any other.
  sink.log(Line(milliseconds(10'001), kInfo, "b", milliseconds(9'000)));
  EXPECT_EQ(w.calls.size(), 1u);
  // Stamped an hour later but arriving 2 ms later: it waits too.
  sink.log(Line(milliseconds(10'002), kInfo, "c", milliseconds(3'610'000)));
  EXPECT_EQ(w.calls.size(), 1u);
  sink.log(Line(milliseconds(10'100), kInfo, "d"));
  ASSERT_EQ(w.calls.size(), 2u);
  EXPECT_EQ(w.calls[1], "b\nc\nd\n");
}

TEST(CoalescingSinkTest, FlushWritesWhatWaits) {
  Writes w;
  CoalescingSink sink(w.Fn(), FakeNow);
  sink.log(Line(milliseconds(10'000), kInfo, "a"));
  sink.log(Line(milliseconds(10'001), kInfo, "b"));
  sink.flush();
  ASSERT_EQ(w.calls.size(), 2u);
  EXPECT_EQ(w.calls[1], "b\n");
  sink.flush();
  EXPECT_EQ(w.calls.size(), 2u) << "nothing waits: no empty write";
}

TEST(CoalescingSinkTest, AWarningGoesOutAtOnceAfterWhatWaits) {
  Writes w;
  CoalescingSink sink(w.Fn(), FakeNow);
  sink.log(Line(milliseconds(10'000), kInfo, "a"));
  sink.log(Line(milliseconds(10'001), kInfo, "b"));
  sink.log(Line(milliseconds(10'002), spdlog::level::warn, "w"));
  ASSERT_EQ(w.calls.size(), 2u);
  EXPECT_EQ(w.calls[1], "b\nw\n");
  sink.log(Line(milliseconds(10'003), spdlog::level::err, "e"));
  ASSERT_EQ(w.calls.size(), 3u);
  EXPECT_EQ(w.calls[2], "e\n");
}

TEST(CoalescingSinkTest, AFullBufferIsWrittenWithoutWaiting) {
  Writes w;
  CoalescingSink sink(w.Fn(), FakeNow);
  sink.log(Line(milliseconds(10'000), kInfo, "first"));
  const std::string line(1000, 'x');
  size_t lines = 0;
  while (w.calls.size() == 1) {
    sink.log(Line(milliseconds(10'001), kInfo, line));
    ++lines;
    ASSERT_LE(lines, CoalescingSink::kMaxBuffered / 1000 + 1);
  }
  EXPECT_EQ(w.calls[1].size(), lines * 1001);
  EXPECT_GE(w.calls[1].size(), CoalescingSink::kMaxBuffered);
}

TEST(CoalescingSinkTest, PartialAndInterruptedWritesLoseNothing) {
  std::string out;
  int calls = 0;
  CoalescingSink sink(
      [&](const char* data, size_t size) -> ssize_t {
        ++calls;
        if (calls % 3 == 1) {
          errno = EINTR;
          return -1;
        }
        const size_t n = std::min<size_t>(size, 4);  // a pipe taking 4 bytes
        out.append(data, n);
        return static_cast<ssize_t>(n);
      },
      FakeNow);
  sink.log(Line(milliseconds(10'000), kInfo, "event=one"));
  sink.log(Line(milliseconds(10'001), kInfo, "event=two"));
  sink.flush();
  EXPECT_EQ(out, "event=one\nevent=two\n");
}

TEST(CoalescingSinkTest, AClosedStderrDropsTheLinesWithoutLooping) {
  int calls = 0;
  CoalescingSink sink(
      [&](const char*, size_t) -> ssize_t {
        ++calls;
        errno = EPIPE;
        return -1;
      },
      FakeNow);
  sink.log(Line(milliseconds(10'000), kInfo, "a"));
  EXPECT_EQ(calls, 1);
  sink.log(Line(milliseconds(10'200), kInfo, "b"));
  EXPECT_EQ(calls, 2) << "a was dropped, not written again with b";
}

TEST(CoalescingSinkTest, ALineCutByAFailedWriteIsNotGluedToTheNext) {
  std::string out;
  int calls = 0;
  CoalescingSink sink(
      [&](const char* data, size_t size) -> ssize_t {
        ++calls;
        if (calls == 1) {  // the pipe takes 5 bytes...
          out.append(data, 5);
          return 5;
        }
        if (calls == 2) {  // ...and is then full
          errno = EAGAIN;
          return -1;
        }
        out.append(data, size);
        return static_cast<ssize_t>(size);
      },
      FakeNow);
  sink.log(Line(milliseconds(10'000), kInfo, "event=one"));
  EXPECT_EQ(out, "event");
  sink.log(Line(milliseconds(10'200), kInfo, "event=two"));
  EXPECT_EQ(out, "event\nevent=two\n");
}

TEST(CoalescingSinkTest, ALineCutStaysCutThroughAWriteThatFailsWhole) {
  std::string out;
  int calls = 0;
  CoalescingSink sink(
      [&](const char* data, size_t size) -> ssize_t {
        ++calls;
        if (calls == 1) {
          out.append(data, 5);
          return 5;
        }
        if (calls == 2 || calls == 3) {  // full, and still full next time
          errno = EAGAIN;
          return -1;
        }
        out.append(data, size);
        return static_cast<ssize_t>(size);
      },
      FakeNow);
  sink.log(Line(milliseconds(10'000), kInfo, "event=one"));
  sink.log(Line(milliseconds(10'200), kInfo, "event=two"));  // lost
  sink.log(Line(milliseconds(10'400), kInfo, "event=three"));
  EXPECT_EQ(out, "event\nevent=three\n");
}

TEST(LoggingDeathTest, TheLastLinesAreWrittenAtExit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // Lines right after one another wait in the sink; the process's exit
  // writes them (the sink itself is never destroyed).
  EXPECT_EXIT(
      {
        Init("t", "logfmt");
        Event("first").Info();
        for (int i = 0; i < 100; ++i) Event("middle").With("i", i).Info();
        Event("last").Info();
        std::exit(3);
      },
      ::testing::ExitedWithCode(3), "event=first(.|\n)*i=99(.|\n)*event=last");
}

TEST(CoalescingSinkTest, TheLastLinesAreWrittenWhenTheSinkGoes) {
  Writes w;
  {
    CoalescingSink sink(w.Fn(), FakeNow);
    sink.log(Line(milliseconds(10'000), kInfo, "a"));
    sink.log(Line(milliseconds(10'001), kInfo, "server_stopped"));
  }
  ASSERT_EQ(w.calls.size(), 2u);
  EXPECT_EQ(w.calls[1], "server_stopped\n");
}

}  // namespace
}  // namespace lienthong::logging
