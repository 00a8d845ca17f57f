#pragma once

// A gRPC server on 127.0.0.1:0 for tests, with the given services.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"

namespace lienthong::testing {

class InProcessServer {
 public:
  explicit InProcessServer(const std::vector<grpc::Service*>& services) {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                       &port_);
    for (grpc::Service* s : services) b.RegisterService(s);
    server_ = b.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      std::fprintf(stderr, "InProcessServer: could not listen on 127.0.0.1\n");
      std::abort();
    }
  }
  // Open streams are cancelled after a short grace instead of hanging the
  // test's teardown.
  ~InProcessServer() {
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(2));
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int port() const { return port_; }
  std::shared_ptr<grpc::Channel> NewChannel() const {
    return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace lienthong::testing
