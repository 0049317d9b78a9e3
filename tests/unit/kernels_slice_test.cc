// SLICE, STRIDED_SLICE and DYNAMIC_UPDATE_SLICE against naive references.
// STRIDED_SLICE is checked against TensorFlow's own formulation (a dense
// spec built around the ellipsis, then Python slice semantics per axis),
// which is written independently of LiteRT's effective-axes algorithm.
#include <algorithm>

#include "kernels_data_test_util.h"

namespace k2l::runtime {
namespace {

using namespace testing;

TEST(KernelsSlice, RandomBoxes) {
  const uint64_t seed = TestSeed(31);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 30; ++iter) {
    const int rank = 1 + iter % 6;
    const Shape s = RandomShape(rng, rank, 1, rank > 4 ? 3 : 5);
    std::vector<int64_t> begin(rank), size(rank), given(rank);
    Shape o(rank);
    for (int d = 0; d < rank; ++d) {
      begin[d] = static_cast<int64_t>(rng() % (s[d] + 1));
      size[d] = static_cast<int64_t>(rng() % (s[d] - begin[d] + 1));
      given[d] = rng() % 4 == 0 ? -1 : size[d];
      if (given[d] == -1) size[d] = s[d] - begin[d];
      o[d] = static_cast<int32_t>(size[d]);
    }
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, s);
    NDArray want = Expect(x, o, [&](std::vector<int64_t> i) {
      for (int d = 0; d < rank; ++d) i[d] += begin[d];
      return Ravel(i, s);
    });
    const bool known = iter % 2 == 0;
    auto out = RunOp(
        {fb::BuiltinOperator::SLICE},
        {Runtime(x), {I64({rank}, begin), known}, {I64({rank}, given), known}},
        {type});
    ExpectSameArray(out[0], want);
  }
}

