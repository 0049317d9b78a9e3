// GATHER, GATHER_ND, TILE and BROADCAST_TO against naive references (exact:
// bytes are compared), and the index errors raised at Eval.
#include "kernels_data_test_util.h"

namespace k2l::runtime {
namespace {

using namespace testing;

OpSpec Gather(int axis, int batch_dims) {
  return {fb::BuiltinOperator::GATHER, fb::BuiltinOptions::GatherOptions,
          [axis, batch_dims](FBB& f) {
            return fb::CreateGatherOptions(f, axis, batch_dims).Union();
          }};
}

TEST(KernelsGather, RandomAxesAndBatchDims) {
  const uint64_t seed = TestSeed(41);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 30; ++iter) {
    const int rank = 1 + iter % 4;
    const Shape s = RandomShape(rng, rank, 1, 4);
    const int axis = static_cast<int>(rng() % rank);
    const int bd = static_cast<int>(rng() % (axis + 1));
    // Indices: the batch axes of params, then 0-2 free axes.
    Shape is(s.begin(), s.begin() + bd);
    for (int k = static_cast<int>(rng() % 3); k > 0; --k)
      is.push_back(1 + static_cast<int32_t>(rng() % 3));
    std::vector<int64_t> idx(NumElements(is));
    for (auto& v : idx) v = static_cast<int64_t>(rng() % s[axis]);
    Shape o(s.begin(), s.begin() + axis);
    o.insert(o.end(), is.begin() + bd, is.end());
    o.insert(o.end(), s.begin() + axis + 1, s.end());
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, s);
    const int free = static_cast<int>(is.size()) - bd;
    NDArray want = Expect(x, o, [&](const std::vector<int64_t>& i) {
      // o = params[:axis] + indices[bd:] + params[axis+1:]
      std::vector<int64_t> ii(i.begin(), i.begin() + bd);
      ii.insert(ii.end(), i.begin() + axis, i.begin() + axis + free);
      std::vector<int64_t> src(i.begin(), i.begin() + axis);
      src.push_back(idx[Ravel(ii, is)]);
      src.insert(src.end(), i.begin() + axis + free, i.end());
      return Ravel(src, s);
    });
    NDArray indices;
    if (iter % 3 == 0) {
      indices = I64(is, idx);
    } else if (iter % 3 == 1) {
      indices = I32(is, std::vector<int32_t>(idx.begin(), idx.end()));
    } else {
      indices = Array(TensorType::INT16, is,
                      std::vector<int16_t>(idx.begin(), idx.end()));
    }
    const int opt_axis = iter % 2 ? axis - rank : axis;
    auto out =
        RunOp(Gather(opt_axis, bd), {Runtime(x), Runtime(indices)}, {type});
    ExpectSameArray(out[0], want);
  }
}

