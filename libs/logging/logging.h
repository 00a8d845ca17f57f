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

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/common/strong_id.h"

namespace lienthong::logging {

enum class Format { kLogfmt, kJson };
enum class Level { kDebug, kInfo, kWarn, kError };

// Sets up the process-wide logger (stderr, through a CoalescingSink,
// coalescing_sink.h). Call once from main; `format` is "logfmt" or "json"
// (anything else is logfmt). `service` is added to every line. The first
// call starts a thread that writes waiting lines out every
// CoalescingSink::kCoalesce (it blocks every signal) and registers an exit
// handler that writes the last ones.
void Init(absl::string_view service, absl::string_view format);

// Writes out the lines still waiting in the sink (a thread does so every
// CoalescingSink::kCoalesce, and the process's exit once more).
void Flush();

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
