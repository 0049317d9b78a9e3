// PAD, PADV2, MIRROR_PAD, SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND against
// naive index-mapping references (exact: bytes are compared).
#include "kernels_data_test_util.h"

namespace k2l::runtime {
namespace {

using namespace testing;

// Random [rank, 2] paddings in [0, most].
std::vector<int32_t> RandomPads(std::mt19937_64& rng, int rank, int most) {
  std::vector<int32_t> p(2 * rank);
  for (auto& v : p) v = static_cast<int32_t>(rng() % (most + 1));
  return p;
}

Shape PaddedShape(const Shape& s, const std::vector<int32_t>& p) {
  Shape o = s;
  for (size_t d = 0; d < s.size(); ++d) o[d] += p[2 * d] + p[2 * d + 1];
  return o;
}

TEST(KernelsPad, ConstantPadRandom) {
  const uint64_t seed = TestSeed(21);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 24; ++iter) {
    const int rank = 1 + iter % 5;
    const Shape s = RandomShape(rng, rank, 1, 4);
    const auto pads = RandomPads(rng, rank, 2);
    const Shape o = PaddedShape(s, pads);
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, s);
    const bool v2 = iter % 2 == 1;
    const NDArray value = RandomArray(rng, type, {});
    std::vector<uint8_t> fill(ElementSize(type), 0);
    if (v2) fill = value.data;
    NDArray want = Expect(
        x, o,
        [&](std::vector<int64_t> i) -> int64_t {
          for (int d = 0; d < rank; ++d) {
            i[d] -= pads[2 * d];
            if (i[d] < 0 || i[d] >= s[d]) return -1;
          }
          return Ravel(i, s);
        },
        fill);
    std::vector<OpInput> ins = {Runtime(x),
                                {I32({rank, 2}, pads), iter % 3 != 0}};
    if (v2) ins.push_back(Runtime(value));
    auto out =
        RunOp({v2 ? fb::BuiltinOperator::PADV2 : fb::BuiltinOperator::PAD}, ins,
              {type});
    ExpectSameArray(out[0], want);
  }
}

TEST(KernelsPad, QuantizedPadUsesZeroPoint) {
  // uint8 PAD fills with the output zero point; int64 paddings are read.
  auto out =
      RunOp({fb::BuiltinOperator::PAD},
            {Runtime(Array(TensorType::UINT8, {2}, std::vector<uint8_t>{5, 6})),
             Const(I64({1, 2}, {1, 2}))},
            {TensorType::UINT8}, {{0.5f, 77}, {0.f, 0}, {0.5f, 77}});
  ExpectSameArray(out[0], Array(TensorType::UINT8, {5},
                                std::vector<uint8_t>{77, 5, 6, 77, 77}));
}

OpSpec MirrorPad(fb::MirrorPadMode mode) {
  return {
      fb::BuiltinOperator::MIRROR_PAD, fb::BuiltinOptions::MirrorPadOptions,
      [mode](FBB& f) { return fb::CreateMirrorPadOptions(f, mode).Union(); }};
}

TEST(KernelsPad, MirrorPadRandom) {
  const uint64_t seed = TestSeed(22);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 24; ++iter) {
    const int rank = 1 + iter % 4;
    const bool reflect = iter % 2 == 0;
    const Shape s = RandomShape(rng, rank, 2, 5);
    std::vector<int32_t> pads(2 * rank);
    for (int d = 0; d < 2 * rank; ++d)
      pads[d] =
          static_cast<int32_t>(rng() % (s[d / 2] - (reflect ? 1 : 0) + 1));
    const Shape o = PaddedShape(s, pads);
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, s);
    NDArray want = Expect(x, o, [&](std::vector<int64_t> i) {
      for (int d = 0; d < rank; ++d) {
        int64_t v = i[d] - pads[2 * d];
        // numpy's "reflect" / "symmetric".
        if (v < 0) v = reflect ? -v : -v - 1;
        if (v >= s[d]) v = reflect ? 2 * (s[d] - 1) - v : 2 * s[d] - 1 - v;
        i[d] = v;
      }
      return Ravel(i, s);
    });
    auto out =
        RunOp(MirrorPad(reflect ? fb::MirrorPadMode::REFLECT
                                : fb::MirrorPadMode::SYMMETRIC),
              {Runtime(x), {I32({rank, 2}, pads), iter % 3 != 0}}, {type});
    ExpectSameArray(out[0], want);
  }
}

