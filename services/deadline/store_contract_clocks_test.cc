// The DeadlineStore contract for clocks, the inbox, the outbox, the audit
// trail and transactions, on both stores (store_contract_fixture.h).

#include <string>
#include <vector>

#include "services/deadline/store_contract_fixture.h"

namespace lienthong::deadline::contract {
namespace {

using ClockStoreContractTest = StoreContractTest;

// A running copy of FullClock under another leg: what the readers of open
// clocks return.
Clock RunningFullClock() {
  Clock c = FullClock("000.01.01.H26-260309-0001", "tu-phap");
  c.state = ClockState::kRunning;
  return c;
}

// Every member UpdateClock writes, moved to another non-default value.
void ChangeEveryMutableMember(Clock& c) {
  c.calendar_id = "vn";
  c.calendar_version = 4;
  c.cutoff_minute = 16 * 60;
  c.supplement_policy = SupplementPolicy::kRestart;
  for (absl::Time* t : {&c.received_at, &c.original_due_at, &c.run_started_at,
                        &c.counting_starts, &c.due_at, &c.due_soon_at,
                        &c.paused_at, &c.stopped_at}) {
    *t += absl::Hours(5) + absl::Microseconds(1);
  }
  c.consumed_before_run += absl::Hours(1) + absl::Microseconds(1);
  c.state = ClockState::kStopped;
  c.due_soon_fired = false;
  c.overdue_fired = false;
  c.stop_reason = StopReason::kRefused;
  c.outcome = Outcome::kEarly;
  c.new_appointment = *c.new_appointment + absl::Hours(1);
  c.next_fire_at = *c.next_fire_at + absl::Hours(1);
}

TEST_P(ClockStoreContractTest, InsertedClockReadsBackWhole) {
  Clock paused = FullClock();
  Clock running = RunningFullClock();
  paused.version = running.version = 7;  // InsertClock stores version 1
  Insert({paused, running});
  paused.version = running.version = 1;

  EXPECT_THAT(Get(paused.name), ::testing::Optional(SameClock(paused)));
  EXPECT_THAT(Get(running.name), ::testing::Optional(SameClock(running)));
  EXPECT_EQ(Get("dossiers/000.01.01.H26-260309-0001"), absl::nullopt);
  EXPECT_THAT(Read<std::vector<Clock>>([&](DeadlineTx& tx) {
                return tx.LockDossierClocks(paused.dossier_code);
              }),
              UnorderedElementsAre(SameClock(paused), SameClock(running)));
  // The readers of open clocks return the running one; ClaimDue goes by
  // next_fire_at alone, so it takes the paused one too.
  ClockQuery q;
  q.agency_subtree = kCity.code;
  EXPECT_THAT(store().ListClocks(q), OkAnd(ElementsAre(SameClock(running))));
  EXPECT_THAT(Read<std::vector<Clock>>([&](DeadlineTx& tx) {
                return tx.LockOpenClocksOfCalendar("vn-H26", "", 10);
              }),
              ElementsAre(SameClock(running)));
  EXPECT_THAT(Read<std::vector<Clock>>([&](DeadlineTx& tx) {
                return tx.ClaimDue(*running.next_fire_at, 10);
              }),
              UnorderedElementsAre(SameClock(paused), SameClock(running)));
}

TEST_P(ClockStoreContractTest, UpdateClockWritesEveryMutableMember) {
  Insert({FullClock()});
  const absl::optional<Clock> stored = Get(FullClock().name);
  ASSERT_TRUE(stored.has_value());
  Clock c = *stored;
  ChangeEveryMutableMember(c);
  ASSERT_THAT(Tx([&](DeadlineTx& tx) { return tx.UpdateClock(c); }), IsOk());
  EXPECT_EQ(c.version, 2);
  EXPECT_THAT(Get(c.name), ::testing::Optional(SameClock(c)));

  // And back to "none" for every optional member, twice in one transaction.
  Clock twice = c;
  ASSERT_THAT(Tx([&](DeadlineTx& tx) -> absl::Status {
                twice.state = ClockState::kRunning;
                if (absl::Status s = tx.UpdateClock(twice); !s.ok()) return s;
                twice.cutoff_minute = absl::nullopt;
                twice.paused_at = twice.stopped_at = absl::InfinitePast();
                twice.new_appointment = twice.next_fire_at = absl::nullopt;
                twice.stop_reason = StopReason::kNone;
                twice.outcome = Outcome::kNone;
                return tx.UpdateClock(twice);
              }),
              IsOk());
  EXPECT_EQ(twice.version, 4);
  EXPECT_THAT(Get(c.name), ::testing::Optional(SameClock(twice)));
  EXPECT_THAT(Read<std::vector<Clock>>([&](DeadlineTx& tx) {
                return tx.LockDossierClocks(c.dossier_code);
              }),
              ElementsAre(SameClock(twice)));
}

// What InsertClock fixed is the clock's identity: an UpdateClock naming
// another leaves it as inserted (the service never changes it).
TEST_P(ClockStoreContractTest, UpdateClockKeepsTheIdentityInsertFixed) {
  const Clock inserted = FullClock();
  Insert({inserted});
  Clock c = inserted;
  c.kind = ClockKind::kDossier;
  c.dossier_code = "000.02.01.H26-260309-0002";
  c.leg_id = "khac";
  c.agency = kWardB;
  c.procedure_code = "2.000001";
  c.limit = absl::Hours(8);
  c.due_at += absl::Hours(1);
  ASSERT_THAT(Tx([&](DeadlineTx& tx) { return tx.UpdateClock(c); }), IsOk());
  Clock want = inserted;
  want.due_at = c.due_at;
  want.version = 2;
  EXPECT_THAT(Get(inserted.name), ::testing::Optional(SameClock(want)));
}

TEST_P(ClockStoreContractTest, UpdateClockRefusesAStaleVersion) {
  Insert({FullClock()});
  const absl::optional<Clock> stored = Get(FullClock().name);
  ASSERT_TRUE(stored.has_value());
  const Clock first = *stored;
  Clock mine = first;
  mine.due_at += absl::Hours(1);
  ASSERT_THAT(Tx([&](DeadlineTx& tx) { return tx.UpdateClock(mine); }), IsOk());
  Clock stale = first;
  stale.due_at += absl::Hours(2);
  EXPECT_THAT(Tx([&](DeadlineTx& tx) { return tx.UpdateClock(stale); }),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(stale.version, 1);
  EXPECT_THAT(Get(first.name), ::testing::Optional(SameClock(mine)));

  Clock unknown = OpenClock("000.01.01.H26-260309-0009", kWardA);
  EXPECT_THAT(Tx([&](DeadlineTx& tx) { return tx.UpdateClock(unknown); }),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(Get(unknown.name), absl::nullopt);
}

TEST_P(ClockStoreContractTest, InsertClockRefusesATakenName) {
  const Clock first = FullClock();
  Insert({first});
  Clock again = RunningFullClock();
  again.name = first.name;
  EXPECT_THAT(Tx([&](DeadlineTx& tx) { return tx.InsertClock(again); }),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(Get(first.name), ::testing::Optional(SameClock(first)));
}

TEST_P(ClockStoreContractTest, MarkInboundIsTrueOncePerEventId) {
  const std::string a = common::Version8Uuid("recv-D1");
  const std::string b = common::Version8Uuid("recv-D2");
  ASSERT_THAT(Tx([&](DeadlineTx& tx) -> absl::Status {
                EXPECT_THAT(tx.MarkInbound(a), OkAnd(true));
                EXPECT_THAT(tx.MarkInbound(a), OkAnd(false));
                EXPECT_THAT(tx.MarkInbound(b), OkAnd(true));
                return absl::OkStatus();
              }),
              IsOk());
  // A redelivery, in a later transaction.
  EXPECT_THAT(Read<bool>([&](DeadlineTx& tx) { return tx.MarkInbound(a); }),
              false);
  EXPECT_THAT(Read<bool>([&](DeadlineTx& tx) {
                return tx.MarkInbound(common::Version8Uuid("recv-D3"));
              }),
              true);
}

// Events carry UUIDs; anything else is the event's fault, for ever.
TEST_P(ClockStoreContractTest, MarkInboundRefusesAnIdThatIsNoUuid) {
  EXPECT_THAT(
      Tx([&](DeadlineTx& tx) { return tx.MarkInbound("recv-D1").status(); }),
      StatusHasReason(absl::StatusCode::kInvalidArgument, "INVALID_EVENT"));
}

TEST_P(ClockStoreContractTest, FailedTransactionLeavesNothingBehind) {
  const std::string event = common::Version8Uuid("recv-D1");
  const Clock c = OpenClock("000.01.01.H26-260309-0001", kWardA);
  const absl::Status s = Tx([&](DeadlineTx& tx) -> absl::Status {
    EXPECT_THAT(tx.MarkInbound(event), OkAnd(true));
    EXPECT_THAT(tx.InsertClock(c), IsOk());
    ReportDelta d;
    d.received = d.open_on_time = 1;
    EXPECT_THAT(tx.ApplyReportDelta(c, d, absl::FixedTimeZone(7 * 3600)),
                IsOk());
    EXPECT_THAT(
        tx.AppendOutbox({common::Version8Uuid("out-1"), "t", "p", {"notify"}}),
        IsOk());
    EXPECT_THAT(
        tx.AppendAudit({"a", "UpdateCalendar", "calendars/vn", "{}", kT0}),
        IsOk());
    EXPECT_THAT(tx.InsertCalendar(Version("vn", 1, kT0)), IsOk());
    return common::Aborted("TEST", "rolled back");
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted));

  EXPECT_EQ(Get(c.name), absl::nullopt);
  EXPECT_THAT(Read<bool>([&](DeadlineTx& tx) { return tx.MarkInbound(event); }),
              true);
  EXPECT_THAT(harness_->Outbox(), IsEmpty());
  EXPECT_THAT(harness_->Audit(), IsEmpty());
  EXPECT_THAT(store().ListCalendars(), OkAnd(IsEmpty()));
  EXPECT_THAT(store().CountOpenClocks(), OkAnd(IsEmpty()));
  EXPECT_THAT(store().AgencyAncestors(kWardA.code),
              OkAnd(absl::optional<std::vector<std::string>>()));
  ReportQuery q;
  q.agency_subtree = kCity.code;
  q.first_day = q.last_day = absl::CivilDay(2026, 3, 9);
  EXPECT_THAT(store().Report(q), OkAnd(IsEmpty()));
}

// A dossier's own clock and its legs', whatever their state; not those of
// a dossier whose code it begins.
TEST_P(ClockStoreContractTest, LockDossierClocksTakesTheDossierAndItsLegs) {
  Clock leg = OpenClock("D1", kWardB);
  leg.name = "dossiers/D1/legs/ho-tich";
  leg.kind = ClockKind::kLeg;
  leg.leg_id = "ho-tich";
  leg.state = ClockState::kStopped;
  const Clock d1 = OpenClock("D1", kWardA);
  Insert({OpenClock("D10", kWardA), leg, d1, OpenClock("D2", kWardA)});
  EXPECT_THAT(Read<std::vector<Clock>>(
                  [&](DeadlineTx& tx) { return tx.LockDossierClocks("D1"); }),
              UnorderedElementsAre(SameClock(d1), SameClock(leg)));
  EXPECT_THAT(Read<std::vector<Clock>>(
                  [&](DeadlineTx& tx) { return tx.LockDossierClocks("D3"); }),
              IsEmpty());
}

TEST_P(ClockStoreContractTest, ClaimDueTakesWhatIsDueByNowInFiringOrder) {
  std::vector<Clock> clocks;
  auto add = [&](const std::string& dossier,
                 absl::optional<absl::Time> next_fire_at) {
    Clock c = OpenClock(dossier, kWardA);
    c.next_fire_at = next_fire_at;
    clocks.push_back(c);
  };
  add("D1", kT0 - absl::Hours(1));
  add("D2", kT0);  // due exactly now
  add("D3", kT0 - absl::Hours(2));
  add("D4", kT0 + absl::Microseconds(1));
  add("D5", absl::nullopt);  // nothing left to fire
  Insert(clocks);
  auto names = [&](int limit) {
    std::vector<std::string> out;
    for (const Clock& c : Read<std::vector<Clock>>(
             [&](DeadlineTx& tx) { return tx.ClaimDue(kT0, limit); })) {
      out.push_back(c.dossier_code);
    }
    return out;
  };
  EXPECT_THAT(names(10), ElementsAre("D3", "D1", "D2"));
  EXPECT_THAT(names(2), ElementsAre("D3", "D1"));
}

TEST_P(ClockStoreContractTest, LockOpenClocksOfCalendarPagesRunningByName) {
  Clock paused = OpenClock("D4", kWardA);
  paused.state = ClockState::kPaused;
  paused.next_fire_at = absl::nullopt;
  Clock stopped = OpenClock("D5", kWardA);
  stopped.state = ClockState::kStopped;
  stopped.next_fire_at = absl::nullopt;
  Clock other = OpenClock("D6", kWardA);
  other.calendar_id = "vn-H26";
  Clock leg = OpenClock("D1", kWardA);
  leg.name = "dossiers/D1/legs/ho-tich";
  leg.kind = ClockKind::kLeg;
  leg.leg_id = "ho-tich";
  Insert({OpenClock("D3", kWardB), paused, stopped, other, leg,
          OpenClock("D1", kWardA), OpenClock("D10", kCity)});
  auto names = [&](const std::string& after, int limit) {
    std::vector<std::string> out;
    for (const Clock& c : Read<std::vector<Clock>>([&](DeadlineTx& tx) {
           return tx.LockOpenClocksOfCalendar("vn", after, limit);
         })) {
      out.push_back(c.name);
    }
    return out;
  };
  EXPECT_THAT(names("", 10),
              ElementsAre("dossiers/D1", "dossiers/D1/legs/ho-tich",
                          "dossiers/D10", "dossiers/D3"));
  EXPECT_THAT(names("", 2),
              ElementsAre("dossiers/D1", "dossiers/D1/legs/ho-tich"));
  EXPECT_THAT(names("dossiers/D1/legs/ho-tich", 2),
              ElementsAre("dossiers/D10", "dossiers/D3"));
  EXPECT_THAT(names("dossiers/D3", 2), IsEmpty());
}

TEST_P(ClockStoreContractTest, AppendedEventsAndAuditCommitWhole) {
  const OutgoingEvent overdue{common::Version8Uuid("overdue-D1"),
                              "deadline.clock_overdue",
                              std::string("bytes\0with a NUL", 15),
                              {"notify", "intake"}};
  const OutgoingEvent moved{common::Version8Uuid("moved-D1"),
                            "deadline.appointment_moved",
                            "x",
                            {"intake"}};
  AuditEntry change{"000.00.00.H26/admin", "UpdateCalendar", "calendars/vn",
                    "{\"version\":2}", kT0};
  change.peer = "ipv4:10.0.0.7:51234";
  AuditEntry denied{"000.01.01.H26/officer", "GetOnTimeReport",
                    "agencies/000.00.00.H26", "{}", kT0 + absl::Seconds(1)};
  denied.outcome = "PERMISSION_DENIED";
  ASSERT_THAT(Tx([&](DeadlineTx& tx) -> absl::Status {
                EXPECT_THAT(tx.AppendOutbox(overdue), IsOk());
                EXPECT_THAT(tx.AppendAudit(change), IsOk());
                EXPECT_THAT(tx.AppendOutbox(moved), IsOk());
                return tx.AppendAudit(denied);
              }),
              IsOk());
  EXPECT_THAT(harness_->Outbox(),
              ElementsAre(SameEvent(overdue), SameEvent(moved)));
  EXPECT_THAT(harness_->Audit(),
              ElementsAre(SameAudit(change), SameAudit(denied)));
}

INSTANTIATE_TEST_SUITE_P(Stores, ClockStoreContractTest,
                         ::testing::ValuesIn(Backends()), BackendName);

}  // namespace
}  // namespace lienthong::deadline::contract
