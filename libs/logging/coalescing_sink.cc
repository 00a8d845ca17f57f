#include "libs/logging/coalescing_sink.h"

#include <cerrno>

namespace lienthong::logging {

void CoalescingSink::sink_it_(const spdlog::details::log_msg& msg) {
  buffer_.append(msg.payload.data(), msg.payload.size());
  buffer_ += '\n';
  const Now now = now_();
  if (msg.level >= spdlog::level::warn || buffer_.size() >= kMaxBuffered ||
      now - last_write_ >= kCoalesce) {
    last_write_ = now;
    WriteOut();
  }
}

void CoalescingSink::WriteOut() {
  if (buffer_.empty()) return;
  // A line cut off by a failed write ends here, not glued to the next one.
  if (cut_line_) buffer_.insert(0, 1, '\n');
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = write_(buffer_.data() + done, buffer_.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // stderr closed or full: the lines are dropped, not retried
    }
  }
  // Nothing written: whatever was cut before still is.
  if (done > 0) cut_line_ = buffer_[done - 1] != '\n';
  buffer_.clear();
}

CoalescingSink::~CoalescingSink() {
  std::lock_guard<std::mutex> lock(mutex_);
  WriteOut();
}

}  // namespace lienthong::logging
