#include "services/intake/intake_logic.h"

#include "gtest/gtest.h"
#include "libs/calendar/default_calendar.h"
#include "libs/testing/status_matchers.h"
#include "services/intake/forms.h"

namespace lienthong::intake {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusHasReason;

v1::LegSpec Leg(const std::string& id, std::vector<std::string> deps,
                std::vector<std::string> consumes = {},
                std::vector<std::string> produces = {}) {
  v1::LegSpec l;
  l.set_id(id);
  l.set_display_name("Bước " + id);
  l.set_agency_kind(common::v1::AGENCY_KIND_JUSTICE);
  l.mutable_time_limit()->set_unit(common::v1::WORKING_DURATION_UNIT_DAYS);
  l.mutable_time_limit()->set_amount(1);
  for (auto& d : deps) l.add_depends_on(d);
  for (auto& c : consumes) l.add_consumes(c);
  for (auto& p : produces) {
    auto* f = l.add_produces();
    f->set_key(p);
    f->set_label(p);
    f->set_type(common::v1::FIELD_TYPE_TEXT);
  }
  return l;
}

v1::Procedure Proc() {
  v1::Procedure p;
  p.set_code("LT.01");
  p.set_display_name("Liên thông khai sinh");
  p.add_receiving_tiers(common::v1::TIER_COMMUNE);
  p.set_deciding_tier(common::v1::TIER_COMMUNE);
  p.set_online_level(4);
  p.mutable_legal_time()->set_unit(common::v1::WORKING_DURATION_UNIT_DAYS);
  p.mutable_legal_time()->set_amount(3);
  p.set_cutoff_local_time("15:00");
  auto* f = p.add_fields();
  f->set_key("child_full_name");
  f->set_label("Họ tên trẻ");
  f->set_type(common::v1::FIELD_TYPE_TEXT);
  f->set_required(true);
  auto* d = p.add_documents();
  d->set_code("giay_chung_sinh");
  d->set_display_name("Giấy chứng sinh");
  d->set_required(true);
  d->set_originals(1);
  *p.add_legs() = Leg("civil", {}, {}, {"personal_id"});
  *p.add_legs() = Leg("police", {"civil"}, {"personal_id"});
  *p.add_legs() = Leg("bhyt", {"civil"}, {"personal_id"});
  *p.add_legs() = Leg("join", {"police", "bhyt"}, {"personal_id"});
  return p;
}

TEST(ProcedureValidationTest, DagWithJoinIsAcceptedAndOrdered) {
  const v1::Procedure p = Proc();
  EXPECT_THAT(ValidateProcedure(p), IsOk());
  auto order = TopologicalLegOrder(p);
  ASSERT_TRUE(order.ok());
  ASSERT_EQ(order->size(), 4u);
  EXPECT_EQ(order->front(), "civil");
  EXPECT_EQ(order->back(), "join");
}

TEST(ProcedureValidationTest, CyclesUnknownDepsAndUnproducedInputsAreRejected) {
  v1::Procedure cyc = Proc();
  cyc.mutable_legs(0)->add_depends_on("join");
  EXPECT_THAT(ValidateProcedure(cyc),
              StatusHasReason(absl::StatusCode::kInvalidArgument, "LEG_CYCLE"));
  v1::Procedure unknown = Proc();
  unknown.mutable_legs(1)->add_depends_on("nowhere");
  EXPECT_THAT(
      ValidateProcedure(unknown),
      StatusHasReason(absl::StatusCode::kInvalidArgument, "INVALID_PROCEDURE"));
  v1::Procedure unproduced = Proc();
  unproduced.mutable_legs(1)->add_consumes("birth_certificate_number");
  EXPECT_THAT(
      ValidateProcedure(unproduced),
      StatusHasReason(absl::StatusCode::kInvalidArgument, "INVALID_PROCEDURE"));
  v1::Procedure broken_pattern = Proc();
  broken_pattern.mutable_fields(0)->set_pattern("([A-Z");
  auto pattern_details =
      common::GetErrorDetails(ValidateProcedure(broken_pattern));
  ASSERT_EQ(pattern_details.field_violations.size(), 1u);
  EXPECT_EQ(pattern_details.field_violations[0].field,
            "procedure.fields[0].pattern");
  v1::Procedure bad = Proc();
  bad.set_online_level(5);
  bad.clear_receiving_tiers();
  auto details = common::GetErrorDetails(ValidateProcedure(bad));
  EXPECT_EQ(details.field_violations.size(), 2u);
}

// What a catalog entry cannot do and still work: each refused with the
// field named.
TEST(ProcedureValidationTest, ProceduresThatCannotWorkAreRefused) {
  const auto violated = [](const v1::Procedure& p) {
    std::vector<std::string> fields;
    for (const auto& v :
         common::GetErrorDetails(ValidateProcedure(p)).field_violations) {
      fields.push_back(v.field);
    }
    return fields;
  };
  using ::testing::ElementsAre;
  v1::Procedure p = Proc();
  p.mutable_documents(0)->set_originals(0);  // required, nothing to hand in
  EXPECT_THAT(violated(p), ElementsAre("procedure.documents[0]"));
  p = Proc();
  p.mutable_legs(1)->mutable_time_limit()->set_amount(30);  // legal time 3
  EXPECT_THAT(violated(p), ElementsAre("procedure.legs[1].time_limit"));
  p = Proc();
  p.add_receiving_tiers(static_cast<common::v1::Tier>(42));
  p.mutable_legs(0)->set_agency_kind(static_cast<common::v1::AgencyKind>(99));
  p.mutable_fields(0)->set_type(static_cast<common::v1::FieldType>(99));
  EXPECT_THAT(violated(p), ElementsAre("procedure.receiving_tiers",
                                       "procedure.fields[0].type",
                                       "procedure.legs[0].agency_kind"));
  p = Proc();
  p.mutable_legs(0)->mutable_produces(0)->set_type(
      common::v1::FIELD_TYPE_ENUM);  // an output no value can fill
  EXPECT_THAT(violated(p),
              ElementsAre("procedure.legs[0].produces[0].enum_values"));
  p = Proc();
  p.mutable_legs(0)->set_levels_up(3);  // above the province, from a commune
  EXPECT_THAT(violated(p), ElementsAre("procedure.legs[0].levels_up"));
  p = Proc();
  p.mutable_legal_time()->set_amount(2000000000);
  EXPECT_THAT(violated(p), ElementsAre("procedure.legal_time.amount"));
  p = Proc();
  p.mutable_effective_time()->set_seconds(-62135596801);  // before year 1
  EXPECT_THAT(violated(p), ElementsAre("procedure.effective_time"));
}

// A chain of 90,000 legs once crashed the server (a recursive cycle check);
// sizes are refused before anything walks the lists.
TEST(ProcedureValidationTest, OversizedProceduresAreRefusedFirst) {
  v1::Procedure p = Proc();
  for (int i = 0; i < 90000; ++i) {
    *p.add_legs() = Leg(absl::StrCat("l", i), {absl::StrCat("l", i + 1)});
  }
  const auto details = common::GetErrorDetails(ValidateProcedure(p));
  ASSERT_EQ(details.field_violations.size(), 1u);
  EXPECT_EQ(details.field_violations[0].field, "procedure.legs");
  v1::Procedure fields = Proc();
  for (int i = 0; i < 301; ++i) *fields.add_fields() = Proc().fields(0);
  EXPECT_EQ(common::GetErrorDetails(ValidateProcedure(fields))
                .field_violations[0]
                .field,
            "procedure.fields");
}

TEST(ProcedureValidationTest, CalendarIsEmptyOrACalendarName) {
  for (const char* ok : {"", "calendars/vn", "calendars/vn-H26"}) {
    v1::Procedure p = Proc();
    p.set_calendar(ok);
    EXPECT_THAT(ValidateProcedure(p), IsOk()) << ok;
  }
  for (const char* bad :
       {"vn-H26", "calendars/", "calendars/vn/versions/2", "lich/vn"}) {
    v1::Procedure p = Proc();
    p.set_calendar(bad);
    auto details = common::GetErrorDetails(ValidateProcedure(p));
    ASSERT_EQ(details.field_violations.size(), 1u) << bad;
    EXPECT_EQ(details.field_violations[0].field, "procedure.calendar") << bad;
  }
}

v1::Dossier GoodDossier() {
  v1::Dossier d;
  d.set_channel(common::v1::RECEIPT_CHANNEL_COUNTER);
  d.mutable_applicant()->set_full_name("Nguyễn Văn An");
  d.mutable_applicant()->set_personal_id("001090012345");
  d.mutable_applicant()->mutable_contact()->set_phone("0912345678");
  auto* f = d.add_fields();
  f->set_key("child_full_name");
  f->set_value("Nguyễn Minh Khôi");
  auto* doc = d.add_documents();
  doc->set_code("giay_chung_sinh");
  doc->set_sha256(std::string(64, 'a'));
  return d;
}

TEST(DossierValidationTest, GoodDossierPassesAndEveryViolationIsReported) {
  EXPECT_THAT(ValidateDossier(GoodDossier(), Proc()), IsOk());
  v1::Dossier d = GoodDossier();
  d.mutable_applicant()->set_personal_id("123");
  d.mutable_applicant()->mutable_contact()->set_phone("12345");
  d.clear_fields();
  d.mutable_documents(0)->set_sha256("xyz");
  const absl::Status s = ValidateDossier(d, Proc());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  const auto details = common::GetErrorDetails(s);
  std::vector<std::string> fields;
  for (const auto& v : details.field_violations) fields.push_back(v.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"dossier.applicant.personal_id",
                                              "dossier.applicant.contact.phone",
                                              "dossier.fields[child_full_name]",
                                              "dossier.documents[0].sha256"}));
  EXPECT_FALSE(details.localized_message.empty());
}

