#pragma once
// The real local sinks (tools/sinks) as subprocesses for notify's
// integration tests: the HTTP sink (SMS gateway / webhook receiver) and the
// aiosmtpd SMTP sink, on 127.0.0.1 ports chosen here, with helpers to
// steer them (fail the next N requests) and read what they recorded.

#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/notify/webhook_address.h"

namespace lienthong::notify::testing {

// The sinks listen on 127.0.0.1, a loopback address notify refuses as a
// webhook's unless allowed: what --webhook_allow_cidrs=127.0.0.0/8 gives
// the local stack.
inline std::vector<Cidr> SinkCidrs() { return *ParseCidrs("127.0.0.0/8"); }

inline std::string SourceDir() {
  const char* d = std::getenv("LIENTHONG_SOURCE_DIR");
  return d != nullptr ? d : ".";
}

// A port free right now on 127.0.0.1.
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

inline size_t CollectBody(char* p, size_t s, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, s * n);
  return s * n;
}

// A small HTTP call; returns the status code (0 when unreachable).
inline long HttpCall(const std::string& method, const std::string& url,
                     std::string* body_out = nullptr) {
  CURL* c = curl_easy_init();
  std::string body;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  if (method == "POST") curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
  long code = 0;
  if (curl_easy_perform(c) == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  }
  curl_easy_cleanup(c);
  if (body_out != nullptr) *body_out = body;
  return code;
}

class Sink {
 public:
  // The HTTP sink; `secret` makes it verify webhook signatures.
  static std::unique_ptr<Sink> Http(const std::string& dir,
                                    const std::string& secret = "") {
    return HttpSink(dir, secret, "", "");
  }

  // The HTTP sink over HTTPS with this certificate and key (PEM files);
  // its control endpoints stay plain HTTP on a second port.
  static std::unique_ptr<Sink> Https(const std::string& dir,
                                     const std::string& tls_cert,
                                     const std::string& tls_key,
                                     const std::string& secret = "") {
    return HttpSink(dir, secret, tls_cert, tls_key);
  }

  // The SMTP sink, with AUTH when `auth` is "user:password" and STARTTLS
  // when given a certificate and key (PEM files).
  static std::unique_ptr<Sink> Smtp(const std::string& dir,
                                    const std::string& auth = "",
                                    const std::string& tls_cert = "",
                                    const std::string& tls_key = "") {
    return Started([&](Sink& s) {
      s.port_ = FreePort();
      s.control_port_ = FreePort();
      s.out_ = dir + "/smtp_sink_" + std::to_string(s.port_) + ".jsonl";
      std::vector<std::string> args = {
          "/usr/bin/python3",
          SourceDir() + "/tools/sinks/smtp_sink.py",
          "--port",
          std::to_string(s.port_),
          "--control_port",
          std::to_string(s.control_port_),
          "--out",
          s.out_};
      if (!auth.empty()) {
        args.push_back("--auth");
        args.push_back(auth);
      }
      if (!tls_cert.empty()) {
        args.insert(args.end(), {"--tls_cert", tls_cert, "--tls_key", tls_key});
      }
      return args;
    });
  }

