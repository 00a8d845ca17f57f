#include "libs/db/group_commit.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace lienthong::db {
namespace {

struct Job : GroupJob {
  int id = 0;
  int batch_no = -1;   // which batch did it
  int batch_size = 0;  // how many jobs that batch had
};

// Records the batches it is given; the first `block_first` batches wait for
// `release` before finishing, so the test decides what is queued behind them.
struct Recorder {
  absl::Mutex mu;
  std::vector<std::vector<int>> batches;
  int running = 0;
  int most_running = 0;
  int block_first = 0;
  absl::Notification release;

  void Run(std::vector<Job*>& batch) {
    int no;
    {
      absl::MutexLock l(&mu);
      no = static_cast<int>(batches.size());
      std::vector<int> ids;
      for (Job* j : batch) ids.push_back(j->id);
      batches.push_back(ids);
      most_running = std::max(most_running, ++running);
    }
    if (no < block_first) release.WaitForNotification();
    for (Job* j : batch) {
      j->batch_no = no;
      j->batch_size = static_cast<int>(batch.size());
      j->done = true;
    }
    absl::MutexLock l(&mu);
    --running;
  }
};

template <typename G>
void WaitUntilQueued(const G& group, size_t n) {
  // Polls state the threads under test change; no wall-clock wait decides
  // the outcome (the test's own timeout bounds a bug).
  while (group.queued() < n) std::this_thread::yield();
}

// Runs jobs[0] as a batch that waits for `rec.release`, queues the other
// jobs behind it, then releases it and waits for all of them.
void RunBehindAHeldBatch(GroupCommit<Job>& group, Recorder& rec,
                         std::vector<Job>& jobs) {
  std::thread first([&] { group.Run(&jobs[0]); });
  while (group.stats().batches < 1) std::this_thread::yield();
  std::vector<std::thread> rest;
  for (size_t i = 1; i < jobs.size(); ++i) {
    rest.emplace_back([&, i] { group.Run(&jobs[i]); });
  }
  WaitUntilQueued(group, jobs.size() - 1);
  rec.release.Notify();
  first.join();
  for (auto& t : rest) t.join();
}

TEST(GroupCommitTest, AJobAloneRunsAtOnceAsABatchOfOne) {
  Recorder rec;
  GroupCommit<Job> group({.max_in_flight = 2, .max_batch = 8},
                         [&](std::vector<Job*>& b) { rec.Run(b); });
  Job j;
  j.id = 7;
  group.Run(&j);
  EXPECT_TRUE(j.finished);
  EXPECT_EQ(j.batch_size, 1);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(group.stats().batches, 1);
}

TEST(GroupCommitTest, JobsArrivingWhileABatchRunsGoTogetherInTheNext) {
  Recorder rec;
  rec.block_first = 1;
  GroupCommit<Job> group({.max_in_flight = 1, .max_batch = 32},
                         [&](std::vector<Job*>& b) { rec.Run(b); });
  std::vector<Job> jobs(6);
  for (int i = 0; i < 6; ++i) jobs[i].id = i;
  RunBehindAHeldBatch(group, rec, jobs);
  ASSERT_EQ(rec.batches.size(), 2u);
  EXPECT_EQ(rec.batches[0], std::vector<int>{0});
  EXPECT_EQ(rec.batches[1].size(), 5u);
  for (int i = 1; i < 6; ++i) {
    EXPECT_TRUE(jobs[i].finished);
    EXPECT_EQ(jobs[i].batch_no, 1);
  }
  EXPECT_EQ(group.stats().largest, 5);
}

TEST(GroupCommitTest, BatchesAreCutAtMaxBatch) {
  Recorder rec;
  rec.block_first = 1;
  GroupCommit<Job> group({.max_in_flight = 1, .max_batch = 4},
                         [&](std::vector<Job*>& b) { rec.Run(b); });
  std::vector<Job> jobs(11);
  RunBehindAHeldBatch(group, rec, jobs);
  ASSERT_EQ(rec.batches.size(), 4u);
  EXPECT_EQ(rec.batches[1].size(), 4u);
  EXPECT_EQ(rec.batches[2].size(), 4u);
  EXPECT_EQ(rec.batches[3].size(), 2u);
  for (auto& j : jobs) EXPECT_TRUE(j.finished);
}

TEST(GroupCommitTest, NoMoreThanMaxInFlightBatchesRunAtOnce) {
  Recorder rec;
  rec.block_first = 2;
  GroupCommit<Job> group({.max_in_flight = 2, .max_batch = 32},
                         [&](std::vector<Job*>& b) { rec.Run(b); });
  std::vector<Job> jobs(5);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { group.Run(&jobs[0]); });
  threads.emplace_back([&] { group.Run(&jobs[1]); });
  while (group.stats().batches < 2) std::this_thread::yield();
  for (int i = 2; i < 5; ++i)
    threads.emplace_back([&, i] { group.Run(&jobs[i]); });
  WaitUntilQueued(group, 3);  // two batches running, three jobs wait
  EXPECT_EQ(group.stats().batches, 2);
  rec.release.Notify();
  for (auto& t : threads) t.join();
  EXPECT_EQ(rec.most_running, 2);
  EXPECT_EQ(group.stats().jobs, 5);
  for (auto& j : jobs) EXPECT_TRUE(j.finished);
}

