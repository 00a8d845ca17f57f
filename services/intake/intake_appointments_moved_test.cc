// Deadline's AppointmentsMoved applied by intake over a real PostgreSQL:
// the dossier's appointment moves once, finished dossiers keep theirs, and
// notify hears of it through the outbox in the same commit.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/proto_time.h"
#include "lienthong/deadline/v1/events.pb.h"
#include "lienthong/intake/v1/events.pb.h"
#include "services/intake/calendar_cache.h"
#include "services/intake/intake_test_fixture.h"

namespace lienthong::intake {
namespace {

using namespace testing_support;  // NOLINT

class AppointmentsMovedTest : public IntakeIntegrationTest {
 protected:
  v1::Dossier SubmitOne() {
    v1::SubmitDossierResponse resp;
    EXPECT_TRUE(Submit(*a_, Birth(kTayMo), &resp).ok());
    return resp.dossier();
  }

  v1::Dossier Get(const std::string& name) {
    grpc::ClientContext ctx;
    As(ctx, "counter_officer", kTayMo);
    v1::GetDossierRequest req;
    req.set_name(name);
    v1::GetDossierResponse resp;
    EXPECT_TRUE(a_->stub->GetDossier(&ctx, req, &resp).ok());
    return resp.dossier();
  }

  static void Move(deadline::v1::AppointmentsMoved& m, const v1::Dossier& d,
                   deadline::v1::ClockKind kind, absl::Time new_due,
                   const std::string& task = "") {
    auto* a = m.add_moved_appointments();
    a->set_clock(absl::StrCat("clocks/", d.code(), task));
    a->set_dossier(d.name());
    a->set_kind(kind);
    *a->mutable_old_due_time() = d.appointment_time();
    grpc_util::ToProto(new_due, a->mutable_new_due_time());
  }

  // The outbox rows of one event type: (destination, payload).
  std::vector<std::pair<std::string, std::string>> Outbox(
      const std::string& type) {
    db::Pool pool({dsn_, 1});
    std::vector<std::pair<std::string, std::string>> out;
    EXPECT_TRUE(
        db::WithTransaction(pool, [&](pqxx::work& tx) -> absl::Status {
          for (const auto& row : tx.exec_params(
                   "SELECT destination, p.payload FROM intake.outbox JOIN "
                   "intake.outbox_payloads p USING (event_id) "
                   "WHERE event_type = $1 ORDER BY destination",
                   type)) {
            const pqxx::binarystring b(row[1]);
            out.emplace_back(row[0].as<std::string>(), b.str());
          }
          return absl::OkStatus();
        }).ok());
    return out;
  }
};

absl::Time Vn(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0),
                         absl::FixedTimeZone(7 * 3600));
}

