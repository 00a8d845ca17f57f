#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "spdlog/sinks/base_sink.h"

namespace lienthong::logging {

// The sink behind Init: lines go to `write` (stderr's write(2)) in as few
// calls as the rate allows. A line is written at once when the last write
// is kCoalesce old or more; a line that comes sooner waits in the buffer
// until one does, until kMaxBuffered bytes wait, until a warning or error
// (written at once with what waits before it), or until the periodic flush
// (Init's thread, every kCoalesce). A quiet service's lines, and every
// warning and error, appear as they happen and no line is more than about
// kCoalesce late; a busy one's (an access line per call) cost ten or so
// write(2)s a second instead of one per line, each taking the sink's lock
// on the caller's thread. Time is `now`'s (the monotonic clock), taken as
// each line arrives: lines stamped by the wall clock come out of order
// from threads racing for the lock, and the wall clock can step back.
class CoalescingSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr std::chrono::milliseconds kCoalesce{100};
  static constexpr size_t kMaxBuffered = 64 * 1024;
  using WriteFn = std::function<ssize_t(const char*, size_t)>;
  using Now = std::chrono::steady_clock::time_point;
  using NowFn = std::function<Now()>;

  explicit CoalescingSink(WriteFn write,
                          NowFn now = std::chrono::steady_clock::now)
      : write_(std::move(write)), now_(std::move(now)) {}
  ~CoalescingSink() override;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override { WriteOut(); }

 private:
  void WriteOut();  // with mutex_ held

  WriteFn write_;
  NowFn now_;
  std::string buffer_;
  Now last_write_{};
  bool cut_line_ = false;  // the last write stopped inside a line
};

}  // namespace lienthong::logging
