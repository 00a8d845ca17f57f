#pragma once

// Distinct types for the identifiers that must never be swapped: passing a
// DossierCode where an AgencyCode is expected does not compile.

#include <compare>
#include <ostream>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace lienthong::common {

template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : value_(std::move(value)) {}
  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }
  auto operator<=>(const StrongId&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const StrongId& id) {
    return H::combine(std::move(h), id.value_);
  }
  friend std::ostream& operator<<(std::ostream& os, const StrongId& id) {
    return os << id.value_;
  }

 private:
  std::string value_;
};

struct AgencyCodeTag {};
struct DossierCodeTag {};
struct ProcedureCodeTag {};
using AgencyCode = StrongId<AgencyCodeTag>;
using DossierCode = StrongId<DossierCodeTag>;
using ProcedureCode = StrongId<ProcedureCodeTag>;

// A citizen's personal identification number (12 digits). It formats as
// `<redacted>` so it can never leak into a log line by accident; the raw value
// is reachable only through `raw()`, which reviewers can grep for.
class CitizenId {
 public:
  CitizenId() = default;
  explicit CitizenId(std::string value) : value_(std::move(value)) {}
  const std::string& raw() const { return value_; }
  bool empty() const { return value_.empty(); }
  bool operator==(const CitizenId&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const CitizenId&) {
    return os << "<redacted>";
  }
  template <typename Sink>
  friend void AbslStringify(Sink& sink, const CitizenId&) {
    sink.Append("<redacted>");
  }

 private:
  std::string value_;
};

}  // namespace lienthong::common
