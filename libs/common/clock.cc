#include "libs/common/clock.h"

namespace lienthong::common {

RealClock& RealClock::Get() {
  static RealClock* clock = new RealClock();
  return *clock;
}

}  // namespace lienthong::common
