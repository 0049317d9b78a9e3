// Fixed-point helpers (reference/fixed_point.h) and the quantized kernels:
// QUANTIZE, DEQUANTIZE and the int8/uint8 forms of ADD, SUB, MUL, LOGISTIC,
// TANH and SOFTMAX. Integer results are compared with a double-precision
// reference within the LSBs each case states; seeds are traced and
// K2L_TEST_SEED replays one.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <optional>

#include "runtime/reference/fixed_point.h"
#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

namespace ref = reference;
using testing::OpModelBuilder;
using testing::RandomFloats;
using testing::RandomShape;
using testing::RunOrFail;
using testing::TestSeed;
using Op = fb::BuiltinOperator;
using TT = TensorType;

TEST(FixedPoint, QuantizeMultiplierSplitsMantissaAndShift) {
  int32_t m;
  int s;
  ref::QuantizeMultiplier(0.5, &m, &s);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, 0);
  ref::QuantizeMultiplier(1.0, &m, &s);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, 1);
  ref::QuantizeMultiplier(0.75, &m, &s);
  EXPECT_EQ(m, 1610612736);
  EXPECT_EQ(s, 0);
  ref::QuantizeMultiplier(0.0, &m, &s);
  EXPECT_EQ(m, 0);
  EXPECT_EQ(s, 0);
  // A mantissa that rounds up to 2^31 moves into the exponent.
  ref::QuantizeMultiplier(1.0 - 1e-12, &m, &s);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, 1);
  // Below 2^-31 the multiplier flushes to zero.
  ref::QuantizeMultiplier(1e-10, &m, &s);
  EXPECT_EQ(m, 0);
  EXPECT_EQ(s, 0);
}

