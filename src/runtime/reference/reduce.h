// Reductions over a set of axes (SUM, MEAN, PROD, MAX, MIN, ANY, ALL) and
// ARG_MAX / ARG_MIN along one axis.
//
// A reduction is planned as a broadcast of the output (with 1 on reduced
// axes) against the input, so runs of adjacent kept or reduced axes merge:
// a last-axis reduction is rows summed contiguously, a leading-axis one is
// vectors accumulated element-wise.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "runtime/reference/binary.h"

namespace k2l::runtime::reference {

struct ReducePlan {
  // Input 0 is the input itself, input 1 the accumulator array (output
  // order, stride 0 on reduced axes).
  Broadcast<2> plan;
  int64_t out_size = 1;
  int64_t reduce_count = 1;  // input elements per output element
  // Elements of the input per step of plan.dims[0], when that outermost
  // merged dim is kept, so blocks of it can run on separate threads;
  // else 0.
  int64_t outer_block = 0;
};

inline ReducePlan MakeReducePlan(const std::vector<int32_t>& shape,
                                 const std::vector<bool>& reduce_axis) {
  ReducePlan p;
  std::vector<int32_t> kept = shape;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (reduce_axis[d]) {
      p.reduce_count *= shape[d];
      kept[d] = 1;
    } else {
      p.out_size *= shape[d];
    }
  }
  p.plan = MakeBroadcast<2>({&shape, &kept}, shape);
  if (p.plan.size > 0 && p.plan.strides[1][0] != 0)
    p.outer_block = p.plan.size / p.plan.dims[0];
  return p;
}

// Folds input elements [begin, end) into acc (which holds out_size values,
// set to the reduction's identity by the caller): f(acc_value&, x). Ranges
// that cover whole blocks of a kept outer dim touch disjoint accumulators.
template <typename T, typename Acc, typename F>
void ReduceRange(const ReducePlan& p, const T* in, Acc* acc, int64_t begin,
                 int64_t end, const F& f) {
  const int64_t out_stride = p.plan.strides[1].back();
  ForEachRun<2>(p.plan, begin, end,
                [&](int64_t, const std::array<int64_t, 2>& off, int64_t n) {
                  const T* x = in + off[0];
                  Acc* a = acc + off[1];
                  if (out_stride == 0) {
                    if constexpr (requires { F::FoldRun(x, n, *a); }) {
                      F::FoldRun(x, n, *a);
                    } else {
                      Acc local = *a;
                      for (int64_t i = 0; i < n; ++i) f(local, x[i]);
                      *a = local;
                    }
                  } else {
                    for (int64_t i = 0; i < n; ++i) f(a[i], x[i]);
                  }
                });
}

// Integers accumulate in their unsigned type so that overflow wraps.
template <typename T, bool = std::is_integral_v<T> && !std::is_same_v<T, bool>>
struct WrapType {
  using type = T;
};
template <typename T>
struct WrapType<T, true> {
  using type = std::make_unsigned_t<T>;
};

// Accumulator and step of each reduction. Float sums accumulate in double
// (LiteRT's float sums are within a few ulp of that); integer sums wrap
// like LiteRT's; integer means sum in int64.
template <typename T>
struct SumOp {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double,
                                 typename WrapType<T>::type>;
  static Acc Init() { return Acc(0); }
  void operator()(Acc& a, T x) const { a += static_cast<Acc>(x); }
};
template <typename T>
struct MeanSumOp {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  static Acc Init() { return Acc(0); }
  void operator()(Acc& a, T x) const { a += static_cast<Acc>(x); }
  // A contiguous run into one accumulator, four partial sums for
  // throughput (a row mean of layer normalization).
  static void FoldRun(const T* x, int64_t n, Acc& a) {
    Acc s[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
      for (int k = 0; k < 4; ++k) s[k] += static_cast<Acc>(x[i + k]);
    for (; i < n; ++i) s[0] += static_cast<Acc>(x[i]);
    a += (s[0] + s[1]) + (s[2] + s[3]);
  }
};
template <typename T>
struct ProdOp {
  using Acc = typename WrapType<T>::type;
  static Acc Init() { return Acc(1); }
  void operator()(Acc& a, T x) const {
    if constexpr (std::is_integral_v<T> && sizeof(T) < sizeof(unsigned)) {
      a = static_cast<Acc>(static_cast<unsigned>(a) *
                           static_cast<unsigned>(static_cast<Acc>(x)));
    } else {
      a = static_cast<Acc>(a * static_cast<Acc>(x));
    }
  }
};
// LiteRT's max/min keep the accumulator only while it compares greater
// (less) than the new value, so a NaN replaces it and is replaced by the
// next number: the result follows the last NaN in the slice.
template <typename T>
struct MaxOp {
  using Acc = T;
  static Acc Init() { return std::numeric_limits<T>::lowest(); }
  void operator()(Acc& a, T x) const { a = a > x ? a : x; }
};
template <typename T>
struct MinOp {
  using Acc = T;
  static Acc Init() { return std::numeric_limits<T>::max(); }
  void operator()(Acc& a, T x) const { a = a < x ? a : x; }
};
struct AnyOp {
  using Acc = bool;
  static Acc Init() { return false; }
  void operator()(Acc& a, bool x) const { a = a || x; }
};
struct AllOp {
  using Acc = bool;
  static Acc Init() { return true; }
  void operator()(Acc& a, bool x) const { a = a && x; }
};

// Index of the max (or min) along the middle axis of [outer, axis, inner],
// the first one on ties. A NaN never wins over a number, and an all-NaN
// slice gives index 0, like LiteRT's float comparator.
template <typename T, typename Index>
void ArgMinMax(const T* in, Index* out, int64_t outer, int64_t axis,
               int64_t inner, bool is_max) {
  auto better = [is_max](T cand, T cur) {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(cand)) return false;
      if (std::isnan(cur)) return true;
    }
    return is_max ? cand > cur : cand < cur;
  };
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < inner; ++j) {
      const T* x = in + o * axis * inner + j;
      T best = x[0];
      Index at = 0;
      for (int64_t i = 1; i < axis; ++i) {
        if (better(x[i * inner], best)) {
          best = x[i * inner];
          at = static_cast<Index>(i);
        }
      }
      out[o * inner + j] = at;
    }
  }
}

}  // namespace k2l::runtime::reference
