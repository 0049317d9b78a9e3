// Activations, unary math and CAST against double-precision references on
// random shapes. Each iteration's seed is in the trace; K2L_TEST_SEED=<n>
// replays it.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::OpModelBuilder;
using testing::RandomFloats;
using testing::RandomShape;
using testing::RunOrFail;
using testing::TestSeed;
using Op = fb::BuiltinOperator;

// fp32 results against exact (double) math: the kernels round once, or use
// exp/tanh/erfc approximations within a few ulp (1e-7 absolute near 0 for
// tanh and erfc), far inside 1e-5 absolute + relative.
constexpr double kTol = 1e-5;

Status RunUnary(Op op, TensorType in_t, TensorType out_t, const NDArray& x,
                std::vector<NDArray>* out,
                fb::BuiltinOptions opt_type = fb::BuiltinOptions::NONE,
                testing::OptionsFn opt = nullptr, int version = 1) {
  OpModelBuilder b;
  int in = b.AddInput(in_t, x.shape);
  int o = b.AddOutput(out_t);
  b.AddOp(op, {in}, {o}, opt_type, std::move(opt), version);
  auto model = LiteRTModel::Load(b.Finish());
  if (!model.ok()) return model.status();
  auto r = model->Predict({x});
  if (!r.ok()) return r.status();
  *out = std::move(*r);
  return Status::Ok();
}

