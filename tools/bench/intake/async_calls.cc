#include "tools/bench/intake/async_calls.h"

#include <utility>

namespace lienthong::bench {

AsyncCalls::AsyncCalls(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  for (const auto& c : channels) {
    stubs_.push_back(std::make_unique<grpc::GenericStub>(c));
  }
  thread_ = std::thread([this] { Drain(); });
}

AsyncCalls::~AsyncCalls() {
  // The loops wait for every call they started, so none is out here; a
  // call still out would end (cancelled) before Next returns false.
  cq_.Shutdown();
  thread_.join();
}

void AsyncCalls::Call(int client, const std::string& method,
                      const grpc::ByteBuffer& request,
                      const std::function<void(grpc::ClientContext&)>& prepare,
                      Finish finish) {
  auto* p = new Pending;
  p->finish = std::move(finish);
  if (prepare) prepare(p->ctx);
  p->reader =
      stubs_[static_cast<size_t>(client) % stubs_.size()]->PrepareUnaryCall(
          &p->ctx, method, request, &cq_);
  p->reader->StartCall();
  p->reader->Finish(&p->answer, &p->status, p);
}

void AsyncCalls::Drain() {
  void* tag = nullptr;
  bool ok = false;
  while (cq_.Next(&tag, &ok)) {
    std::unique_ptr<Pending> p(static_cast<Pending*>(tag));
    // Finish's tag always comes back ok; its status says how the call went.
    p->finish(p->status, p->answer);
  }
}

}  // namespace lienthong::bench
