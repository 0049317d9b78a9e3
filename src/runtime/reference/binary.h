// Numpy broadcasting for element-wise ops with two or three inputs, and the
// element functions of LiteRT's binary ops.
//
// A Broadcast merges adjacent output dimensions in which every input is
// either broadcast or not in the same way, so [N, C] + [C] becomes one outer
// dimension over one contiguous inner run, and equal shapes become a single
// run. Kernels then loop over runs whose inner strides are 0 or 1: no index
// arithmetic per element, and the inner loops vectorize.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

namespace k2l::runtime::reference {

template <int N>
struct Broadcast {
  // Merged output dimensions, outermost first; never empty when size > 0.
  std::vector<int64_t> dims;
  // Element strides of each input over `dims`; 0 where it is broadcast.
  std::array<std::vector<int64_t>, N> strides;
  int64_t size = 0;  // output elements
};

// Plans the broadcast of `ins` (numpy rules, right-aligned) to `out`, which
// the caller has already computed and checked.
template <int N>
Broadcast<N> MakeBroadcast(
    const std::array<const std::vector<int32_t>*, N>& ins,
    const std::vector<int32_t>& out) {
  Broadcast<N> b;
  const int rank = static_cast<int>(out.size());
  b.size = 1;
  for (int32_t d : out) b.size *= d;
  if (b.size == 0) return b;
  // Per kept output dim: its size and whether each input is broadcast there.
  std::vector<int64_t> dims;
  std::vector<std::array<bool, N>> flags;
  for (int d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;
    std::array<bool, N> f{};
    for (int k = 0; k < N; ++k) {
      const std::vector<int32_t>& s = *ins[k];
      int at = d - (rank - static_cast<int>(s.size()));
      f[k] = at < 0 || s[at] == 1;
    }
    if (!flags.empty() && flags.back() == f) {
      dims.back() *= out[d];
    } else {
      dims.push_back(out[d]);
      flags.push_back(f);
    }
  }
  if (dims.empty()) {
    dims.push_back(1);
    flags.push_back({});
  }
  b.dims = dims;
  for (int k = 0; k < N; ++k) {
    b.strides[k].assign(dims.size(), 0);
    int64_t running = 1;
    for (int d = static_cast<int>(dims.size()) - 1; d >= 0; --d) {
      if (!flags[d][k]) {
        b.strides[k][d] = running;
        running *= dims[d];
      }
    }
  }
  return b;
}

// Calls fn(out_offset, in_offsets, length) for each contiguous run of
// output elements in [begin, end). Along a run input k advances by
// b.strides[k].back() (0 or 1) per element.
template <int N, typename Fn>
void ForEachRun(const Broadcast<N>& b, int64_t begin, int64_t end, Fn&& fn) {
  if (begin >= end) return;
  const int rank = static_cast<int>(b.dims.size());
  const int64_t inner = b.dims[rank - 1];
  std::vector<int64_t> idx(rank, 0);
  std::array<int64_t, N> off{};
  int64_t rest = begin;
  for (int d = rank - 1; d >= 0; --d) {
    idx[d] = rest % b.dims[d];
    rest /= b.dims[d];
    for (int k = 0; k < N; ++k) off[k] += idx[d] * b.strides[k][d];
  }
  int64_t pos = begin;
  while (pos < end) {
    int64_t len = std::min(inner - idx[rank - 1], end - pos);
    fn(pos, off, len);
    pos += len;
    idx[rank - 1] += len;
    for (int k = 0; k < N; ++k) off[k] += len * b.strides[k][rank - 1];
    if (idx[rank - 1] < inner) continue;
    // Carry into the outer dimensions (odometer).
    for (int k = 0; k < N; ++k) off[k] -= inner * b.strides[k][rank - 1];
    idx[rank - 1] = 0;
    for (int d = rank - 2; d >= 0; --d) {
      ++idx[d];
      for (int k = 0; k < N; ++k) off[k] += b.strides[k][d];
      if (idx[d] < b.dims[d]) break;
      for (int k = 0; k < N; ++k) off[k] -= b.dims[d] * b.strides[k][d];
      idx[d] = 0;
    }
  }
}

// out[i] = op(a[i * sa], b[i * sb]) for i < n, with sa, sb in {0, 1}.
template <typename A, typename B, typename O, typename Op>
inline void BinaryRun(const A* a, int64_t sa, const B* b, int64_t sb, O* out,
                      int64_t n, const Op& op) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], b[i]);
  } else if (sa == 0 && sb == 1) {
    const A x = *a;
    for (int64_t i = 0; i < n; ++i) out[i] = op(x, b[i]);
  } else if (sa == 1 && sb == 0) {
    const B y = *b;
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], y);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i * sa], b[i * sb]);
  }
}

