#pragma once

// google.protobuf.Timestamp/Duration <-> absl::Time/absl::Duration.

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace lienthong::grpc_util {

inline absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// Exact for any finite time: whole seconds (floored) and the nanoseconds
// past them, never through int64 nanoseconds, which end at 2262-04-11. A
// valid Timestamp still holds only years 0001-9999 (UTC): a server answering
// with a computed time checks that range first.
inline void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t s = absl::ToUnixSeconds(t);
  const absl::Duration past = t - absl::FromUnixSeconds(s);
  out->set_seconds(s);
  // An infinite time has no part-second (and `past` is infinite).
  out->set_nanos(past >= absl::ZeroDuration() && past < absl::Seconds(1)
                     ? static_cast<int32_t>(absl::ToInt64Nanoseconds(past))
                     : 0);
}

inline absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// Exact for any duration a google.protobuf.Duration holds (about ±10,000
// years): whole seconds (towards zero) and the nanoseconds left, of the
// same sign, never through int64 nanoseconds, which end at about 292
// years. Beyond that range, infinite durations included, it saturates at
// the largest valid Duration of its sign: JSON printers and other
// languages' checks refuse anything outside it.
inline void ToProto(absl::Duration d, google::protobuf::Duration* out) {
  constexpr int64_t kMaxSeconds = 315576000000;  // 10,000 years
  constexpr int32_t kMaxNanos = 999999999;
  if (d > absl::Seconds(kMaxSeconds) + absl::Nanoseconds(kMaxNanos)) {
    out->set_seconds(kMaxSeconds);
    out->set_nanos(kMaxNanos);
    return;
  }
  if (d < -absl::Seconds(kMaxSeconds) - absl::Nanoseconds(kMaxNanos)) {
    out->set_seconds(-kMaxSeconds);
    out->set_nanos(-kMaxNanos);
    return;
  }
  absl::Duration rest;
  const int64_t s = absl::IDivDuration(d, absl::Seconds(1), &rest);
  out->set_seconds(s);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(rest)));
}

}  // namespace lienthong::grpc_util
