// SHAPE, RANK, FILL, RANGE and CUMSUM, and the SHAPE -> STRIDED_SLICE ->
// CONCATENATION -> RESHAPE / FILL chain the converter emits for dynamic
// batch sizes, which can only be sized while running.
#include "kernels_data_test_util.h"

namespace k2l::runtime {
namespace {

using namespace testing;

OpSpec ShapeOp(TensorType t) {
  return {fb::BuiltinOperator::SHAPE, fb::BuiltinOptions::ShapeOptions,
          [t](FBB& f) { return fb::CreateShapeOptions(f, t).Union(); }};
}

TEST(KernelsShape, ShapeAndRank) {
  std::mt19937_64 rng(TestSeed(51));
  for (int rank = 0; rank < 5; ++rank) {
    const Shape s = RandomShape(rng, rank, 0, 5);
    const NDArray x = RandomArray(rng, TensorType::FLOAT32, s);
    auto a =
        RunOp(ShapeOp(TensorType::INT32), {Runtime(x)}, {TensorType::INT32});
    ExpectSameArray(a[0],
                    I32({rank}, std::vector<int32_t>(s.begin(), s.end())));
    auto b =
        RunOp(ShapeOp(TensorType::INT64), {Runtime(x)}, {TensorType::INT64});
    ExpectSameArray(b[0],
                    I64({rank}, std::vector<int64_t>(s.begin(), s.end())));
    auto r =
        RunOp({fb::BuiltinOperator::RANK}, {Runtime(x)}, {TensorType::INT32});
    ExpectSameArray(r[0], I32({}, {rank}));
  }
  auto err = RunError(ShapeOp(TensorType::INT64), {Runtime(I32({1}, {1}))},
                      {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "out_type is int64 but output");
}

TEST(KernelsFill, RandomDimsAndTypes) {
  const uint64_t seed = TestSeed(52);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 15; ++iter) {
    const int rank = iter % 4;
    const Shape s = RandomShape(rng, rank, 0, 4);
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray v = RandomArray(rng, type, {});
    NDArray want = Expect(v, s, [](const std::vector<int64_t>&) { return 0; });
    auto out = RunOp(
        {fb::BuiltinOperator::FILL},
        {{I64({rank}, std::vector<int64_t>(s.begin(), s.end())), iter % 2 == 0},
         Runtime(v)},
        {type});
    ExpectSameArray(out[0], want);
  }
  auto err = RunError({fb::BuiltinOperator::FILL},
                      {Runtime(I32({1}, {-2})), Runtime(I32({}, {1}))},
                      {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "holds -2; sizes must be >= 0");
}

TEST(KernelsRange, FloatAccumulatesAndIntsCount) {
  // Float values are accumulated, as LiteRT does: the reference adds delta
  // in float too, so the comparison is exact.
  const float start = 0.1f, limit = 2.05f, delta = 0.3f;
  auto out =
      RunOp({fb::BuiltinOperator::RANGE},
            {Runtime(Array(TensorType::FLOAT32, {}, std::vector<float>{start})),
             Runtime(Array(TensorType::FLOAT32, {}, std::vector<float>{limit})),
             Const(Array(TensorType::FLOAT32, {}, std::vector<float>{delta}))},
            {TensorType::FLOAT32});
  std::vector<float> want;
  float v = start;
  for (int i = 0; i < 7; ++i, v += delta) want.push_back(v);
  ExpectSameArray(out[0], Array(TensorType::FLOAT32, {7}, want));
  for (auto [a, b, d] :
       {std::tuple{0, 10, 3}, {10, 0, -4}, {5, 5, 1}, {-3, 4, 7}}) {
    auto r = RunOp(
        {fb::BuiltinOperator::RANGE},
        {Runtime(I32({}, {a})), Runtime(I32({}, {b})), Runtime(I32({}, {d}))},
        {TensorType::INT32});
    std::vector<int32_t> w;
    for (int32_t x = a; d > 0 ? x < b : x > b; x += d) w.push_back(x);
    ExpectSameArray(r[0], I32({static_cast<int32_t>(w.size())}, w));
  }
  auto err = RunError(
      {fb::BuiltinOperator::RANGE},
      {Runtime(I32({}, {0})), Runtime(I32({}, {5})), Runtime(I32({}, {-1}))},
      {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "does not lead from start to limit");
}

OpSpec Cumsum(bool exclusive, bool reverse) {
  return {fb::BuiltinOperator::CUMSUM, fb::BuiltinOptions::CumsumOptions,
          [=](FBB& f) {
            return fb::CreateCumsumOptions(f, exclusive, reverse).Union();
          }};
}

TEST(KernelsCumsum, AllModes) {
  // fp32 sums of at most 6 values in [-4, 4] against double: 1e-5 abs+rel.
  const uint64_t seed = TestSeed(53);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 16; ++iter) {
    const int rank = 1 + iter % 4;
    const Shape s = RandomShape(rng, rank, 1, 6);
    const int axis = static_cast<int>(rng() % rank);
    const bool exclusive = iter % 2, reverse = (iter / 2) % 2;
    const NDArray x = RandomArray(rng, TensorType::FLOAT32, s);
    std::vector<double> want(NumElements(s));
    for (int64_t i = 0; i < NumElements(s); ++i) {
      auto idx = Unravel(i, s);
      const int64_t at = idx[axis];
      double sum = 0;
      for (int64_t k = 0; k < s[axis]; ++k) {
        const bool take = reverse ? (exclusive ? k > at : k >= at)
                                  : (exclusive ? k < at : k <= at);
        idx[axis] = k;
        if (take) sum += x.as<float>()[Ravel(idx, s)];
      }
      want[i] = sum;
    }
    auto out =
        RunOp(Cumsum(exclusive, reverse),
              {Runtime(x), Const(I32({}, {iter % 3 ? axis : axis - rank}))},
              {TensorType::FLOAT32});
    ExpectNear(out[0], want, 1e-5, 1e-5);
  }
  auto i = RunOp(Cumsum(false, false),
                 {Runtime(I64({4}, {1, 2, 3, 4})), Const(I32({}, {0}))},
                 {TensorType::INT64});
  ExpectSameArray(i[0], I64({4}, {1, 3, 6, 10}));
  auto err = RunError(Cumsum(false, false),
                      {Runtime(I32({2}, {1, 2})), Runtime(I32({}, {3}))},
                      {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "axis 3 is out of range for rank 1");
}

// x [B, 6] -> SHAPE -> STRIDED_SLICE [0:1] -> CONCATENATION with [3, 2]
// -> RESHAPE(x) to [B, 3, 2] and FILL(1.5) of [B, 3, 2].
TEST(KernelsShape, DynamicBatchChainRunsAtEachSize) {
  OpModelBuilder b;
  const int x = b.AddInput(TensorType::FLOAT32, {1, 6}, {-1, 6});
  const int shape = b.AddTensor(TensorType::INT32, {2}, {}, {});
  auto bytes = [](std::vector<int32_t> v) {
    std::vector<uint8_t> r(v.size() * 4);
    std::memcpy(r.data(), v.data(), r.size());
    return r;
  };
  const int b0 = b.AddTensor(TensorType::INT32, {1}, bytes({0}), {});
  const int b1 = b.AddTensor(TensorType::INT32, {1}, bytes({1}), {});
  const int batch = b.AddTensor(TensorType::INT32, {1}, {}, {});
  const int tail = b.AddTensor(TensorType::INT32, {2}, bytes({3, 2}), {});
  const int dims = b.AddTensor(TensorType::INT32, {3}, {}, {});
  const int value =
      b.AddConst(TensorType::FLOAT32, {}, std::vector<float>{1.5f});
  const int y = b.AddOutput(TensorType::FLOAT32);
  const int z = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::SHAPE, {x}, {shape},
          fb::BuiltinOptions::ShapeOptions, [](FBB& f) {
            return fb::CreateShapeOptions(f, TensorType::INT32).Union();
          });
  b.AddOp(fb::BuiltinOperator::STRIDED_SLICE, {shape, b0, b1, b1}, {batch},
          fb::BuiltinOptions::StridedSliceOptions,
          [](FBB& f) { return fb::CreateStridedSliceOptions(f).Union(); });
  b.AddOp(fb::BuiltinOperator::CONCATENATION, {batch, tail}, {dims},
          fb::BuiltinOptions::ConcatenationOptions,
          [](FBB& f) { return fb::CreateConcatenationOptions(f, 0).Union(); });
  b.AddOp(fb::BuiltinOperator::RESHAPE, {x, dims}, {y});
  b.AddOp(fb::BuiltinOperator::FILL, {dims, value}, {z});
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_TRUE(model.ok()) << model.status().message();
  for (int32_t n : {1, 4, 2}) {
    SCOPED_TRACE("batch " + std::to_string(n));
    std::vector<float> v(n * 6);
    for (int i = 0; i < n * 6; ++i) v[i] = static_cast<float>(i);
    auto out = model->Predict({NDArray::Of(TensorType::FLOAT32, {n, 6}, v)});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(ShapeString((*out)[0].shape), ShapeString({n, 3, 2}));
    ExpectSameArray((*out)[0], NDArray::Of(TensorType::FLOAT32, {n, 3, 2}, v));
    ExpectSameArray((*out)[1], NDArray::Of(TensorType::FLOAT32, {n, 3, 2},
                                           std::vector<float>(n * 6, 1.5f)));
  }
}

}  // namespace
}  // namespace k2l::runtime
