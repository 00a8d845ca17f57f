#include "libs/grpc_util/after_call.h"

#include <utility>
#include <vector>

namespace lienthong::grpc_util {
namespace {

thread_local std::vector<std::function<void()>> queued;

}  // namespace

void AfterCall(std::function<void()> fn) { queued.push_back(std::move(fn)); }

void RunAfterCall() {
  while (!queued.empty()) {
    std::vector<std::function<void()>> now;
    now.swap(queued);  // what these queue runs in the next round
    for (const auto& fn : now) fn();
  }
}

}  // namespace lienthong::grpc_util
