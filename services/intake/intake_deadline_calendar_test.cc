// intake's appointments against the real deadline service's due times (its
// gRPC server over the in-memory store, on a loopback port): with a
// province calendar added through UpdateCalendar, the appointment intake
// prints on the receipt is the due time deadline's clock counts to, for
// Hà Nội's wards and for another province's, before and after a change of
// that calendar.

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "libs/calendar/test_calendars.h"
#include "libs/db/wake_listener.h"
#include "libs/grpc_util/proto_time.h"
#include "lienthong/deadline/v1/events.pb.h"
#include "lienthong/intake/v1/events.pb.h"
#include "services/deadline/deadline_events.h"
#include "services/deadline/deadline_server.h"
#include "services/deadline/event_handler.h"
#include "services/deadline/memory_deadline_store.h"
#include "services/intake/calendar_source.h"
#include "services/intake/intake_test_fixture.h"

namespace lienthong::intake {
namespace {

using ::testing::ElementsAre;
using namespace testing_support;  // NOLINT

absl::Time Vn(int d, int h) {
  return absl::FromCivil(absl::CivilSecond(2026, 11, d, h, 0, 0),
                         absl::FixedTimeZone(7 * 3600));
}

// vn.json as Hà Nội's calendar, with its own days off.
std::string HanoiCalendar(const std::vector<absl::CivilDay>& days_off) {
  return calendar::testing::VnJsonWithDaysOff("vn-H26", days_off,
                                              "Nghỉ địa phương Hà Nội");
}

class IntakeDeadlineCalendarTest : public IntakeIntegrationTest {
 protected:
  IntakeDeadlineCalendarTest()
      : service_(store_, clock_, deadline::EncodeNotice),
        server_(service_, clock_, /*insecure_dev_auth=*/true),
        deadline_grpc_({&server_}),
        stub_(deadline::v1::DeadlineService::NewStub(
            deadline_grpc_.NewChannel())),
        pool_({dsn_, 1}),
        cache_(InitialCalendarCache(pool_, *calendar::DefaultCalendar(),
                                    "vn@bundled")) {
    service_.SetMovedEncoder(deadline::EncodeAppointmentsMoved);
    service_.SetPublishedEncoder(deadline::EncodeCalendarPublished);
    EXPECT_TRUE(service_.EnsureDefaultCalendar().ok());
    refresher_.cache = cache_.get();
    refresher_.fetch = [this] {
      return FetchDeadlineCalendars(*stub_, absl::Seconds(5), clock_.Now());
    };
    refresher_.persist = [this](const CalendarCopy& c) {
      return StoreCalendar(pool_, clock_, c);
    };
    IntakeOptions options = Replica::Options();
    options.calendars = cache_;
    intake_ = std::make_unique<Replica>(dsn_, clock_, options);
    SeedOtherProvince();
  }

  // An administrator's UpdateCalendar of vn-H26, in force now.
  void UpdateHanoiCalendar(const std::vector<absl::CivilDay>& days_off) {
    grpc::ClientContext ctx;
    As(ctx, "admin", "000.00.00.H26");
    deadline::v1::UpdateCalendarRequest req;
    req.mutable_calendar()->set_name("calendars/vn-H26");
    req.mutable_calendar()->set_json(HanoiCalendar(days_off));
    grpc_util::ToProto(clock_.Now(),
                       req.mutable_calendar()->mutable_effective_time());
    deadline::v1::UpdateCalendarResponse resp;
    grpc::Status s = stub_->UpdateCalendar(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Intake's relay to deadline, by hand: every DossierReceived not yet
  // handed over.
  void DeliverReceivedToDeadline() {
    std::vector<std::string> payloads;
    ASSERT_TRUE(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
                  for (const auto& row : tx.exec(
                           "UPDATE intake.outbox o SET delivered_at = now() "
                           "FROM intake.outbox_payloads p WHERE p.event_id = "
                           "o.event_id AND destination = 'deadline' AND "
                           "event_type = 'lienthong.intake.v1.DossierReceived' "
                           "AND delivered_at IS NULL RETURNING p.payload")) {
                    payloads.push_back(pqxx::binarystring(row[0]).str());
                  }
                  return absl::OkStatus();
                }).ok());
    const grpc_util::EventHandler handle = deadline::MakeEventHandler(service_);
    for (const std::string& p : payloads) {
      common::v1::Event e;
      ASSERT_TRUE(e.ParseFromString(p));
      absl::StatusOr<bool> applied = handle(e);
      ASSERT_TRUE(applied.ok()) << applied.status();
    }
  }

