#pragma once
// For tests of where a webhook's connection goes: a listener that records
// whoever connects to it (a stand-in proxy, or an address nothing may
// reach) and an environment variable set for one scope.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace lienthong::notify::testing {

// A TCP socket listening on 127.0.0.1 that never answers. The kernel
// completes a client's handshake into the accept queue by itself, so
// Connections() counts every client that got through, however early it
// gave up, without a thread or a wait: it drains the queue, keeping the
// first line each client sent ("POST http://… HTTP/1.1" for a proxy).
class ConnectionRecorder {
 public:
  ConnectionRecorder() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(fd_, 64) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~ConnectionRecorder() {
    for (int c : accepted_) close(c);
    if (fd_ >= 0) close(fd_);
  }
  ConnectionRecorder(const ConnectionRecorder&) = delete;
  ConnectionRecorder& operator=(const ConnectionRecorder&) = delete;

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  std::string Url() const { return absl::StrCat("http://127.0.0.1:", port_); }

  // Everyone who connected so far.
  int Connections() {
    for (int c; (c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
      accepted_.push_back(c);
      char buf[512];
      const ssize_t n = recv(c, buf, sizeof(buf), MSG_DONTWAIT);
      std::string line(buf, n > 0 ? static_cast<size_t>(n) : 0);
      first_lines_.push_back(line.substr(0, line.find("\r\n")));
    }
    return static_cast<int>(accepted_.size());
  }
  const std::vector<std::string>& first_lines() const { return first_lines_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<int> accepted_;
  std::vector<std::string> first_lines_;
};

// Sets (or, with nullopt, unsets) one environment variable until the end
// of the scope, then puts back what was there.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::optional<std::string>& value)
      : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str()); old != nullptr) {
      old_ = old;
    }
    Set(value);
  }
  ~ScopedEnv() { Set(old_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void Set(const std::optional<std::string>& value) {
    if (value.has_value()) {
      setenv(name_.c_str(), value->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace lienthong::notify::testing