TEST_F(AppointmentsMovedTest,
       CalendarChangeMovesOpenAppointmentsOnceAndTellsTheCitizen) {
  const v1::Dossier open = SubmitOne();
  const v1::Dossier withdrawn = SubmitOne();
  {
    grpc::ClientContext ctx;
    As(ctx, "counter_officer", kTayMo);
    v1::WithdrawDossierRequest w;
    w.set_name(withdrawn.name());
    w.set_reason("Công dân rút hồ sơ");
    v1::WithdrawDossierResponse wr;
    ASSERT_TRUE(a_->stub->WithdrawDossier(&ctx, w, &wr).ok());
  }
  // Thursday 26/11 09:00 on the receipt; a new holiday on Thursday moves
  // it to Friday.
  ASSERT_EQ(grpc_util::FromProto(open.appointment_time()),
            Vn(2026, 11, 26, 9, 0));
  const absl::Time new_due = Vn(2026, 11, 27, 9, 0);

  deadline::v1::AppointmentsMoved m;
  m.set_calendar("calendars/vn");
  m.set_version(2);
  Move(m, open, deadline::v1::CLOCK_KIND_DOSSIER, new_due);
  // A leg's clock of the same dossier is not its appointment.
  Move(m, open, deadline::v1::CLOCK_KIND_LEG, Vn(2026, 11, 30, 9, 0),
       "/tasks/t-1");
  Move(m, withdrawn, deadline::v1::CLOCK_KIND_DOSSIER, new_due);
  v1::Dossier unknown = open;
  unknown.set_code("001.08.19.H26-261123-9999");
  unknown.set_name(absl::StrCat("dossiers/", unknown.code()));
  Move(m, unknown, deadline::v1::CLOCK_KIND_DOSSIER, new_due);

  clock_.Advance(absl::Minutes(5));
  const common::v1::Event e =
      grpc_util::MakeEvent(m, "deadline", "", clock_.Now());
  EXPECT_EQ(a_->server.HandleEvent(e).value_or(false), true);
  EXPECT_EQ(a_->server.HandleEvent(e).value_or(true), false);  // once

  const v1::Dossier moved = Get(open.name());
  EXPECT_EQ(grpc_util::FromProto(moved.appointment_time()), new_due);
  EXPECT_EQ(moved.state(), open.state());
  const v1::Dossier kept = Get(withdrawn.name());
  EXPECT_EQ(kept.state(), v1::DOSSIER_STATE_WITHDRAWN);
  EXPECT_EQ(kept.appointment_time().seconds(),
            withdrawn.appointment_time().seconds());

  // What the citizen sees: lookup and the receipt show the new time.
  {
    grpc::ClientContext ctx;
    v1::LookupDossierRequest req;
    req.set_code(open.code());
    req.set_phone_last4("5678");
    v1::LookupDossierResponse resp;
    ASSERT_TRUE(a_->stub->LookupDossier(&ctx, req, &resp).ok());
    EXPECT_EQ(grpc_util::FromProto(resp.appointment_time()), new_due);
  }
  {
    grpc::ClientContext ctx;
    As(ctx, "counter_officer", kTayMo);
    v1::RenderFormRequest req;
    req.set_name(open.name());
    req.set_kind(v1::FORM_KIND_RECEIPT);
    v1::RenderFormResponse resp;
    ASSERT_TRUE(a_->stub->RenderForm(&ctx, req, &resp).ok());
    EXPECT_NE(resp.html().find("27/11/2026"), std::string::npos);
  }

  // On the control slip as a step in place, attributed to deadline.
  {
    grpc::ClientContext ctx;
    As(ctx, "counter_officer", kTayMo);
    v1::GetControlSlipRequest req;
    req.set_name(open.name());
    v1::GetControlSlipResponse slip;
    ASSERT_TRUE(a_->stub->GetControlSlip(&ctx, req, &slip).ok());
    ASSERT_EQ(slip.transitions_size(), 2);  // received, rescheduled
    const v1::Transition& t = slip.transitions(1);
    EXPECT_EQ(t.from_state(), t.to_state());
    EXPECT_EQ(t.actor_subject(), "deadline");
    EXPECT_NE(t.reason().find("Thay đổi lịch làm việc"), std::string::npos);
    EXPECT_NE(t.reason().find("09:00 ngày 27/11/2026"), std::string::npos);
    // What the receipt had given, as an apology's step carries it.
    EXPECT_EQ(t.previous_appointment_time().seconds(),
              open.appointment_time().seconds());
  }
  EXPECT_EQ(Count("SELECT count(*) FROM intake.audit WHERE action = "
                  "'RescheduleAppointment'"),
            1);

  // Exactly one event, for notify, carrying what it needs.
  const auto rows = Outbox("lienthong.intake.v1.AppointmentRescheduled");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].first, "notify");
  common::v1::Event out;
  ASSERT_TRUE(out.ParseFromString(rows[0].second));
  EXPECT_EQ(out.source(), "intake");
  EXPECT_EQ(out.dossier(), open.name());
  v1::AppointmentRescheduled ev;
  ASSERT_TRUE(out.payload().UnpackTo(&ev));
  EXPECT_EQ(ev.dossier(), open.name());
  EXPECT_EQ(grpc_util::FromProto(ev.old_appointment_time()),
            Vn(2026, 11, 26, 9, 0));
  EXPECT_EQ(grpc_util::FromProto(ev.new_appointment_time()), new_due);
  EXPECT_EQ(ev.reason(), "Thay đổi lịch làm việc");
  EXPECT_EQ(ev.applicant_contact().phone(), "0912345678");
  EXPECT_EQ(ev.receiving_agency().code(), kTayMo);
  EXPECT_FALSE(ev.receiving_agency().display_name().empty());
  EXPECT_GE(ev.agency_ancestor_codes_size(), 1);
  EXPECT_EQ(ev.agency_ancestor_codes(0), "000.00.00.H26");  // root first
  EXPECT_FALSE(ev.procedure_display_name().empty());
  EXPECT_EQ(ev.calendar(), "calendars/vn");
  EXPECT_EQ(ev.calendar_version(), 2);
}