  // Deadline's relay to intake, by hand: its events of `type` (each one
  // again if called again: intake's inbox then acknowledges them only).
  void DeliverToIntake(const std::string& type) {
    for (const deadline::OutgoingEvent& o : store_.Snapshot().outbox) {
      common::v1::Event e;
      ASSERT_TRUE(e.ParseFromString(o.payload));
      if (e.type() != type) continue;
      absl::StatusOr<bool> applied = intake_->server.HandleEvent(e);
      ASSERT_TRUE(applied.ok()) << applied.status();
    }
  }
  void DeliverMovedToIntake() {
    DeliverToIntake("lienthong.deadline.v1.AppointmentsMoved");
  }

  // The dossier as intake shows it and its clock in the deadline service
  // agree: same time, same calendar, and the same version of it unless
  // intake counted with its bundled copy (`vn@bundled`, no deadline
  // version).
  void ExpectAgree(const std::string& dossier_name) {
    const v1::Dossier d = GetAsAdmin(*intake_, dossier_name);
    absl::StatusOr<deadline::Clock> c = service_.GetClock(dossier_name);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(grpc_util::FromProto(d.appointment_time()), c->due_at)
        << d.code() << " " << d.calendar_version();
    const std::vector<std::string> label =
        absl::StrSplit(d.calendar_version(), '@');
    ASSERT_EQ(label.size(), 2u) << d.calendar_version();
    EXPECT_EQ(label[0], c->calendar_id) << d.code();
    if (label[1] != "bundled") {
      EXPECT_EQ(label[1], absl::StrCat(c->calendar_version)) << d.code();
    }
  }

  // The reasons of the AppointmentRescheduled events intake sent notify.
  std::vector<std::string> RescheduledReasons() {
    std::vector<std::string> out;
    EXPECT_TRUE(
        db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
          for (const auto& row :
               tx.exec("SELECT p.payload FROM intake.outbox JOIN "
                       "intake.outbox_payloads "
                       "p USING (event_id) WHERE event_type = "
                       "'lienthong.intake.v1.AppointmentRescheduled' AND "
                       "destination = 'notify' ORDER BY seq")) {
            common::v1::Event e;
            v1::AppointmentRescheduled r;
            if (!e.ParseFromString(pqxx::binarystring(row[0]).str()) ||
                !e.payload().UnpackTo(&r)) {
              return absl::InternalError("unreadable AppointmentRescheduled");
            }
            out.push_back(r.reason());
          }
          return absl::OkStatus();
        }).ok());
    return out;
  }

  deadline::MemoryDeadlineStore store_;
  deadline::DeadlineService service_;
  deadline::DeadlineServer server_;
  testing::InProcessServer deadline_grpc_;
  std::unique_ptr<deadline::v1::DeadlineService::Stub> stub_;
  db::Pool pool_;
  std::shared_ptr<CalendarCache> cache_;
  CalendarRefresher refresher_;
  std::unique_ptr<Replica> intake_;
};

TEST_F(IntakeDeadlineCalendarTest,
       AppointmentsAgreeWithDeadlinesDueTimesUnderAProvinceCalendar) {
  // Hà Nội takes Tuesday 24/11 off.
  UpdateHanoiCalendar({absl::CivilDay(2026, 11, 24)});
  absl::StatusOr<CalendarRefresh> got = refresher_.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn@1", "vn-H26@1"));

  // Monday 09:00 + 3 working days: Friday in Hà Nội, Thursday elsewhere.
  const v1::Dossier hanoi = SubmitAt(*intake_, kTayMo, kTayMo);
  EXPECT_EQ(hanoi.calendar_version(), "vn-H26@1");
  EXPECT_EQ(grpc_util::FromProto(hanoi.appointment_time()), Vn(27, 9));
  const v1::Dossier other =
      SubmitAt(*intake_, kOtherProvinceUnit, kOtherProvince);
  EXPECT_EQ(other.calendar_version(), "vn@1");
  EXPECT_EQ(grpc_util::FromProto(other.appointment_time()), Vn(26, 9));
  DeliverReceivedToDeadline();
  ExpectAgree(hanoi.name());
  ExpectAgree(other.name());

  // Hà Nội also takes Thursday 26/11 off: deadline moves the Hà Nội clock,
  // intake the appointment (now following vn-H26@2); the other province's
  // dossier stays.
  clock_.Advance(absl::Minutes(10));
  UpdateHanoiCalendar(
      {absl::CivilDay(2026, 11, 24), absl::CivilDay(2026, 11, 26)});
  DeliverMovedToIntake();
  const v1::Dossier moved = GetAsAdmin(*intake_, hanoi.name());
  EXPECT_EQ(grpc_util::FromProto(moved.appointment_time()), Vn(30, 9));
  EXPECT_EQ(moved.calendar_version(), "vn-H26@2");
  EXPECT_THAT(RescheduledReasons(), ElementsAre("Thay đổi lịch làm việc"));
  ExpectAgree(hanoi.name());
  EXPECT_EQ(GetAsAdmin(*intake_, other.name()).calendar_version(), "vn@1");
  ExpectAgree(other.name());

  // New dossiers follow the new version once intake has refreshed.
  got = refresher_.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ElementsAre("vn-H26@2"));
  const v1::Dossier later = SubmitAt(*intake_, kHaDinh, kHaDinh);
  EXPECT_EQ(later.calendar_version(), "vn-H26@2");
  DeliverReceivedToDeadline();
  ExpectAgree(later.name());
}

