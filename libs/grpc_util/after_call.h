#pragma once

// Work a handler defers until its call's own transactions have ended, on
// the thread that handles the call: AfterCall queues it, and the service's
// Done (which every handler returns through, after its transactions) runs
// what is queued. For the audit row of a refused attempt: written from
// inside the call's transaction it would take a second pool connection
// while the first is held, and a burst of refused calls could exhaust the
// pool (each waiting for a connection the others hold) and lose their rows.

#include <functional>

namespace lienthong::grpc_util {

void AfterCall(std::function<void()> fn);

// Runs (and forgets) what this thread queued, in order.
void RunAfterCall();

}  // namespace lienthong::grpc_util
