#include "financialapi/common/clock.h"

namespace financialapi {

const Clock& SystemClock::Get() {
  static const SystemClock clock;
  return clock;
}

}  // namespace financialapi