struct FloatCase {
  const char* name;
  Op op;
  double (*ref)(double);
  float lo, hi;
  fb::BuiltinOptions opt_type = fb::BuiltinOptions::NONE;
  testing::OptionsFn opt = nullptr;
};

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double Gelu(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }
double GeluTanh(double x) {
  return 0.5 * x *
         (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}
double RoundHalfEven(double x) {
  double f = std::floor(x);
  double d = x - f;
  if (d != 0.5) return std::round(x);
  return std::fmod(f, 2) == 0 ? f : f + 1;
}

std::vector<FloatCase> FloatCases() {
  auto gelu_opt = [](bool approximate) -> testing::OptionsFn {
    return [approximate](testing::FBB& f) {
      return fb::CreateGeluOptions(f, approximate).Union();
    };
  };
  auto leaky = [](testing::FBB& f) {
    return fb::CreateLeakyReluOptions(f, -0.3f).Union();
  };
  return {
      {"RELU", Op::RELU, [](double x) { return std::max(x, 0.0); }, -5, 5},
      {"RELU6", Op::RELU6, [](double x) { return std::clamp(x, 0.0, 6.0); }, -9,
       9},
      {"RELU_N1_TO_1", Op::RELU_N1_TO_1,
       [](double x) { return std::clamp(x, -1.0, 1.0); }, -3, 3},
      {"RELU_0_TO_1", Op::RELU_0_TO_1,
       [](double x) { return std::clamp(x, 0.0, 1.0); }, -3, 3},
      {"LOGISTIC", Op::LOGISTIC, Sigmoid, -30, 30},
      {"TANH", Op::TANH, [](double x) { return std::tanh(x); }, -10, 10},
      {"HARD_SWISH", Op::HARD_SWISH,
       [](double x) { return x * std::clamp(x + 3, 0.0, 6.0) / 6; }, -6, 6},
      {"ELU", Op::ELU, [](double x) { return x < 0 ? std::expm1(x) : x; }, -8,
       4},
      {"GELU", Op::GELU, Gelu, -8, 8, fb::BuiltinOptions::GeluOptions,
       gelu_opt(false)},
      {"GELU_tanh", Op::GELU, GeluTanh, -8, 8, fb::BuiltinOptions::GeluOptions,
       gelu_opt(true)},
      {"LEAKY_RELU", Op::LEAKY_RELU,
       [](double x) { return x > 0 ? x : -0.3 * x; }, -4, 4,
       fb::BuiltinOptions::LeakyReluOptions, leaky},
      {"EXP", Op::EXP, [](double x) { return std::exp(x); }, -20, 20},
      {"LOG", Op::LOG, [](double x) { return std::log(x); }, 1e-3f, 1e3f},
      {"SQRT", Op::SQRT, [](double x) { return std::sqrt(x); }, 0, 100},
      {"RSQRT", Op::RSQRT, [](double x) { return 1 / std::sqrt(x); }, 1e-3f,
       100},
      {"SQUARE", Op::SQUARE, [](double x) { return x * x; }, -50, 50},
      {"SIN", Op::SIN, [](double x) { return std::sin(x); }, -10, 10},
      {"COS", Op::COS, [](double x) { return std::cos(x); }, -10, 10},
      {"ABS", Op::ABS, [](double x) { return std::abs(x); }, -5, 5},
      {"NEG", Op::NEG, [](double x) { return -x; }, -5, 5},
      {"FLOOR", Op::FLOOR, [](double x) { return std::floor(x); }, -9, 9},
      {"CEIL", Op::CEIL, [](double x) { return std::ceil(x); }, -9, 9},
      {"ROUND", Op::ROUND, RoundHalfEven, -9, 9},
      {"SIGN", Op::SIGN, [](double x) { return double((x > 0) - (x < 0)); }, -2,
       2},
  };
}

TEST(KernelsUnary, FloatFunctionsMatchDoubleReference) {
  for (const FloatCase& c : FloatCases()) {
    for (int iter = 0; iter < 4; ++iter) {
      uint64_t seed = TestSeed(1000 + iter);
      SCOPED_TRACE(std::string(c.name) + " seed " + std::to_string(seed));
      std::mt19937_64 rng(seed);
      Shape shape = RandomShape(rng, iter % 5, 1, 7);
      auto v = RandomFloats(rng, NumElements(shape), c.lo, c.hi);
      // Exact halves and zeros exercise ROUND's and SIGN's edge cases.
      if (!v.empty()) v[0] = 2.5f;
      if (v.size() > 1) v[1] = -0.5f;
      if (v.size() > 2) v[2] = 0.f;
      if (c.op == Op::LOG || c.op == Op::RSQRT || c.op == Op::SQRT)
        for (float& x : v) x = std::max(x, c.lo);
      std::vector<NDArray> out;
      Status s = RunUnary(c.op, TensorType::FLOAT32, TensorType::FLOAT32,
                          NDArray::Of(TensorType::FLOAT32, shape, v), &out,
                          c.opt_type, c.opt);
      ASSERT_TRUE(s.ok()) << s.message();
      ASSERT_EQ(out[0].shape, shape);
      std::vector<double> want(v.size());
      for (size_t i = 0; i < v.size(); ++i) want[i] = c.ref(v[i]);
      testing::ExpectNear(out[0], want, kTol, kTol);
    }
  }
}

TEST(KernelsUnary, PreluBroadcastsAlpha) {
  for (int iter = 0; iter < 4; ++iter) {
    uint64_t seed = TestSeed(1100 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Shape shape = RandomShape(rng, 3, 1, 6);
    Shape ashape = {shape[2]};
    if (iter % 2) ashape = {1, shape[1], 1};
    auto x = RandomFloats(rng, NumElements(shape), -3, 3);
    auto a = RandomFloats(rng, NumElements(ashape), -1, 1);
    OpModelBuilder b;
    int in = b.AddInput(TensorType::FLOAT32, shape);
    int al = b.AddConst(TensorType::FLOAT32, ashape, a);
    int o = b.AddOutput(TensorType::FLOAT32);
    b.AddOp(Op::PRELU, {in, al}, {o});
    auto out =
        RunOrFail(b.Finish(), {NDArray::Of(TensorType::FLOAT32, shape, x)});
    ASSERT_EQ(out.size(), 1u);
    std::vector<double> want(x.size());
    for (int i = 0; i < shape[0]; ++i)
      for (int j = 0; j < shape[1]; ++j)
        for (int k = 0; k < shape[2]; ++k) {
          size_t at = (i * shape[1] + j) * shape[2] + k;
          double alpha = iter % 2 ? a[j] : a[k];
          want[at] = x[at] >= 0 ? x[at] : x[at] * alpha;
        }
    testing::ExpectNear(out[0], want, kTol, kTol);
  }
}

TEST(KernelsUnary, IntegerAndBoolOps) {
  std::vector<int32_t> v = {0, 5, -7, std::numeric_limits<int32_t>::min(), 9};
  NDArray x = NDArray::Of(TensorType::INT32, {5}, v);
  std::vector<NDArray> out;
  ASSERT_TRUE(
      RunUnary(Op::ABS, TensorType::INT32, TensorType::INT32, x, &out).ok());
  // abs(INT32_MIN) wraps, as in LiteRT's build.
  EXPECT_EQ(out[0].as<int32_t>()[3], std::numeric_limits<int32_t>::min());
  EXPECT_EQ(out[0].as<int32_t>()[2], 7);
  ASSERT_TRUE(
      RunUnary(Op::SIGN, TensorType::INT32, TensorType::INT32, x, &out).ok());
  EXPECT_EQ(out[0].as<int32_t>()[2], -1);
  EXPECT_EQ(out[0].as<int32_t>()[0], 0);
  ASSERT_TRUE(
      RunUnary(Op::NEG, TensorType::INT32, TensorType::INT32, x, &out).ok());
  EXPECT_EQ(out[0].as<int32_t>()[1], -5);
  ASSERT_TRUE(
      RunUnary(Op::ZEROS_LIKE, TensorType::INT32, TensorType::INT32, x, &out)
          .ok());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out[0].as<int32_t>()[i], 0);
  NDArray bools =
      NDArray::Of(TensorType::BOOL, {3}, std::vector<uint8_t>{1, 0, 1});
  ASSERT_TRUE(
      RunUnary(Op::LOGICAL_NOT, TensorType::BOOL, TensorType::BOOL, bools, &out)
          .ok());
  EXPECT_EQ(out[0].as<uint8_t>()[1], 1);
  EXPECT_EQ(out[0].as<uint8_t>()[2], 0);
}

// Float to integer CAST truncates, saturates, and maps NaN to the maximum
// (checked against ai-edge-litert 2.3.0).
TEST(KernelsUnary, CastSaturatesAndRounds) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {1.7f, -1.7f, 300.f, -300.f, nan, inf, -0.f, 3e9f};
  NDArray x = NDArray::Of(TensorType::FLOAT32, {8}, v);
  std::vector<NDArray> out;
  ASSERT_TRUE(
      RunUnary(Op::CAST, TensorType::FLOAT32, TensorType::INT8, x, &out).ok());
  std::vector<int8_t> want8 = {1, -1, 127, -128, 127, 127, 0, 127};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[0].as<int8_t>()[i], want8[i]) << i;
  ASSERT_TRUE(
      RunUnary(Op::CAST, TensorType::FLOAT32, TensorType::UINT8, x, &out).ok());
  std::vector<uint8_t> wantu8 = {1, 0, 255, 0, 255, 255, 0, 255};
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(out[0].as<uint8_t>()[i], wantu8[i]) << i;
  ASSERT_TRUE(
      RunUnary(Op::CAST, TensorType::FLOAT32, TensorType::BOOL, x, &out).ok());
  std::vector<uint8_t> wantb = {1, 1, 1, 1, 1, 1, 0, 1};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[0].as<uint8_t>()[i], wantb[i]);
  // float16 rounds to nearest even; 65520 overflows to inf.
  NDArray h = NDArray::Of(TensorType::FLOAT32, {4},
                          std::vector<float>{1.f / 3, 65504.f, 65520.f, 6e-8f});
  ASSERT_TRUE(
      RunUnary(Op::CAST, TensorType::FLOAT32, TensorType::FLOAT16, h, &out)
          .ok());
  std::vector<uint16_t> wanth = {0x3555, 0x7bff, 0x7c00, 0x0001};
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(out[0].as<uint16_t>()[i], wanth[i]) << i;
  // And back: every half converts exactly.
  NDArray back = out[0];
  ASSERT_TRUE(
      RunUnary(Op::CAST, TensorType::FLOAT16, TensorType::FLOAT32, back, &out)
          .ok());
  EXPECT_FLOAT_EQ(out[0].as<float>()[0], 0.333251953125f);
  EXPECT_EQ(out[0].as<float>()[2], inf);
  EXPECT_FLOAT_EQ(out[0].as<float>()[3], 5.9604645e-08f);
  // int64 -> int32 wraps like static_cast.
  NDArray big = NDArray::Of(TensorType::INT64, {1},
                            std::vector<int64_t>{(int64_t{1} << 32) + 5});
  ASSERT_TRUE(
      RunUnary(Op::CAST, TensorType::INT64, TensorType::INT32, big, &out).ok());
  EXPECT_EQ(out[0].as<int32_t>()[0], 5);
}

