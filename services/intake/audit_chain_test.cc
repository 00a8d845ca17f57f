// The audit hash chain's verifier, pure: what each kind of tampering looks
// like, and that a chain fed page by page (as VerifyAuditChain reads it)
// gives the result it gives fed whole.

#include "services/intake/audit_chain.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "libs/db/migrations.h"

namespace lienthong::intake {
namespace {

TEST(AuditChainTest, TamperingAndDeletionAreFound) {
  std::vector<v1::AuditEntry> chain;
  std::string prev;
  for (int i = 1; i <= 5; ++i) {
    v1::AuditEntry e;
    e.set_sequence(i);
    e.mutable_time()->set_seconds(1000 + i);
    e.set_action("SubmitDossier");
    e.set_resource("dossiers/x-" + std::to_string(i));
    e.set_outcome("OK");
    e.set_prev_hash(prev);
    e.set_hash(AuditHash(e));
    prev = e.hash();
    chain.push_back(e);
  }
  EXPECT_TRUE(VerifyChain(chain).intact);
  auto altered = chain;
  altered[2].set_outcome("PERMISSION_DENIED");
  EXPECT_EQ(VerifyChain(altered).first_bad_sequence, 3);
  auto deleted = chain;
  deleted.erase(deleted.begin() + 1);
  const ChainCheck c = VerifyChain(deleted);
  EXPECT_FALSE(c.intact);
  EXPECT_EQ(c.first_bad_sequence, 2);
  // The tail cut off leaves no gap; the recorded end finds it.
  EXPECT_TRUE(VerifyChain(chain, 5, chain[4].hash()).intact);
  auto cut = chain;
  cut.resize(3);
  EXPECT_TRUE(VerifyChain(cut).intact);
  const ChainCheck t = VerifyChain(cut, 5, chain[4].hash());
  EXPECT_FALSE(t.intact);
  EXPECT_EQ(t.first_bad_sequence, 4);
  EXPECT_EQ(t.problem, "entries 4 to 5 are missing");
  // An end recorded elsewhere than the entry listed at its seq.
  EXPECT_FALSE(VerifyChain(chain, 5, chain[3].hash()).intact);
  EXPECT_TRUE(VerifyChain({}, 0, "").intact);
  // Bytes moved across a field boundary change the hash, also when a
  // field (a request id the caller chose) holds the separator itself.
  v1::AuditEntry a = chain[0];
  a.set_outcome("OK\x1fx");
  a.set_request_id("");
  v1::AuditEntry b = chain[0];
  b.set_outcome("OK");
  b.set_request_id(std::string("x") + '\x1f');  // the same bytes, shifted
  EXPECT_NE(AuditHash(a), AuditHash(b));
  // An entry without those bytes hashes as it always did (entries sealed
  // before this still verify).
  const std::string sep(1, '\x1f');
  EXPECT_EQ(AuditHash(chain[0]),
            db::Sha256Hex(
                absl::StrJoin({"1", "1001.0", "", "", "", "", "SubmitDossier",
                               "dossiers/x-1", "OK", "", ""},
                              sep)));
  EXPECT_FALSE(VerifyChain({}, 2, "x").intact);
}

// Entries 1..n, chained.
std::vector<v1::AuditEntry> Chain(int n) {
  std::vector<v1::AuditEntry> chain;
  std::string prev;
  for (int i = 1; i <= n; ++i) {
    v1::AuditEntry e;
    e.set_sequence(i);
    e.mutable_time()->set_seconds(1000 + i);
    e.set_action("SubmitDossier");
    e.set_resource(absl::StrCat("dossiers/x-", i));
    e.set_outcome("OK");
    e.set_prev_hash(prev);
    e.set_hash(AuditHash(e));
    prev = e.hash();
    chain.push_back(e);
  }
  return chain;
}

// `entries` fed to a verifier `page` at a time, then an empty page (the
// server's last read may come back empty).
ChainCheck FedInPages(const std::vector<v1::AuditEntry>& entries, size_t page,
                      int64_t end_seq, const std::string& end_hash) {
  ChainVerifier v(end_seq, end_hash);
  absl::Span<const v1::AuditEntry> rest(entries);
  while (!rest.empty()) {
    const size_t n = std::min(page, rest.size());
    v.Feed(rest.subspan(0, n));
    rest.remove_prefix(n);
  }
  v.Feed({});
  return v.Finish();
}

auto Fields(const ChainCheck& c) {
  return std::make_tuple(c.intact, c.checked, c.first_bad_sequence, c.problem);
}

TEST(ChainVerifierTest, PagesOfAnySizeGiveTheWholeChainsResult) {
  const std::vector<v1::AuditEntry> chain = Chain(6);
  auto altered = chain;
  altered[2].set_outcome("PERMISSION_DENIED");
  auto deleted = chain;
  deleted.erase(deleted.begin() + 2);  // entry 3
  auto first_deleted = chain;
  first_deleted.erase(first_deleted.begin());
  // Entry 3 forged whole, its own hash right, linked to another entry 2:
  // only the hash carried over from entry 2 (the previous page, with pages
  // of 2) shows it.
  auto relinked = chain;
  relinked[2].set_prev_hash(std::string(64, '0'));
  relinked[2].set_hash(AuditHash(relinked[2]));
  const std::vector<v1::AuditEntry> cut(chain.begin(), chain.begin() + 3);
  const std::vector<v1::AuditEntry> none;
  struct Case {
    const char* name;
    std::vector<v1::AuditEntry> entries;
    int64_t end_seq;
    std::string end_hash;
    ChainCheck want;
  };
  const auto want = [](bool intact, int64_t checked, int64_t first_bad,
                       std::string problem) {
    return ChainCheck{intact, checked, first_bad, std::move(problem)};
  };
  const std::string end6 = chain[5].hash();
  const Case cases[] = {
      {"intact", chain, 0, "", want(true, 6, 0, "")},
      {"intact to its recorded end", chain, 6, end6, want(true, 6, 0, "")},
      {"entries sealed after the end was read", chain, 4, chain[3].hash(),
       want(true, 6, 0, "")},
      {"altered entry", altered, 6, end6,
       want(false, 3, 3, "hash does not match the entry's content")},
      {"deleted entry", deleted, 6, end6,
       want(false, 3, 3, "entry 3 is missing")},
      {"first entry deleted", first_deleted, 0, "",
       want(false, 1, 1, "entry 1 is missing")},
      {"relinked entry", relinked, 0, "",
       want(false, 3, 3, "link to the previous entry does not match")},
      {"tail cut off", cut, 6, end6,
       want(false, 3, 4, "entries 4 to 6 are missing")},
      {"end recorded elsewhere", chain, 6, chain[4].hash(),
       want(false, 6, 6, "the chain's recorded end does not match this entry")},
      {"empty", none, 0, "", want(true, 0, 0, "")},
      {"empty short of its end", none, 2, "x",
       want(false, 0, 1, "entries 1 to 2 are missing")}};
  for (const Case& c : cases) {
    const auto whole = Fields(VerifyChain(c.entries, c.end_seq, c.end_hash));
    EXPECT_EQ(whole, Fields(c.want)) << c.name;
    for (size_t page : {size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{5},
                        c.entries.size() + 1}) {
      EXPECT_EQ(Fields(FedInPages(c.entries, page, c.end_seq, c.end_hash)),
                whole)
          << c.name << ", pages of " << page;
    }
  }
}

// Wherever a page boundary falls (the entry first or last on its page, or
// inside it), the altered or deleted entry is the one reported.
TEST(ChainVerifierTest, TamperingIsFoundWhereverAPageBoundaryFalls) {
  const std::vector<v1::AuditEntry> chain = Chain(7);
  for (int bad = 1; bad <= 7; ++bad) {
    auto altered = chain;
    altered[bad - 1].set_actor_subject("ai-do");
    auto deleted = chain;
    deleted.erase(deleted.begin() + (bad - 1));
    for (size_t page = 1; page <= 8; ++page) {
      const std::string where =
          absl::StrCat("entry ", bad, ", pages of ", page);
      const ChainCheck a = FedInPages(altered, page, 7, chain[6].hash());
      EXPECT_FALSE(a.intact) << where;
      EXPECT_EQ(a.first_bad_sequence, bad) << where;
      EXPECT_EQ(a.checked, bad) << where;
      const ChainCheck d = FedInPages(deleted, page, 7, chain[6].hash());
      EXPECT_FALSE(d.intact) << where << " deleted";
      EXPECT_EQ(d.first_bad_sequence, bad) << where << " deleted";
    }
  }
}

TEST(ChainVerifierTest, EntriesFedAfterABreakAreIgnored) {
  const std::vector<v1::AuditEntry> chain = Chain(6);
  auto altered = chain;
  altered[1].set_outcome("PERMISSION_DENIED");
  ChainVerifier v(6, chain[5].hash());
  v.Feed(absl::MakeConstSpan(altered).subspan(0, 3));
  EXPECT_FALSE(v.intact());  // the server stops reading here
  const auto broken = Fields(v.Finish());
  EXPECT_EQ(
      broken,
      std::make_tuple(false, int64_t{2}, int64_t{2},
                      std::string("hash does not match the entry's content")));
  v.Feed(absl::MakeConstSpan(chain).subspan(3));
  EXPECT_FALSE(v.intact());
  EXPECT_EQ(Fields(v.Finish()), broken);
}

TEST(ChainVerifierTest, AnIntactPrefixIsIntactUntilTheEndIsDue) {
  // Between pages the verifier says intact (the server reads on); only
  // Finish holds a chain short of its recorded end against it.
  const std::vector<v1::AuditEntry> chain = Chain(4);
  ChainVerifier v(4, chain[3].hash());
  v.Feed(absl::MakeConstSpan(chain).subspan(0, 2));
  EXPECT_TRUE(v.intact());
  EXPECT_FALSE(v.Finish().intact);
  v.Feed(absl::MakeConstSpan(chain).subspan(2));
  EXPECT_TRUE(v.Finish().intact);
  EXPECT_EQ(v.Finish().checked, 4);
}

}  // namespace
}  // namespace lienthong::intake
