#pragma once

// Unary calls through the generic stub, started from any thread and
// finished on one thread of their own that drains a shared completion
// queue: the asynchronous load (bench::Load::Async) of the intake bench.

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace lienthong::bench {

class AsyncCalls {
 public:
  // Calls go over `channels` (client c over channels[c % size]).
  explicit AsyncCalls(
      const std::vector<std::shared_ptr<grpc::Channel>>& channels);
  // Waits for the calls still out, then stops the completion thread.
  ~AsyncCalls();
  AsyncCalls(const AsyncCalls&) = delete;
  AsyncCalls& operator=(const AsyncCalls&) = delete;

  // Called on the completion thread with the call's status and answer.
  using Finish =
      std::function<void(const grpc::Status& status, grpc::ByteBuffer& answer)>;
  // Starts `method` ("/package.Service/Method") with `request`; `prepare`
  // (may be empty) adds metadata and a deadline to the call's context.
  void Call(int client, const std::string& method,
            const grpc::ByteBuffer& request,
            const std::function<void(grpc::ClientContext&)>& prepare,
            Finish finish);

 private:
  struct Pending {
    grpc::ClientContext ctx;
    grpc::ByteBuffer answer;
    grpc::Status status;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
    Finish finish;
  };
  void Drain();

  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  grpc::CompletionQueue cq_;
  std::thread thread_;
};

}  // namespace lienthong::bench
