#include "tools/cli/seed_diff.h"

#include "gtest/gtest.h"

namespace lienthong::cli {
namespace {

namespace v1 = intake::v1;

v1::Agency TayMo() {
  v1::Agency a;
  a.set_code("001.08.19.H26");
  a.set_display_name("Bộ phận Một cửa phường Tây Mỗ");
  a.set_tier(common::v1::TIER_COMMUNE);
  a.set_kind(common::v1::AGENCY_KIND_ONE_STOP_UNIT);
  a.set_parent("agencies/000.08.19.H26");
  return a;
}

// As GetAgency returns it: with the server's output-only fields.
v1::Agency Stored(v1::Agency a) {
  a.set_name("agencies/" + a.code());
  a.set_administrative_unit("agencies/000.08.19.H26");
  a.add_ancestor_codes("000.00.00.H26");
  a.add_ancestor_codes("000.00.19.H26");
  a.add_ancestor_codes("000.08.19.H26");
  return a;
}

v1::Procedure Lt01() {
  v1::Procedure p;
  p.set_code("LT.01");
  p.set_display_name("Liên thông khai sinh");
  p.set_online_level(3);
  p.mutable_effective_time()->set_seconds(1719792000);
  return p;
}

v1::Procedure StoredVersion(v1::Procedure p, int version) {
  p.set_name("procedures/" + p.code());
  p.set_version(version);
  return p;
}

TEST(SeedDiffTest, OutputOnlyFieldsDoNotMakeAnAgencyDifferent) {
  EXPECT_TRUE(SameAgency(TayMo(), Stored(TayMo())));
}

TEST(SeedDiffTest, AnyFieldTheSeedSetsMakesAnAgencyDifferent) {
  v1::Agency renamed = TayMo();
  renamed.set_display_name("Bộ phận Một cửa phường Tây Mỗ mới");
  EXPECT_FALSE(SameAgency(renamed, Stored(TayMo())));
  v1::Agency moved = TayMo();
  moved.set_parent("agencies/000.08.14.H26");
  EXPECT_FALSE(SameAgency(moved, Stored(TayMo())));
  v1::Agency kind = TayMo();
  kind.set_kind(common::v1::AGENCY_KIND_POLICE);
  EXPECT_FALSE(SameAgency(kind, Stored(TayMo())));
}

TEST(SeedDiffTest, AgencyDecisions) {
  const absl::Status ok;
  EXPECT_EQ(*DecideAgency(ok, Stored(TayMo()), TayMo()), SeedStep::kSkip);
  v1::Agency renamed = TayMo();
  renamed.set_display_name("Tên mới");
  EXPECT_EQ(*DecideAgency(ok, Stored(TayMo()), renamed), SeedStep::kUpsert);
  EXPECT_EQ(*DecideAgency(absl::NotFoundError("no"), v1::Agency(), TayMo()),
            SeedStep::kUpsert);
  EXPECT_EQ(DecideAgency(absl::UnavailableError("down"), v1::Agency(), TayMo())
                .status()
                .code(),
            absl::StatusCode::kUnavailable);
}

TEST(SeedDiffTest, ProcedureEqualToTheVersionInForceIsSkipped) {
  EXPECT_EQ(
      *DecideProcedure(absl::OkStatus(), StoredVersion(Lt01(), 4), Lt01()),
      SeedStep::kSkip);
  v1::Procedure changed = Lt01();
  changed.set_online_level(4);
  EXPECT_EQ(
      *DecideProcedure(absl::OkStatus(), StoredVersion(Lt01(), 4), changed),
      SeedStep::kUpsert);
  EXPECT_EQ(
      *DecideProcedure(absl::NotFoundError("no"), v1::Procedure(), Lt01()),
      SeedStep::kUpsert);
}

TEST(SeedDiffTest, EffectiveTimeTheServerFilledInIsNotADifference) {
  v1::Procedure without = Lt01();
  without.clear_effective_time();
  EXPECT_TRUE(SameProcedure(without, StoredVersion(Lt01(), 1)));
  v1::Procedure later = Lt01();
  later.mutable_effective_time()->set_seconds(1767225600);
  EXPECT_FALSE(SameProcedure(later, StoredVersion(Lt01(), 1)));
}

// A failed look-up is not "absent": upserting would add a version equal
// to the one in force (versions are append-only).
TEST(SeedDiffTest, ProcedureLookupErrorsOtherThanNotFoundStopTheSeed) {
  for (const absl::Status& got :
       {absl::UnavailableError("down"), absl::DeadlineExceededError("slow"),
        absl::PermissionDeniedError("no"), absl::InternalError("bug")}) {
    EXPECT_EQ(DecideProcedure(got, v1::Procedure(), Lt01()).status().code(),
              got.code());
  }
}

TEST(SeedDiffTest, UpsertRequestIdsAreStableAndChangeWithWhatTheyReplace) {
  const v1::Agency stored = Stored(TayMo());
  v1::Agency renamed = TayMo();
  renamed.set_display_name("Tên mới");
  EXPECT_EQ(AgencyUpsertRequestId(renamed, &stored, "run-1"),
            AgencyUpsertRequestId(renamed, &stored, "run-1"));
  // Output-only fields of the seed entry do not change the id.
  EXPECT_EQ(AgencyUpsertRequestId(Stored(renamed), &stored, "run-1"),
            AgencyUpsertRequestId(renamed, &stored, "run-1"));
  // The same stray change undone in two runs: two requests, so the second
  // is written rather than answered with the first's stored response.
  EXPECT_NE(AgencyUpsertRequestId(TayMo(), &stored, "run-1"),
            AgencyUpsertRequestId(TayMo(), &stored, "run-2"));
  EXPECT_NE(AgencyUpsertRequestId(TayMo(), nullptr, "run-1"),
            AgencyUpsertRequestId(TayMo(), &stored, "run-1"));
  EXPECT_NE(ProcedureUpsertRequestId(Lt01(), 1),
            ProcedureUpsertRequestId(Lt01(), 2));
  EXPECT_EQ(ProcedureUpsertRequestId(Lt01(), 2),
            ProcedureUpsertRequestId(Lt01(), 2));
}

}  // namespace
}  // namespace lienthong::cli