TEST(KernelsPadRejects, BadPaddings) {
  const NDArray x = I32({2, 2}, {1, 2, 3, 4});
  auto err = RunError({fb::BuiltinOperator::PAD},
                      {Runtime(x), Const(I32({2, 2}, {0, -1, 0, 0}))},
                      {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "must be in [0, 2^31)");
  err = RunError({fb::BuiltinOperator::PAD},
                 {Runtime(x), Const(I32({1, 2}, {0, 1}))}, {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "[2, 2] is needed");
  err = RunError(MirrorPad(fb::MirrorPadMode::REFLECT),
                 {Runtime(x), Const(I32({2, 2}, {2, 0, 0, 0}))},
                 {TensorType::INT32});
  K2L_EXPECT_ERROR(err, "REFLECT padding may not exceed the axis size minus 1");
}

// TF's space_to_batch_nd on [b, h, w, c] (or [b, h, c] with one block).
TEST(KernelsSpaceBatch, SpaceToBatchAndBack) {
  const uint64_t seed = TestSeed(23);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 16; ++iter) {
    const int rank = 3 + iter % 2;
    const int spatial = rank - 2;
    Shape s = RandomShape(rng, rank, 1, 4);
    std::vector<int32_t> block(spatial), pads(2 * spatial);
    for (int d = 0; d < spatial; ++d) {
      block[d] = 1 + static_cast<int32_t>(rng() % 3);
      pads[2 * d] = static_cast<int32_t>(rng() % 3);
      const int32_t total = s[d + 1] + pads[2 * d];
      pads[2 * d + 1] = (block[d] - total % block[d]) % block[d];
    }
    Shape o = s;
    int32_t prod = 1;
    for (int d = 0; d < spatial; ++d) {
      o[d + 1] = (s[d + 1] + pads[2 * d] + pads[2 * d + 1]) / block[d];
      prod *= block[d];
    }
    o[0] = s[0] * prod;
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, s);
    NDArray want = Expect(
        x, o,
        [&](std::vector<int64_t> i) -> int64_t {
          // Output batch = (offset along the blocks) * in_batch + b.
          int64_t rest = i[0] / s[0];
          std::vector<int64_t> src = i;
          src[0] = i[0] % s[0];
          for (int d = spatial - 1; d >= 0; --d) {
            const int64_t shift = rest % block[d];
            rest /= block[d];
            src[d + 1] = i[d + 1] * block[d] + shift - pads[2 * d];
            if (src[d + 1] < 0 || src[d + 1] >= s[d + 1]) return -1;
          }
          return Ravel(src, s);
        },
        std::vector<uint8_t>(ElementSize(type), 0));
    auto out = RunOp({fb::BuiltinOperator::SPACE_TO_BATCH_ND},
                     {Runtime(x),
                      Const(I32({spatial}, block)),
                      {I32({spatial, 2}, pads), iter % 2 == 0}},
                     {type});
    ExpectSameArray(out[0], want);
    auto back = RunOp({fb::BuiltinOperator::BATCH_TO_SPACE_ND},
                      {Runtime(want),
                       Const(I32({spatial}, block)),
                       {I32({spatial, 2}, pads), iter % 2 == 1}},
                      {type});
    ExpectSameArray(back[0], x);
  }
}

TEST(KernelsSpaceBatchRejects, IndivisibleAndNegative) {
  const NDArray x =
      NDArray::Of(TensorType::FLOAT32, {1, 3, 3, 1}, std::vector<float>(9));
  auto err = RunError(
      {fb::BuiltinOperator::SPACE_TO_BATCH_ND},
      {Runtime(x), Const(I32({2}, {2, 2})), Const(I32({2, 2}, {0, 0, 0, 0}))},
      {TensorType::FLOAT32});
  K2L_EXPECT_ERROR(err, "does not divide by block 2");
  err = RunError(
      {fb::BuiltinOperator::BATCH_TO_SPACE_ND},
      {Runtime(x), Const(I32({2}, {1, 1})), Const(I32({2, 2}, {0, -1, 0, 0}))},
      {TensorType::FLOAT32});
  K2L_EXPECT_ERROR(err, "crops >= 0");
}

}  // namespace
}  // namespace k2l::runtime
