// intake's calendar copies: fetched from the deadline service's
// ListCalendars (a fake DeadlineService on a loopback port), stored in
// intake.calendar_cache, kept while the deadline service is down, and the
// receiving agency's stamped on each dossier with the appointment it gave.

#include <vector>

#include "gmock/gmock.h"
#include "libs/common/errors.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/metrics/metrics.h"
#include "services/intake/calendar_source.h"
#include "services/intake/intake_calendar_fixture.h"

namespace lienthong::intake {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace testing_support;  // NOLINT

TEST_F(IntakeCalendarTest, FetchesStoresAndStampsTheDeadlineServicesVersion) {
  deadline_.Add("vn", 6, Doc("vn"));
  deadline_.Add("vn", 7, Doc("vn"));
  // Nothing stored yet: the bundled copy.
  std::shared_ptr<CalendarCache> cache = Restart();
  EXPECT_THAT(Held(*cache), ElementsAre("vn@bundled"));

  CalendarRefresher refresher = Refresher(cache.get());
  absl::StatusOr<CalendarRefresh> got = refresher.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn@7"));
  EXPECT_THAT(Held(*cache), ElementsAre("vn@7"));
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn vn@7"));
  // The same version again: nothing to install.
  got = refresher.RunOnce();
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(got->installed, IsEmpty());

  // A dossier received now records the calendar version it was timed with.
  IntakeOptions options = Replica::Options();
  options.calendars = cache;
  Replica r(dsn_, clock_, options);
  EXPECT_EQ(SubmitAt(r, kTayMo, kTayMo).calendar_version(), "vn@7");

  // A restart while the deadline service is away starts from the stored copy.
  deadline_.down = true;
  std::shared_ptr<CalendarCache> restarted = Restart();
  EXPECT_THAT(Held(*restarted), ElementsAre("vn@7"));
  CalendarRefresher after = Refresher(restarted.get());
  EXPECT_EQ(after.RunOnce().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Held(*restarted), ElementsAre("vn@7"));
}

TEST_F(IntakeCalendarTest,
       AProvinceCalendarTimesItsAgenciesDossiersAlsoAfterARestart) {
  SeedOtherProvince();
  deadline_.Add("vn", 3, Doc("vn"));
  deadline_.Add("vn-H26", 1, Doc("vn-H26", /*day_off=*/true));
  std::shared_ptr<CalendarCache> cache = Restart();
  absl::StatusOr<CalendarRefresh> got = Refresher(cache.get()).RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn@3", "vn-H26@1"));
  EXPECT_THAT(Stored(),
              ElementsAre("calendars/vn vn@3", "calendars/vn-H26 vn-H26@1"));

  // Checks dossiers received through `r`, in both provinces.
  auto check = [&](Replica& r) {
    // A Hà Nội ward: the province calendar skips its day off.
    const v1::Dossier hanoi = SubmitAt(r, kTayMo, kTayMo);
    EXPECT_EQ(hanoi.calendar_version(), "vn-H26@1");
    EXPECT_EQ(grpc_util::FromProto(hanoi.appointment_time()), Vn(27, 9));
    // Another Hà Nội ward's counter: the same calendar.
    const v1::Dossier ha_dinh = SubmitAt(r, kHaDinh, kHaDinh);
    EXPECT_EQ(ha_dinh.calendar_version(), "vn-H26@1");
    // Another province has no calendar of its own: "vn", no day off.
    const v1::Dossier other = SubmitAt(r, kOtherProvinceUnit, kOtherProvince);
    EXPECT_EQ(other.calendar_version(), "vn@3");
    EXPECT_EQ(grpc_util::FromProto(other.appointment_time()), Vn(26, 9));
    // Again at the same counters: now built ahead of the batch, against
    // the catalog the server cached (PrepareAhead), with the same
    // calendars.
    const v1::Dossier hanoi_again = SubmitAt(r, kTayMo, kTayMo);
    EXPECT_EQ(hanoi_again.calendar_version(), "vn-H26@1");
    EXPECT_EQ(grpc_util::FromProto(hanoi_again.appointment_time()), Vn(27, 9));
    const v1::Dossier other_again =
        SubmitAt(r, kOtherProvinceUnit, kOtherProvince);
    EXPECT_EQ(other_again.calendar_version(), "vn@3");
    EXPECT_EQ(grpc_util::FromProto(other_again.appointment_time()), Vn(26, 9));
    // What is stored is what was answered.
    for (const v1::Dossier& d :
         {hanoi, ha_dinh, other, hanoi_again, other_again}) {
      const v1::Dossier stored = GetAsAdmin(r, d.name());
      EXPECT_EQ(stored.calendar_version(), d.calendar_version()) << d.code();
      EXPECT_EQ(stored.appointment_time().seconds(),
                d.appointment_time().seconds())
          << d.code();
    }
  };
  {
    IntakeOptions options = Replica::Options();
    options.calendars = cache;
    Replica r(dsn_, clock_, options);
    check(r);
  }

  // Restarted while the deadline service is down: the stored copies, the
  // province's included, and the same appointments.
  deadline_.down = true;
  std::shared_ptr<CalendarCache> restarted = Restart();
  EXPECT_THAT(Held(*restarted), ElementsAre("vn@3", "vn-H26@1"));
  EXPECT_EQ(Refresher(restarted.get()).RunOnce().status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_THAT(Held(*restarted), ElementsAre("vn@3", "vn-H26@1"));
  IntakeOptions options = Replica::Options();
  options.calendars = restarted;
  Replica r(dsn_, clock_, options);
  check(r);
}

TEST_F(IntakeCalendarTest, AProcedureNamingACalendarIsTimedByIt) {
  SeedOtherProvince();
  deadline_.Add("vn", 3, Doc("vn"));
  deadline_.Add("vn-H26", 1, Doc("vn-H26", /*day_off=*/true));
  // The procedure's own calendar takes Tuesday and Wednesday off.
  deadline_.Add("vn-ho-tich", 1,
                DocWithDaysOff("vn-ho-tich", {absl::CivilDay(2026, 11, 24),
                                              absl::CivilDay(2026, 11, 25)}));
  std::shared_ptr<CalendarCache> cache = Restart();
  ASSERT_TRUE(Refresher(cache.get()).RunOnce().ok());
  IntakeOptions options = Replica::Options();
  options.calendars = cache;
  Replica r(dsn_, clock_, options);

  v1::Procedure lt01;
  const auto seed = FromJson<v1::ListProceduresResponse>(
      ReadSource("data/seed/procedures.json"));
  for (const auto& p : seed.procedures()) {
    if (p.code() == "LT.01") lt01 = p;
  }
  ASSERT_EQ(lt01.code(), "LT.01");
  grpc_util::ToProto(clock_.Now(), lt01.mutable_effective_time());
  const auto upsert = [&](Replica& at, const std::string& calendar,
                          const std::string& request_id) {
    grpc::ClientContext ctx;
    As(ctx, "admin", "000.00.00.H26");
    v1::UpsertProcedureRequest req;
    *req.mutable_procedure() = lt01;
    req.mutable_procedure()->set_calendar(calendar);
    req.set_request_id(request_id);
    v1::UpsertProcedureResponse resp;
    return grpc_util::FromGrpcStatus(
        at.stub->UpsertProcedure(&ctx, req, &resp));
  };
  // A calendar intake does not hold: refused, naming it.
  const absl::Status unknown =
      upsert(r, "calendars/vn-khong-co", common::NewUuid());
  EXPECT_EQ(unknown.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(common::GetErrorDetails(unknown).reason, "CALENDAR_NOT_FOUND");
  EXPECT_THAT(std::string(unknown.message()),
              ::testing::HasSubstr("calendars/vn-khong-co"));
  const std::string request_id = common::NewUuid();
  ASSERT_TRUE(upsert(r, "calendars/vn-ho-tich", request_id).ok());
  // Its retry reaching a replica that holds only vn (a_) gets the first
  // answer, not CALENDAR_NOT_FOUND.
  const absl::Status retry = upsert(*a_, "calendars/vn-ho-tich", request_id);
  EXPECT_TRUE(retry.ok()) << retry;
  EXPECT_EQ(upsert(*a_, "calendars/vn-ho-tich", common::NewUuid()).code(),
            absl::StatusCode::kFailedPrecondition);

  // Monday 09:00 + 3 working days without Tuesday and Wednesday: Monday
  // 30/11, in Hà Nội (whose own calendar would give Friday) as elsewhere,
  // through the batch and then built ahead of it.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [agency, caller] :
         {std::pair<std::string, std::string>{kTayMo, kTayMo},
          {kOtherProvinceUnit, kOtherProvince}}) {
      const v1::Dossier d = SubmitAt(r, agency, caller);
      EXPECT_EQ(d.calendar_version(), "vn-ho-tich@1") << agency;
      EXPECT_EQ(grpc_util::FromProto(d.appointment_time()), Vn(30, 9))
          << agency;
    }
  }
}

TEST_F(IntakeCalendarTest, ADossierBuiltAheadFollowsTheCalendarsOfItsBatch) {
  deadline_.Add("vn", 3, Doc("vn"));
  std::shared_ptr<CalendarCache> cache = Restart();
  ASSERT_TRUE(Refresher(cache.get()).RunOnce().ok());
  IntakeOptions options = Replica::Options();
  options.calendars = cache;
  // Hà Nội's calendar arrives after the call was built (ahead, on its own
  // thread) and before its batch runs.
  bool arrive = false;
  options.before_submit_batch_for_testing = [&] {
    if (!arrive) return;
    arrive = false;
    deadline_.Add("vn-H26", 1, Doc("vn-H26", /*day_off=*/true));
    absl::StatusOr<CalendarRefresh> got = Refresher(cache.get()).RunOnce();
    EXPECT_TRUE(got.ok() &&
                got->installed == std::vector<std::string>{"vn-H26@1"});
  };
  Replica r(dsn_, clock_, options);
  // The first call reads the catalog in its batch; later ones are built
  // ahead against the catalog it cached.
  EXPECT_EQ(SubmitAt(r, kTayMo, kTayMo).calendar_version(), "vn@3");
  arrive = true;
  const v1::Dossier d = SubmitAt(r, kTayMo, kTayMo);
  EXPECT_FALSE(arrive) << "the batch hook did not run";
  EXPECT_EQ(d.calendar_version(), "vn-H26@1");
  EXPECT_EQ(grpc_util::FromProto(d.appointment_time()), Vn(27, 9));
  EXPECT_EQ(GetAsAdmin(r, d.name()).calendar_version(), "vn-H26@1");
}

TEST_F(IntakeCalendarTest, AStoredCopyIsNeverReplacedByAnOlderVersion) {
  const auto store = [&](const std::string& version) {
    ASSERT_TRUE(
        StoreCalendar(pool_, clock_, {"vn-H26", Doc("vn-H26"), version}).ok());
  };
  store("vn-H26@2");
  // A replica that fetched before version 2 came into force, storing late.
  store("vn-H26@1");
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn-H26 vn-H26@2"));
  store("vn-H26@10");  // numbers, not text, are compared
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn-H26 vn-H26@10"));
}

TEST_F(IntakeCalendarTest, AnInvalidCalendarIsSkippedAndTheOthersInstall) {
  deadline_.Add("vn", 8, R"({"id": "vn", "holiday": []})");
  deadline_.Add("vn-H26", 1, Doc("vn-H26", true));
  deadline_.Add("vn-H27", 1, "");  // a version without its document
  auto cache = Restart();
  absl::StatusOr<CalendarRefresh> got = Refresher(cache.get()).RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn-H26@1"));
  ASSERT_EQ(got->invalid.size(), 2u);
  EXPECT_EQ(got->invalid[0].version, "vn@8");
  EXPECT_EQ(got->invalid[1].version, "vn-H27@1");
  EXPECT_THAT(Held(*cache), ElementsAre("vn@bundled", "vn-H26@1"));
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn-H26 vn-H26@1"));
}

TEST_F(IntakeCalendarTest, AStoredCopyThatNoLongerParsesIsSkipped) {
  ASSERT_TRUE(StoreCalendar(pool_, clock_, {"vn", "{ not json", "vn@9"}).ok());
  ASSERT_TRUE(
      StoreCalendar(pool_, clock_, {"vn-H26", Doc("vn-H26", true), "vn-H26@2"})
          .ok());
  // A valid document, but of another calendar than the row says.
  ASSERT_TRUE(
      StoreCalendar(pool_, clock_, {"vn-H27", Doc("vn"), "vn-H27@1"}).ok());
  // Upcoming versions: one that does not parse, and a valid one.
  CalendarCopy broken{"vn-H26", "{", "vn-H26@3", Vn(24, 0)};
  ASSERT_TRUE(StoreCalendar(pool_, clock_, broken).ok());
  CalendarCopy next{"vn-H26", Doc("vn-H26"), "vn-H26@4", Vn(25, 0)};
  ASSERT_TRUE(StoreCalendar(pool_, clock_, next).ok());
  // "vn" falls back to the bundled copy; the valid province copies are
  // used.
  auto restarted = Restart();
  EXPECT_THAT(Held(*restarted), ElementsAre("vn@bundled", "vn-H26@2"));
  EXPECT_THAT(HeldUpcoming(*restarted), ElementsAre("vn-H26@4 from 25 00:00"));
}

TEST_F(IntakeCalendarTest, ACalendarDeletedOnTheDeadlineSideIsDropped) {
  deadline_.Add("vn", 3, Doc("vn"));
  deadline_.Add("vn-H26", 1, Doc("vn-H26", true));
  deadline_.Add("vn-H26", 2, Doc("vn-H26"), Vn(30, 0));
  auto cache = Restart();
  CalendarRefresher refresher = Refresher(cache.get());
  ASSERT_TRUE(refresher.RunOnce().ok());
  EXPECT_EQ(cache->Snapshot(kTayMo).version, "vn-H26@1");
  EXPECT_THAT(Stored(),
              ElementsAre("calendars/vn vn@3", "calendars/vn-H26 vn-H26@1",
                          "calendars/vn-H26 vn-H26@2 from 30 00:00"));

  // vn-H26 gone from the deadline service, every version of it.
  deadline_.calendars.pop_back();
  deadline_.calendars.pop_back();
  absl::StatusOr<CalendarRefresh> got = refresher.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->removed, ElementsAre("vn-H26"));
  EXPECT_EQ(cache->Snapshot(kTayMo).version, "vn@3");
  EXPECT_THAT(Stored(), ElementsAre("calendars/vn vn@3"));
  // Nor does a restart bring it back.
  EXPECT_THAT(Held(*Restart()), ElementsAre("vn@3"));
  EXPECT_THAT(HeldUpcoming(*Restart()), IsEmpty());
}

