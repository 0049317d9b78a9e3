// FULLY_CONNECTED against a double-precision reference over random shapes,
// options and thread counts; the plain-loop reference header too; and the
// kernel's rejections.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "runtime/reference/fully_connected.h"
#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::FBB;
using testing::OpModelBuilder;
using Act = fb::ActivationFunctionType;

// fp32 sums of up to 64 products of values in [-1, 1] stay well within
// 1e-5 of the exact (double) result.
constexpr double kTol = 1e-5;

// Every fourth iteration runs on 2 or 3 threads (making a thread pool costs
// milliseconds, so the rest stay on one).
int ThreadsFor(int iter) { return iter % 4 == 3 ? 2 + iter % 8 / 4 : 1; }

struct Clamp {
  Act act;
  double lo, hi;
};
Clamp RandomClamp(std::mt19937_64& rng) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const Clamp all[] = {{Act::NONE, -inf, inf},
                       {Act::RELU, 0, inf},
                       {Act::RELU6, 0, 6},
                       {Act::RELU_N1_TO_1, -1, 1}};
  return all[rng() % 4];
}

std::vector<double> Reference(const std::vector<float>& in,
                              const std::vector<float>& w,
                              const std::vector<float>* bias, int64_t batch,
                              int64_t depth, int64_t units, Clamp c) {
  std::vector<double> out(batch * units);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t u = 0; u < units; ++u) {
      double s = bias ? (*bias)[u] : 0.0;
      for (int64_t d = 0; d < depth; ++d)
        s += static_cast<double>(in[b * depth + d]) * w[u * depth + d];
      out[b * units + u] = std::clamp(s, c.lo, c.hi);
    }
  }
  return out;
}

flatbuffers::Offset<void> Options(FBB& fbb, Act act, bool keep) {
  return fb::CreateFullyConnectedOptions(
             fbb, act, fb::FullyConnectedOptionsWeightsFormat::DEFAULT, keep)
      .Union();
}

