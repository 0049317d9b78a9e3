// SOFTMAX, LOG_SOFTMAX and L2_NORMALIZATION against double-precision
// references on random shapes. Seeds are traced; K2L_TEST_SEED replays one.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::OpModelBuilder;
using testing::RandomFloats;
using testing::RandomShape;
using testing::RunOrFail;
using testing::TestSeed;
using Op = fb::BuiltinOperator;
using TT = TensorType;

// The kernels' exp approximation is within a few ulp; sums accumulate in
// double.
constexpr double kTol = 1e-5;

std::vector<NDArray> RunRowwise(Op op, const Shape& shape,
                                const std::vector<float>& x,
                                fb::BuiltinOptions opt_type,
                                testing::OptionsFn opt, int threads = 1) {
  OpModelBuilder b;
  int in = b.AddInput(TT::FLOAT32, shape);
  int o = b.AddOutput(TT::FLOAT32);
  b.AddOp(op, {in}, {o}, opt_type, std::move(opt));
  return RunOrFail(b.Finish(), {NDArray::Of(TT::FLOAT32, shape, x)}, threads);
}

// Applies fn(row pointer, depth, out pointer) to each last-axis row.
template <typename Fn>
std::vector<double> PerRow(const Shape& shape, const std::vector<float>& x,
                           Fn fn) {
  std::vector<double> out(x.size());
  int64_t depth = shape.back();
  for (size_t r = 0; r * depth < x.size(); ++r)
    fn(&x[r * depth], depth, &out[r * depth]);
  return out;
}

TEST(KernelsSoftmax, SoftmaxWithBeta) {
  for (int iter = 0; iter < 8; ++iter) {
    uint64_t seed = TestSeed(3000 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Shape shape = RandomShape(rng, 1 + iter % 4, 1, 9);
    auto x = RandomFloats(rng, NumElements(shape), -10, 10);
    const float beta = iter % 2 ? 0.7f : 1.f;
    auto out = RunRowwise(
        Op::SOFTMAX, shape, x, fb::BuiltinOptions::SoftmaxOptions,
        [beta](testing::FBB& f) {
          return fb::CreateSoftmaxOptions(f, beta).Union();
        },
        /*threads=*/1 + iter % 2);
    ASSERT_EQ(out.size(), 1u);
    auto want = PerRow(shape, x, [&](const float* r, int64_t n, double* o) {
      double m = *std::max_element(r, r + n), sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += o[i] = std::exp((r[i] - m) * beta);
      for (int64_t i = 0; i < n; ++i) o[i] /= sum;
    });
    testing::ExpectNear(out[0], want, kTol, kTol);
  }
}

TEST(KernelsSoftmax, LogSoftmax) {
  for (int iter = 0; iter < 6; ++iter) {
    uint64_t seed = TestSeed(3100 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Shape shape = RandomShape(rng, 1 + iter % 3, 1, 12);
    auto x = RandomFloats(rng, NumElements(shape), -10, 10);
    auto out = RunRowwise(Op::LOG_SOFTMAX, shape, x, fb::BuiltinOptions::NONE,
                          nullptr);
    ASSERT_EQ(out.size(), 1u);
    auto want = PerRow(shape, x, [](const float* r, int64_t n, double* o) {
      double m = *std::max_element(r, r + n), sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += std::exp(r[i] - m);
      for (int64_t i = 0; i < n; ++i) o[i] = r[i] - m - std::log(sum);
    });
    testing::ExpectNear(out[0], want, kTol, kTol);
  }
}

TEST(KernelsSoftmax, L2Normalization) {
  for (int iter = 0; iter < 6; ++iter) {
    uint64_t seed = TestSeed(3200 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Shape shape = RandomShape(rng, 1 + iter % 3, 1, 12);
    auto x = RandomFloats(rng, NumElements(shape), -3, 3);
    // A zero row divides by LiteRT's epsilon (1e-6) instead of 0.
    for (int i = 0; i < shape.back(); ++i) x[i] = 0;
    auto out = RunRowwise(Op::L2_NORMALIZATION, shape, x,
                          fb::BuiltinOptions::NONE, nullptr);
    ASSERT_EQ(out.size(), 1u);
    auto want = PerRow(shape, x, [](const float* r, int64_t n, double* o) {
      double sq = 0;
      for (int64_t i = 0; i < n; ++i) sq += double(r[i]) * r[i];
      double norm = std::max(std::sqrt(sq), 1e-6);
      for (int64_t i = 0; i < n; ++i) o[i] = r[i] / norm;
    });
    testing::ExpectNear(out[0], want, kTol, kTol);
  }
}

TEST(KernelsSoftmaxRejects, ScalarInput) {
  OpModelBuilder b;
  int in = b.AddInput(TT::FLOAT32, {});
  int o = b.AddOutput(TT::FLOAT32);
  b.AddOp(Op::SOFTMAX, {in}, {o});
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("has rank 0"), std::string::npos)
      << model.status().message();
}

TEST(KernelsSoftmaxRejects, L2NormWithActivation) {
  OpModelBuilder b;
  int in = b.AddInput(TT::FLOAT32, {2, 3});
  int o = b.AddOutput(TT::FLOAT32);
  b.AddOp(Op::L2_NORMALIZATION, {in}, {o}, fb::BuiltinOptions::L2NormOptions,
          [](testing::FBB& f) {
            return fb::CreateL2NormOptions(f, fb::ActivationFunctionType::RELU)
                .Union();
          });
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("fused activation RELU"),
            std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace k2l::runtime
