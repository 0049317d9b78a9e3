// TRANSPOSE, SPACE_TO_DEPTH, DEPTH_TO_SPACE and REVERSE_V2 against naive
// index-mapping references; the moves are exact, so bytes are compared.
#include <algorithm>
#include <numeric>

#include "kernels_data_test_util.h"

namespace k2l::runtime {
namespace {

using namespace testing;

OpSpec Transpose() { return {fb::BuiltinOperator::TRANSPOSE}; }

TEST(KernelsTranspose, RandomPermutationsAndTypes) {
  const uint64_t seed = TestSeed(101);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 40; ++iter) {
    const int rank = 1 + iter % 6;
    const Shape shape = RandomShape(rng, rank, 1, rank > 4 ? 3 : 6);
    std::vector<int> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    const auto types = MovedTypes();
    const TensorType type = types[iter % types.size()];
    const NDArray x = RandomArray(rng, type, shape);
    Shape out_shape(rank);
    for (int i = 0; i < rank; ++i) out_shape[i] = shape[perm[i]];
    const auto st = Strides(shape);
    NDArray want = Expect(x, out_shape, [&](const std::vector<int64_t>& o) {
      int64_t from = 0;
      for (int i = 0; i < rank; ++i) from += o[i] * st[perm[i]];
      return from;
    });
    // Negative entries of perm count from the end.
    std::vector<int32_t> p(perm.begin(), perm.end());
    if (iter % 3 == 0) p[0] -= rank;
    const bool const_perm = iter % 2 == 0;
    auto out =
        RunOp(Transpose(), {Runtime(x), {I32({rank}, p), const_perm}}, {type});
    ASSERT_EQ(out.size(), 1u);
    ExpectSameArray(out[0], want);
  }
}

TEST(KernelsTranspose, LargeTiledTranspose) {
  // Large enough to take the tiled 2-D path with partial tiles.
  const Shape shape = {3, 67, 45};
  std::mt19937_64 rng(TestSeed(7));
  for (TensorType type : {TensorType::FLOAT32, TensorType::INT8,
                          TensorType::INT16, TensorType::INT64}) {
    const NDArray x = RandomArray(rng, type, shape);
    const auto st = Strides(shape);
    NDArray want = Expect(x, {45, 3, 67}, [&](const std::vector<int64_t>& o) {
      return o[0] * st[2] + o[1] * st[0] + o[2] * st[1];
    });
    auto out =
        RunOp(Transpose(), {Runtime(x), Const(I32({3}, {2, 0, 1}))}, {type});
    ExpectSameArray(out[0], want);
  }
}

TEST(KernelsTransposeRejects, NotAPermutation) {
  auto err = RunError(
      Transpose(),
      {Runtime(I32({2, 3}, std::vector<int32_t>(6))), Const(I32({2}, {1, 1}))},
      {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "perm names axis 1 twice");
  err = RunError(Transpose(),
                 {Runtime(I32({2, 3}, std::vector<int32_t>(6))),
                  Const(I32({3}, {0, 1, 2}))},
                 {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "has 3 entries but the input has rank 2");
  err = RunError(Transpose(),
                 {Runtime(I32({2, 3}, std::vector<int32_t>(6))),
                  Runtime(I32({2}, {0, 5}))},
                 {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "perm[1] = 5 is out of range");
}

OpSpec Block(fb::BuiltinOperator code, int block) {
  if (code == fb::BuiltinOperator::SPACE_TO_DEPTH) {
    return {code, fb::BuiltinOptions::SpaceToDepthOptions, [block](FBB& f) {
              return fb::CreateSpaceToDepthOptions(f, block).Union();
            }};
  }
  return {code, fb::BuiltinOptions::DepthToSpaceOptions, [block](FBB& f) {
            return fb::CreateDepthToSpaceOptions(f, block).Union();
          }};
}

TEST(KernelsSpaceDepth, SpaceToDepthAndBack) {
  const uint64_t seed = TestSeed(202);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 12; ++iter) {
    const int b = 1 + iter % 3;
    const Shape small = RandomShape(rng, 4, 1, 4);
    const Shape in_shape = {small[0], small[1] * b, small[2] * b, small[3]};
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, in_shape);
    const Shape out_shape = {small[0], small[1], small[2], small[3] * b * b};
    // out[n, h, w, (by*b + bx)*c + ch] = in[n, h*b + by, w*b + bx, ch]
    NDArray want = Expect(x, out_shape, [&](const std::vector<int64_t>& o) {
      const int64_t c = small[3], blk = o[3] / c, ch = o[3] % c;
      return Ravel({o[0], o[1] * b + blk / b, o[2] * b + blk % b, ch},
                   in_shape);
    });
    auto s2d = RunOp(Block(fb::BuiltinOperator::SPACE_TO_DEPTH, b),
                     {Runtime(x)}, {type});
    ExpectSameArray(s2d[0], want);
    auto d2s = RunOp(Block(fb::BuiltinOperator::DEPTH_TO_SPACE, b),
                     {Runtime(want)}, {type});
    ExpectSameArray(d2s[0], x);
  }
}

TEST(KernelsSpaceDepthRejects, IndivisibleShapes) {
  const NDArray x =
      NDArray::Of(TensorType::FLOAT32, {1, 3, 4, 2}, std::vector<float>(24));
  auto err = RunError(Block(fb::BuiltinOperator::SPACE_TO_DEPTH, 2),
                      {Runtime(x)}, {TensorType::FLOAT32});
  K2L_EXPECT_ERROR(err, "must divide by block_size 2");
  err = RunError(Block(fb::BuiltinOperator::DEPTH_TO_SPACE, 2), {Runtime(x)},
                 {TensorType::FLOAT32});
  K2L_EXPECT_ERROR(err, "depth must divide by block_size^2");
  err = RunError(Block(fb::BuiltinOperator::DEPTH_TO_SPACE, 0), {Runtime(x)},
                 {TensorType::FLOAT32});
  K2L_EXPECT_ERROR(err, "block_size 0 is not > 0");
}

TEST(KernelsReverse, RandomAxes) {
  const uint64_t seed = TestSeed(303);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 24; ++iter) {
    const int rank = 1 + iter % 5;
    const Shape shape = RandomShape(rng, rank, 1, 5);
    std::vector<int32_t> axes;
    std::vector<bool> flip(rank, false);
    for (int d = 0; d < rank; ++d) {
      if (rng() % 2) {
        axes.push_back(rng() % 2 ? d : d - rank);
        flip[d] = true;
      }
    }
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, shape);
    NDArray want = Expect(x, shape, [&](std::vector<int64_t> o) {
      for (int d = 0; d < rank; ++d)
        if (flip[d]) o[d] = shape[d] - 1 - o[d];
      return Ravel(o, shape);
    });
    auto out = RunOp(
        {fb::BuiltinOperator::REVERSE_V2},
        {Runtime(x), Const(I32({static_cast<int32_t>(axes.size())}, axes))},
        {type});
    ExpectSameArray(out[0], want);
  }
}

TEST(KernelsReverseRejects, RepeatedAxis) {
  auto err =
      RunError({fb::BuiltinOperator::REVERSE_V2},
               {Runtime(I32({2, 2}, {1, 2, 3, 4})), Const(I32({2}, {1, -1}))},
               {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "axis 1 is named twice");
}

}  // namespace
}  // namespace k2l::runtime
