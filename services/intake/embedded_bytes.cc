#include "services/intake/embedded_bytes.h"

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "lienthong/intake/v1/intake_service.pb.h"

namespace lienthong::intake {

void AppendEmbedded(std::string* out, int field, const std::string& bytes) {
  google::protobuf::io::StringOutputStream raw(out);
  google::protobuf::io::CodedOutputStream coded(&raw);
  coded.WriteTag(google::protobuf::internal::WireFormatLite::MakeTag(
      field,
      google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  coded.WriteVarint32(static_cast<uint32_t>(bytes.size()));
  coded.WriteRaw(bytes.data(), static_cast<int>(bytes.size()));
}

std::string EmbeddedDossier(const std::string& dossier) {
  std::string out;
  AppendEmbedded(&out, v1::SubmitDossierResponse::kDossierFieldNumber, dossier);
  return out;
}

}  // namespace lienthong::intake
