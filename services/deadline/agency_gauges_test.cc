// The per-agency gauges over real PostgreSQL, fed by the real service.

#include "services/deadline/agency_gauges.h"

#include "gtest/gtest.h"
#include "libs/calendar/test_calendars.h"
#include "libs/common/uuid.h"
#include "libs/metrics/metrics.h"
#include "services/deadline/deadline_service.h"
#include "services/deadline/pg_deadline_store.h"
#include "services/deadline/pg_test_db.h"
#include "services/deadline/test_agencies.h"

namespace lienthong::deadline {
namespace {

using calendar::testing::Vn;

OutgoingEvent Encode(const ClockNotice& n) {
  return OutgoingEvent{
      common::NewUuid(), UrgencyName(n.urgency), n.clock.name, {"notify"}};
}

// Dossier `code`'s event of `kind` at `agency`, now, for procedure LT.01
// with `days` working days.
void Send(DeadlineService& service, const common::Clock& clock,
          const std::string& code, const AgencyRef& agency, InboundKind kind,
          int days) {
  InboundEvent e;
  e.event_id = common::NewUuid();
  e.kind = kind;
  e.occurred_at = clock.Now();
  e.dossier_code = code;
  e.agency = agency;
  e.procedure_code = "LT.01";
  e.limit = absl::Hours(8 * days);
  ASSERT_TRUE(service.HandleEvent(e).ok()) << code;
}

double Ratio(const std::string& agency, const std::string& tier) {
  return metrics::Gauge("lienthong_deadline_on_time_ratio", "")
      .Add({{"agency", agency}, {"tier", tier}})
      .Value();
}

// Whether the gauge has a series for `agency` (Ratio() would add one).
bool HasRatio(const std::string& agency) {
  for (const auto& f :
       metrics::Gauge("lienthong_deadline_on_time_ratio", "").Collect()) {
    for (const auto& m : f.metric) {
      for (const auto& l : m.label) {
        if (l.name == "agency" && l.value == agency) return true;
      }
    }
  }
  return false;
}

TEST(AgencyGaugesTest, AWardThatFinishedNothingHasNoRatio) {
  common::FakeClock clock(Vn(2026, 3, 2, 9, 0));
  auto pool = test::FreshPool();
  PgDeadlineStore store(*pool, clock);
  DeadlineService service(store, clock, Encode);
  ASSERT_TRUE(service.EnsureDefaultCalendar().ok());
  auto send = [&](const std::string& code, const AgencyRef& a, InboundKind kind,
                  int days = 1) { Send(service, clock, code, a, kind, days); };
  // Ward A received three and finished none (all overdue a week on); ward
  // B finished its one on time.
  for (const char* code : {"A1", "A2", "A3"}) {
    send(code, kWardA, InboundKind::kDossierReceived);
  }
  send("B1", kWardB, InboundKind::kDossierReceived);
  clock.Set(Vn(2026, 3, 2, 15, 0));
  send("B1", kWardB, InboundKind::kDossierCompleted);
  clock.Set(Vn(2026, 3, 9, 9, 0));
  ASSERT_TRUE(UpdateAgencyGauges(*pool, clock.Now()).ok());
  // Not 1.0: that would rank A as the best ward and keep it out of the
  // dashboard's bottomk of the worst.
  EXPECT_FALSE(HasRatio(kWardA.code));
  ASSERT_TRUE(HasRatio(kWardB.code));
  EXPECT_DOUBLE_EQ(Ratio(kWardB.code, "commune"), 1.0);
  EXPECT_DOUBLE_EQ(Ratio(kDistrict.code, "district"), 1.0);
}

TEST(AgencyGaugesTest, OnTimeRatioRollsUpAndDueSoonCountsPerAgency) {
  common::FakeClock clock(Vn(2026, 3, 2, 9, 0));
  auto pool = test::FreshPool();
  PgDeadlineStore store(*pool, clock);
  DeadlineService service(store, clock, Encode);
  ASSERT_TRUE(service.EnsureDefaultCalendar().ok());
  auto received = [&](const std::string& code, const AgencyRef& a, int days) {
    Send(service, clock, code, a, InboundKind::kDossierReceived, days);
  };
  auto finish = [&](const std::string& code, InboundKind kind) {
    InboundEvent e;
    e.event_id = common::NewUuid();
    e.kind = kind;
    e.dossier_code = code;
    e.occurred_at = clock.Now();
    ASSERT_TRUE(service.HandleEvent(e).ok());
  };
  received("A", kWardA, 1);  // finished on time
  received("B", kWardB, 1);  // finished late
  received("C", kWardA, 5);  // still open, will be due soon
  clock.Set(Vn(2026, 3, 2, 16, 0));
  finish("A", InboundKind::kDossierCompleted);
  clock.Set(Vn(2026, 3, 4, 9, 0));
  finish("B", InboundKind::kDossierCompleted);
  // C is due Monday 9:00 (5 days); on Friday afternoon it is due soon.
  clock.Set(Vn(2026, 3, 6, 16, 0));
  ASSERT_TRUE(UpdateAgencyGauges(*pool, clock.Now()).ok());
  EXPECT_DOUBLE_EQ(Ratio(kWardA.code, "commune"), 1.0);
  EXPECT_DOUBLE_EQ(Ratio(kWardB.code, "commune"), 0.0);
  EXPECT_DOUBLE_EQ(Ratio(kDistrict.code, "district"), 0.5);
  EXPECT_DOUBLE_EQ(Ratio(kCity.code, "province"), 0.5);
  auto due_soon = [](const std::string& agency) {
    return metrics::Gauge("lienthong_deadline_due_soon", "")
        .Add({{"agency", agency}})
        .Value();
  };
  EXPECT_DOUBLE_EQ(due_soon(kWardA.code), 1.0);

  // C finishes: ward A has nothing due soon any more. Forty days on, no
  // dossier finished in the window: no ward keeps its old ratio.
  finish("C", InboundKind::kDossierCompleted);
  ASSERT_TRUE(UpdateAgencyGauges(*pool, clock.Now()).ok());
  EXPECT_DOUBLE_EQ(due_soon(kWardA.code), 0.0);
  clock.Set(Vn(2026, 4, 20, 9, 0));
  ASSERT_TRUE(UpdateAgencyGauges(*pool, clock.Now()).ok());
  int ratios = 0;
  for (const auto& f :
       metrics::Gauge("lienthong_deadline_on_time_ratio", "").Collect()) {
    ratios += static_cast<int>(f.metric.size());
  }
  EXPECT_EQ(ratios, 0);
}

double Overdue(const std::string& agency) {
  return metrics::Gauge("lienthong_deadline_overdue_clocks", "")
      .Add({{"agency", agency}})
      .Value();
}

TEST(AgencyGaugesTest, OverdueCountsRunningClocksPerAgency) {
  common::FakeClock clock(Vn(2026, 3, 2, 9, 0));  // Monday
  auto pool = test::FreshPool();
  PgDeadlineStore store(*pool, clock);
  DeadlineService service(store, clock, Encode);
  ASSERT_TRUE(service.EnsureDefaultCalendar().ok());
  auto send = [&](const std::string& code, const AgencyRef& a, InboundKind kind,
                  int days = 1) { Send(service, clock, code, a, kind, days); };
  // Due Tuesday 9:00, but B1 waits for the citizen's supplement; B2 has
  // five days.
  send("A1", kWardA, InboundKind::kDossierReceived);
  send("A2", kWardA, InboundKind::kDossierReceived);
  send("B1", kWardB, InboundKind::kDossierReceived);
  send("B2", kWardB, InboundKind::kDossierReceived, 5);
  clock.Set(Vn(2026, 3, 2, 15, 0));
  send("B1", kWardB, InboundKind::kSupplementRequested);
  clock.Set(Vn(2026, 3, 3, 8, 59));
  ASSERT_TRUE(UpdateAgencyGauges(*pool, clock.Now()).ok());
  EXPECT_DOUBLE_EQ(Overdue(kWardA.code), 0.0);
  // At the due instant itself a dossier is still on time (as the scanner
  // and Stop count it): due soon, not overdue.
  clock.Set(Vn(2026, 3, 3, 9, 0));
  ASSERT_TRUE(UpdateAgencyGauges(*pool, clock.Now()).ok());
  EXPECT_DOUBLE_EQ(Overdue(kWardA.code), 0.0);
  EXPECT_DOUBLE_EQ(metrics::Gauge("lienthong_deadline_due_soon", "")
                       .Add({{"agency", kWardA.code}})
                       .Value(),
                   2.0);

  clock.Set(Vn(2026, 3, 4, 9, 0));  // Wednesday
  ASSERT_TRUE(UpdateAgencyGauges(*pool, clock.Now()).ok());
  EXPECT_DOUBLE_EQ(Overdue(kWardA.code), 2.0);
  EXPECT_DOUBLE_EQ(Overdue(kWardB.code), 0.0);  // paused, not yet due
  // By responsible agency, not rolled up: one series per agency code.
  for (const auto& f :
       metrics::Gauge("lienthong_deadline_overdue_clocks", "").Collect()) {
    for (const auto& m : f.metric) {
      ASSERT_EQ(m.label.size(), 1u);
      EXPECT_EQ(m.label[0].name, "agency");
      EXPECT_NE(m.label[0].value, kDistrict.code);
    }
  }

  // Finished late, they are no longer overdue: the series goes to 0, not
  // stays at its last count.
  send("A1", kWardA, InboundKind::kDossierCompleted);
  ASSERT_TRUE(UpdateAgencyGauges(*pool, clock.Now()).ok());
  EXPECT_DOUBLE_EQ(Overdue(kWardA.code), 1.0);
  send("A2", kWardA, InboundKind::kDossierCompleted);
  ASSERT_TRUE(UpdateAgencyGauges(*pool, clock.Now()).ok());
  EXPECT_DOUBLE_EQ(Overdue(kWardA.code), 0.0);
}

}  // namespace
}  // namespace lienthong::deadline