  ~Sink() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }

  int port() const { return port_; }
  std::string Url(const std::string& path) const {
    return absl::StrCat(scheme_, "://127.0.0.1:", port_, path);
  }
  std::string SmtpUrl() const {
    return absl::StrCat("smtp://127.0.0.1:", port_);
  }
  const std::string& out_file() const { return out_; }

  // The next `n` requests fail (-1: all until Reset()): with a transient
  // error (HTTP 503, SMTP 451), or with `code` (HTTP 410, SMTP 550, …).
  void FailNext(int n, int code = 0) {
    Control("POST", absl::StrCat("/_control/fail?n=", n,
                                 code > 0 ? absl::StrCat("&code=", code) : ""));
  }
  void Reset() { Control("POST", "/_control/reset"); }
  void Delay(int ms) {
    Control("POST", absl::StrCat("/_control/delay?ms=", ms));
  }
  nlohmann::json Stats() { return Control("GET", "/_control/stats"); }
  // Stats once `key` counts at least `n`, or after 10 s: the sink counts
  // a refused TLS handshake on its own thread, after the client has
  // already given up.
  nlohmann::json StatsOnce(const std::string& key, int n) {
    nlohmann::json stats = Stats();
    for (int i = 0; i < 1000 && stats[key] < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      stats = Stats();
    }
    return stats;
  }
  nlohmann::json Messages() {
    return Control("GET", "/_control/messages")["messages"];
  }

  // Every line of the JSONL record (accepted, duplicate and failed).
  std::vector<nlohmann::json> Records() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(out_);
    std::string line;
    while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
    return out;
  }

 private:
  static std::unique_ptr<Sink> HttpSink(const std::string& dir,
                                        const std::string& secret,
                                        const std::string& tls_cert,
                                        const std::string& tls_key) {
    const bool tls = !tls_cert.empty();
    return Started([&](Sink& s) {
      if (tls) s.scheme_ = "https";
      s.port_ = FreePort();
      s.control_port_ = tls ? FreePort() : s.port_;
      s.out_ = dir + (tls ? "/https_sink_" : "/http_sink_") +
               std::to_string(s.port_) + ".jsonl";
      std::vector<std::string> args = {
          "/usr/bin/python3",
          SourceDir() + "/tools/sinks/http_sink.py",
          "--port",
          std::to_string(s.port_),
          "--out",
          s.out_};
      if (tls) {
        args.insert(args.end(),
                    {"--control_port", std::to_string(s.control_port_),
                     "--tls_cert", tls_cert, "--tls_key", tls_key});
      }
      if (!secret.empty()) {
        args.push_back("--webhook_secret");
        args.push_back(secret);
      }
      return args;
    });
  }

  // A sink started with the arguments `configure` gives (it picks the
  // ports). A port free when picked can be taken by another test before
  // the sink binds it; the sink then exits, and it starts again on new
  // ports.
  template <typename Configure>
  static std::unique_ptr<Sink> Started(const Configure& configure) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      auto s = std::unique_ptr<Sink>(new Sink());
      if (s->Spawn(configure(*s))) return s;
    }
    ADD_FAILURE() << "sink did not start";
    return std::unique_ptr<Sink>(new Sink());
  }

  Sink() = default;

  nlohmann::json Control(const std::string& method, const std::string& path) {
    std::string body;
    const long code = HttpCall(
        method, absl::StrCat("http://127.0.0.1:", control_port_, path), &body);
    if (code != 200) return nlohmann::json::object();
    return nlohmann::json::parse(body, nullptr, false);
  }

  // Starts the sink; true once it has bound its ports (it writes
  // --port_file then), false if it exited first.
  bool Spawn(std::vector<std::string> args) {
    const std::string ready = out_ + ".ready";
    std::remove(ready.c_str());
    args.insert(args.end(), {"--port_file", ready});
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (const std::string& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
      }
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    // Wait for the process to listen (a start-up, not a wait for time).
    for (int i = 0; i < 400; ++i) {
      if (std::ifstream(ready).good()) return true;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  pid_t pid_ = -1;
  std::string scheme_ = "http";
  int port_ = 0;
  int control_port_ = 0;
  std::string out_;
};

// A scratch directory for the sinks' records.
// A self-signed certificate for 127.0.0.1 (and localhost) made with
// Debian's openssl: writes <dir>/<name>.crt and <name>.key; false on failure.
inline bool MakeSelfSignedCert(const std::string& dir,
                               const std::string& name) {
  const std::string cmd = absl::StrCat(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1",
      " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout ", dir, "/",
      name, ".key -out ", dir, "/", name, ".crt >/dev/null 2>&1");
  return std::system(cmd.c_str()) == 0;
}

inline std::string ScratchDir() {
  char tmpl[] = "/tmp/lienthong-notify-test-XXXXXX";
  const char* d = mkdtemp(tmpl);
  return d != nullptr ? d : "/tmp";
}

}  // namespace lienthong::notify::testing
