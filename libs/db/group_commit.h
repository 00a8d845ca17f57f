#pragma once

// Group commit: concurrent callers' jobs run together, several per
// transaction. A caller queues its job and either waits for another thread
// to run it or, when fewer than `max_in_flight` batches are running, leads
// the next batch itself: it takes up to `max_batch` queued jobs (its own
// among them) and runs them with `run`. Under light load every job is a
// batch of one, run by its own thread at once (no added latency); under
// load, jobs that arrive while a batch commits go together in the next, so
// a transaction's fixed costs (round trips, the WAL flush, each statement's
// executor start) are shared.
//
// `run` decides each job's fate: a job it leaves not done (GroupJob::done)
// goes back to the front of the queue for another batch (e.g. a job whose
// twin is in the same batch, or every job of a batch rolled back because
// one conflicted with another replica). `run` must finish every job sooner
// or later; GroupJob::attempts counts the batches a job has been in.
//
//   struct Submit : db::GroupJob { Request in; Result out; };
//   db::GroupCommit<Submit> group({.max_in_flight = 2, .max_batch = 32},
//       [&](std::vector<Submit*>& batch) { ... one transaction ... });
//   Submit job{...};
//   group.Run(&job);  // returns when the batch that did it has ended

#include <algorithm>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace lienthong::db {

struct GroupJob {
  bool done = false;  // set by `run` (only the leading thread touches it)
  int attempts = 0;   // batches this job has been part of
  // Set by GroupCommit, under its lock, once the batch that did the job
  // has ended: only then may the caller go (and its job be destroyed).
  bool finished = false;
};

struct GroupCommitOptions {
  int max_in_flight = 2;  // batches running at once (each holds a connection)
  int max_batch = 32;     // jobs per batch
  // A batch starts beside a running one only once this many jobs are
  // queued (1: whenever a slot is free). Under moderate load fewer,
  // larger transactions cost less CPU per job than as many as there are
  // slots; a queued job waits at most for the running batch to end.
  int min_queued_for_another = 1;
};

template <typename Job>
class GroupCommit {
 public:
  using RunBatch = std::function<void(std::vector<Job*>& batch)>;

  GroupCommit(GroupCommitOptions options, RunBatch run)
      : options_(options), run_(std::move(run)) {
    options_.max_in_flight = std::max(1, options_.max_in_flight);
    options_.max_batch = std::max(1, options_.max_batch);
  }

  // Blocks until `job` is done (by this thread or another).
  void Run(Job* job) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(job);
    // Only the job at the front of the queue leads the next batch, and a
    // job in a batch wakes only when that batch ends: absl::Mutex checks
    // each waiter's condition on unlock, so a batch's end wakes the jobs it
    // finished and at most one new leader, not every waiting thread (with
    // dozens of callers waiting, waking all of them on every batch cost
    // more CPU than the batches saved).
    struct Wait {
      GroupCommit* g;
      Job* job;
    } wait{this, job};
    const absl::Condition ready(
        +[](Wait* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          GroupCommit& g = *w->g;
          return w->job->finished ||
                 (g.in_flight_ < g.options_.max_in_flight &&
                  !g.queue_.empty() && g.queue_.front() == w->job &&
                  (g.in_flight_ == 0 ||
                   g.queue_.size() >=
                       static_cast<size_t>(
                           g.options_.min_queued_for_another)));
        },
        &wait);
    while (true) {
      mu_.Await(ready);
      if (job->finished) return;
      Lead();
    }
  }

  // Batches run so far and the jobs in them (for tests and metrics).
  struct Stats {
    long batches = 0;
    long jobs = 0;
    int largest = 0;
  };
  Stats stats() const {
    absl::MutexLock lock(&mu_);
    return stats_;
  }
  // Jobs waiting for a batch (not those running).
  size_t queued() const {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }

 private:
  // Called with mu_ held; runs one batch with mu_ released.
  void Lead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<Job*> batch;
    const size_t n =
        std::min(queue_.size(), static_cast<size_t>(options_.max_batch));
    batch.assign(queue_.begin(), queue_.begin() + n);
    queue_.erase(queue_.begin(), queue_.begin() + n);
    ++in_flight_;
    ++stats_.batches;
    stats_.jobs += static_cast<long>(n);
    stats_.largest = std::max(stats_.largest, static_cast<int>(n));
    for (Job* j : batch) ++j->attempts;
    mu_.Unlock();
    run_(batch);
    mu_.Lock();
    --in_flight_;
    // Jobs left not done go first in the next batch, in their order.
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      if ((*it)->done) {
        (*it)->finished = true;
      } else {
        queue_.push_front(*it);
      }
    }
  }

  GroupCommitOptions options_;
  RunBatch run_;
  mutable absl::Mutex mu_;
  std::deque<Job*> queue_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::db