// With min_queued_for_another, a slot left free is taken only once enough
// jobs wait: the few that arrive meanwhile wait for the running batch, and
// a second batch starts beside it as soon as that many are queued.
TEST(GroupCommitTest, ASecondBatchStartsOnlyOnceEnoughJobsAreQueued) {
  Recorder rec;
  rec.block_first = 2;
  GroupCommit<Job> group(
      {.max_in_flight = 2, .max_batch = 32, .min_queued_for_another = 3},
      [&](std::vector<Job*>& b) { rec.Run(b); });
  std::vector<Job> jobs(4);
  for (int i = 0; i < 4; ++i) jobs[i].id = i;
  // A batch counts in stats() before its run begins: wait for the
  // recorder, so job 0's batch is recorded first however late its thread
  // gets to run it.
  const auto recorded = [&rec] {
    absl::MutexLock l(&rec.mu);
    return rec.batches.size();
  };
  std::vector<std::thread> threads;
  threads.emplace_back([&] { group.Run(&jobs[0]); });
  while (recorded() < 1) std::this_thread::yield();
  // One after the other, so the queue's order is known.
  for (int i = 1; i < 3; ++i) {
    threads.emplace_back([&, i] { group.Run(&jobs[i]); });
    // Waiting (or, were it allowed to, running beside the first).
    while (static_cast<int>(group.queued() + group.stats().batches) < 1 + i)
      std::this_thread::yield();
  }
  EXPECT_EQ(group.stats().batches, 1);
  EXPECT_EQ(group.queued(), 2u);
  threads.emplace_back([&] { group.Run(&jobs[3]); });
  while (recorded() < 2) std::this_thread::yield();
  rec.release.Notify();
  for (auto& t : threads) t.join();
  ASSERT_EQ(rec.batches.size(), 2u);
  EXPECT_EQ(rec.batches[1], (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(rec.most_running, 2);
  for (auto& j : jobs) EXPECT_TRUE(j.finished);
}

TEST(GroupCommitTest, AJobLeftUndoneRunsAgainInTheNextBatch) {
  int calls = 0;
  GroupCommit<Job> group({.max_in_flight = 1, .max_batch = 8},
                         [&](std::vector<Job*>& b) {
                           ++calls;
                           // The first time round nothing is done (as when
                           // a batch rolls back); then everything is.
                           if (calls == 1) return;
                           for (Job* j : b) j->done = true;
                         });
  Job j;
  group.Run(&j);
  EXPECT_TRUE(j.finished);
  EXPECT_EQ(j.attempts, 2);
  EXPECT_EQ(calls, 2);
}

TEST(GroupCommitTest, ManyThreadsEveryJobDoneExactlyOnce) {
  std::atomic<int> done_count{0};
  GroupCommit<Job> group({.max_in_flight = 2, .max_batch = 5},
                         [&](std::vector<Job*>& b) {
                           for (Job* j : b) {
                             EXPECT_FALSE(j->done);
                             j->done = true;
                             ++done_count;
                           }
                         });
  std::vector<std::thread> threads;
  std::atomic<int> finished{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        Job j;
        group.Run(&j);
        if (j.finished && j.attempts == 1) ++finished;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(done_count.load(), 1600);
  EXPECT_EQ(finished.load(), 1600);
  EXPECT_EQ(group.stats().jobs, 1600);
  EXPECT_LE(group.stats().largest, 5);
}

}  // namespace
}  // namespace lienthong::db
