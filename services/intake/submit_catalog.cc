#include "services/intake/submit_catalog.h"

namespace lienthong::intake {
namespace {

using Read = std::map<std::string, pg::SubmitBatchRead::Stored>;

template <typename M>
bool Same(const SubmitCatalog::Entry<M>& held,
          const pg::SubmitBatchRead::Stored& read) {
  return held.bytes == read.bytes && held.path == read.path;
}

// What `read` says of `codes` is what `held` holds.
template <typename M>
bool SameRows(const SubmitCatalog::Entries<M>& held, const Read& read,
              const std::vector<std::string>& codes) {
  for (const std::string& code : codes) {
    auto h = held.find(code);
    auto r = read.find(code);
    if (h == held.end() || r == read.end() || !Same(*h->second, r->second)) {
      return false;
    }
  }
  return true;
}

// `held` with what `read` says of `codes` (a code it did not find is
// dropped); unchanged entries are shared, changed ones parsed.
template <typename M>
void Refresh(SubmitCatalog::Entries<M>& held, const Read& read,
             const std::vector<std::string>& codes) {
  for (const std::string& code : codes) {
    auto r = read.find(code);
    if (r == read.end()) {
      held.erase(code);
      continue;
    }
    auto& entry = held[code];
    if (entry != nullptr && Same(*entry, r->second)) continue;
    auto e = std::make_shared<SubmitCatalog::Entry<M>>();
    e->path = r->second.path;
    e->bytes = r->second.bytes;
    e->message.ParseFromString(e->bytes);
    entry = std::move(e);
  }
}

}  // namespace

bool SubmitCatalog::Holds(const std::string& agency,
                          const std::string& caller_agency,
                          const std::string& procedure) const {
  return agencies.count(agency) > 0 && agencies.count(caller_agency) > 0 &&
         procedures.count(procedure) > 0;
}

bool SubmitCatalog::SameEntriesAs(const SubmitCatalog& other,
                                  const std::string& agency,
                                  const std::string& caller_agency,
                                  const std::string& procedure) const {
  auto same = [](const auto& mine, const auto& theirs,
                 const std::string& code) {
    auto a = mine.find(code);
    auto b = theirs.find(code);
    return a != mine.end() && b != theirs.end() && a->second == b->second;
  };
  return same(agencies, other.agencies, agency) &&
         same(agencies, other.agencies, caller_agency) &&
         same(procedures, other.procedures, procedure);
}

bool SubmitCatalog::Matches(const pg::SubmitBatchRead& read,
                            const std::vector<std::string>& agency_codes,
                            const std::vector<std::string>& procedure_codes)
    const {
  return SameRows(agencies, read.agencies, agency_codes) &&
         SameRows(procedures, read.procedures, procedure_codes);
}

std::shared_ptr<SubmitCatalog> SubmitCatalog::Updated(
    const SubmitCatalog* base, const pg::SubmitBatchRead& read,
    const std::vector<std::string>& agency_codes,
    const std::vector<std::string>& procedure_codes) {
  auto c = std::make_shared<SubmitCatalog>();
  if (base != nullptr) *c = *base;
  Refresh(c->agencies, read.agencies, agency_codes);
  Refresh(c->procedures, read.procedures, procedure_codes);
  return c;
}

}  // namespace lienthong::intake
