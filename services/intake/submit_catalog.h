#pragma once

// What SubmitDossier's batches (submit_dossier.cc) check and build against:
// the catalog of agencies and procedures a batch last read, and the helpers
// that put bytes already serialized into a message as it would be written
// (a dossier's response, an event's agency and procedure as the catalog
// holds them). The catalog's checks of a submission are defined beside
// SubmitJob, in submit_dossier.cc.

#include <map>
#include <memory>
#include <string>

#include "lienthong/intake/v1/resources.pb.h"

namespace lienthong::intake {

struct SubmitJob;

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

  bool Holds(const SubmitJob& j) const;

  // Whether `j`, built against `other`, was built from the entries this
  // catalog holds for it (entries unchanged by a read are shared).
  bool SameEntriesAs(const SubmitCatalog& other, const SubmitJob& j) const;
};

// Appends message field `field` whose serialized value is `bytes`, as
// SerializeAsString writes it.
void AppendEmbedded(std::string* out, int field, const std::string& bytes);

// A SubmitDossierResponse holding only the dossier whose bytes are
// `dossier`.
std::string EmbeddedDossier(const std::string& dossier);

}  // namespace lienthong::intake
