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

// Exact for any finite duration: whole seconds (towards zero) and the
// nanoseconds left, of the same sign as a Duration requires, never through
// int64 nanoseconds, which end at about 292 years. An infinite duration
// saturates to the largest seconds of its sign, with no nanoseconds.
inline void ToProto(absl::Duration d, google::protobuf::Duration* out) {
  absl::Duration rest;
  const int64_t s = absl::IDivDuration(d, absl::Seconds(1), &rest);
  out->set_seconds(s);
  out->set_nanos(d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()
                     ? 0
                     : static_cast<int32_t>(absl::ToInt64Nanoseconds(rest)));
}

}  // namespace lienthong::grpc_util
