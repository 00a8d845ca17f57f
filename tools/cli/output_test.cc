#include "tools/cli/output.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/errors.h"
#include "lienthong/intake/v1/intake_service.pb.h"
#include "nlohmann/json.hpp"

namespace lienthong::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = intake::v1;

v1::Dossier Received() {
  v1::Dossier d;
  d.set_code("001.08.19.H26-261123-0001");
  d.set_procedure("procedures/LT.01");
  d.set_procedure_version(1);
  d.set_state(v1::DOSSIER_STATE_RECEIVED);
  d.set_national_status_code(2);
  d.mutable_receive_time()->set_seconds(1795399200);  // 09:00 23/11/2026
  d.mutable_appointment_time()->set_seconds(1795852800);
  return d;
}

TEST(OutputTest, JsonLineIsOneCompactObject) {
  v1::Dossier d = Received();
  d.set_current_step("Dòng một\nDòng hai");
  const std::string line = JsonLine(d);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["code"], "001.08.19.H26-261123-0001");
  EXPECT_EQ(j["current_step"], "Dòng một\nDòng hai");
}

// A script testing `j["intact"] == false` must find the key; proto3 JSON
// leaves out fields at their defaults unless told otherwise.
TEST(OutputTest, JsonLineKeepsFalseAndZeroFields) {
  v1::VerifyAuditChainResponse broken;
  broken.set_checked(0);
  broken.set_first_bad_sequence(1);
  const nlohmann::json audit = nlohmann::json::parse(JsonLine(broken));
  EXPECT_EQ(audit["intact"], false);
  // int64 is a string in proto3 JSON, zero or not.
  EXPECT_EQ(audit["checked"], "0");
  EXPECT_EQ(audit["first_bad_sequence"], "1");
  EXPECT_EQ(audit["problem"], "");

  v1::LookupDossierResponse late;
  late.set_code("001.08.19.H26-261123-0001");
  EXPECT_EQ(nlohmann::json::parse(JsonLine(late))["on_time"], false);

  deadline::v1::GetOnTimeReportResponse report;
  report.add_rows()->set_group("agencies/000.08.19.H26");
  const nlohmann::json row = nlohmann::json::parse(JsonLine(report))["rows"][0];
  for (const char* count :
       {"received", "finished_early", "finished_on_time", "finished_late",
        "in_progress_on_time", "in_progress_overdue"}) {
    EXPECT_EQ(row[count], "0") << count;
  }
  EXPECT_EQ(row["on_time_rate"], 0);
}

TEST(OutputTest, StatesAreShownInVietnamese) {
  v1::Dossier d = Received();
  EXPECT_EQ(StateText(d), "Đã tiếp nhận");
  d.set_state(v1::DOSSIER_STATE_IN_PROCESSING);
  d.set_current_step("Đang giải quyết: civil_status");
  EXPECT_EQ(StateText(d), "Đang giải quyết: civil_status");
  d.clear_current_step();
  d.set_state(v1::DOSSIER_STATE_READY_FOR_RETURN);
  EXPECT_EQ(StateText(d), "Có kết quả, chờ trả");
}

TEST(OutputTest, DossierTextHasNoEnumNames) {
  v1::Dossier d = Received();
  d.set_current_step("Đã tiếp nhận");
  const std::string text =
      DossierText(d, "0b5e9c1e-6d3a-4f8e-9a41-3c2d1e0f9a87");
  EXPECT_THAT(text, HasSubstr("Trạng thái:    Đã tiếp nhận (mã quốc gia 2)\n"));
  EXPECT_THAT(text, HasSubstr("Mã yêu cầu:    0b5e9c1e-6d3a-4f8e-9a41-"));
  EXPECT_THAT(text, HasSubstr("Tiếp nhận:     09:00 23/11/2026\n"));
  EXPECT_THAT(text, Not(HasSubstr("RECEIVED")));
  EXPECT_THAT(text, Not(HasSubstr("Bước hiện tại")));  // same as the state
  d.set_state(v1::DOSSIER_STATE_IN_PROCESSING);
  d.set_current_step("Đang giải quyết: civil_status");
  EXPECT_THAT(DossierText(d),
              HasSubstr("Bước hiện tại: Đang giải quyết: civil_status\n"));
  EXPECT_THAT(DossierListLine(d), Not(HasSubstr("IN_PROCESSING")));
  EXPECT_THAT(DossierListLine(d),
              HasSubstr("001.08.19.H26-261123-0001  Đang giải quyết: "));
}

TEST(OutputTest, UnsetTimesAreADashNotNineteenSeventy) {
  EXPECT_EQ(LocalTime(google::protobuf::Timestamp()), "—");
  v1::Dossier d = Received();
  d.clear_appointment_time();
  EXPECT_THAT(DossierText(d), HasSubstr("Hẹn trả:       —\n"));
  EXPECT_THAT(DossierListLine(d), HasSubstr("  hẹn —"));
  EXPECT_EQ(LocalTime(Received().receive_time()), "09:00 23/11/2026");
}

