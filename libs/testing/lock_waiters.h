#pragma once

// For tests that force an interleaving: one session holds a row lock while
// the calls under test start, and the test goes on once all of them wait
// for it. No sleeping for a guessed time: it polls PostgreSQL's own view of
// who waits on a lock.

#include <string>

namespace lienthong::testing {

// Polls (every 5 ms, for at most 5 s) until at least `n` sessions of the
// database at `dsn` wait on a lock; returns the last count seen.
int WaitForLockWaiters(const std::string& dsn, int n);

}  // namespace lienthong::testing