TEST(KernelsUnaryRejects, UnsupportedType) {
  NDArray x = NDArray::Of(TensorType::INT32, {2}, std::vector<int32_t>{1, 2});
  std::vector<NDArray> out;
  Status s = RunUnary(Op::EXP, TensorType::INT32, TensorType::INT32, x, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("has type int32 but this kernel takes float32"),
            std::string::npos)
      << s.message();
  s = RunUnary(Op::TANH, TensorType::INT8, TensorType::INT8,
               NDArray::Of(TensorType::INT8, {1}, std::vector<int8_t>{1}),
               &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("TANH"), std::string::npos) << s.message();
}

TEST(KernelsUnaryRejects, OutputTypeMismatch) {
  NDArray x = NDArray::Of(TensorType::INT32, {2}, std::vector<int32_t>{1, 2});
  std::vector<NDArray> out;
  Status s = RunUnary(Op::NEG, TensorType::INT32, TensorType::INT64, x, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("but the input has int32"), std::string::npos)
      << s.message();
}

TEST(KernelsUnaryRejects, PreluAlphaThatGrowsTheInput) {
  OpModelBuilder b;
  int in = b.AddInput(TensorType::FLOAT32, {2, 3});
  int al =
      b.AddConst(TensorType::FLOAT32, {2, 2, 3}, std::vector<float>(12, 0.1f));
  int o = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(Op::PRELU, {in, al}, {o});
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("without growing it"),
            std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace k2l::runtime
