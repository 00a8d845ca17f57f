#pragma once

// What SubmitDossier's batches (submit_dossier.cc) check and build against:
// the agencies and procedures a batch last read, kept as their stored bytes
// and parsed, and how a batch's read refreshes them.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lienthong/intake/v1/resources.pb.h"
#include "services/intake/pg_intake_store.h"

namespace lienthong::intake {

// The agencies and procedures (versions in force) as a batch last read
// them. Versions of a procedure never change and agencies rarely do, so a
// batch whose every agency and procedure is here checks its submissions
// against them before its transaction, takes its counters in the same
// statement that reads the rows again, and goes on only if they are the
// same bytes (else it rolls back and runs again on what it read).
struct SubmitCatalog {
  // A row as stored (`path` is empty for procedures) and parsed.
  template <typename M>
  struct Entry {
    std::string path, bytes;
    M message;
  };
  template <typename M>
  using Entries = std::map<std::string, std::shared_ptr<const Entry<M>>>;
  Entries<v1::Agency> agencies;
  Entries<v1::Procedure> procedures;

  // Whether a submission to `agency` by an officer of `caller_agency` for
  // `procedure` can be checked against this catalog alone.
  bool Holds(const std::string& agency, const std::string& caller_agency,
             const std::string& procedure) const;

  // Whether a submission built against `other` was built from the entries
  // this catalog holds for it (entries unchanged by a read are shared).
  bool SameEntriesAs(const SubmitCatalog& other, const std::string& agency,
                     const std::string& caller_agency,
                     const std::string& procedure) const;

  // Whether what `read` says of these codes is what this catalog holds.
  bool Matches(const pg::SubmitBatchRead& read,
               const std::vector<std::string>& agencies,
               const std::vector<std::string>& procedures) const;

  // `base` (may be null) with what `read` says of these codes (a code it
  // did not find is dropped); unchanged entries are shared, changed ones
  // parsed.
  static std::shared_ptr<SubmitCatalog> Updated(
      const SubmitCatalog* base, const pg::SubmitBatchRead& read,
      const std::vector<std::string>& agencies,
      const std::vector<std::string>& procedures);
};

}  // namespace lienthong::intake
