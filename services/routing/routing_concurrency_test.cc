// routing under concurrency, over real gRPC and a real PostgreSQL: feed rows
// that commit out of sequence order, and sibling legs finished at once.

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/uuid.h"
#include "libs/db/prepared.h"
#include "libs/testing/lock_waiters.h"
#include "libs/testing/status_matchers.h"
#include "services/routing/routing_test_fixture.h"

namespace lienthong::routing {
namespace {

using RoutingConcurrencyTest = RoutingIntegrationTest;

int64_t TaskId(const std::string& name) {
  int64_t id = 0;
  EXPECT_TRUE(absl::SimpleAtoi(name.substr(6), &id)) << name;
  return id;
}

// A feed row takes its number when inserted and becomes visible when its
// transaction commits. A row that commits after a higher-numbered one has
// been streamed must still reach the watcher, on the open stream, without
// any NOTIFY to wake it.
TEST_F(RoutingConcurrencyTest, FeedRowCommittingLateStillReachesTheWatcher) {
  ASSERT_TRUE(Deliver(Received("X-0101"), "dossiers/X-0101"));
  const std::string first =
      Leg(Route("dossiers/X-0101"), "civil_status").name();
  grpc::ClientContext ctx;
  As(ctx, "W-TP");
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::WatchTasksRequest req;
  req.set_agency("agencies/W-TP");
  auto reader = stub_->WatchTasks(&ctx, req);
  v1::WatchTasksResponse item;
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.task().name(), first);

  // A transaction in flight holds the next feed number (for the first task,
  // put back in the queue) while a later dossier's row commits before it.
  pqxx::connection late(dsn_);
  auto held = std::make_unique<pqxx::work>(late);
  const int64_t late_seq =
      held->exec_params(
              "INSERT INTO routing.task_feed (agency, task_id, at) VALUES "
              "('agencies/W-TP', $1, now()) RETURNING seq",
              TaskId(first))[0][0]
          .as<int64_t>();
  ASSERT_TRUE(Deliver(Received("X-0102"), "dossiers/X-0102"));
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.task().dossier(), "dossiers/X-0102");
  // The cursor carries the row still owed: position, then the hole.
  const std::vector<std::string> cursor = absl::StrSplit(item.cursor(), '.');
  ASSERT_EQ(cursor.size(), 2u) << item.cursor();
  int64_t position = 0;
  ASSERT_TRUE(absl::SimpleAtoi(cursor[0], &position));
  EXPECT_GT(position, late_seq);
  EXPECT_EQ(cursor[1], absl::StrCat(late_seq));

  held->commit();  // no NOTIFY: only the stream's hole checks can find it
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.task().name(), first);

  // A number taken by a transaction that rolls back is a gap forever; the
  // stream carries on past it.
  {
    pqxx::work rolled_back(late);
    rolled_back.exec_params(
        "INSERT INTO routing.task_feed (agency, task_id, at) VALUES "
        "('agencies/W-TP', $1, now())",
        TaskId(first));
    rolled_back.abort();
  }
  ASSERT_TRUE(Deliver(Received("X-0103"), "dossiers/X-0103"));
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.task().dossier(), "dossiers/X-0103");
  ctx.TryCancel();
  reader->Finish();
}