TEST(OutputTest, LookupGivesNoVerdictForRefusedOrWithdrawnDossiers) {
  v1::LookupDossierResponse r;
  r.set_code("001.08.19.H26-261123-0001");
  r.set_current_step("Đang giải quyết");
  r.mutable_appointment_time()->set_seconds(1795852800);
  r.set_state(v1::DOSSIER_STATE_IN_PROCESSING);
  r.set_on_time(true);
  EXPECT_EQ(LookupLine(r),
            "001.08.19.H26-261123-0001: Đang giải quyết, hẹn trả "
            "15:00 28/11/2026 (đúng hạn)");
  r.set_on_time(false);
  EXPECT_THAT(LookupLine(r), HasSubstr("(trễ hạn)"));
  for (const v1::DossierState s :
       {v1::DOSSIER_STATE_REFUSED, v1::DOSSIER_STATE_WITHDRAWN}) {
    for (const bool on_time : {true, false}) {
      r.set_state(s);
      r.set_on_time(on_time);
      const std::string line = LookupLine(r);
      EXPECT_THAT(line, Not(HasSubstr("đúng hạn"))) << s;
      EXPECT_THAT(line, Not(HasSubstr("trễ hạn"))) << s;
      EXPECT_THAT(line, HasSubstr("hẹn trả 15:00 28/11/2026")) << s;
    }
  }
}

TEST(OutputTest, SubmitJsonCarriesTheRequestId) {
  const nlohmann::json j = nlohmann::json::parse(
      SubmitJson(Received(), "0b5e9c1e-6d3a-4f8e-9a41-3c2d1e0f9a87"));
  EXPECT_EQ(j["request_id"], "0b5e9c1e-6d3a-4f8e-9a41-3c2d1e0f9a87");
  EXPECT_EQ(j["dossier"]["code"], "001.08.19.H26-261123-0001");
}

TEST(OutputTest, SeedCountsAsTextAndJson) {
  const SeedCounts c{96, 1, 6, 0};
  EXPECT_EQ(SeedText(c),
            "seeded 96 agencies (1 new or changed, 95 unchanged), 0 new "
            "procedure versions (of 6)");
  const nlohmann::json j = nlohmann::json::parse(SeedJson(c));
  EXPECT_EQ(j["agencies"], 96);
  EXPECT_EQ(j["agencies_upserted"], 1);
  EXPECT_EQ(j["agencies_unchanged"], 95);
  EXPECT_EQ(j["procedures"], 6);
  EXPECT_EQ(j["procedure_versions_added"], 0);
}

// tests/e2e/birth_workflow_e2e.sh reads these rows.
TEST(OutputTest, ReportCsvKeepsItsColumns) {
  deadline::v1::GetOnTimeReportResponse r;
  auto* row = r.add_rows();
  row->set_group("agencies/000.08.19.H26");
  row->set_received(2);
  row->set_finished_early(2);
  row->set_on_time_rate(1);
  row->set_any_finished(true);
  r.mutable_total()->set_received(2);
  r.mutable_total()->set_display_name("Quận \"Nam\" Từ Liêm");
  EXPECT_EQ(ReportCsv(r),
            "nhom,ten,tiep_nhan,som_han,dung_han,tre_han,dang_xu_ly_trong_han,"
            "dang_xu_ly_qua_han,ty_le_dung_han\n"
            "\"agencies/000.08.19.H26\",\"\",2,2,0,0,0,0,1.0000\n"
            "\"TONG\",\"Quận \"\"Nam\"\" Từ Liêm\",2,0,0,0,0,0,\n");
}

// Branching on the reason: the server's English message is not read.
TEST(OutputTest, AFormOfAStepNeverTakenIsExplainedInVietnamese) {
  const auto never = [](const std::string& reason) {
    return common::FailedPrecondition(reason, "dossier X has no form to print");
  };
  EXPECT_THAT(FormFailureHint(never("NO_SUPPLEMENT_REQUEST")),
              HasSubstr("phiếu yêu cầu bổ sung"));
  EXPECT_THAT(FormFailureHint(never("NOT_REFUSED")),
              HasSubstr("phiếu từ chối"));
  EXPECT_THAT(FormFailureHint(never("NO_APOLOGY")), HasSubstr("phiếu xin lỗi"));
  // The server's own Vietnamese, when it sends one, is not doubled.
  EXPECT_EQ(FormFailureHint(common::WithLocalizedMessage(
                never("NO_APOLOGY"), "Hồ sơ chưa có phiếu xin lỗi")),
            "");
  EXPECT_EQ(FormFailureHint(never("ILLEGAL_TRANSITION")), "");
  EXPECT_EQ(FormFailureHint(absl::NotFoundError("no dossier")), "");
  EXPECT_EQ(FormFailureHint(absl::OkStatus()), "");
}

}  // namespace
}  // namespace lienthong::cli
