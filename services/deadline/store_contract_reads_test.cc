// The DeadlineStore contract for what is read outside transactions: the
// clock lists, the open-clock counts, the agency tree and the on-time
// report, on both stores (store_contract_fixture.h).

#include <string>
#include <vector>

#include "services/deadline/store_contract_fixture.h"

namespace lienthong::deadline::contract {
namespace {

using ReadStoreContractTest = StoreContractTest;

// Reports count local days in Hà Nội.
const absl::TimeZone kHanoi = absl::FixedTimeZone(7 * 3600);

Clock WithUrgency(Clock c, Urgency u) {
  c.due_soon_fired = u != Urgency::kOnTrack;
  c.overdue_fired = u == Urgency::kOverdue;
  return c;
}

std::vector<std::string> Names(const absl::StatusOr<std::vector<Clock>>& cs) {
  EXPECT_THAT(cs, IsOk());
  std::vector<std::string> out;
  if (cs.ok()) {
    for (const Clock& c : *cs) out.push_back(c.name);
  }
  return out;
}

TEST_P(ReadStoreContractTest, ListClocksFiltersBySubtreeUrgencyKindAndState) {
  Clock paused = WithUrgency(OpenClock("P1", kWardA), Urgency::kOverdue);
  paused.state = ClockState::kPaused;
  Clock stopped = WithUrgency(OpenClock("S1", kWardA), Urgency::kOverdue);
  stopped.state = ClockState::kStopped;
  Clock leg = WithUrgency(OpenClock("A1", kWardA), Urgency::kOverdue);
  leg.name = "dossiers/A1/legs/ho-tich";
  leg.kind = ClockKind::kLeg;
  leg.leg_id = "ho-tich";
  Insert({WithUrgency(OpenClock("A1", kWardA), Urgency::kOverdue), leg,
          WithUrgency(OpenClock("A2", kWardA), Urgency::kDueSoon),
          WithUrgency(OpenClock("A3", kWardA), Urgency::kOnTrack),
          WithUrgency(OpenClock("B1", kWardB), Urgency::kOverdue),
          WithUrgency(OpenClock("C1", kDistrict2), Urgency::kOverdue),
          WithUrgency(OpenClock("K1", kCity), Urgency::kOverdue), paused,
          stopped});
  ClockQuery q;
  q.agency_subtree = kDistrict.code;
  EXPECT_THAT(
      Names(store().ListClocks(q)),
      ElementsAre("dossiers/A1", "dossiers/A1/legs/ho-tich", "dossiers/B1"));
  q.kind = ClockKind::kDossier;
  EXPECT_THAT(Names(store().ListClocks(q)),
              ElementsAre("dossiers/A1", "dossiers/B1"));
  q.kind = ClockKind::kLeg;
  EXPECT_THAT(Names(store().ListClocks(q)),
              ElementsAre("dossiers/A1/legs/ho-tich"));
  q.kind = absl::nullopt;
  q.urgency = Urgency::kDueSoon;  // due soon, not overdue
  EXPECT_THAT(Names(store().ListClocks(q)), ElementsAre("dossiers/A2"));
  q.urgency = Urgency::kOnTrack;
  EXPECT_THAT(Names(store().ListClocks(q)), ElementsAre("dossiers/A3"));
  q.urgency = Urgency::kOverdue;
  q.agency_subtree = kWardB.code;
  EXPECT_THAT(Names(store().ListClocks(q)), ElementsAre("dossiers/B1"));
  q.agency_subtree = kCity.code;
  EXPECT_THAT(Names(store().ListClocks(q)),
              ElementsAre("dossiers/A1", "dossiers/A1/legs/ho-tich",
                          "dossiers/B1", "dossiers/C1", "dossiers/K1"));
  q.agency_subtree = "000.99.99.H26";
  EXPECT_THAT(Names(store().ListClocks(q)), IsEmpty());
}

// Urgency is Clock::urgency(): overdue fired is overdue, whatever
// due_soon_fired says.
TEST_P(ReadStoreContractTest, ListClocksTakesOverdueFiredAsOverdue) {
  Clock c = OpenClock("A1", kWardA);
  c.overdue_fired = true;
  c.due_soon_fired = false;
  Insert({c});
  ClockQuery q;
  q.agency_subtree = kWardA.code;
  EXPECT_THAT(Names(store().ListClocks(q)), ElementsAre("dossiers/A1"));
  q.urgency = Urgency::kDueSoon;
  EXPECT_THAT(Names(store().ListClocks(q)), IsEmpty());
  q.urgency = Urgency::kOnTrack;
  EXPECT_THAT(Names(store().ListClocks(q)), IsEmpty());
}

TEST_P(ReadStoreContractTest, ListClocksPagesByDueTimeThenName) {
  std::vector<Clock> clocks;
  for (const auto& [dossier, hours] : std::vector<std::pair<std::string, int>>{
           {"D5", 1}, {"D2", 3}, {"D1", 3}, {"D4", 2}, {"D3", 3}}) {
    Clock c = WithUrgency(OpenClock(dossier, kWardA), Urgency::kOverdue);
    c.due_at = kT0 - absl::Hours(hours);
    clocks.push_back(c);
  }
  Insert(clocks);
  ClockQuery q;
  q.agency_subtree = kCity.code;
  q.page_size = 2;
  std::vector<std::string> pages;
  for (int i = 0; i < 5; ++i) {
    const absl::StatusOr<std::vector<Clock>> page = store().ListClocks(q);
    ASSERT_THAT(page, IsOk());
    pages.push_back(absl::StrJoin(Names(page), ","));
    if (page->size() < 2) break;
    q.after_due_at = page->back().due_at;
    q.after_name = page->back().name;
  }
  EXPECT_THAT(pages, ElementsAre("dossiers/D1,dossiers/D2",
                                 "dossiers/D3,dossiers/D4", "dossiers/D5"));
}

TEST_P(ReadStoreContractTest, CountOpenClocksByKindAndWhatTheyShow) {
  Clock paused = WithUrgency(OpenClock("P1", kWardA), Urgency::kOverdue);
  paused.state = ClockState::kPaused;
  Clock stopped = OpenClock("S1", kWardA);
  stopped.state = ClockState::kStopped;
  Clock leg = WithUrgency(OpenClock("A1", kWardA), Urgency::kDueSoon);
  leg.name = "dossiers/A1/legs/ho-tich";
  leg.kind = ClockKind::kLeg;
  Insert({OpenClock("A1", kWardA), OpenClock("A2", kWardB),
          WithUrgency(OpenClock("A3", kWardA), Urgency::kDueSoon),
          WithUrgency(OpenClock("A4", kCity), Urgency::kOverdue), paused,
          stopped, leg});
  EXPECT_THAT(store().CountOpenClocks(),
              OkAnd(UnorderedElementsAre(
                  SameCount({ClockKind::kDossier, "on_track", 2}),
                  SameCount({ClockKind::kDossier, "due_soon", 1}),
                  SameCount({ClockKind::kDossier, "overdue", 1}),
                  SameCount({ClockKind::kDossier, "paused", 1}),
                  SameCount({ClockKind::kLeg, "due_soon", 1}))));
}

TEST_P(ReadStoreContractTest, AgencyAncestorsAsTheLatestClockNamedThem) {
  using Path = absl::optional<std::vector<std::string>>;
  EXPECT_THAT(store().AgencyAncestors(kWardA.code), OkAnd(Path()));
  Clock stopped = OpenClock("A1", kWardA);
  stopped.state = ClockState::kStopped;  // still names its agency
  Insert({stopped});
  EXPECT_THAT(store().AgencyAncestors(kWardA.code),
              OkAnd(Path({kCity.code, kDistrict.code})));
  EXPECT_THAT(store().AgencyAncestors(kDistrict.code),
              OkAnd(Path({kCity.code})));
  EXPECT_THAT(store().AgencyAncestors(kCity.code),
              OkAnd(Path(std::vector<std::string>())));
  EXPECT_THAT(store().AgencyAncestors(kWardB.code), OkAnd(Path()));

  // Ward A moved to district 2: a later clock (whatever its name) says so.
  AgencyRef moved = kWardA;
  moved.ancestors = {kCity.code, kDistrict2.code};
  Insert({OpenClock("B1", moved)});
  EXPECT_THAT(store().AgencyAncestors(kWardA.code),
              OkAnd(Path({kCity.code, kDistrict2.code})));
  EXPECT_THAT(store().AgencyAncestors(kDistrict2.code),
              OkAnd(Path({kCity.code})));
}

// Reports: what ApplyReportDelta added, per agency subtree, local day and
// kind, grouped as asked.
class ReportContractTest : public ReadStoreContractTest {
 protected:
  // A clock started at `received` (counted received and open on time).
  Clock Start(const std::string& dossier, const AgencyRef& agency,
              absl::Time received, const std::string& procedure = "1.001193",
              ClockKind kind = ClockKind::kDossier) {
    Clock c = OpenClock(dossier, agency);
    c.kind = kind;
    if (kind == ClockKind::kLeg) c.name += "/legs/ho-tich";
    c.procedure_code = procedure;
    c.received_at = received;
    ReportDelta d;
    d.received = d.open_on_time = 1;
    Apply(c, d);
    return c;
  }
  // `c` finished at `at` as `outcome`.
  void Finish(Clock c, absl::Time at, Outcome outcome) {
    c.state = ClockState::kStopped;
    c.stopped_at = at;
    ReportDelta d;
    d.open_on_time = -1;
    (outcome == Outcome::kEarly    ? d.finished_early
     : outcome == Outcome::kOnTime ? d.finished_on_time
                                   : d.finished_late) = 1;
    Apply(c, d);
  }
  // `c` went overdue.
  void Overdue(const Clock& c) {
    ReportDelta d;
    d.open_on_time = -1;
    d.open_overdue = 1;
    Apply(c, d);
  }
  void Apply(const Clock& c, const ReportDelta& d) {
    ASSERT_THAT(
        Tx([&](DeadlineTx& tx) { return tx.ApplyReportDelta(c, d, kHanoi); }),
        IsOk());
  }
  std::vector<ReportRow> Report(const std::string& agency, absl::CivilDay first,
                                absl::CivilDay last,
                                ReportGroupBy group_by = ReportGroupBy::kNone,
                                ClockKind kind = ClockKind::kDossier) {
    ReportQuery q{agency, first, last, kind, group_by};
    absl::StatusOr<std::vector<ReportRow>> rows = store().Report(q);
    EXPECT_THAT(rows, IsOk());
    return rows.ok() ? *rows : std::vector<ReportRow>();
  }
};

ReportRow Row(const std::string& key, int64_t received, int64_t early,
              int64_t on_time, int64_t late, int64_t open_on_time,
              int64_t open_overdue) {
  return {key, received, early, on_time, late, open_on_time, open_overdue};
}

TEST_P(ReportContractTest, CountsPerSubtreeAndGroup) {
  const Clock a1 = Start("A1", kWardA, Vn(2026, 3, 9, 9, 0));
  const Clock a2 = Start("A2", kWardA, Vn(2026, 3, 9, 9, 0), "2.000001");
  const Clock b1 = Start("B1", kWardB, Vn(2026, 3, 10, 9, 0));
  const Clock d1 = Start("D1", kDistrict, Vn(2026, 3, 10, 9, 0));
  Start("C1", kDistrict2, Vn(2026, 3, 10, 9, 0));
  Start("L1", kWardA, Vn(2026, 3, 9, 9, 0), "1.001193", ClockKind::kLeg);
  Finish(a1, Vn(2026, 3, 11, 9, 0), Outcome::kEarly);
  Finish(b1, Vn(2026, 3, 12, 9, 0), Outcome::kLate);
  Overdue(a2);
  Finish(d1, Vn(2026, 3, 12, 9, 0), Outcome::kOnTime);
  const absl::CivilDay first(2026, 3, 1), last(2026, 3, 31);

  EXPECT_THAT(Report(kCity.code, first, last),
              ElementsAre(SameRow(Row("", 5, 1, 1, 1, 1, 1))));
  EXPECT_THAT(Report(kDistrict.code, first, last),
              ElementsAre(SameRow(Row("", 4, 1, 1, 1, 0, 1))));
  EXPECT_THAT(Report(kDistrict.code, first, last, ReportGroupBy::kAgency),
              ElementsAre(SameRow(Row(kDistrict.code, 1, 0, 1, 0, 0, 0)),
                          SameRow(Row(kWardA.code, 2, 1, 0, 0, 0, 1)),
                          SameRow(Row(kWardB.code, 1, 0, 0, 1, 0, 0))));
  EXPECT_THAT(Report(kCity.code, first, last, ReportGroupBy::kAgency),
              ElementsAre(SameRow(Row(kDistrict.code, 4, 1, 1, 1, 0, 1)),
                          SameRow(Row(kDistrict2.code, 1, 0, 0, 0, 1, 0))));
  EXPECT_THAT(Report(kCity.code, first, last, ReportGroupBy::kProcedure),
              ElementsAre(SameRow(Row("1.001193", 4, 1, 1, 1, 1, 0)),
                          SameRow(Row("2.000001", 1, 0, 0, 0, 0, 1))));
  // Rows in the order the header promises: codes in byte order, tiers from
  // the top (district before commune, which the alphabet would reverse).
  EXPECT_THAT(Report(kCity.code, first, last, ReportGroupBy::kTier),
              ElementsAre(SameRow(Row("district", 2, 0, 1, 0, 1, 0)),
                          SameRow(Row("commune", 3, 1, 0, 1, 0, 1))));
  EXPECT_THAT(
      Report(kWardA.code, first, last, ReportGroupBy::kNone, ClockKind::kLeg),
      ElementsAre(SameRow(Row("", 1, 0, 0, 0, 1, 0))));
  EXPECT_THAT(
      Report(kWardB.code, first, last, ReportGroupBy::kNone, ClockKind::kLeg),
      IsEmpty());
  EXPECT_THAT(Report("000.99.99.H26", first, last), IsEmpty());
}

// Received counts on the local day of receipt, finished on the local day it
// stopped; open counts are now, whatever the period.
TEST_P(ReportContractTest, PeriodsAreLocalDays) {
  // 00:30 on Tuesday 10/3 in Hà Nội: still Monday 9/3 in UTC.
  const Clock a1 = Start("A1", kWardA, Vn(2026, 3, 10, 0, 30));
  const Clock a2 = Start("A2", kWardA, Vn(2026, 3, 10, 9, 0));
  Start("A3", kWardA, Vn(2026, 3, 12, 9, 0));
  Finish(a1, Vn(2026, 3, 11, 0, 30), Outcome::kOnTime);
  Finish(a2, Vn(2026, 3, 12, 23, 59), Outcome::kLate);
  auto report = [&](int first, int last) {
    return Report(kWardA.code, absl::CivilDay(2026, 3, first),
                  absl::CivilDay(2026, 3, last));
  };
  EXPECT_THAT(report(9, 9), ElementsAre(SameRow(Row("", 0, 0, 0, 0, 1, 0))));
  EXPECT_THAT(report(10, 10), ElementsAre(SameRow(Row("", 2, 0, 0, 0, 1, 0))));
  EXPECT_THAT(report(11, 11), ElementsAre(SameRow(Row("", 0, 0, 1, 0, 1, 0))));
  EXPECT_THAT(report(11, 12), ElementsAre(SameRow(Row("", 1, 0, 1, 1, 1, 0))));
  EXPECT_THAT(report(9, 12), ElementsAre(SameRow(Row("", 3, 0, 1, 1, 1, 0))));
}

// A group where nothing finished in the period is a row with no finished
// (the server then says any_finished false), not a missing row.
TEST_P(ReportContractTest, GroupWithNothingFinishedStillHasItsRow) {
  const Clock a1 = Start("A1", kWardA, Vn(2026, 3, 9, 9, 0));
  Start("B1", kWardB, Vn(2026, 3, 9, 9, 0));
  Finish(a1, Vn(2026, 4, 1, 9, 0), Outcome::kEarly);
  EXPECT_THAT(Report(kDistrict.code, absl::CivilDay(2026, 3, 1),
                     absl::CivilDay(2026, 3, 31), ReportGroupBy::kAgency),
              ElementsAre(SameRow(Row(kWardA.code, 1, 0, 0, 0, 0, 0)),
                          SameRow(Row(kWardB.code, 1, 0, 0, 0, 1, 0))));
}

INSTANTIATE_TEST_SUITE_P(Stores, ReadStoreContractTest,
                         ::testing::ValuesIn(Backends()), BackendName);
INSTANTIATE_TEST_SUITE_P(Stores, ReportContractTest,
                         ::testing::ValuesIn(Backends()), BackendName);

}  // namespace
}  // namespace lienthong::deadline::contract