TEST(KernelsGatherRejects, IndexOutOfRangeNamesTheIndex) {
  auto err = RunError(Gather(1, 0),
                      {Runtime(I32({2, 3}, {1, 2, 3, 4, 5, 6})),
                       Runtime(I32({4}, {0, 2, 3, 1}))},
                      {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "index 3 at position 2 of indices 't1'");
  K2L_EXPECT_ERROR(err, "out of range [0, 3) for axis 1");
  err = RunError(Gather(0, 0),
                 {Runtime(I32({2}, {1, 2})), Runtime(I32({1}, {-1}))},
                 {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "index -1 at position 0");
  err =
      RunError(Gather(0, 1),
               {Runtime(I32({2, 2}, {1, 2, 3, 4})), Runtime(I32({2}, {0, 1}))},
               {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "batch_dims 1 must be in");
}

TEST(KernelsGatherNd, RandomSlices) {
  const uint64_t seed = TestSeed(42);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 20; ++iter) {
    const int rank = 1 + iter % 4;
    const Shape s = RandomShape(rng, rank, 1, 4);
    const int nd = static_cast<int>(rng() % (rank + 1));
    Shape is = RandomShape(rng, static_cast<int>(rng() % 3), 1, 3);
    is.push_back(nd);
    std::vector<int32_t> idx(NumElements(is));
    for (size_t k = 0; k < idx.size(); ++k)
      idx[k] = static_cast<int32_t>(rng() % s[k % nd]);
    Shape o(is.begin(), is.end() - 1);
    o.insert(o.end(), s.begin() + nd, s.end());
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, s);
    const int lead = static_cast<int>(is.size()) - 1;
    NDArray want = Expect(x, o, [&](const std::vector<int64_t>& i) {
      const int64_t row =
          Ravel(std::vector<int64_t>(i.begin(), i.begin() + lead),
                Shape(is.begin(), is.end() - 1));
      std::vector<int64_t> src;
      for (int j = 0; j < nd; ++j) src.push_back(idx[row * nd + j]);
      src.insert(src.end(), i.begin() + lead, i.end());
      return Ravel(src, s);
    });
    auto out = RunOp({fb::BuiltinOperator::GATHER_ND},
                     {Runtime(x), Runtime(I32(is, idx))}, {type});
    ExpectSameArray(out[0], want);
  }
}

TEST(KernelsGatherNdRejects, IndexOutOfRange) {
  auto err = RunError(
      {fb::BuiltinOperator::GATHER_ND},
      {Runtime(I32({2, 2}, {1, 2, 3, 4})), Runtime(I32({2, 2}, {0, 1, 1, 2}))},
      {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "index 2 at position 3 of indices");
  K2L_EXPECT_ERROR(err, "axis 1 of params");
}

TEST(KernelsTile, RandomMultiples) {
  const uint64_t seed = TestSeed(43);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 20; ++iter) {
    const int rank = iter % 5;
    const Shape s = RandomShape(rng, rank, 1, 4);
    std::vector<int32_t> mult(rank);
    Shape o(rank);
    for (int d = 0; d < rank; ++d) {
      mult[d] = static_cast<int32_t>(rng() % 4);  // 0 empties the output
      o[d] = s[d] * mult[d];
    }
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, s);
    NDArray want = Expect(x, o, [&](std::vector<int64_t> i) {
      for (int d = 0; d < rank; ++d) i[d] %= s[d];
      return Ravel(i, s);
    });
    auto out = RunOp({fb::BuiltinOperator::TILE},
                     {Runtime(x), {I32({rank}, mult), iter % 2 == 0}}, {type});
    ExpectSameArray(out[0], want);
  }
}

TEST(KernelsBroadcastTo, RandomShapes) {
  const uint64_t seed = TestSeed(44);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 20; ++iter) {
    const int out_rank = 1 + iter % 5;
    const Shape o = RandomShape(rng, out_rank, 1, 4);
    const int in_rank = static_cast<int>(rng() % (out_rank + 1));
    Shape s(o.end() - in_rank, o.end());
    for (auto& d : s)
      if (rng() % 2) d = 1;
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, s);
    NDArray want = Expect(x, o, [&](const std::vector<int64_t>& i) {
      std::vector<int64_t> src(i.end() - in_rank, i.end());
      for (int d = 0; d < in_rank; ++d)
        if (s[d] == 1) src[d] = 0;
      return Ravel(src, s);
    });
    auto out =
        RunOp({fb::BuiltinOperator::BROADCAST_TO, {}, nullptr, 2},
              {Runtime(x),
               {I64({out_rank}, std::vector<int64_t>(o.begin(), o.end())),
                iter % 2 == 0}},
              {type});
    ExpectSameArray(out[0], want);
  }
}

TEST(KernelsTileRejects, NegativeMultipleAndBadBroadcast) {
  auto err = RunError({fb::BuiltinOperator::TILE},
                      {Runtime(I32({2}, {1, 2})), Runtime(I32({1}, {-2}))},
                      {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "multiple -2 of axis 0 is negative");
  err = RunError({fb::BuiltinOperator::BROADCAST_TO, {}, nullptr, 2},
                 {Runtime(I32({2}, {1, 2})), Const(I32({2}, {2, 3}))},
                 {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "each input axis must be 1 or match");
}

}  // namespace
}  // namespace k2l::runtime