TEST_F(AppointmentsMovedTest, AnApologysAppointmentIsNotPulledEarlier) {
  const v1::Dossier d = SubmitOne();
  // The office promised Monday 30/11 in an apology slip.
  {
    grpc::ClientContext ctx;
    As(ctx, "counter_officer", kTayMo);
    v1::IssueApologyRequest req;
    req.set_name(d.name());
    req.set_reason("Cần xác minh thêm");
    grpc_util::ToProto(Vn(2026, 11, 30, 9, 0),
                       req.mutable_new_appointment_time());
    v1::IssueApologyResponse resp;
    ASSERT_TRUE(a_->stub->IssueApology(&ctx, req, &resp).ok());
  }
  deadline::v1::AppointmentsMoved m;
  m.set_calendar("calendars/vn");
  m.set_version(2);
  Move(m, d, deadline::v1::CLOCK_KIND_DOSSIER, Vn(2026, 11, 27, 9, 0));
  ASSERT_TRUE(
      a_->server
          .HandleEvent(grpc_util::MakeEvent(m, "deadline", "", clock_.Now()))
          .ok());
  EXPECT_EQ(grpc_util::FromProto(Get(d.name()).appointment_time()),
            Vn(2026, 11, 30, 9, 0));
  EXPECT_EQ(Count("SELECT count(*) FROM intake.outbox WHERE event_type = "
                  "'lienthong.intake.v1.AppointmentRescheduled'"),
            0);
}

TEST_F(AppointmentsMovedTest, AnOlderProducerWithoutTheKindIsReadByTheName) {
  const v1::Dossier d = SubmitOne();
  deadline::v1::AppointmentsMoved m;
  Move(m, d, deadline::v1::CLOCK_KIND_UNSPECIFIED, Vn(2026, 11, 30, 9, 0),
       "/tasks/t-1");  // a leg's
  Move(m, d, deadline::v1::CLOCK_KIND_UNSPECIFIED, Vn(2026, 11, 27, 9, 0));
  ASSERT_TRUE(
      a_->server
          .HandleEvent(grpc_util::MakeEvent(m, "deadline", "", clock_.Now()))
          .ok());
  EXPECT_EQ(grpc_util::FromProto(Get(d.name()).appointment_time()),
            Vn(2026, 11, 27, 9, 0));
}