// Output elements [begin, end) of op(a, b) broadcast by `plan`.
template <typename A, typename B, typename O, typename Op>
void BroadcastBinary(const Broadcast<2>& plan, const A* a, const B* b, O* out,
                     int64_t begin, int64_t end, const Op& op) {
  const int64_t sa = plan.strides[0].back(), sb = plan.strides[1].back();
  ForEachRun<2>(plan, begin, end,
                [&](int64_t o, const std::array<int64_t, 2>& in, int64_t n) {
                  BinaryRun(a + in[0], sa, b + in[1], sb, out + o, n, op);
                });
}

// Output elements [begin, end) of cond ? x : y broadcast by `plan`
// (inputs in that order).
template <typename T>
void BroadcastSelect(const Broadcast<3>& plan, const bool* cond, const T* x,
                     const T* y, T* out, int64_t begin, int64_t end) {
  const int64_t sc = plan.strides[0].back(), sx = plan.strides[1].back(),
                sy = plan.strides[2].back();
  ForEachRun<3>(plan, begin, end,
                [&](int64_t o, const std::array<int64_t, 3>& in, int64_t n) {
                  const bool* c = cond + in[0];
                  const T* px = x + in[1];
                  const T* py = y + in[2];
                  T* po = out + o;
                  for (int64_t i = 0; i < n; ++i)
                    po[i] = c[i * sc] ? px[i * sx] : py[i * sy];
                });
}

// --- Element functions -----------------------------------------------------

// Integer +, - and * wrap on overflow as LiteRT's (two's complement) do,
// without the undefined behaviour of signed overflow.
template <typename T>
inline T WrapAdd(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return a + b;
  }
}
template <typename T>
inline T WrapSub(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
  } else {
    return a - b;
  }
}
template <typename T>
inline T WrapMul(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    // Promote to at least unsigned int so uint16 * uint16 cannot overflow int.
    using U = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned,
                                 std::make_unsigned_t<T>>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return a * b;
  }
}

// Truncating integer division; the one overflowing case (min / -1)
// saturates to max, as ai-edge-litert's DIV does. The caller rejects zero
// divisors first.
template <typename T>
inline T TruncDiv(T a, T b) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    if (b == -1 && a == std::numeric_limits<T>::min())
      return std::numeric_limits<T>::max();
  }
  return a / b;
}

// TF's floor division: floor(double(a) / double(b)), back in T.
template <typename T>
inline T FloorDiv(T a, T b) {
  double q = std::floor(static_cast<double>(a) / static_cast<double>(b));
  if constexpr (std::is_integral_v<T>) {
    // Only min / -1 leaves T's range; it wraps like the other integer ops.
    if (q > static_cast<double>(std::numeric_limits<T>::max()))
      return std::numeric_limits<T>::min();
  }
  return static_cast<T>(q);
}

// TF's floor modulo: the remainder takes the divisor's sign.
template <typename T>
inline T FloorMod(T a, T b) {
  if constexpr (std::is_unsigned_v<T>) {
    return static_cast<T>(a % b);
  } else {
    T r;
    if constexpr (std::is_integral_v<T>) {
      r = b == -1 ? T(0) : static_cast<T>(a % b);
    } else {
      r = std::fmod(a, b);
    }
    return (r != 0 && ((b < 0) != (r < 0))) ? static_cast<T>(r + b) : r;
  }
}

// std::pow for float; for int32 (non-negative exponents, checked by the
// caller) the double result converted back, out-of-range values becoming
// INT32_MIN like the x86 conversion LiteRT's build performs.
template <typename T>
inline T Pow(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    double r = std::pow(static_cast<double>(a), static_cast<double>(b));
    if (!(r >= static_cast<double>(std::numeric_limits<T>::min()) &&
          r < -static_cast<double>(std::numeric_limits<T>::min())))
      return std::numeric_limits<T>::min();
    return static_cast<T>(r);
  } else {
    return std::pow(a, b);
  }
}

template <typename T>
inline T SquaredDifference(T a, T b) {
  T d = WrapSub(a, b);
  return WrapMul(d, d);
}

// Clamps an op's result to a fused activation's [lo, hi].
template <typename T, typename Op>
struct Clamped {
  Op op;
  T lo, hi;
  template <typename A, typename B>
  T operator()(A a, B b) const {
    return std::min(std::max(static_cast<T>(op(a, b)), lo), hi);
  }
};

}  // namespace k2l::runtime::reference