TEST_F(IntakeDeadlineCalendarTest,
       AReceiptPrintedWithAStaleCopyIsMovedToTheDueTime) {
  // Hà Nội takes Tuesday 24/11 off, and intake has not fetched it yet (or
  // could not): its receipt counts with the bundled vn.
  UpdateHanoiCalendar({absl::CivilDay(2026, 11, 24)});
  const v1::Dossier hanoi = SubmitAt(*intake_, kTayMo, kTayMo);
  EXPECT_EQ(hanoi.calendar_version(), "vn@bundled");
  EXPECT_EQ(grpc_util::FromProto(hanoi.appointment_time()), Vn(26, 9));
  const v1::Dossier other =
      SubmitAt(*intake_, kOtherProvinceUnit, kOtherProvince);
  EXPECT_EQ(other.calendar_version(), "vn@bundled");

  // Deadline counts in vn-H26@1 and tells intake about the Hà Nội dossier
  // only: the other one's receipt already says its due time.
  DeliverReceivedToDeadline();
  int moved_events = 0;
  for (const deadline::OutgoingEvent& o : store_.Snapshot().outbox) {
    if (o.type == "lienthong.deadline.v1.AppointmentsMoved") ++moved_events;
  }
  EXPECT_EQ(moved_events, 1);
  DeliverMovedToIntake();
  const v1::Dossier moved = GetAsAdmin(*intake_, hanoi.name());
  EXPECT_EQ(grpc_util::FromProto(moved.appointment_time()), Vn(27, 9));
  EXPECT_EQ(moved.calendar_version(), "vn-H26@1");
  ExpectAgree(hanoi.name());
  ExpectAgree(other.name());
  EXPECT_EQ(GetAsAdmin(*intake_, other.name()).calendar_version(),
            "vn@bundled");
  // The citizen is told of the new appointment, and why: no calendar
  // changed, the receipt was counted with an older copy.
  EXPECT_THAT(RescheduledReasons(),
              ElementsAre("Tính lại theo lịch làm việc đang áp dụng"));
}

TEST_F(IntakeDeadlineCalendarTest,
       APublishedVersionWakesTheRefreshOfEveryReplicaAtOnce) {
  // Every replica's refresh loop listens on this channel (RunLoop).
  db::WakeListener replica_loop(dsn_, kCalendarsPublishedChannel);
  ASSERT_FALSE(replica_loop.Wait(absl::ZeroDuration()));
  // Hà Nội's first calendar, in force now: intake holds only vn.
  UpdateHanoiCalendar({absl::CivilDay(2026, 11, 24)});
  EXPECT_EQ(SubmitAt(*intake_, kTayMo, kTayMo).calendar_version(),
            "vn@bundled");
  // Deadline told intake in the transaction that stored it; intake wakes
  // the loops once the event is recorded.
  DeliverToIntake("lienthong.deadline.v1.CalendarPublished");
  EXPECT_TRUE(replica_loop.Wait(absl::Seconds(30)));
  // What a woken loop runs: the new version is held, and the next
  // receipt follows it.
  absl::StatusOr<CalendarRefresh> got = refresher_.RunOnce();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->installed, ::testing::Contains("vn-H26@1"));
  EXPECT_EQ(SubmitAt(*intake_, kTayMo, kTayMo).calendar_version(), "vn-H26@1");
  // A redelivery is acknowledged, not applied again.
  DeliverToIntake("lienthong.deadline.v1.CalendarPublished");
  EXPECT_EQ(Count("SELECT count(*) FROM intake.inbox"), 1);
}

}  // namespace
}  // namespace lienthong::intake