TEST(DossierValidationTest, AnApplicantWithOnlyAnEmailIsAskedForAPhone) {
  v1::Dossier d = GoodDossier();
  d.mutable_applicant()->mutable_contact()->clear_phone();
  d.mutable_applicant()->mutable_contact()->set_email("an@example.vn");
  const auto details = common::GetErrorDetails(ValidateDossier(d, Proc()));
  ASSERT_EQ(details.field_violations.size(), 1u);
  EXPECT_EQ(details.field_violations[0].field,
            "dossier.applicant.contact.phone");
}

TEST(ReceiveRulesTest, OnlyReceivingUnitsOfAllowedTiers) {
  v1::Agency ward;
  ward.set_code("001.08.19.H26");
  ward.set_tier(common::v1::TIER_COMMUNE);
  ward.set_kind(common::v1::AGENCY_KIND_ONE_STOP_UNIT);
  EXPECT_THAT(CheckMayReceive(Proc(), ward, absl::Now()), IsOk());
  v1::Agency district = ward;
  district.set_tier(common::v1::TIER_DISTRICT);
  EXPECT_THAT(CheckMayReceive(Proc(), district, absl::Now()),
              StatusHasReason(absl::StatusCode::kFailedPrecondition,
                              "TIER_MAY_NOT_RECEIVE"));
  v1::Agency police = ward;
  police.set_kind(common::v1::AGENCY_KIND_POLICE);
  EXPECT_THAT(CheckMayReceive(Proc(), police, absl::Now()),
              StatusHasReason(absl::StatusCode::kFailedPrecondition,
                              "NOT_A_RECEIVING_UNIT"));
}