TEST(FixedPoint, RoundingPrimitives) {
  EXPECT_EQ(ref::RoundingDivideByPOT(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(ref::RoundingDivideByPOT(-5, 1), -3);  // -2.5 -> -3
  EXPECT_EQ(ref::RoundingDivideByPOT(-4, 1), -2);
  EXPECT_EQ(ref::RoundingDivideByPOT(7, 0), 7);
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(ref::SaturatingRoundingDoublingHighMul(kMin, kMin),
            std::numeric_limits<int32_t>::max());
  EXPECT_EQ(ref::SaturatingRoundingDoublingHighMul(1 << 30, 1 << 30), 1 << 29);
  EXPECT_EQ(ref::MultiplyByQuantizedMultiplier(100, 1 << 30, 0), 50);
  EXPECT_EQ(ref::MultiplyByQuantizedMultiplier(100, 1 << 30, 2), 200);
  // gemmlowp's nudge rounds a negative half toward zero: -1.5 -> -1.
  EXPECT_EQ(ref::MultiplyByQuantizedMultiplier(-3, 1 << 30, 0), -1);
  EXPECT_EQ(ref::TruncateToInt32(3e9f), kMin);
  EXPECT_EQ(ref::TruncateToInt32(std::nanf("")), kMin);
  EXPECT_EQ(ref::TruncateToInt32(-2.7f), -2);
  EXPECT_EQ(ref::QuantizeValue(0.25f, 0.5f, -3), -2);  // round(0.5) = 1
}

// The fixed-point product equals round(x * real) up to its two roundings.
TEST(FixedPoint, MultiplyMatchesRealProductWithinOneLsb) {
  uint64_t seed = TestSeed(5000);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> mant(0.5, 1.0);
  std::uniform_int_distribution<int> exp_d(-20, 6);
  std::uniform_int_distribution<int32_t> x_d(-(1 << 20), 1 << 20);
  for (int i = 0; i < 2000; ++i) {
    double real = std::ldexp(mant(rng), exp_d(rng));
    int32_t m;
    int s;
    ref::QuantizeMultiplier(real, &m, &s);
    int32_t x = x_d(rng);
    double want = x * real;
    if (std::abs(want) > 1e9) continue;
    int32_t got = ref::MultiplyByQuantizedMultiplier(x, m, s);
    ASSERT_LE(std::abs(got - want), 1.0)
        << "x " << x << " real " << real << " got " << got;
  }
}

TEST(FixedPoint, QuantizedActivationRange) {
  using FA = ref::FusedActivation;
  auto r = ref::QuantizedActivationRange(FA::kRelu6, 0.05f, -10, -128, 127);
  EXPECT_EQ(r.min, -10);
  EXPECT_EQ(r.max, 110);
  r = ref::QuantizedActivationRange(FA::kReluN1To1, 0.001f, 0, -128, 127);
  EXPECT_EQ(r.min, -128);
  EXPECT_EQ(r.max, 127);
  r = ref::QuantizedActivationRange(FA::kNone, 1.f, 3, 0, 255);
  EXPECT_EQ(r.min, 0);
  EXPECT_EQ(r.max, 255);
}

// --- Kernels
// -------------------------------------------------------------------

struct Q {
  float scale;
  int64_t zero_point;
};

template <typename T>
std::vector<T> RandomInts(std::mt19937_64& rng, int64_t n) {
  std::uniform_int_distribution<int> d(std::numeric_limits<T>::min(),
                                       std::numeric_limits<T>::max());
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  return v;
}

double Dequant(int64_t q, Q p) { return p.scale * double(q - p.zero_point); }

// round(x / scale) + zp clamped to [lo, hi], in double.
int64_t QuantRef(double x, Q p, int64_t lo, int64_t hi) {
  return std::clamp<int64_t>(std::llround(x / p.scale) + p.zero_point, lo, hi);
}

// Builds and runs a one-op model whose inputs and output carry quantization
// (an empty Q leaves a tensor unquantized).
std::vector<NDArray> RunQuant(
    Op op, const std::vector<NDArray>& ins,
    const std::vector<std::optional<Q>>& in_q, TT out_t, std::optional<Q> out_q,
    fb::BuiltinOptions opt_type = fb::BuiltinOptions::NONE,
    testing::OptionsFn opt = nullptr, std::string* error = nullptr) {
  OpModelBuilder b;
  std::vector<int> idx;
  for (size_t i = 0; i < ins.size(); ++i) {
    idx.push_back(b.AddInput(ins[i].dtype, ins[i].shape));
    if (in_q[i])
      b.SetQuant(idx.back(), {in_q[i]->scale}, {in_q[i]->zero_point});
  }
  int o = b.AddOutput(out_t);
  if (out_q) b.SetQuant(o, {out_q->scale}, {out_q->zero_point});
  b.AddOp(op, idx, {o}, opt_type, std::move(opt));
  if (error != nullptr) {
    auto model = LiteRTModel::Load(b.Finish());
    if (!model.ok()) {
      *error = model.status().message();
      return {};
    }
    auto r = model->Predict(ins);
    if (!r.ok()) *error = r.status().message();
    return r.ok() ? *r : std::vector<NDArray>{};
  }
  return RunOrFail(b.Finish(), ins);
}

// QUANTIZE rounds like ai-edge-litert on x86: ties go to even in whole
// blocks of 8 elements and away from zero in the tail, so only exact ties
// may differ from llround, by 1 LSB.
TEST(KernelsQuantize, QuantizeFloatWithinOneLsbAndTiesLikeLiteRT) {
  for (int iter = 0; iter < 6; ++iter) {
    uint64_t seed = TestSeed(5100 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Shape shape = RandomShape(rng, 1 + iter % 3, 1, 9);
    auto x = RandomFloats(rng, NumElements(shape), -20, 20);
    const TT types[] = {TT::INT8, TT::UINT8, TT::INT16};
    TT t = types[iter % 3];
    Q q{0.01f + 0.05f * (iter + 1),
        t == TT::UINT8 ? 128 : (t == TT::INT8 ? -3 : 0)};
    auto out = RunQuant(Op::QUANTIZE, {NDArray::Of(TT::FLOAT32, shape, x)},
                        {std::nullopt}, t, q);
    ASSERT_EQ(out.size(), 1u);
    for (size_t i = 0; i < x.size(); ++i) {
      int64_t got = t == TT::INT8    ? out[0].as<int8_t>()[i]
                    : t == TT::UINT8 ? out[0].as<uint8_t>()[i]
                                     : out[0].as<int16_t>()[i];
      int64_t lo = t == TT::INT8 ? -128 : (t == TT::UINT8 ? 0 : -32768);
      int64_t hi = t == TT::INT8 ? 127 : (t == TT::UINT8 ? 255 : 32767);
      ASSERT_LE(std::abs(got - QuantRef(x[i], q, lo, hi)), 1) << i;
    }
  }
  // 0.05 / 0.1f is exactly 0.5: even (0) in the first 8, away (1) after.
  std::vector<float> ties(9, 0.05f);
  auto out = RunQuant(Op::QUANTIZE, {NDArray::Of(TT::FLOAT32, {9}, ties)},
                      {std::nullopt}, TT::INT8, Q{0.1f, 0});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].as<int8_t>()[0], 0);
  EXPECT_EQ(out[0].as<int8_t>()[8], 1);
}

TEST(KernelsQuantize, DequantizeIsExact) {
  uint64_t seed = TestSeed(5200);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto i8 = RandomInts<int8_t>(rng, 50);
  auto u8 = RandomInts<uint8_t>(rng, 50);
  auto i16 = RandomInts<int16_t>(rng, 50);
  const Q q8{0.037f, -5}, qu{0.02f, 131}, q16{0.0007f, 0};
  auto o8 = RunQuant(Op::DEQUANTIZE, {NDArray::Of(TT::INT8, {50}, i8)}, {q8},
                     TT::FLOAT32, std::nullopt);
  auto ou = RunQuant(Op::DEQUANTIZE, {NDArray::Of(TT::UINT8, {50}, u8)}, {qu},
                     TT::FLOAT32, std::nullopt);
  auto o16 = RunQuant(Op::DEQUANTIZE, {NDArray::Of(TT::INT16, {50}, i16)},
                      {q16}, TT::FLOAT32, std::nullopt);
  ASSERT_EQ(o8.size(), 1u);
  ASSERT_EQ(ou.size(), 1u);
  ASSERT_EQ(o16.size(), 1u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(o8[0].as<float>()[i], static_cast<float>(Dequant(i8[i], q8)));
    EXPECT_EQ(ou[0].as<float>()[i], static_cast<float>(Dequant(u8[i], qu)));
    EXPECT_EQ(o16[0].as<float>()[i], static_cast<float>(Dequant(i16[i], q16)));
  }
  // float16 -> float32 is exact.
  auto half =
      RunQuant(Op::DEQUANTIZE,
               {NDArray::Of(TT::FLOAT16, {3},
                            std::vector<uint16_t>{0x3c00, 0xc000, 0x0001})},
               {std::nullopt}, TT::FLOAT32, std::nullopt);
  ASSERT_EQ(half.size(), 1u);
  EXPECT_EQ(half[0].as<float>()[0], 1.f);
  EXPECT_EQ(half[0].as<float>()[1], -2.f);
  EXPECT_EQ(half[0].as<float>()[2], std::ldexp(1.f, -24));
}

TEST(KernelsQuantize, PerChannelQuantizeAndDequantize) {
  uint64_t seed = TestSeed(5300);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Shape shape = {2, 3, 4};
  auto x = RandomFloats(rng, 24, -3, 3);
  std::vector<float> scales = {0.02f, 0.05f, 0.1f};
  std::vector<int64_t> zps = {0, 3, -7};
  OpModelBuilder b;
  int in = b.AddInput(TT::FLOAT32, shape);
  int mid = b.AddTensor(TT::INT8, shape, {}, {});
  b.SetQuant(mid, scales, zps, /*dim=*/1);
  int out = b.AddOutput(TT::FLOAT32);
  b.AddOp(Op::QUANTIZE, {in}, {mid});
  b.AddOp(Op::DEQUANTIZE, {mid}, {out});
  auto r = RunOrFail(b.Finish(), {NDArray::Of(TT::FLOAT32, shape, x)});
  ASSERT_EQ(r.size(), 1u);
  for (int i = 0; i < 24; ++i) {
    int c = (i / 4) % 3;
    Q q{scales[c], zps[c]};
    double want = Dequant(QuantRef(x[i], q, -128, 127), q);
    EXPECT_NEAR(r[0].as<float>()[i], want, 1e-6) << i;
  }
}

TEST(KernelsQuantize, RequantizeWithinOneLsb) {
  uint64_t seed = TestSeed(5400);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto x = RandomInts<int8_t>(rng, 100);
  const Q qi{0.05f, -3}, qo{0.13f, 120};
  auto out = RunQuant(Op::QUANTIZE, {NDArray::Of(TT::INT8, {100}, x)}, {qi},
                      TT::UINT8, qo);
  ASSERT_EQ(out.size(), 1u);
  for (int i = 0; i < 100; ++i) {
    int64_t want = QuantRef(Dequant(x[i], qi), qo, 0, 255);
    // Fixed-point rescaling rounds twice.
    ASSERT_LE(std::abs(out[0].as<uint8_t>()[i] - want), 1) << i;
  }
}

// Quantized ADD, SUB and MUL against the real arithmetic, requantized:
// LiteRT's fixed-point path rounds up to three times, so 1 LSB.
TEST(KernelsQuantize, QuantizedArithmeticWithinOneLsb) {
  using AF = fb::ActivationFunctionType;
  for (int iter = 0; iter < 9; ++iter) {
    uint64_t seed = TestSeed(5500 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const Op ops[] = {Op::ADD, Op::SUB, Op::MUL};
    Op op = ops[iter % 3];
    SCOPED_TRACE(fb::EnumNameBuiltinOperator(op));
    Shape sa = RandomShape(rng, 3, 1, 5), sb = {sa[2]};
    if (iter % 2) sb = {sa[0], 1, 1};
    auto a = RandomInts<int8_t>(rng, NumElements(sa));
    auto b = RandomInts<int8_t>(rng, NumElements(sb));
    const Q qa{0.05f, -4}, qb{0.03f, 7}, qo{op == Op::MUL ? 0.06f : 0.1f, 2};
    AF act = iter >= 6 ? AF::RELU6 : AF::NONE;
    testing::OptionsFn opt = [op, act](testing::FBB& f) {
      if (op == Op::ADD) return fb::CreateAddOptions(f, act).Union();
      if (op == Op::SUB) return fb::CreateSubOptions(f, act).Union();
      return fb::CreateMulOptions(f, act).Union();
    };
    fb::BuiltinOptions ot = op == Op::ADD   ? fb::BuiltinOptions::AddOptions
                            : op == Op::SUB ? fb::BuiltinOptions::SubOptions
                                            : fb::BuiltinOptions::MulOptions;
    auto out = RunQuant(
        op, {NDArray::Of(TT::INT8, sa, a), NDArray::Of(TT::INT8, sb, b)},
        {qa, qb}, TT::INT8, qo, ot, opt);
    ASSERT_EQ(out.size(), 1u);
    for (int64_t i = 0; i < NumElements(sa); ++i) {
      int64_t j = iter % 2 ? i / (sa[1] * sa[2]) : i % sa[2];
      double x = Dequant(a[i], qa), y = Dequant(b[j], qb);
      double r = op == Op::ADD ? x + y : (op == Op::SUB ? x - y : x * y);
      if (act == AF::RELU6) r = std::clamp(r, 0.0, 6.0);
      ASSERT_LE(std::abs(out[0].as<int8_t>()[i] - QuantRef(r, qo, -128, 127)),
                1)
          << "element " << i;
    }
  }
}

// LOGISTIC and TANH tabulate float math over the 256 inputs, rounding
// once: exact against double except where float rounding lands on a half.
TEST(KernelsQuantize, LookupTableActivations) {
  std::vector<int8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<int8_t>(i - 128);
  const Q qi{0.06f, 5};
  struct Case {
    Op op;
    Q qo;
    double (*f)(double);
  };
  const Case cases[] = {
      {Op::LOGISTIC,
       {1.f / 256, -128},
       [](double x) { return 1 / (1 + std::exp(-x)); }},
      {Op::TANH, {1.f / 128, 0}, [](double x) { return std::tanh(x); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(fb::EnumNameBuiltinOperator(c.op));
    auto out = RunQuant(c.op, {NDArray::Of(TT::INT8, {256}, all)}, {qi},
                        TT::INT8, c.qo);
    ASSERT_EQ(out.size(), 1u);
    for (int i = 0; i < 256; ++i) {
      int64_t want = QuantRef(c.f(Dequant(all[i], qi)), c.qo, -128, 127);
      ASSERT_LE(std::abs(out[0].as<int8_t>()[i] - want), 1) << i;
    }
  }
}

// Quantized RELU6 and LEAKY_RELU rescale with one fixed-point multiply:
// within 1 LSB of the real function requantized.
TEST(KernelsQuantize, QuantizedReluAndLeakyRelu) {
  std::vector<int8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<int8_t>(i - 128);
  const Q qi{0.05f, 3}, qo{0.03f, -7};
  auto relu6 = RunQuant(Op::RELU6, {NDArray::Of(TT::INT8, {256}, all)}, {qi},
                        TT::INT8, qo);
  auto leaky = RunQuant(
      Op::LEAKY_RELU, {NDArray::Of(TT::INT8, {256}, all)}, {qi}, TT::INT8, qo,
      fb::BuiltinOptions::LeakyReluOptions, [](testing::FBB& f) {
        return fb::CreateLeakyReluOptions(f, 0.2f).Union();
      });
  ASSERT_EQ(relu6.size(), 1u);
  ASSERT_EQ(leaky.size(), 1u);
  for (int i = 0; i < 256; ++i) {
    double x = Dequant(all[i], qi);
    int64_t want6 = QuantRef(std::clamp(x, 0.0, 6.0), qo, -128, 127);
    int64_t wantl = QuantRef(x >= 0 ? x : 0.2 * x, qo, -128, 127);
    ASSERT_LE(std::abs(relu6[0].as<int8_t>()[i] - want6), 1) << i;
    ASSERT_LE(std::abs(leaky[0].as<int8_t>()[i] - wantl), 1) << i;
  }
}

// int8 SOFTMAX computes in float from a table of exp; against double it is
// within 1 LSB (the float sum and the final rounding).
TEST(KernelsQuantize, SoftmaxInt8) {
  for (int iter = 0; iter < 4; ++iter) {
    uint64_t seed = TestSeed(5600 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Shape shape = RandomShape(rng, 2, 1, 40);
    auto x = RandomInts<int8_t>(rng, NumElements(shape));
    const Q qi{0.08f, 3}, qo{1.f / 256, -128};
    const float beta = iter % 2 ? 0.5f : 1.f;
    auto out = RunQuant(Op::SOFTMAX, {NDArray::Of(TT::INT8, shape, x)}, {qi},
                        TT::INT8, qo, fb::BuiltinOptions::SoftmaxOptions,
                        [beta](testing::FBB& f) {
                          return fb::CreateSoftmaxOptions(f, beta).Union();
                        });
    ASSERT_EQ(out.size(), 1u);
    const int depth = shape[1];
    for (int r = 0; r < shape[0]; ++r) {
      double m = -1e30, sum = 0;
      for (int i = 0; i < depth; ++i)
        m = std::max(m, Dequant(x[r * depth + i], qi));
      for (int i = 0; i < depth; ++i)
        sum += std::exp(beta * (Dequant(x[r * depth + i], qi) - m));
      for (int i = 0; i < depth; ++i) {
        double p = std::exp(beta * (Dequant(x[r * depth + i], qi) - m)) / sum;
        ASSERT_LE(std::abs(out[0].as<int8_t>()[r * depth + i] -
                           QuantRef(p, qo, -128, 127)),
                  1)
            << "row " << r << " col " << i;
      }
    }
  }
}

// Quantized comparisons rescale both sides to a common grid; with equal
// scales of at least 1/256 that keeps every distinct real value distinct,
// so the result equals comparing the real values.
TEST(KernelsQuantize, QuantizedComparisons) {
  uint64_t seed = TestSeed(5700);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto a = RandomInts<uint8_t>(rng, 60);
  auto b = RandomInts<uint8_t>(rng, 60);
  for (int i = 0; i < 60; i += 3) b[i] = static_cast<uint8_t>(a[i] + 3);
  const Q qa{0.05f, 128}, qb{0.05f, 131};
  const std::pair<Op, std::function<bool(double, double)>> cases[] = {
      {Op::EQUAL, std::equal_to<double>()},
      {Op::LESS, std::less<double>()},
      {Op::GREATER_EQUAL, std::greater_equal<double>()},
  };
  for (const auto& [op, ref_cmp] : cases) {
    SCOPED_TRACE(fb::EnumNameBuiltinOperator(op));
    auto out = RunQuant(
        op, {NDArray::Of(TT::UINT8, {60}, a), NDArray::Of(TT::UINT8, {60}, b)},
        {qa, qb}, TT::BOOL, std::nullopt);
    ASSERT_EQ(out.size(), 1u);
    for (int i = 0; i < 60; ++i) {
      // Integer offsets: q - zp compared exactly.
      bool want =
          ref_cmp(double(a[i]) - qa.zero_point, double(b[i]) - qb.zero_point);
      ASSERT_EQ(out[0].as<bool>()[i], want) << i;
    }
  }
}

TEST(KernelsQuantizeRejects, MissingOrWrongQuantization) {
  std::string err;
  RunQuant(Op::QUANTIZE,
           {NDArray::Of(TT::FLOAT32, {2}, std::vector<float>{1, 2})},
           {std::nullopt}, TT::INT8, std::nullopt, fb::BuiltinOptions::NONE,
           nullptr, &err);
  EXPECT_NE(err.find("no quantization parameters to quantize with"),
            std::string::npos)
      << err;
  err.clear();
  RunQuant(Op::LOGISTIC,
           {NDArray::Of(TT::INT8, {2}, std::vector<int8_t>{1, 2})},
           {Q{0.1f, 0}}, TT::INT8, Q{0.1f, 0}, fb::BuiltinOptions::NONE,
           nullptr, &err);
  EXPECT_NE(err.find("needs 1/256"), std::string::npos) << err;
  err.clear();
  RunQuant(Op::SOFTMAX, {NDArray::Of(TT::INT8, {2}, std::vector<int8_t>{1, 2})},
           {Q{0.1f, 0}}, TT::INT8, Q{1.f / 256, 0}, fb::BuiltinOptions::NONE,
           nullptr, &err);
  EXPECT_NE(err.find("zero point -128"), std::string::npos) << err;
  err.clear();
  RunQuant(Op::ADD,
           {NDArray::Of(TT::INT8, {2}, std::vector<int8_t>{1, 2}),
            NDArray::Of(TT::INT8, {2}, std::vector<int8_t>{1, 2})},
           {std::nullopt, Q{0.1f, 0}}, TT::INT8, Q{0.1f, 0},
           fb::BuiltinOptions::NONE, nullptr, &err);
  EXPECT_NE(err.find("has no quantization parameters"), std::string::npos)
      << err;
}

}  // namespace
}  // namespace k2l::runtime