// A stream that resumes from a cursor past a row still in flight gets that
// row once it commits (the cursor names it), and nothing twice.
TEST_F(RoutingConcurrencyTest, ResumePastARowInFlightStillGetsIt) {
  ASSERT_TRUE(Deliver(Received("X-0301"), "dossiers/X-0301"));
  const std::string first =
      Leg(Route("dossiers/X-0301"), "civil_status").name();
  pqxx::connection late(dsn_);
  pqxx::work held(late);
  held.exec_params(
      "INSERT INTO routing.task_feed (agency, task_id, at) VALUES "
      "('agencies/W-TP', $1, $2)",
      TaskId(first), db::PgTime(clock_.Now()));
  ASSERT_TRUE(Deliver(Received("X-0302"), "dossiers/X-0302"));
  std::string cursor;
  {
    grpc::ClientContext ctx;
    As(ctx, "W-TP");
    v1::WatchTasksRequest req;
    req.set_agency("agencies/W-TP");
    auto reader = stub_->WatchTasks(&ctx, req);
    v1::WatchTasksResponse item;
    ASSERT_TRUE(reader->Read(&item));
    EXPECT_EQ(item.task().name(), first);
    ASSERT_TRUE(reader->Read(&item));
    EXPECT_EQ(item.task().dossier(), "dossiers/X-0302");
    cursor = item.cursor();
    ctx.TryCancel();  // disconnect with the row still in flight
    reader->Finish();
  }
  grpc::ClientContext ctx;
  As(ctx, "W-TP");
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::WatchTasksRequest req;
  req.set_agency("agencies/W-TP");
  req.set_cursor(cursor);
  auto reader = stub_->WatchTasks(&ctx, req);
  // A new task proves the resumed stream is past its first read.
  ASSERT_TRUE(Deliver(Received("X-0303"), "dossiers/X-0303"));
  v1::WatchTasksResponse item;
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.task().dossier(), "dossiers/X-0303");
  held.commit();
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.task().name(), first);
  ctx.TryCancel();
  reader->Finish();
}

// Streams are woken by the NOTIFY that carries their agency, not by
// polling: with the poll interval at an hour, a task still arrives at once.
TEST_F(RoutingConcurrencyTest, ReadyTaskWakesItsAgencysStreamWithoutPolling) {
  server_->Stop();
  grpc_.reset();
  RoutingOptions o;
  o.insecure_dev_auth = true;
  o.watch_poll = absl::Hours(1);
  server_ = std::make_unique<RoutingServer>(pool_, clock_, dir_, o);
  server_->StartFeedListener();
  grpc_ = std::make_unique<testing::InProcessServer>(
      std::vector<grpc::Service*>{server_.get()});
  stub_ = v1::RoutingService::NewStub(grpc_->NewChannel());

  grpc::ClientContext ctx;
  As(ctx, "W-TP");
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::WatchTasksRequest req;
  req.set_agency("agencies/W-TP");
  auto reader = stub_->WatchTasks(&ctx, req);
  // A first task proves the stream has read the feed; from here on only a
  // wake-up (or the hour's poll) makes it read again.
  ASSERT_TRUE(Deliver(Received("X-0400"), "dossiers/X-0400"));
  v1::WatchTasksResponse first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.task().dossier(), "dossiers/X-0400");
  const absl::Time start = absl::Now();
  ASSERT_TRUE(Deliver(Received("X-0401"), "dossiers/X-0401"));
  v1::WatchTasksResponse item;
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.task().dossier(), "dossiers/X-0401");
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  ctx.TryCancel();
  reader->Finish();
}

// Cursors are opaque to clients; anything not handed out by WatchTasks is
// INVALID_ARGUMENT, never a stream from a made-up position.
TEST_F(RoutingConcurrencyTest, MalformedCursorIsInvalidArgument) {
  for (const char* bad : {"abc", "-4", "12.", "12.12", "12.30", "0", "12..3"}) {
    grpc::ClientContext ctx;
    As(ctx, "W-TP");
    v1::WatchTasksRequest req;
    req.set_agency("agencies/W-TP");
    req.set_cursor(bad);
    auto reader = stub_->WatchTasks(&ctx, req);
    v1::WatchTasksResponse item;
    EXPECT_FALSE(reader->Read(&item)) << bad;
    EXPECT_THAT(reader->Finish(),
                testing::GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT))
        << bad;
  }
}

