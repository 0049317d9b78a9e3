// Fixed-point helpers (reference/fixed_point.h) and the quantized kernels:
// QUANTIZE, DEQUANTIZE and the int8/uint8 forms of ADD, SUB, MUL, LOGISTIC,
// TANH and SOFTMAX. Integer results are compared with a double-precision
// reference within the LSBs each case states; seeds are traced and
// K2L_TEST_SEED replays one.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "runtime/reference/fixed_point.h"
#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

namespace ref = reference;
using testing::TestSeed;

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

}  // namespace
}  // namespace k2l::runtime
