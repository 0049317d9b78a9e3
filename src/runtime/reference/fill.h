// RANGE and CUMSUM: the two data kernels that compute values.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace k2l::runtime::reference {

// LiteRT's element count of range(start, limit, delta), or -1 when the
// direction of delta does not lead from start to limit.
template <typename T>
int64_t RangeSize(T start, T limit, T delta) {
  if (delta == 0) return -1;
  if (!((start >= limit && delta < 0) || (start <= limit && delta > 0)))
    return -1;
  if constexpr (std::is_integral_v<T>) {
    const auto span = static_cast<int64_t>(limit) - static_cast<int64_t>(start);
    const int64_t step = static_cast<int64_t>(delta);
    return ((span < 0 ? -span : span) + (step < 0 ? -step : step) - 1) /
           (step < 0 ? -step : step);
  } else {
    return static_cast<int64_t>(std::ceil(std::abs((limit - start) / delta)));
  }
}

// Values are accumulated (value += delta), as LiteRT does, not computed as
// start + i * delta: for float the two differ in the last bits.
template <typename T>
void Range(T start, T delta, int64_t n, T* out) {
  T value = start;
  for (int64_t i = 0; i < n; ++i) {
    out[i] = value;
    if constexpr (std::is_integral_v<T>) {
      using U = std::make_unsigned_t<T>;
      value = static_cast<T>(static_cast<U>(value) + static_cast<U>(delta));
    } else {
      value += delta;
    }
  }
}

// Cumulative sum along the middle axis of [outer, n, inner], accumulated in
// T in order; integers wrap.
template <typename T>
void Cumsum(const T* in, int64_t outer, int64_t n, int64_t inner,
            bool exclusive, bool reverse, T* out) {
  using Acc =
      typename std::conditional_t<std::is_integral_v<T>, std::make_unsigned<T>,
                                  std::type_identity<T>>::type;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * n * inner + i;
      Acc acc = 0;
      for (int64_t k = 0; k < n; ++k) {
        const int64_t j = reverse ? n - 1 - k : k;
        const int64_t at = base + j * inner;
        const Acc v = static_cast<Acc>(in[at]);
        if (exclusive) {
          out[at] = static_cast<T>(acc);
          acc += v;
        } else {
          acc += v;
          out[at] = static_cast<T>(acc);
        }
      }
    }
  }
}

}  // namespace k2l::runtime::reference