TEST(DossierCodeTest, FormatUsesVietnamDateAndFourDigits) {
  // 2026-11-24 18:30 UTC is already 25/11 in Hà Nội.
  const absl::Time t = absl::FromCivil(
      absl::CivilSecond(2026, 11, 24, 18, 30, 0), absl::UTCTimeZone());
  EXPECT_EQ(FormatDossierCode("001.08.19.H26", LocalDay(t), 42),
            "001.08.19.H26-261125-0042");
  EXPECT_EQ(
      FormatDossierCode("000.00.00.H26", absl::CivilDay(2025, 3, 7), 12345),
      "000.00.00.H26-250307-12345");
  EXPECT_TRUE(IsAgencyCode("000.00.00.H26"));
  EXPECT_TRUE(IsAgencyCode("001.01.00.T01"));
  for (const char* bad :
       {"000..00", "000.00/00", "A", "1", "x.y", "h26", "000.00.00.h26",
        "0000000000.1.2.3.4.5.6.7", "000.00.00.H26.1", "00.000.00.H26",
        "000.00.0A.H26", ""}) {
    EXPECT_FALSE(IsAgencyCode(bad)) << bad;
  }
}

TEST(DossierCodeTest, IsDossierCodeTakesWhatFormatMakes) {
  EXPECT_TRUE(IsDossierCode(
      FormatDossierCode("001.08.19.H26", absl::CivilDay(2026, 12, 7), 1)));
  EXPECT_TRUE(IsDossierCode("000.00.00.H26-250307-12345"));
  for (const char* bad :
       {"", "x", "-261207-0001", "001.08.19.H26-261207-001",
        "001.08.19.H26-261207-0000000001", "001.08.19.H26-2612070-0001",
        "001.08.19.H26-26120a-0001", "001.08.19.H26-261207-00a1",
        "001 08.19.H26-261207-0001", "001.08.19.H26_261207-0001"}) {
    EXPECT_FALSE(IsDossierCode(bad)) << bad;
  }
  EXPECT_FALSE(IsDossierCode(std::string(60, '1') + "-261207-0001"));
}

