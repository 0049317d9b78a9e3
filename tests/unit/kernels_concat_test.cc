// CONCATENATION, PACK, UNPACK, SPLIT and SPLIT_V against naive references.
// Moves compare bytes; the fused activation and the uint8 requantization
// are computed in double and must match exactly (a clamp, and a rounding
// whose float and double results agree away from .5 ties).
#include <cmath>

#include "kernels_data_test_util.h"

namespace k2l::runtime {
namespace {

using namespace testing;

OpSpec Concat(int axis, fb::ActivationFunctionType act =
                            fb::ActivationFunctionType::NONE) {
  return {fb::BuiltinOperator::CONCATENATION,
          fb::BuiltinOptions::ConcatenationOptions, [axis, act](FBB& f) {
            return fb::CreateConcatenationOptions(f, axis, act).Union();
          }};
}

// Concatenation by index: output element o comes from input k at o with
// o[axis] shifted into k's range.
NDArray ConcatRef(const std::vector<NDArray>& xs, int axis) {
  Shape out = xs[0].shape;
  out[axis] = 0;
  for (const auto& x : xs) out[axis] += x.shape[axis];
  const size_t e = ElementSize(xs[0].dtype);
  NDArray r{xs[0].dtype, out, std::vector<uint8_t>(NumElements(out) * e)};
  for (int64_t i = 0; i < NumElements(out); ++i) {
    auto o = Unravel(i, out);
    size_t k = 0;
    while (o[axis] >= xs[k].shape[axis]) o[axis] -= xs[k++].shape[axis];
    std::memcpy(&r.data[i * e], &xs[k].data[Ravel(o, xs[k].shape) * e], e);
  }
  return r;
}

TEST(KernelsConcat, RandomAxesAndTypes) {
  const uint64_t seed = TestSeed(11);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 30; ++iter) {
    const int rank = 1 + iter % 5;
    const Shape base = RandomShape(rng, rank, 1, 4);
    const int axis = static_cast<int>(rng() % rank);
    const TensorType type = MovedTypes()[iter % 5];
    std::vector<NDArray> xs;
    std::vector<OpInput> ins;
    for (int k = 0; k < 1 + iter % 4; ++k) {
      Shape s = base;
      s[axis] = static_cast<int32_t>(rng() % 4);  // may be 0
      xs.push_back(RandomArray(rng, type, s));
      ins.push_back({xs.back(), k % 2 == 1});
    }
    const int opt_axis = iter % 2 ? axis - rank : axis;
    auto out = RunOp(Concat(opt_axis), ins, {type});
    ExpectSameArray(out[0], ConcatRef(xs, axis));
  }
}

TEST(KernelsConcat, FusedReluOnFloat) {
  // LiteRT refuses a fused activation on CONCATENATION; we apply it.
  std::mt19937_64 rng(TestSeed(12));
  NDArray a = RandomArray(rng, TensorType::FLOAT32, {2, 3});
  NDArray b = RandomArray(rng, TensorType::FLOAT32, {2, 2});
  auto out = RunOp(Concat(1, fb::ActivationFunctionType::RELU6),
                   {Runtime(a), Runtime(b)}, {TensorType::FLOAT32});
  NDArray cat = ConcatRef({a, b}, 1);
  std::vector<double> want(10);
  for (int i = 0; i < 10; ++i)
    want[i] = std::clamp<double>(cat.as<float>()[i], 0.0, 6.0);
  ExpectNear(out[0], want, 0, 0);
}

TEST(KernelsConcat, Uint8InputsAreRequantized) {
  // Input 0 shares the output's quantization (copied), input 1 does not.
  std::vector<uint8_t> a = {0, 17, 128, 255}, b = {0, 3, 100, 201, 250, 255};
  const float out_scale = 0.05f, b_scale = 0.11f;
  const int64_t out_zp = 120, b_zp = 7;
  auto out = RunOp(Concat(0),
                   {Runtime(Array(TensorType::UINT8, {4}, a)),
                    Runtime(Array(TensorType::UINT8, {6}, b))},
                   {TensorType::UINT8},
                   {{out_scale, out_zp}, {b_scale, b_zp}, {out_scale, out_zp}});
  std::vector<uint8_t> want = a;
  for (uint8_t q : b) {
    const double real = (q - b_zp) * double{b_scale};
    const double v = std::round(real / out_scale) + out_zp;
    want.push_back(static_cast<uint8_t>(std::clamp(v, 0.0, 255.0)));
  }
  ExpectSameArray(out[0], Array(TensorType::UINT8, {10}, want));
}

TEST(KernelsConcat, ScalarsMakeAVector) {
  auto out = RunOp(Concat(0), {Runtime(I32({}, {4})), Const(I32({}, {9}))},
                   {TensorType::INT32});
  ExpectSameArray(out[0], I32({2}, {4, 9}));
}

TEST(KernelsConcatRejects, MismatchedShapesAndInt8Scales) {
  auto err =
      RunError(Concat(1),
               {Runtime(I32({2, 1}, {1, 2})), Runtime(I32({3, 1}, {1, 2, 3}))},
               {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "may differ only along axis 1");
  err =
      RunError(Concat(0),
               {Runtime(Array(TensorType::INT8, {1}, std::vector<int8_t>{1})),
                Runtime(Array(TensorType::INT8, {1}, std::vector<int8_t>{1}))},
               {TensorType::INT8}, {{0.5f, 0}, {0.25f, 0}, {0.5f, 0}});
  K2L_EXPECT_ERROR(err, "must share quantization");
  err = RunError(Concat(0, fb::ActivationFunctionType::RELU),
                 {Runtime(I32({1}, {1}))}, {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "fused activation needs float32");
}

OpSpec Pack(int n, int axis) {
  return {
      fb::BuiltinOperator::PACK, fb::BuiltinOptions::PackOptions,
      [n, axis](FBB& f) { return fb::CreatePackOptions(f, n, axis).Union(); }};
}
OpSpec Unpack(int n, int axis) {
  return {fb::BuiltinOperator::UNPACK, fb::BuiltinOptions::UnpackOptions,
          [n, axis](FBB& f) {
            return fb::CreateUnpackOptions(f, n, axis).Union();
          }};
}

TEST(KernelsPack, PackAndUnpackRandom) {
  const uint64_t seed = TestSeed(13);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 20; ++iter) {
    const int rank = iter % 4;
    const Shape s = RandomShape(rng, rank, 1, 4);
    const int n = 1 + iter % 3;
    const int axis = static_cast<int>(rng() % (rank + 1));
    const TensorType type = MovedTypes()[iter % 5];
    std::vector<NDArray> xs;
    std::vector<OpInput> ins;
    for (int k = 0; k < n; ++k) {
      xs.push_back(RandomArray(rng, type, s));
      ins.push_back(Runtime(xs.back()));
    }
    Shape packed = s;
    packed.insert(packed.begin() + axis, n);
    const size_t e = ElementSize(type);
    NDArray want{type, packed, std::vector<uint8_t>(NumElements(packed) * e)};
    for (int64_t i = 0; i < NumElements(packed); ++i) {
      auto o = Unravel(i, packed);
      const int64_t k = o[axis];
      o.erase(o.begin() + axis);
      std::memcpy(&want.data[i * e], &xs[k].data[Ravel(o, s) * e], e);
    }
    auto out = RunOp(Pack(n, iter % 2 ? axis - rank - 1 : axis), ins, {type});
    ExpectSameArray(out[0], want);
    auto parts = RunOp(Unpack(n, axis), {Runtime(want)},
                       std::vector<TensorType>(n, type));
    ASSERT_EQ(parts.size(), static_cast<size_t>(n));
    for (int k = 0; k < n; ++k) ExpectSameArray(parts[k], xs[k]);
  }
}

TEST(KernelsPackRejects, CountsAndShapes) {
  auto err =
      RunError(Pack(3, 0), {Runtime(I32({1}, {1})), Runtime(I32({1}, {2}))},
               {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "values_count is 3 but 2 inputs");
  err =
      RunError(Pack(2, 0), {Runtime(I32({1}, {1})), Runtime(I32({2}, {2, 3}))},
               {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "packed inputs must match");
  err = RunError(Unpack(3, 0), {Runtime(I32({2}, {1, 2}))},
                 {TensorType::INT32, TensorType::INT32, TensorType::INT32});
  K2L_EXPECT_ERROR(err, "not num 3");
}

OpSpec Split(int n) {
  return {fb::BuiltinOperator::SPLIT, fb::BuiltinOptions::SplitOptions,
          [n](FBB& f) { return fb::CreateSplitOptions(f, n).Union(); }};
}
OpSpec SplitV(int n) {
  return {fb::BuiltinOperator::SPLIT_V, fb::BuiltinOptions::SplitVOptions,
          [n](FBB& f) { return fb::CreateSplitVOptions(f, n).Union(); }};
}

TEST(KernelsSplit, SplitAndSplitVRandom) {
  const uint64_t seed = TestSeed(14);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 20; ++iter) {
    const int rank = 1 + iter % 4;
    Shape s = RandomShape(rng, rank, 1, 4);
    const int axis = static_cast<int>(rng() % rank);
    const int n = 1 + iter % 3;
    const TensorType type = MovedTypes()[iter % 5];
    // SPLIT: an even split.
    s[axis] *= n;
    NDArray x = RandomArray(rng, type, s);
    std::vector<NDArray> parts;
    std::vector<int32_t> sizes(n, s[axis] / n);
    for (int k = 0; k < n; ++k) {
      Shape ps = s;
      ps[axis] = sizes[k];
      parts.push_back(Expect(x, ps, [&](std::vector<int64_t> o) {
        o[axis] += k * sizes[0];
        return Ravel(o, s);
      }));
    }
    auto out = RunOp(
        Split(n),
        {{I32({}, {axis - (iter % 2) * rank}), iter % 3 != 0}, Runtime(x)},
        std::vector<TensorType>(n, type));
    for (int k = 0; k < n; ++k) ExpectSameArray(out[k], parts[k]);
    // SPLIT_V: uneven sizes, one of them -1 (and possibly 0).
    int32_t left = s[axis];
    std::vector<int32_t> v;
    for (int k = 0; k < n - 1; ++k) {
      v.push_back(static_cast<int32_t>(rng() % (left + 1)));
      left -= v.back();
    }
    v.push_back(left);
    std::vector<int32_t> given = v;
    given[rng() % n] = -1;
    std::vector<NDArray> vparts;
    int32_t at = 0;
    for (int k = 0; k < n; ++k) {
      Shape ps = s;
      ps[axis] = v[k];
      vparts.push_back(Expect(x, ps, [&](std::vector<int64_t> o) {
        o[axis] += at;
        return Ravel(o, s);
      }));
      at += v[k];
    }
    auto vout = RunOp(
        SplitV(n), {Runtime(x), Const(I32({n}, given)), Const(I32({}, {axis}))},
        std::vector<TensorType>(n, type));
    for (int k = 0; k < n; ++k) ExpectSameArray(vout[k], vparts[k]);
  }
}

TEST(KernelsSplitRejects, UnevenAndBadSizes) {
  auto err =
      RunError(Split(2), {Const(I32({}, {0})), Runtime(I32({3}, {1, 2, 3}))},
               {TensorType::INT32, TensorType::INT32});
  K2L_EXPECT_ERROR(err, "does not split evenly into 2");
  err = RunError(SplitV(2),
                 {Runtime(I32({3}, {1, 2, 3})), Const(I32({2}, {1, 1})),
                  Const(I32({}, {0}))},
                 {TensorType::INT32, TensorType::INT32});
  K2L_EXPECT_ERROR(err, "size_splits sum to 2");
  err = RunError(SplitV(2),
                 {Runtime(I32({3}, {1, 2, 3})), Const(I32({2}, {-1, -1})),
                  Const(I32({}, {0}))},
                 {TensorType::INT32, TensorType::INT32});
  K2L_EXPECT_ERROR(err, "at most one -1");
}

}  // namespace
}  // namespace k2l::runtime