TEST(KernelsFullyConnected, RandomShapesAgainstDoubleReference) {
  for (int iter = 0; iter < 24; ++iter) {
    const uint64_t seed = testing::TestSeed(1000 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const int rank = 1 + static_cast<int>(rng() % 4);
    Shape in_shape = testing::RandomShape(rng, rank, 1, 5);
    const int threads = ThreadsFor(iter);
    // Threaded iterations get enough units for ParallelFor to split them.
    const int depth = threads > 1 ? 64 + static_cast<int>(rng() % 64)
                                  : in_shape.back() * (1 + rng() % 3);
    in_shape.back() = depth;
    const int units = threads > 1 ? 600 : 1 + static_cast<int>(rng() % 40);
    const bool keep = rng() % 2 && rank > 1;
    const int bias_mode = static_cast<int>(rng() % 3);  // none, -1, present
    const bool const_weights = rng() % 3 != 0;
    const Clamp c = RandomClamp(rng);
    const int64_t batch = NumElements(in_shape) / depth;

    auto x = testing::RandomFloats(rng, NumElements(in_shape));
    auto w = testing::RandomFloats(rng, int64_t{units} * depth);
    auto bias = testing::RandomFloats(rng, units);
    OpModelBuilder b;
    int xi = b.AddInput(TensorType::FLOAT32, in_shape);
    int wi = const_weights ? b.AddConst(TensorType::FLOAT32, {units, depth}, w)
                           : b.AddInput(TensorType::FLOAT32, {units, depth});
    std::vector<int> ins = {xi, wi};
    if (bias_mode == 1) ins.push_back(-1);
    if (bias_mode == 2)
      ins.push_back(b.AddConst(TensorType::FLOAT32, {units}, bias));
    int y = b.AddOutput(TensorType::FLOAT32);
    b.AddOp(fb::BuiltinOperator::FULLY_CONNECTED, ins, {y},
            fb::BuiltinOptions::FullyConnectedOptions,
            [&](FBB& fbb) { return Options(fbb, c.act, keep); });
    std::vector<NDArray> feeds = {
        NDArray::Of(TensorType::FLOAT32, in_shape, x)};
    if (!const_weights)
      feeds.push_back(NDArray::Of(TensorType::FLOAT32, {units, depth}, w));
    auto out = testing::RunOrFail(b.Finish(), feeds, threads);
    ASSERT_EQ(out.size(), 1u);
    Shape want_shape = {static_cast<int32_t>(batch), units};
    if (keep) {
      want_shape = in_shape;
      want_shape.back() = units;
    }
    EXPECT_EQ(out[0].shape, want_shape);
    testing::ExpectNear(out[0],
                        Reference(x, w, bias_mode == 2 ? &bias : nullptr, batch,
                                  depth, units, c),
                        kTol, kTol);
  }
}

// Integer FULLY_CONNECTED, int8 (per-channel or per-tensor weights, whose
// zero point per-tensor weights may have) and uint8, against the
// real-valued result of the quantized values in double, requantized. Within
// 1 LSB: the kernel's 31-bit fixed-point multiplier can round a tie the
// other way.
TEST(KernelsFullyConnected, QuantizedAgainstDoubleReference) {
  for (int iter = 0; iter < 20; ++iter) {
    const uint64_t seed = testing::TestSeed(1200 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    auto r = [&](int lo, int hi) {
      return lo + static_cast<int>(rng() % (hi - lo + 1));
    };
    auto uni = [&](double lo, double hi) {
      return std::uniform_real_distribution<double>(lo, hi)(rng);
    };
    const bool u8 = iter % 2;
    const TensorType t = u8 ? TensorType::UINT8 : TensorType::INT8;
    const int qmin = u8 ? 0 : -128, qmax = u8 ? 255 : 127;
    const bool big = ThreadsFor(iter) > 1;  // enough units to split
    const int batch = r(1, 6), depth = big ? r(64, 127) : r(1, 60),
              units = big ? 600 : r(1, 20);
    const Clamp c = RandomClamp(rng);
    const bool per_channel = !u8 && rng() % 2;
    const bool with_bias = rng() % 2;
    const float in_scale = static_cast<float>(uni(0.01, 0.05));
    const int in_zp = r(qmin + 20, qmax - 20);
    // Per-channel weights ignore the zero point (LiteRT), so keep it 0.
    const int w_zp = per_channel ? 0 : r(qmin + 100, qmin + 150);
    std::vector<float> w_scale(per_channel ? units : 1);
    for (auto& v : w_scale) v = static_cast<float>(uni(0.002, 0.02));
    std::vector<int32_t> xq(batch * depth), wq(units * depth), bq(units);
    for (auto& q : xq) q = r(qmin, qmax);
    for (auto& q : wq) q = r(qmin, qmax);
    for (auto& q : bq) q = r(-2000, 2000);
    // Per-tensor: LiteRT multiplies the two scales in float.
    auto product = [&](int u) {
      return per_channel ? double{in_scale} * w_scale[u]
                         : static_cast<double>(in_scale * w_scale[0]);
    };
    std::vector<double> real;
    for (int b = 0; b < batch; ++b)
      for (int u = 0; u < units; ++u) {
        double acc = with_bias ? bq[u] : 0;
        for (int d = 0; d < depth; ++d)
          acc += double{xq[b * depth + d] - in_zp} * (wq[u * depth + d] - w_zp);
        real.push_back(acc * product(u));
      }
    double peak = 1e-3;
    for (double v : real) peak = std::max(peak, std::abs(v));
    const float out_scale = static_cast<float>(peak / 100);
    const int out_zp = r(qmin + 100, qmin + 150);

    OpModelBuilder b;
    int xi = b.AddInput(t, {batch, depth});
    b.SetQuant(xi, {in_scale}, {in_zp});
    int wi = u8 ? b.AddConst(t, {units, depth},
                             std::vector<uint8_t>(wq.begin(), wq.end()))
                : b.AddConst(t, {units, depth},
                             std::vector<int8_t>(wq.begin(), wq.end()));
    b.SetQuant(wi, w_scale, std::vector<int64_t>(w_scale.size(), w_zp));
    std::vector<int> ins = {xi, wi};
    if (with_bias) {
      ins.push_back(b.AddConst(TensorType::INT32, {units}, bq));
      std::vector<float> b_scale;
      for (float v : w_scale) b_scale.push_back(in_scale * v);
      b.SetQuant(ins[2], b_scale, std::vector<int64_t>(b_scale.size(), 0));
    }
    int y = b.AddOutput(t);
    b.SetQuant(y, {out_scale}, {out_zp});
    b.AddOp(
        fb::BuiltinOperator::FULLY_CONNECTED, ins, {y},
        fb::BuiltinOptions::FullyConnectedOptions,
        [&](FBB& fbb) { return Options(fbb, c.act, false); }, u8 ? 1 : 4);
    NDArray in{t, {batch, depth}, {}};
    for (int32_t q : xq) in.data.push_back(static_cast<uint8_t>(q));
    auto out = testing::RunOrFail(b.Finish(), {in}, ThreadsFor(iter));
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].shape, (Shape{batch, units}));
    auto q = [&](double v) { return out_zp + std::round(v / out_scale); };
    double lo = qmin, hi = qmax;
    if (c.act != Act::NONE) lo = std::max(lo, q(std::max(c.lo, -1.0)));
    if (c.hi < 1e300) hi = std::min(hi, q(c.hi));
    for (size_t i = 0; i < real.size(); ++i) {
      const int got = u8 ? out[0].as<uint8_t>()[i] : out[0].as<int8_t>()[i];
      ASSERT_NEAR(got, std::clamp(q(real[i]), lo, hi), 1) << "element " << i;
    }
  }
}

