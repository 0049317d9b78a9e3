// The channel rounding of keras-hub's MobileNet (adjust_channels with its
// defaults): the nearest multiple of 8, at least 8, and rounded up a step
// where rounding to the nearest would lose more than 10%. The backbone's
// builder and its blocks' converters both apply it.
#pragma once

#include <algorithm>
#include <cstdint>

namespace k2l {

inline int64_t MobileNetChannels(double x) {
  constexpr int64_t kDivisor = 8;
  // int(x + divisor / 2) // divisor * divisor, for the non-negative
  // channel counts a config holds.
  int64_t n = static_cast<int64_t>(x + kDivisor / 2.0) / kDivisor * kDivisor;
  n = std::max(kDivisor, n);
  if (static_cast<double>(n) < 0.9 * x) n += kDivisor;
  return n;
}

}  // namespace k2l