// The relay does not promise order: a calendar change (v2: a holiday on
// Thursday) that arrives after the one that undid it (v3) must not move the
// appointment back to Friday.
TEST_F(AppointmentsMovedTest, AnOlderCalendarChangeArrivingLateIsIgnored) {
  const v1::Dossier open = SubmitOne();
  const absl::Time thursday = Vn(2026, 11, 26, 9, 0);
  const absl::Time friday = Vn(2026, 11, 27, 9, 0);
  ASSERT_EQ(grpc_util::FromProto(open.appointment_time()), thursday);
  // v3 as deadline computed it after v2: from Friday back to Thursday.
  deadline::v1::AppointmentsMoved v3;
  v3.set_calendar("calendars/vn");
  v3.set_version(3);
  Move(v3, open, deadline::v1::CLOCK_KIND_DOSSIER, thursday);
  grpc_util::ToProto(friday,
                     v3.mutable_moved_appointments(0)->mutable_old_due_time());
  // v2: from Thursday to Friday.
  deadline::v1::AppointmentsMoved v2;
  v2.set_calendar("calendars/vn");
  v2.set_version(2);
  Move(v2, open, deadline::v1::CLOCK_KIND_DOSSIER, friday);
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(
      a_->server
          .HandleEvent(grpc_util::MakeEvent(v3, "deadline", "", clock_.Now()))
          .ok());
  ASSERT_TRUE(
      a_->server
          .HandleEvent(grpc_util::MakeEvent(v2, "deadline", "", clock_.Now()))
          .ok());
  const v1::Dossier after = Get(open.name());
  EXPECT_EQ(grpc_util::FromProto(after.appointment_time()), thursday);
  EXPECT_EQ(after.calendar_version(), "vn@3");
  EXPECT_TRUE(Outbox("lienthong.intake.v1.AppointmentRescheduled").empty());

  // A newer one still applies.
  deadline::v1::AppointmentsMoved v4;
  v4.set_calendar("calendars/vn");
  v4.set_version(4);
  Move(v4, after, deadline::v1::CLOCK_KIND_DOSSIER, friday);
  ASSERT_TRUE(
      a_->server
          .HandleEvent(grpc_util::MakeEvent(v4, "deadline", "", clock_.Now()))
          .ok());
  EXPECT_EQ(grpc_util::FromProto(Get(open.name()).appointment_time()), friday);
  EXPECT_EQ(Get(open.name()).calendar_version(), "vn@4");
}

// The citizen supplemented: deadline's clock restarted and is due later.
// Same calendar version, so no version check applies; the dossier keeps
// the version it follows and the citizen hears the new appointment.
TEST_F(AppointmentsMovedTest, ASupplementMovesTheAppointmentWithoutACalendar) {
  const v1::Dossier open = SubmitOne();
  const std::string version = open.calendar_version();
  const absl::Time later = Vn(2026, 12, 3, 9, 0);
  deadline::v1::AppointmentsMoved m;
  m.set_calendar("calendars/vn");
  m.set_after_supplement(true);
  Move(m, open, deadline::v1::CLOCK_KIND_DOSSIER, later);
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(
      a_->server
          .HandleEvent(grpc_util::MakeEvent(m, "deadline", "", clock_.Now()))
          .ok());
  const v1::Dossier after = Get(open.name());
  EXPECT_EQ(grpc_util::FromProto(after.appointment_time()), later);
  EXPECT_EQ(after.calendar_version(), version);
  const auto sent = Outbox("lienthong.intake.v1.AppointmentRescheduled");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, "notify");
  common::v1::Event e;
  ASSERT_TRUE(e.ParseFromString(sent[0].second));
  v1::AppointmentRescheduled ev;
  ASSERT_TRUE(e.payload().UnpackTo(&ev));
  EXPECT_EQ(ev.reason(), "Hồ sơ đã được bổ sung");
  EXPECT_EQ(grpc_util::FromProto(ev.new_appointment_time()), later);
  EXPECT_TRUE(ev.calendar().empty());

  // Supplemented at once, at the counter: the appointment moves by seconds,
  // the same to the minute as printed, and nobody is told of a change.
  const v1::Dossier quick = SubmitOne();
  deadline::v1::AppointmentsMoved m2;
  m2.set_calendar("calendars/vn");
  m2.set_after_supplement(true);
  Move(m2, quick, deadline::v1::CLOCK_KIND_DOSSIER,
       grpc_util::FromProto(quick.appointment_time()) + absl::Seconds(30));
  ASSERT_TRUE(
      a_->server
          .HandleEvent(grpc_util::MakeEvent(m2, "deadline", "", clock_.Now()))
          .ok());
  EXPECT_EQ(Get(quick.name()).appointment_time().seconds(),
            quick.appointment_time().seconds());
  EXPECT_EQ(Outbox("lienthong.intake.v1.AppointmentRescheduled").size(), 1u);
}

