#include "services/deadline/scanner.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/calendar/calendar_json.h"
#include "libs/calendar/default_calendar.h"
#include "libs/calendar/test_calendars.h"
#include "libs/common/uuid.h"
#include "services/deadline/memory_deadline_store.h"

namespace lienthong::deadline {
namespace {

using calendar::testing::Vn;

const AgencyRef kWard{
    "000.01.01.H26", Tier::kCommune, {"000.00.00.H26", "000.00.01.H26"}};

class ScannerTest : public ::testing::Test {
 protected:
  ScannerTest()
      : clock_(Vn(2026, 3, 9, 10, 0)),
        service_(
            store_, clock_,
            [](const ClockNotice& n) {
              return OutgoingEvent{
                  absl::StrCat(n.clock.name, "/", UrgencyName(n.urgency)),
                  UrgencyName(n.urgency),
                  "",
                  {"notify"}};
            },
            Options()) {}
  static ServiceOptions Options() {
    ServiceOptions o;
    o.scan_batch = 7;  // small, so a pass needs several batches
    return o;
  }
  void SetUp() override { ASSERT_TRUE(service_.EnsureDefaultCalendar().ok()); }
  void Receive(const std::string& code, absl::Time at, int days) {
    InboundEvent e;
    e.event_id = common::Version8Uuid(absl::StrCat("recv-", code));
    e.kind = InboundKind::kDossierReceived;
    e.occurred_at = at;
    e.dossier_code = code;
    e.agency = kWard;
    e.procedure_code = "1.001193";
    e.limit = absl::Hours(8 * days);
    ASSERT_TRUE(service_.HandleEvent(e).ok());
  }

  MemoryDeadlineStore store_;
  common::FakeClock clock_;
  DeadlineService service_;
};

TEST_F(ScannerTest, OnePassDrainsEveryDueClockAcrossBatches) {
  for (int i = 0; i < 30; ++i) {
    Receive(absl::StrCat("D", i), Vn(2026, 3, 9, 10, 0), 1);
  }
  int observed_batches = 0;
  Scanner scanner(service_, ScannerOptions(),
                  [&](const ScanResult&) { ++observed_batches; });
  clock_.Set(Vn(2026, 3, 11, 0, 0));
  absl::StatusOr<ScanResult> r = scanner.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->overdue, 30);
  EXPECT_EQ(observed_batches, 5);  // 7+7+7+7+2
  EXPECT_EQ(scanner.RunOnce()->claimed, 0);
  EXPECT_EQ(store_.Snapshot().outbox.size(), 30u);
}

TEST_F(ScannerTest, FutureCalendarVersionTakesEffectWhenItsDayComes) {
  Receive("D1", Vn(2026, 3, 9, 10, 0), 5);  // due Mon 16/3 10:00
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
  ASSERT_TRUE(data.ok());
  data->holidays.push_back({absl::CivilDay(2026, 3, 13),
                            absl::CivilDay(2026, 3, 13), "Nghỉ đột xuất", "",
                            false});
  absl::StatusOr<CalendarUpdate> u =
      service_.UpdateCalendar("vn", calendar::ToJson(*data),
                              Vn(2026, 3, 11, 0, 0), "admin", "QĐ trước");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->moved.empty());  // not effective yet
  Scanner scanner(service_, ScannerOptions());
  ASSERT_TRUE(scanner.RunOnce().ok());
  EXPECT_EQ(service_.GetClock("dossiers/D1")->due_at, Vn(2026, 3, 16, 10, 0));

  clock_.Set(Vn(2026, 3, 11, 0, 0));
  ASSERT_TRUE(scanner.RunOnce().ok());
  EXPECT_EQ(service_.GetClock("dossiers/D1")->due_at, Vn(2026, 3, 17, 10, 0));
  // Applied once: a second pass finds nothing pending.
  absl::StatusOr<CalendarActivation> again = service_.ActivateDueCalendars();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->moved.empty());
  EXPECT_TRUE(again->failed.empty());
}

// A stored version that no longer parses (written by an older release, or
// by hand) must not stop overdue detection nor the other calendars' changes.
TEST_F(ScannerTest, BadPendingCalendarNeitherStopsTheScanNorOtherCalendars) {
  Receive("D1", Vn(2026, 3, 9, 10, 0), 5);  // due Mon 16/3 10:00
  Receive("D2", Vn(2026, 3, 9, 10, 0), 1);  // due Tue 10/3 10:00
  ASSERT_TRUE(store_
                  .InTransaction([&](DeadlineTx& tx) {
                    CalendarVersion bad;
                    bad.calendar_id = "a-broken";  // activated before "vn"
                    bad.version = 1;
                    bad.effective_from = Vn(2026, 3, 10, 0, 0);
                    bad.json = "{not json";
                    bad.created_at = Vn(2026, 3, 9, 10, 0);
                    return tx.InsertCalendar(bad);
                  })
                  .ok());
  absl::StatusOr<calendar::CalendarData> data =
      calendar::ParseCalendarJson(calendar::DefaultCalendarJson());
  ASSERT_TRUE(data.ok());
  data->holidays.push_back({absl::CivilDay(2026, 3, 13),
                            absl::CivilDay(2026, 3, 13), "Nghỉ đột xuất", "",
                            false});
  ASSERT_TRUE(service_
                  .UpdateCalendar("vn", calendar::ToJson(*data),
                                  Vn(2026, 3, 11, 0, 0), "admin", "QĐ trước")
                  .ok());
  std::vector<std::string> failed;
  Scanner scanner(service_, ScannerOptions(), nullptr, nullptr,
                  [&](const std::string& id, const absl::Status& s) {
                    EXPECT_FALSE(s.ok());
                    failed.push_back(id);
                  });
  clock_.Set(Vn(2026, 3, 11, 0, 0));
  absl::StatusOr<ScanResult> r = scanner.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->overdue, 1);  // D2
  EXPECT_EQ(failed, std::vector<std::string>{"a-broken"});
  // vn's version took effect all the same.
  EXPECT_EQ(service_.GetClock("dossiers/D1")->due_at, Vn(2026, 3, 17, 10, 0));
  // The broken one stays pending, reported on every pass until repaired.
  ASSERT_TRUE(scanner.RunOnce().ok());
  EXPECT_EQ(failed.size(), 2u);
}

TEST_F(ScannerTest, BackgroundLoopStartsAndStops) {
  Receive("D1", Vn(2026, 3, 9, 10, 0), 1);
  clock_.Set(Vn(2026, 3, 11, 0, 0));
  absl::Mutex mu;
  int overdue = 0;
  ScannerOptions o;
  o.idle_wait = absl::Milliseconds(5);
  Scanner scanner(service_, o, [&](const ScanResult& r) {
    absl::MutexLock lock(&mu);
    overdue += r.overdue;
  });
  scanner.Start();
  {
    absl::MutexLock lock(&mu);
    // Waits for the loop's first pass (an event, not elapsed time).
    mu.Await(absl::Condition(
        +[](int* n) { return *n > 0; }, &overdue));
  }
  scanner.Stop();
  EXPECT_EQ(overdue, 1);
}

}  // namespace
}  // namespace lienthong::deadline