TEST(KernelsFullyConnected, PlainLoopReferenceAgrees) {
  for (int iter = 0; iter < 8; ++iter) {
    const uint64_t seed = testing::TestSeed(1100 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const int batch = 1 + rng() % 6, depth = 1 + rng() % 50,
              units = 1 + rng() % 20;
    const Clamp c = RandomClamp(rng);
    auto x = testing::RandomFloats(rng, batch * depth);
    auto w = testing::RandomFloats(rng, units * depth);
    auto bias = testing::RandomFloats(rng, units);
    std::vector<float> got(batch * units);
    reference::FullyConnected(x.data(), w.data(), bias.data(), depth, units,
                              static_cast<float>(c.lo),
                              static_cast<float>(c.hi), got.data(), 0, batch);
    auto want = Reference(x, w, &bias, batch, depth, units, c);
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], kTol + kTol * std::abs(want[i])) << i;
  }
}

// A model with one FULLY_CONNECTED; `edit` changes it before Finish.
std::string LoadError(Shape in, Shape w, TensorType wtype, Act act,
                      int bias_size, bool keep = false) {
  OpModelBuilder b;
  int xi = b.AddInput(TensorType::FLOAT32, in);
  int wi = b.AddConst(
      wtype, w, std::vector<uint8_t>(NumElements(w) * ElementSize(wtype)));
  std::vector<int> ins = {xi, wi};
  if (bias_size > 0) {
    ins.push_back(b.AddConst(TensorType::FLOAT32, {bias_size},
                             std::vector<float>(bias_size)));
  }
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::FULLY_CONNECTED, ins, {y},
          fb::BuiltinOptions::FullyConnectedOptions,
          [&](FBB& fbb) { return Options(fbb, act, keep); });
  auto model = LiteRTModel::Load(b.Finish());
  return model.ok() ? "" : model.status().message();
}

TEST(KernelsFullyConnectedRejects, BadShapesTypesAndActivations) {
  EXPECT_NE(LoadError({2, 5}, {3, 4}, TensorType::FLOAT32, Act::NONE, 0)
                .find("does not split into rows of 4"),
            std::string::npos);
  EXPECT_NE(LoadError({2, 4}, {3, 4}, TensorType::FLOAT32, Act::NONE, 2)
                .find("bias 't2' has 2 values but the weights have 3 units"),
            std::string::npos);
  EXPECT_NE(LoadError({2, 4}, {3, 4}, TensorType::INT8, Act::NONE, 0)
                .find("dynamic-range (hybrid)"),
            std::string::npos);
  EXPECT_NE(LoadError({2, 4}, {3, 4}, TensorType::FLOAT32, Act::TANH, 0)
                .find("fused activation TANH is not supported"),
            std::string::npos);
  EXPECT_NE(LoadError({2, 2, 4}, {3, 8}, TensorType::FLOAT32, Act::NONE, 0,
                      /*keep=*/true)
                .find("keep_num_dims needs"),
            std::string::npos);
  EXPECT_NE(LoadError({2, 4}, {3, 4, 1}, TensorType::FLOAT32, Act::NONE, 0)
                .find("weights 't1' has rank 3"),
            std::string::npos);
}

}  // namespace
}  // namespace k2l::runtime
