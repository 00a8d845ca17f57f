#include "libs/logging/logging.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/common/utf8.h"
#include "libs/logging/coalescing_sink.h"
#include "spdlog/spdlog.h"

namespace lienthong::logging {
namespace {

std::atomic<Format> g_format{Format::kLogfmt};
std::string* g_service = new std::string();

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

bool NeedsQuotes(absl::string_view v) {
  if (v.empty()) return true;
  for (const char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

}  // namespace

namespace {

// The process's sink. Never destroyed, so the flusher thread and the exit
// handler can reach it while static objects (spdlog's registry among them)
// go away.
std::shared_ptr<CoalescingSink>* g_sink = nullptr;

}  // namespace

void Init(absl::string_view service, absl::string_view format) {
  g_format = format == "json" ? Format::kJson : Format::kLogfmt;
  *g_service = std::string(service);
  static std::once_flag once;
  std::call_once(once, [] {
    g_sink = new std::shared_ptr<CoalescingSink>(
        std::make_shared<CoalescingSink>([](const char* data, size_t size) {
          return ::write(2, data, size);
        }));
    // A line waits at most about kCoalesce: the last lines of a burst are
    // written by this thread.
    std::thread([] {
      // Shutdown signals are for the thread that waits for them
      // (grpc_util::WaitForShutdownSignal), whatever Init's caller blocked.
      sigset_t all;
      sigfillset(&all);
      pthread_sigmask(SIG_BLOCK, &all, nullptr);
      for (;;) {
        absl::SleepFor(absl::FromChrono(CoalescingSink::kCoalesce));
        (*g_sink)->flush();
      }
    }).detach();
    std::atexit([] { (*g_sink)->flush(); });
  });
  auto logger = std::make_shared<spdlog::logger>("lienthong", *g_sink);
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);
}

void Flush() {
  if (g_sink != nullptr) (*g_sink)->flush();
}

std::string Render(Format format, Level level, absl::Time ts,
                   const std::vector<std::pair<std::string, std::string>>& kv) {
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", ts, absl::UTCTimeZone());
  std::string out;
  if (format == Format::kJson) {
    absl::StrAppend(&out, "{\"ts\":\"", time, "\",\"level\":\"",
                    LevelName(level), "\"");
    for (const auto& [k, v] : kv) {
      absl::StrAppend(&out, ",\"", common::JsonEscape(k), "\":\"",
                      common::JsonEscape(v), "\"");
    }
    out += "}";
  } else {
    absl::StrAppend(&out, "ts=", time, " level=", LevelName(level));
    for (const auto& [k, v] : kv) {
      absl::StrAppend(&out, " ", k, "=");
      if (NeedsQuotes(v)) {
        absl::StrAppend(&out, "\"", common::JsonEscape(v), "\"");
      } else {
        out += v;
      }
    }
  }
  return out;
}

Event::Event(absl::string_view name) {
  if (!g_service->empty()) kv_.emplace_back("service", *g_service);
  kv_.emplace_back("event", std::string(name));
}

Event& Event::With(absl::string_view key, absl::string_view value) {
  kv_.emplace_back(std::string(key), std::string(value));
  return *this;
}
Event& Event::With(absl::string_view key, int64_t value) {
  return With(key, absl::string_view(absl::StrCat(value)));
}
Event& Event::With(absl::string_view key, double value) {
  return With(key, absl::string_view(absl::StrFormat("%.6g", value)));
}
Event& Event::With(absl::string_view key, absl::Duration value) {
  return With(key, absl::string_view(absl::FormatDuration(value)));
}

void Event::Debug() { Emit(Level::kDebug); }
void Event::Info() { Emit(Level::kInfo); }
void Event::Warn() { Emit(Level::kWarn); }
void Event::Error() { Emit(Level::kError); }

void Event::Emit(Level level) {
  const std::string line = Render(g_format, level, absl::Now(), kv_);
  if (auto logger = spdlog::default_logger(); logger != nullptr) {
    switch (level) {
      case Level::kDebug:
        logger->debug(line);
        break;
      case Level::kInfo:
        logger->info(line);
        break;
      case Level::kWarn:
        logger->warn(line);
        break;
      case Level::kError:
        logger->error(line);
        break;
    }
  }
}

}  // namespace lienthong::logging