TEST(KernelsSliceRejects, OutOfRange) {
  const NDArray x = I32({3}, {1, 2, 3});
  auto err = RunError({fb::BuiltinOperator::SLICE},
                      {Runtime(x), Const(I32({1}, {2})), Const(I32({1}, {2}))},
                      {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "does not fit input shape [3]");
  err = RunError({fb::BuiltinOperator::SLICE},
                 {Runtime(x), Runtime(I32({1}, {-1})), Runtime(I32({1}, {1}))},
                 {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "begin -1 of axis 0 is outside [0, 3]");
}

struct Spec {
  std::vector<int32_t> begin, end, strides;
  int begin_mask = 0, end_mask = 0, ellipsis = 0, new_axis = 0, shrink = 0;
  bool offset = false;
};

OpSpec StridedSliceOp(const Spec& s) {
  return {fb::BuiltinOperator::STRIDED_SLICE,
          fb::BuiltinOptions::StridedSliceOptions, [s](FBB& f) {
            return fb::CreateStridedSliceOptions(f, s.begin_mask, s.end_mask,
                                                 s.ellipsis, s.new_axis,
                                                 s.shrink, s.offset)
                .Union();
          }};
}

// One output axis of the TF reference: the input axis it walks (-1: a new
// axis), and the indices it takes.
struct RefAxis {
  int dim;
  bool shrink;
  std::vector<int64_t> take;
};

std::vector<RefAxis> TfStridedSlice(const Shape& shape, const Spec& s) {
  const int n = static_cast<int>(shape.size());
  const int m = static_cast<int>(s.begin.size());
  auto bit = [](int mask, int i) { return (mask >> i) & 1; };
  int ell = -1;
  for (int i = 0; i < m && ell < 0; ++i)
    if (bit(s.ellipsis, i)) ell = i;
  int consumed_after = 0;
  for (int i = ell + 1; ell >= 0 && i < m; ++i)
    if (!bit(s.new_axis, i)) ++consumed_after;
  std::vector<RefAxis> axes;
  int dim = 0;
  auto full = [&](int d) {
    RefAxis a{d, false, {}};
    for (int64_t k = 0; k < shape[d]; ++k) a.take.push_back(k);
    axes.push_back(a);
  };
  for (int i = 0; i < m; ++i) {
    if (i == ell) {
      for (int k = n - dim - consumed_after; k > 0; --k) full(dim++);
      continue;
    }
    if (bit(s.new_axis, i)) {
      axes.push_back({-1, false, {0}});
      continue;
    }
    const int d = dim++;
    const int64_t size = shape[d], st = s.strides[i];
    if (bit(s.shrink, i)) {
      axes.push_back(
          {d, true, {s.begin[i] < 0 ? s.begin[i] + size : s.begin[i]}});
      continue;
    }
    // Python's slice(start, stop, step).indices(size).
    auto norm = [&](int64_t v, bool is_default, int64_t dflt) {
      if (is_default) return dflt;
      if (v < 0) v += size;
      return st > 0 ? std::clamp<int64_t>(v, 0, size)
                    : std::clamp<int64_t>(v, -1, size - 1);
    };
    const int64_t start =
        norm(s.begin[i], bit(s.begin_mask, i), st > 0 ? 0 : size - 1);
    const int64_t stop = norm(s.end[i], bit(s.end_mask, i), st > 0 ? size : -1);
    RefAxis a{d, false, {}};
    for (int64_t k = start; st > 0 ? k < stop : k > stop; k += st)
      a.take.push_back(k);
    axes.push_back(a);
  }
  while (dim < n) full(dim++);
  return axes;
}

NDArray StridedSliceRef(const NDArray& x, const Spec& s) {
  const auto axes = TfStridedSlice(x.shape, s);
  Shape walk, out;
  for (const auto& a : axes) {
    walk.push_back(static_cast<int32_t>(a.take.size()));
    if (!a.shrink) out.push_back(walk.back());
  }
  NDArray r = Expect(x, walk, [&](const std::vector<int64_t>& i) {
    std::vector<int64_t> src(x.shape.size());
    for (size_t k = 0; k < axes.size(); ++k)
      if (axes[k].dim >= 0) src[axes[k].dim] = axes[k].take[i[k]];
    return Ravel(src, x.shape);
  });
  r.shape = out;
  return r;
}

TEST(KernelsStridedSlice, RandomSpecsMatchTensorFlow) {
  const uint64_t seed = TestSeed(32);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto pick = [&](int lo, int hi) {
    return lo + static_cast<int>(rng() % (hi - lo + 1));
  };
  for (int iter = 0; iter < 150; ++iter) {
    const int n = pick(1, 4);
    const Shape shape = RandomShape(rng, n, 1, 5);
    Spec s;
    // Entries: some regular, maybe an ellipsis, maybe new axes.
    const bool ellipsis = rng() % 3 == 0;
    // An ellipsis that covers no axis is where LiteRT departs from
    // TensorFlow (it always gives the ellipsis an axis); keep it >= 1 wide.
    const int regular = pick(0, ellipsis ? n - 1 : n);
    const int new_axes = pick(0, 2) * (rng() % 2);
    std::vector<char> kinds(regular, 'r');
    if (ellipsis) kinds.insert(kinds.begin() + pick(0, regular), 'e');
    for (int k = 0; k < new_axes; ++k)
      kinds.insert(kinds.begin() + pick(0, static_cast<int>(kinds.size())),
                   'n');
    // Regular entries after an ellipsis bind to the trailing axes.
    int dim = 0;
    int after = 0;
    for (size_t i = 0, e = 0; i < kinds.size(); ++i) {
      if (kinds[i] == 'e')
        e = 1;
      else if (e && kinds[i] == 'r')
        ++after;
    }
    for (size_t i = 0; i < kinds.size(); ++i) {
      const int bit = 1 << i;
      int32_t b = 0, e = 0, st = 1;
      if (kinds[i] == 'e') {
        s.ellipsis |= bit;
        dim = n - after;
      } else if (kinds[i] == 'n') {
        s.new_axis |= bit;
      } else {
        const int size = shape[dim++];
        if (rng() % 4 == 0) {
          s.shrink |= bit;
          b = pick(-size, size - 1);
        } else {
          do st = pick(-3, 3);
          while (st == 0);
          b = pick(-size - 2, size + 2);
          e = pick(-size - 2, size + 2);
          if (rng() % 4 == 0) s.begin_mask |= bit;
          if (rng() % 4 == 0) s.end_mask |= bit;
        }
      }
      s.begin.push_back(b);
      s.end.push_back(e);
      s.strides.push_back(st);
    }
    std::string desc = "iteration " + std::to_string(iter) + " shape " +
                       ShapeString(shape) + " entries ";
    for (size_t i = 0; i < s.begin.size(); ++i) {
      desc += std::string(1, kinds[i]) + "(" + std::to_string(s.begin[i]) +
              ":" + std::to_string(s.end[i]) + ":" +
              std::to_string(s.strides[i]) + ") ";
    }
    desc += "masks b" + std::to_string(s.begin_mask) + " e" +
            std::to_string(s.end_mask) + " shrink" + std::to_string(s.shrink);
    SCOPED_TRACE(desc);
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, shape);
    const int32_t m = static_cast<int32_t>(s.begin.size());
    const bool known = iter % 3 != 0;
    auto out = RunOp(StridedSliceOp(s),
                     {Runtime(x),
                      {I32({m}, s.begin), known},
                      {I32({m}, s.end), known},
                      Const(I32({m}, s.strides))},
                     {type});
    ExpectSameArray(out[0], StridedSliceRef(x, s));
  }
}

TEST(KernelsStridedSlice, OffsetModeTakesEndAsLength) {
  // With offset, end is a length: x[1:1+3] and x[2:2+2] along two axes.
  Spec s{{1, 2}, {3, 2}, {1, 1}};
  s.offset = true;
  std::vector<int32_t> v(5 * 4);
  for (int i = 0; i < 20; ++i) v[i] = i;
  auto out = RunOp(StridedSliceOp(s),
                   {Runtime(I32({5, 4}, v)), Runtime(I32({2}, s.begin)),
                    Const(I32({2}, s.end)), Const(I32({2}, s.strides))},
                   {TensorType::INT32});
  ExpectSameArray(out[0], I32({3, 2}, {6, 7, 10, 11, 14, 15}));
}

TEST(KernelsStridedSlice, ZeroWidthEllipsisFollowsLiteRT) {
  // x[newaxis, ..., 1] on a [2] input: TensorFlow gives [x[1]], but LiteRT
  // always gives the ellipsis an axis, so the shrunk entry is never read
  // and the result is [[x0, x1]] (checked against ai-edge-litert 2.3.0).
  Spec s{{0, 0, 1}, {0, 0, 2}, {1, 1, 1}};
  s.new_axis = 1;
  s.ellipsis = 2;
  s.shrink = 4;
  auto out = RunOp(StridedSliceOp(s),
                   {Runtime(I32({2}, {3, 4})), Const(I32({3}, s.begin)),
                    Const(I32({3}, s.end)), Const(I32({3}, s.strides))},
                   {TensorType::INT32});
  ExpectSameArray(out[0], I32({1, 2}, {3, 4}));
}

TEST(KernelsStridedSliceRejects, ZeroStrideAndShrinkOutOfRange) {
  const NDArray x = I32({3}, {1, 2, 3});
  Spec s{{0}, {3}, {0}};
  auto err = RunError(StridedSliceOp(s),
                      {Runtime(x), Const(I32({1}, s.begin)),
                       Const(I32({1}, s.end)), Const(I32({1}, s.strides))},
                      {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "stride 0 is 0");
  Spec t{{5}, {6}, {1}};
  t.shrink = 1;
  err = RunError(StridedSliceOp(t),
                 {Runtime(x), Runtime(I32({1}, t.begin)),
                  Runtime(I32({1}, t.end)), Runtime(I32({1}, t.strides))},
                 {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "the slice reads 0 elements");
}

TEST(KernelsDynamicUpdateSlice, ClampedStarts) {
  const uint64_t seed = TestSeed(33);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 20; ++iter) {
    const int rank = 1 + iter % 4;
    const Shape s = RandomShape(rng, rank, 1, 5);
    Shape u(rank);
    std::vector<int64_t> start(rank), clamped(rank);
    for (int d = 0; d < rank; ++d) {
      u[d] = 1 + static_cast<int32_t>(rng() % s[d]);
      start[d] = static_cast<int64_t>(rng() % 9) - 3;  // may fall outside
      clamped[d] = std::clamp<int64_t>(start[d], 0, s[d] - u[d]);
    }
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, s);
    const NDArray upd = RandomArray(rng, type, u);
    NDArray want = x;
    const size_t e = ElementSize(type);
    for (int64_t i = 0; i < NumElements(u); ++i) {
      auto idx = Unravel(i, u);
      for (int d = 0; d < rank; ++d) idx[d] += clamped[d];
      std::memcpy(&want.data[Ravel(idx, s) * e], &upd.data[i * e], e);
    }
    auto out =
        RunOp({fb::BuiltinOperator::DYNAMIC_UPDATE_SLICE},
              {Runtime(x), Runtime(upd), Runtime(I64({rank}, start))}, {type});
    ExpectSameArray(out[0], want);
  }
}

TEST(KernelsDynamicUpdateSliceRejects, UpdateLargerThanOperand) {
  auto err = RunError({fb::BuiltinOperator::DYNAMIC_UPDATE_SLICE},
                      {Runtime(I32({2}, {1, 2})), Runtime(I32({3}, {1, 2, 3})),
                       Runtime(I32({1}, {0}))},
                      {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "is larger than operand shape [2]");
}

}  // namespace
}  // namespace k2l::runtime