// The residency and health-insurance legs run in parallel; when both are
// completed at the same moment, both completions succeed without a
// deadlock between the two transactions advancing the same route (each
// deadlock costs PostgreSQL's deadlock_timeout, a second, and a retry), and
// the route finishes exactly once. The moment is forced: another session
// holds the route's row until both completions are waiting.
TEST_F(RoutingConcurrencyTest, ParallelLegsCompletedAtOnceNeverDeadlock) {
  ASSERT_TRUE(Deliver(Received("X-0201"), "dossiers/X-0201"));
  FinishCivil("dossiers/X-0201");
  const v1::Route r = Route("dossiers/X-0201");
  const std::string residency = Leg(r, "residency").name();
  const std::string insurance = Leg(r, "health_insurance").name();
  ASSERT_TRUE(Claim(residency, "W-CA").ok());
  ASSERT_TRUE(Claim(insurance, "D-SI").ok());

  pqxx::connection blocker(dsn_);
  pqxx::work hold(blocker);
  hold.exec(
      "SELECT 1 FROM routing.routes WHERE dossier = 'dossiers/X-0201' FOR "
      "UPDATE");
  grpc::Status police, social;
  std::thread a([&] {
    police = Complete(residency, "W-CA",
                      {{"residence_confirmation_number", "TT-1"}});
  });
  std::thread b([&] {
    social =
        Complete(insurance, "D-SI", {{"health_insurance_card_number", "TE1"}});
  });
  EXPECT_EQ(testing::WaitForLockWaiters(dsn_, 2), 2)
      << "both completions should be waiting";
  hold.commit();
  a.join();
  b.join();
  EXPECT_TRUE(police.ok()) << police.error_message();
  EXPECT_TRUE(social.ok()) << social.error_message();
  EXPECT_EQ(query_errors_.load(), 0) << "a deadlock, even if retried";
  EXPECT_EQ(Route("dossiers/X-0201").state(), v1::ROUTE_STATE_DONE);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.outbox WHERE event_type LIKE "
                  "'%RouteCompleted'"),
            1);
}

// An agency system that retries a completion while the first attempt is
// still running sends the same request_id twice at once: both answers are
// the completion, the task is completed once (one TaskCompleted event, one
// idempotency record), and neither twin sees FAILED_PRECONDITION. The
// moment is forced as above: both twins wait on the route's row.
TEST_F(RoutingConcurrencyTest, ConcurrentTwinsOfOneCompletionCompleteOnce) {
  ASSERT_TRUE(Deliver(Received("X-0202"), "dossiers/X-0202"));
  const std::string civil =
      Leg(Route("dossiers/X-0202"), "civil_status").name();
  ASSERT_TRUE(Claim(civil, "W-TP").ok());
  const std::string rid = common::NewUuid();
  const std::vector<std::pair<std::string, std::string>> outputs = {
      {"birth_certificate_number", "12/2026"}, {"personal_id", "001226000042"}};

  pqxx::connection blocker(dsn_);
  pqxx::work hold(blocker);
  hold.exec(
      "SELECT 1 FROM routing.routes WHERE dossier = 'dossiers/X-0202' FOR "
      "UPDATE");
  grpc::Status first, second;
  v1::Task first_task, second_task;
  std::thread a(
      [&] { first = Complete(civil, "W-TP", outputs, rid, &first_task); });
  std::thread b(
      [&] { second = Complete(civil, "W-TP", outputs, rid, &second_task); });
  EXPECT_EQ(testing::WaitForLockWaiters(dsn_, 2), 2)
      << "both twins should be waiting";
  hold.commit();
  a.join();
  b.join();
  ASSERT_TRUE(first.ok()) << first.error_message();
  ASSERT_TRUE(second.ok()) << second.error_message();
  EXPECT_EQ(first_task.state(), v1::TASK_STATE_DONE);
  EXPECT_EQ(first_task.SerializeAsString(), second_task.SerializeAsString());
  EXPECT_EQ(Count("SELECT count(*) FROM routing.outbox WHERE event_type LIKE "
                  "'%TaskCompleted'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM routing.idempotency"), 1);
}

}  // namespace
}  // namespace lienthong::routing