// The bundled vn.json's holidays end with 2027: an appointment in 2028 was
// counted as if 2028 had none. Counted (and logged) once per version.
TEST_F(IntakeCalendarTest, AnAppointmentPastTheHolidayDataIsCountedOnce) {
  const auto exceeded = [] {
    double n = 0;
    for (const auto& f :
         metrics::Counter(kCoverageExceededName, kCoverageExceededHelp)
             .Collect()) {
      for (const auto& m : f.metric) {
        for (const auto& l : m.label) {
          if (l.name == "calendar" && l.value == "vn") n += m.counter.value;
        }
      }
    }
    return n;
  };
  Replica r(dsn_, clock_);
  const double before = exceeded();
  // Mon 23/11/2026 + 3 days: covered.
  EXPECT_EQ(SubmitAt(r, kTayMo, kTayMo).calendar_version(), "vn@bundled");
  EXPECT_EQ(exceeded(), before);
  // Wed 29/12/2027 09:00 + 3 days is Mon 3/1/2028 09:00.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 12, 29, 9, 0, 0),
                             absl::FixedTimeZone(7 * 3600)));
  const v1::Dossier late = SubmitAt(r, kTayMo, kTayMo);
  EXPECT_EQ(grpc_util::FromProto(late.appointment_time()),
            absl::FromCivil(absl::CivilSecond(2028, 1, 3, 9, 0, 0),
                            absl::FixedTimeZone(7 * 3600)));
  EXPECT_EQ(exceeded(), before + 1);
  SubmitAt(r, kTayMo, kTayMo);
  EXPECT_EQ(exceeded(), before + 1);
}

}  // namespace
}  // namespace lienthong::intake