TEST(AppointmentTest, CutoffMovesTheStartToTheNextWorkingDay) {
  auto cal = calendar::DefaultCalendar();
  ASSERT_TRUE(cal.ok());
  const absl::TimeZone tz = VietnamTime();
  v1::Procedure p = Proc();  // 3 working days, cut-off 15:00
  // Monday 2026-11-23 10:00 local: Thursday 10:00.
  auto a = ComputeAppointment(
      *cal, absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 0, 0), tz), p);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(absl::ToCivilSecond(*a, tz),
            absl::CivilSecond(2026, 11, 26, 10, 0, 0));
  // Friday 15:01, after the cut-off: counts from Monday 08:00 -> Wed 17:00.
  a = ComputeAppointment(
      *cal, absl::FromCivil(absl::CivilSecond(2026, 11, 27, 15, 1, 0), tz), p);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(absl::ToCivilSecond(*a, tz),
            absl::CivilSecond(2026, 12, 2, 17, 0, 0));
}

// As the deadline service reads it (calendar::ParseMinuteOfDay): a cut-off
// only one of them took would leave the dossier without a clock.
TEST(AppointmentTest, CutoffIsExactlyHhMm) {
  for (const char* bad : {" 8:00", "+8:00", "08:+5", "08: 5", "8:00", "24:00",
                          "23:60", "15h00"}) {
    EXPECT_FALSE(ParseCutoff(bad).ok()) << "'" << bad << "'";
  }
  EXPECT_EQ(ParseCutoff("").value(), absl::nullopt);
  EXPECT_EQ(ParseCutoff("15:00").value(), absl::optional<int>(900));
  EXPECT_EQ(ParseCutoff("00:00").value(), absl::optional<int>(0));
  EXPECT_EQ(ParseCutoff("23:59").value(), absl::optional<int>(1439));
}

