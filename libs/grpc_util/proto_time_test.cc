#include "libs/grpc_util/proto_time.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace lienthong::grpc_util {
namespace {

// Every year a Timestamp holds converts exactly, to the nanosecond; through
// int64 nanoseconds everything after 2262-04-11 came back as that day.
TEST(ProtoTimeTest, TimestampsConvertExactlyOverYearsOneTo9999) {
  struct Case {
    int64_t seconds;
    int32_t nanos;
  };
  const Case cases[] = {
      {-62135596800, 0},          // 0001-01-01T00:00:00Z, the first
      {-1, 999999999},            // just before the epoch: nanos stay >= 0
      {0, 1},                     // just after it
      {1775695800, 123456789},    // 2026
      {9223372036, 854775808},    // one nanosecond past int64 nanoseconds
      {10413792000, 7},           // 2300-01-01
      {253402300799, 999999999},  // 9999-12-31T23:59:59.999999999Z, the last
  };
  for (const Case& c : cases) {
    google::protobuf::Timestamp in;
    in.set_seconds(c.seconds);
    in.set_nanos(c.nanos);
    google::protobuf::Timestamp out;
    ToProto(FromProto(in), &out);
    EXPECT_EQ(out.seconds(), c.seconds) << c.seconds << "." << c.nanos;
    EXPECT_EQ(out.nanos(), c.nanos) << c.seconds << "." << c.nanos;
  }
}

// No part-second for an infinite time, never a negative nanos.
TEST(ProtoTimeTest, InfiniteTimesHaveNoNanoseconds) {
  google::protobuf::Timestamp out;
  ToProto(absl::InfiniteFuture(), &out);
  EXPECT_EQ(out.seconds(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(out.nanos(), 0);
  ToProto(absl::InfinitePast(), &out);
  EXPECT_EQ(out.seconds(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(out.nanos(), 0);
}

// Durations convert exactly past int64 nanoseconds (about 292 years), with
// seconds and nanos of the same sign.
TEST(ProtoTimeTest, DurationsConvertExactlyPastInt64Nanoseconds) {
  struct Case {
    int64_t seconds;
    int32_t nanos;
  };
  const Case cases[] = {
      {0, 0},
      {0, 1},
      {0, -1},
      {1, 500000000},
      {-1, -500000000},
      {9223372036, 854775808},      // one nanosecond past int64 nanoseconds
      {-9223372036, -854775809},    // one before its negative end
      {315576000000, 999999999},    // the largest a Duration holds (10,000 y)
      {-315576000000, -999999999},  // the smallest
  };
  for (const Case& c : cases) {
    google::protobuf::Duration in;
    in.set_seconds(c.seconds);
    in.set_nanos(c.nanos);
    google::protobuf::Duration out;
    ToProto(FromProto(in), &out);
    EXPECT_EQ(out.seconds(), c.seconds) << c.seconds << "." << c.nanos;
    EXPECT_EQ(out.nanos(), c.nanos) << c.seconds << "." << c.nanos;
  }
  // Past a Duration's range (±10,000 years), infinite ones included, the
  // largest valid Duration of the same sign.
  const absl::Duration beyond[] = {absl::InfiniteDuration(),
                                   absl::Hours(24 * 366 * 10001)};
  for (absl::Duration d : beyond) {
    google::protobuf::Duration out;
    ToProto(d, &out);
    EXPECT_EQ(out.seconds(), 315576000000);
    EXPECT_EQ(out.nanos(), 999999999);
    ToProto(-d, &out);
    EXPECT_EQ(out.seconds(), -315576000000);
    EXPECT_EQ(out.nanos(), -999999999);
  }
}

}  // namespace
}  // namespace lienthong::grpc_util
