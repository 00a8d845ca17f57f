// WatchTasks over real gRPC and PostgreSQL: a watcher that disconnects
// and comes back with its cursor misses nothing and gets nothing twice,
// also when a feed row was still being written while it was away.

#include <chrono>
#include <string>

#include "gtest/gtest.h"
#include "libs/db/prepared.h"
#include "services/routing/routing_test_fixture.h"
#include "services/routing/routing_text.h"

namespace lienthong::routing {
namespace {

using RoutingWatchTest = RoutingIntegrationTest;

TEST_F(RoutingWatchTest, WatchResumesFromItsCursorAndMissesNothing) {
  ASSERT_TRUE(Deliver(Received("X-0007"), "dossiers/X-0007"));
  const v1::WatchTasksResponse seen = WatchFirstAndLeave("W-TP");
  ASSERT_EQ(seen.task().dossier(), "dossiers/X-0007");
  const std::string cursor = seen.cursor();
  // While disconnected, another dossier's leg becomes ready.
  ASSERT_TRUE(Deliver(Received("X-0008"), "dossiers/X-0008"));
  WatchStream watch(*this, "W-TP", cursor);
  EXPECT_EQ(watch.Next().task().dossier(), "dossiers/X-0008");  // not X-0007
  // A task that becomes ready while watching arrives on the open stream.
  ASSERT_TRUE(Deliver(Received("X-0009"), "dossiers/X-0009"));
  EXPECT_EQ(watch.Next().task().dossier(), "dossiers/X-0009");
}

// A task that went back to the queue (its lease ran out) has two feed
// rows; a watch from the start sends it once.
TEST_F(RoutingWatchTest, ATaskBackInTheQueueIsSentOnce) {
  ASSERT_TRUE(Deliver(Received("X-0010"), "dossiers/X-0010"));
  const std::string civil =
      Leg(Route("dossiers/X-0010"), "civil_status").name();
  ASSERT_TRUE(Claim(civil, "W-TP", nullptr, absl::Minutes(1)).ok());
  clock_.Advance(absl::Minutes(2));
  ASSERT_EQ(*server_->ExpireLeasesOnce(), 1);
  WatchStream watch(*this, "W-TP", "");
  EXPECT_EQ(watch.Next().task().name(), civil);
  // The next item is the next dossier's, not the same task again.
  ASSERT_TRUE(Deliver(Received("X-0011"), "dossiers/X-0011"));
  EXPECT_EQ(watch.Next().task().dossier(), "dossiers/X-0011");
}

// A watcher reconnecting while a feed row is still being written (its
// number taken before a later row that has committed) gets it once it
// commits: the gap is tracked, not taken for a rolled-back number.
TEST_F(RoutingWatchTest, AReconnectedWatchGetsARowStillBeingWritten) {
  ASSERT_TRUE(Deliver(Received("X-0301"), "dossiers/X-0301"));
  const std::string first =
      Leg(Route("dossiers/X-0301"), "civil_status").name();
  const std::string cursor = WatchFirstAndLeave("W-TP").cursor();
  ASSERT_FALSE(cursor.empty());
  // While disconnected: a slow transaction takes the next feed number (the
  // task put back in the queue), and a later dossier's row commits first.
  pqxx::connection slow_conn(dsn_);
  pqxx::work slow(slow_conn);
  slow.exec_params(
      "INSERT INTO routing.task_feed (agency, task_id, at) VALUES "
      "('agencies/W-TP', $1, $2)",
      TaskIdOf(first), db::PgTime(clock_.Now()));
  ASSERT_TRUE(Deliver(Received("X-0302"), "dossiers/X-0302"));
  grpc::ClientContext ctx;
  As(ctx, "W-TP");
  // A wait for an event, bounded: the row should come within a second.
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::WatchTasksRequest req;
  req.set_agency("agencies/W-TP");
  req.set_cursor(cursor);
  auto reader = stub_->WatchTasks(&ctx, req);
  v1::WatchTasksResponse item;
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.task().dossier(), "dossiers/X-0302");
  slow.commit();
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.task().name(), first);
  ctx.TryCancel();
  reader->Finish();
}

}  // namespace
}  // namespace lienthong::routing