// The calendar changed while the dossier waited for its supplement: the
// clock counted the rest with the new version, and the dossier says so.
TEST_F(AppointmentsMovedTest, ASupplementAfterACalendarChangeTakesItsVersion) {
  const v1::Dossier open = SubmitOne();
  const int newer = static_cast<int>(
      std::max<int64_t>(VersionNumber(open.calendar_version()), 0) + 2);
  const auto supplemented = [&](int version, absl::Time new_due) {
    deadline::v1::AppointmentsMoved m;
    m.set_calendar("calendars/vn");
    m.set_version(version);
    m.set_after_supplement(true);
    Move(m, Get(open.name()), deadline::v1::CLOCK_KIND_DOSSIER, new_due);
    clock_.Advance(absl::Minutes(5));
    ASSERT_TRUE(
        a_->server
            .HandleEvent(grpc_util::MakeEvent(m, "deadline", "", clock_.Now()))
            .ok());
  };
  supplemented(newer, Vn(2026, 12, 3, 9, 0));
  v1::Dossier after = Get(open.name());
  EXPECT_EQ(grpc_util::FromProto(after.appointment_time()),
            Vn(2026, 12, 3, 9, 0));
  EXPECT_EQ(after.calendar_version(), absl::StrCat("vn@", newer));
  // No calendar change to tell notify of.
  const auto sent = Outbox("lienthong.intake.v1.AppointmentRescheduled");
  ASSERT_EQ(sent.size(), 1u);
  common::v1::Event e;
  ASSERT_TRUE(e.ParseFromString(sent[0].second));
  v1::AppointmentRescheduled ev;
  ASSERT_TRUE(e.payload().UnpackTo(&ev));
  EXPECT_TRUE(ev.calendar().empty());

  // A second supplement counted with an older version (a replica behind)
  // moves the appointment but never takes the version back.
  supplemented(newer - 1, Vn(2026, 12, 7, 9, 0));
  after = Get(open.name());
  EXPECT_EQ(grpc_util::FromProto(after.appointment_time()),
            Vn(2026, 12, 7, 9, 0));
  EXPECT_EQ(after.calendar_version(), absl::StrCat("vn@", newer));
}

// Overdue under the old calendar, due later under the new one: the dossier
// is on time again.
TEST_F(AppointmentsMovedTest, AMoveIntoTheFutureClearsTheLateFlag) {
  const v1::Dossier open = SubmitOne();
  deadline::v1::ClockOverdue overdue;
  overdue.mutable_clock()->set_kind(deadline::v1::CLOCK_KIND_DOSSIER);
  overdue.mutable_clock()->set_dossier(open.name());
  clock_.Advance(absl::Hours(24 * 3 + 1));  // past Thursday 09:00
  ASSERT_TRUE(a_->server
                  .HandleEvent(grpc_util::MakeEvent(overdue, "deadline",
                                                    open.name(), clock_.Now()))
                  .ok());
  ASSERT_TRUE(Get(open.name()).late());
  deadline::v1::AppointmentsMoved m;
  m.set_calendar("calendars/vn");
  m.set_version(2);
  Move(m, open, deadline::v1::CLOCK_KIND_DOSSIER, Vn(2026, 11, 30, 9, 0));
  ASSERT_TRUE(
      a_->server
          .HandleEvent(grpc_util::MakeEvent(m, "deadline", "", clock_.Now()))
          .ok());
  const v1::Dossier after = Get(open.name());
  EXPECT_EQ(grpc_util::FromProto(after.appointment_time()),
            Vn(2026, 11, 30, 9, 0));
  EXPECT_FALSE(after.late());
}

}  // namespace
}  // namespace lienthong::intake