TEST(FormsTest, HtmlEscapeReplacesEachSpecialCharacterAndKeepsTheRest) {
  EXPECT_EQ(HtmlEscape(""), "");
  EXPECT_EQ(HtmlEscape("Phường Tây Mỗ"), "Phường Tây Mỗ");
  EXPECT_EQ(HtmlEscape("<a href=\"x\">Lê's & Co</a>"),
            "&lt;a href=&quot;x&quot;&gt;Lê&#39;s &amp; Co&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("&&"), "&amp;&amp;");
  EXPECT_EQ(HtmlEscape(">đầu"), "&gt;đầu");
  EXPECT_EQ(HtmlEscape("cuối<"), "cuối&lt;");
}

TEST(FormsTest, ReceiptIsVietnameseHtmlWithEscaping) {
  FormContext fc;
  fc.dossier = GoodDossier();
  fc.dossier.set_code("001.08.19.H26-261125-0001");
  fc.dossier.mutable_applicant()->set_full_name("Nguyễn <b>An</b>");
  fc.dossier.mutable_appointment_time()->set_seconds(
      1764064800);  // 2025-11-25 10:00 UTC
  const v1::Procedure procedure = Proc();
  fc.procedure = &procedure;
  v1::Agency agency;
  agency.set_display_name("Bộ phận Một cửa phường Tây Mỗ");
  fc.receiving_agency = &agency;
  const std::string html = RenderForm(v1::FORM_KIND_RECEIPT, fc);
  EXPECT_NE(html.find("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"),
            std::string::npos);
  EXPECT_NE(html.find("Nguyễn &lt;b&gt;An&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("17:00 ngày 25/11/2025"), std::string::npos);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
}

TEST(FormsTest, ReceiptNamesTheFeeTheProcedureCodeAndTheOfficer) {
  FormContext fc;
  fc.dossier = GoodDossier();
  v1::Procedure procedure = Proc();
  procedure.set_fee_vnd(1075000);
  fc.procedure = &procedure;
  fc.officer = "can-bo-01";
  const std::string html = RenderForm(v1::FORM_KIND_RECEIPT, fc);
  EXPECT_NE(html.find("Lệ phí: <b>1.075.000 đồng</b>"), std::string::npos);
  EXPECT_NE(html.find(absl::StrCat("(mã ", procedure.code(), ")")),
            std::string::npos);
  EXPECT_NE(html.find("Người tiếp nhận: <b>can-bo-01</b>"), std::string::npos);
  EXPECT_NE(html.find("NGƯỜI TIẾP NHẬN HỒ SƠ"), std::string::npos);
  procedure.set_fee_vnd(0);
  EXPECT_NE(RenderForm(v1::FORM_KIND_RECEIPT, fc).find("Không thu"),
            std::string::npos);
}

TEST(FormsTest, ControlSlipStartsWithTheReceipt) {
  FormContext fc;
  fc.dossier = GoodDossier();
  v1::Transition received;
  received.set_to_state(v1::DOSSIER_STATE_RECEIVED);
  received.set_actor_subject("can-bo-01");
  v1::Transition started = received;
  started.set_from_state(v1::DOSSIER_STATE_RECEIVED);
  started.set_to_state(v1::DOSSIER_STATE_IN_PROCESSING);
  fc.transitions = {received, started};
  const std::string html = RenderForm(v1::FORM_KIND_CONTROL_SLIP, fc);
  EXPECT_NE(html.find("<td>Tiếp nhận hồ sơ</td>"), std::string::npos);
  EXPECT_EQ(html.find("Không xác định"), std::string::npos);
  ASSERT_TRUE(FillFromHistory(v1::FORM_KIND_CONTROL_SLIP, fc).ok());
  EXPECT_EQ(fc.officer, "can-bo-01");
}

TEST(FormsTest, ASupplementRequestPrintsTheCurrentRoundOnly) {
  FormContext fc;
  fc.dossier = GoodDossier();
  auto t = [](v1::DossierState from, v1::DossierState to, std::string why) {
    v1::Transition x;
    x.set_from_state(from);
    x.set_to_state(to);
    x.set_reason(std::move(why));
    return x;
  };
  using S = v1::DossierState;
  fc.transitions = {
      t(S::DOSSIER_STATE_UNSPECIFIED, S::DOSSIER_STATE_RECEIVED, ""),
      t(S::DOSSIER_STATE_RECEIVED, S::DOSSIER_STATE_IN_PROCESSING, ""),
      t(S::DOSSIER_STATE_IN_PROCESSING, S::DOSSIER_STATE_SUPPLEMENT_REQUESTED,
        "cũ"),
      t(S::DOSSIER_STATE_SUPPLEMENT_REQUESTED, S::DOSSIER_STATE_IN_PROCESSING,
        "Công dân bổ sung"),
      t(S::DOSSIER_STATE_IN_PROCESSING, S::DOSSIER_STATE_SUPPLEMENT_REQUESTED,
        "mới 1"),
      t(S::DOSSIER_STATE_SUPPLEMENT_REQUESTED,
        S::DOSSIER_STATE_SUPPLEMENT_REQUESTED, "mới 2"),
  };
  ASSERT_TRUE(FillFromHistory(v1::FORM_KIND_SUPPLEMENT_REQUEST, fc).ok());
  EXPECT_EQ(fc.reasons, (std::vector<std::string>{"mới 1", "mới 2"}));
  EXPECT_EQ(FillFromHistory(v1::FORM_KIND_REFUSAL, fc).code(),
            absl::StatusCode::kFailedPrecondition);
}

// An apology and a calendar move while the dossier waits for a supplement
// are steps in place, not requests: the reprinted supplement request lists
// the requests only, and the apology still prints its own reason and the
// appointment it replaced.
TEST(FormsTest, ApologiesAndMovesAreNotSupplementRequests) {
  FormContext fc;
  fc.dossier = GoodDossier();
  google::protobuf::Timestamp receipt, apologized;
  receipt.set_seconds(1796000400);
  apologized.set_seconds(1796259600);
  using S = v1::DossierState;
  auto t = [](S from, S to, std::string why) {
    v1::Transition x;
    x.set_from_state(from);
    x.set_to_state(to);
    x.set_reason(std::move(why));
    return x;
  };
  v1::Transition apology =
      t(S::DOSSIER_STATE_SUPPLEMENT_REQUESTED,
        S::DOSSIER_STATE_SUPPLEMENT_REQUESTED,
        absl::StrCat(kApologyReasonPrefix, "Chờ xác minh cư trú"));
  *apology.mutable_previous_appointment_time() = receipt;
  v1::Transition move =
      t(S::DOSSIER_STATE_SUPPLEMENT_REQUESTED,
        S::DOSSIER_STATE_SUPPLEMENT_REQUESTED,
        absl::StrCat("Thay đổi lịch làm việc", kNewAppointmentMarker, "…"));
  *move.mutable_previous_appointment_time() = apologized;
  // A move recorded before moves carried the appointment they replaced.
  v1::Transition older_move = move;
  older_move.clear_previous_appointment_time();
  fc.transitions = {
      t(S::DOSSIER_STATE_UNSPECIFIED, S::DOSSIER_STATE_RECEIVED, ""),
      t(S::DOSSIER_STATE_RECEIVED, S::DOSSIER_STATE_IN_PROCESSING, ""),
      t(S::DOSSIER_STATE_IN_PROCESSING, S::DOSSIER_STATE_SUPPLEMENT_REQUESTED,
        "Bổ sung giấy chứng sinh bản chính"),
      apology,
      move,
      older_move,
      t(S::DOSSIER_STATE_SUPPLEMENT_REQUESTED,
        S::DOSSIER_STATE_SUPPLEMENT_REQUESTED, "Bổ sung sổ tạm trú"),
  };
  FormContext supplement = fc;
  ASSERT_TRUE(
      FillFromHistory(v1::FORM_KIND_SUPPLEMENT_REQUEST, supplement).ok());
  EXPECT_EQ(supplement.reasons,
            (std::vector<std::string>{"Bổ sung giấy chứng sinh bản chính",
                                      "Bổ sung sổ tạm trú"}));
  const std::string html =
      RenderForm(v1::FORM_KIND_SUPPLEMENT_REQUEST, supplement);
  EXPECT_EQ(html.find("Xin lỗi"), std::string::npos);
  EXPECT_EQ(html.find("Thay đổi lịch"), std::string::npos);

  FormContext apology_form = fc;
  ASSERT_TRUE(FillFromHistory(v1::FORM_KIND_APOLOGY, apology_form).ok());
  EXPECT_EQ(apology_form.reasons,
            (std::vector<std::string>{"Chờ xác minh cư trú"}));
  EXPECT_EQ(apology_form.previous_appointment.seconds(), receipt.seconds());
}

}  // namespace
}  // namespace lienthong::intake
