// intake's calendar copy: fetched from the deadline service's GetCalendar
// (a fake DeadlineService on a loopback port), stored in
// intake.calendar_cache, kept while the deadline service is down, and
// stamped on dossiers.

#include "libs/calendar/calendar_json.h"
#include "services/intake/calendar_source.h"
#include "services/intake/intake_test_fixture.h"

namespace lienthong::intake {
namespace {

using namespace testing_support;  // NOLINT

// Answers calendars/vn version `version` with vn.json's document, or
// UNAVAILABLE when `down`.
class FakeDeadline final : public deadline::v1::DeadlineService::Service {
 public:
  grpc::Status GetCalendar(grpc::ServerContext*,
                           const deadline::v1::GetCalendarRequest* req,
                           deadline::v1::GetCalendarResponse* resp) override {
    ++calls;
    if (down) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "down");
    if (req->name() != kCalendarName) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, req->name());
    }
    resp->mutable_calendar()->set_name(kCalendarName);
    resp->mutable_calendar()->set_version(version);
    resp->mutable_calendar()->set_json(json);
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};
  bool down = false;
  int version = 7;
  std::string json = std::string(calendar::DefaultCalendarJson());
};

class IntakeCalendarTest : public IntakeIntegrationTest {
 protected:
  IntakeCalendarTest()
      : deadline_grpc_({&deadline_}),
        stub_(deadline::v1::DeadlineService::NewStub(
            deadline_grpc_.NewChannel())),
        pool_({dsn_, 1}) {}

  CalendarRefresher Refresher(CalendarCache* cache) {
    CalendarRefresher r;
    r.cache = cache;
    r.fetch = [this] {
      return FetchDeadlineCalendar(*stub_, absl::Seconds(5));
    };
    r.persist = [this](const CalendarCopy& c) {
      return StoreCalendar(pool_, clock_, c);
    };
    return r;
  }

  FakeDeadline deadline_;
  testing::InProcessServer deadline_grpc_;
  std::unique_ptr<deadline::v1::DeadlineService::Stub> stub_;
  db::Pool pool_;
};

TEST_F(IntakeCalendarTest, FetchesStoresAndStampsTheDeadlineServicesVersion) {
  const calendar::WorkingCalendar bundled = *calendar::DefaultCalendar();
  // Nothing stored yet: the bundled copy.
  std::shared_ptr<CalendarCache> cache =
      InitialCalendarCache(pool_, bundled, "vn@bundled");
  EXPECT_EQ(cache->Snapshot().version, "vn@bundled");

  CalendarRefresher refresher = Refresher(cache.get());
  absl::StatusOr<bool> installed = refresher.RunOnce();
  ASSERT_TRUE(installed.ok()) << installed.status();
  EXPECT_TRUE(*installed);
  EXPECT_EQ(cache->Snapshot().version, "vn@7");
  EXPECT_EQ(Count("SELECT count(*) FROM intake.calendar_cache WHERE "
                  "name = 'calendars/vn' AND version = 'vn@7'"),
            1);
  // The same version again: nothing to install.
  installed = refresher.RunOnce();
  ASSERT_TRUE(installed.ok());
  EXPECT_FALSE(*installed);

  // A dossier received now records the calendar version it was timed with.
  IntakeOptions options = Replica::Options();
  options.calendars = cache;
  Replica r(dsn_, clock_, options);
  v1::SubmitDossierResponse resp;
  ASSERT_TRUE(Submit(r, Birth(kTayMo), &resp).ok());
  EXPECT_EQ(resp.dossier().calendar_version(), "vn@7");

  // A restart while the deadline service is away starts from the stored copy.
  deadline_.down = true;
  std::shared_ptr<CalendarCache> restarted =
      InitialCalendarCache(pool_, bundled, "vn@bundled");
  EXPECT_EQ(restarted->Snapshot().version, "vn@7");
  CalendarRefresher after = Refresher(restarted.get());
  EXPECT_EQ(after.RunOnce().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(restarted->Snapshot().version, "vn@7");
}

TEST_F(IntakeCalendarTest, AnInvalidCalendarIsNotInstalled) {
  auto cache =
      InitialCalendarCache(pool_, *calendar::DefaultCalendar(), "vn@bundled");
  deadline_.version = 8;
  deadline_.json = R"({"id": "vn", "holiday": []})";
  CalendarRefresher refresher = Refresher(cache.get());
  EXPECT_EQ(refresher.RunOnce().status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cache->Snapshot().version, "vn@bundled");
  EXPECT_EQ(Count("SELECT count(*) FROM intake.calendar_cache"), 0);

  deadline_.json.clear();
  EXPECT_EQ(refresher.RunOnce().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(IntakeCalendarTest, AStoredCopyThatNoLongerParsesFallsBackToBundled) {
  ASSERT_TRUE(StoreCalendar(pool_, clock_, {"{ not json", "vn@9"}).ok());
  auto cache =
      InitialCalendarCache(pool_, *calendar::DefaultCalendar(), "vn@bundled");
  EXPECT_EQ(cache->Snapshot().version, "vn@bundled");
}

}  // namespace
}  // namespace lienthong::intake
