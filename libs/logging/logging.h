#pragma once

// Structured logs: one line per event, logfmt (default) or JSON.
//
//   logging::Event("dossier_received").With("dossier", code)
//       .With("procedure", p).Info();
//   -> ts=2026-11-24T19:30:00.123Z level=info event=dossier_received ...
//
// Citizen identifiers (ID number, name, birth date, phone, address) never go
// into a log line; the dossier code is the handle. CitizenId formats as
// <redacted>.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/common/strong_id.h"
#include "spdlog/sinks/base_sink.h"

namespace lienthong::logging {

enum class Format { kLogfmt, kJson };
enum class Level { kDebug, kInfo, kWarn, kError };

// Sets up the process-wide logger (stderr, through a CoalescingSink). Call
// once from main; `format` is "logfmt" or "json" (anything else is
// logfmt). `service` is added to every line.
void Init(absl::string_view service, absl::string_view format);

// Writes out the lines still waiting in the sink (a thread does so every
// CoalescingSink::kCoalesce, and the process's exit once more).
void Flush();

// The sink behind Init: lines go to `write` (stderr's write(2)) in as few
// calls as the rate allows. A line is written at once when the last write
// is kCoalesce old or more; a line that comes sooner waits in the buffer
// until one does, until kMaxBuffered bytes wait, until a warning or error
// (written at once with what waits before it), or until the periodic flush
// (Init's thread, every kCoalesce). A quiet service's lines, and every
// warning and error, appear as they happen and no line is more than about
// kCoalesce late; a busy one's (an access line per call) cost ten or so
// write(2)s a second instead of one per line, each taking the sink's lock
// on the caller's thread.
class CoalescingSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr std::chrono::milliseconds kCoalesce{100};
  static constexpr size_t kMaxBuffered = 64 * 1024;
  using WriteFn = std::function<ssize_t(const char*, size_t)>;

  explicit CoalescingSink(WriteFn write) : write_(std::move(write)) {}
  ~CoalescingSink() override;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override { WriteOut(); }

 private:
  void WriteOut();  // with mutex_ held

  WriteFn write_;
  std::string buffer_;
  spdlog::log_clock::time_point last_write_{};
};

// Renders a line without emitting it (for tests).
std::string Render(Format format, Level level, absl::Time ts,
                   const std::vector<std::pair<std::string, std::string>>& kv);

class Event {
 public:
  explicit Event(absl::string_view name);
  Event& With(absl::string_view key, absl::string_view value);
  Event& With(absl::string_view key, const char* value) {
    return With(key, absl::string_view(value));
  }
  Event& With(absl::string_view key, const std::string& value) {
    return With(key, absl::string_view(value));
  }
  Event& With(absl::string_view key, int64_t value);
  Event& With(absl::string_view key, int value) {
    return With(key, static_cast<int64_t>(value));
  }
  Event& With(absl::string_view key, double value);
  Event& With(absl::string_view key, absl::Duration value);
  Event& With(absl::string_view key, const common::CitizenId&) {
    return With(key, absl::string_view("<redacted>"));
  }
  // The key/value pairs collected so far (tests).
  const std::vector<std::pair<std::string, std::string>>& fields() const {
    return kv_;
  }
  void Debug();
  void Info();
  void Warn();
  void Error();

 private:
  void Emit(Level level);
  std::vector<std::pair<std::string, std::string>> kv_;
};

}  // namespace lienthong::logging
