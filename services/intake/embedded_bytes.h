#pragma once

// Composing protobuf messages from parts already serialized: a field's
// bytes are written as SerializeAsString would write the submessage, so a
// dossier or a catalog entry serialized once is not parsed and serialized
// again to be embedded.

#include <string>

namespace lienthong::intake {

// Appends message field `field` whose serialized value is `bytes`, as
// SerializeAsString writes it.
void AppendEmbedded(std::string* out, int field, const std::string& bytes);

// A SubmitDossierResponse holding only the dossier whose bytes are
// `dossier`.
std::string EmbeddedDossier(const std::string& dossier);

}  // namespace lienthong::intake
