// AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D against a double-precision
// reference over random shapes, windows, strides, padding and activation;
// and the rejections.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/reference/pooling.h"
#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::FBB;
using testing::OpModelBuilder;
using Act = fb::ActivationFunctionType;
using Op = fb::BuiltinOperator;

// Averages of at most 16 values in [-1, 1]; max is exact; the L2 pool's
// square root keeps the relative error at a few ulp.
constexpr double kTol = 1e-5;

void RunRandom(Op op, uint64_t base) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (int iter = 0; iter < 16; ++iter) {
    const uint64_t seed = testing::TestSeed(base + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    auto r = [&](int lo, int hi) {
      return lo + static_cast<int>(rng() % (hi - lo + 1));
    };
    const int n = r(1, 2), c = r(1, 6), kh = r(1, 4), kw = r(1, 4),
              sh = r(1, 3), sw = r(1, 3);
    const bool same = rng() % 2;
    const int h = r(kh, 9), w = r(kw, 9);
    const struct {
      Act a;
      double lo, hi;
    } acts[] = {{Act::NONE, -inf, inf},
                {Act::RELU, 0, inf},
                {Act::RELU6, 0, 6},
                {Act::RELU_N1_TO_1, -1, 1}};
    const auto& act = acts[rng() % 4];
    const Shape xs = {n, h, w, c};
    auto x = testing::RandomFloats(rng, NumElements(xs), -2.f, 2.f);
    OpModelBuilder b;
    int xi = b.AddInput(TensorType::FLOAT32, xs);
    int y = b.AddOutput(TensorType::FLOAT32);
    b.AddOp(op, {xi}, {y}, fb::BuiltinOptions::Pool2DOptions, [&](FBB& fbb) {
      return fb::CreatePool2DOptions(
                 fbb, same ? fb::Padding::SAME : fb::Padding::VALID, sw, sh, kw,
                 kh, act.a)
          .Union();
    });
    auto out = testing::RunOrFail(
        b.Finish(), {NDArray::Of(TensorType::FLOAT32, xs, x)}, r(1, 2));
    ASSERT_EQ(out.size(), 1u);

    auto size_pad = [&](int in, int k, int s, int* o, int* p) {
      *o = same ? (in + s - 1) / s : (in - k) / s + 1;
      *p = std::max(0, (*o - 1) * s + k - in) / 2;
    };
    int oh, ow, ph, pw;
    size_pad(h, kh, sh, &oh, &ph);
    size_pad(w, kw, sw, &ow, &pw);
    std::vector<double> want;
    for (int bb = 0; bb < n; ++bb)
      for (int yy = 0; yy < oh; ++yy)
        for (int xx = 0; xx < ow; ++xx)
          for (int ch = 0; ch < c; ++ch) {
            double sum = 0, sq = 0, mx = -inf;
            int count = 0;
            for (int ky = 0; ky < kh; ++ky)
              for (int kx = 0; kx < kw; ++kx) {
                const int iy = yy * sh - ph + ky, ix = xx * sw - pw + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const double v = x[((bb * h + iy) * w + ix) * c + ch];
                sum += v;
                sq += v * v;
                mx = std::max(mx, v);
                ++count;
              }
            double v = op == Op::MAX_POOL_2D       ? mx
                       : op == Op::AVERAGE_POOL_2D ? sum / count
                                                   : std::sqrt(sq / count);
            want.push_back(std::clamp(v, act.lo, act.hi));
          }
    EXPECT_EQ(out[0].shape, (Shape{n, oh, ow, c}));
    testing::ExpectNear(out[0], want, kTol, kTol);

    // The plain loops (the kernel's path when XNNPACK declines) too.
    reference::Window win;
    win.batches = n, win.in_h = h, win.in_w = w, win.in_c = c;
    win.out_h = oh, win.out_w = ow, win.out_c = c;
    win.k_h = kh, win.k_w = kw, win.stride_h = sh, win.stride_w = sw;
    win.pad_h = ph, win.pad_w = pw;
    const auto kind = op == Op::MAX_POOL_2D ? reference::PoolKind::kMax
                      : op == Op::AVERAGE_POOL_2D
                          ? reference::PoolKind::kAverage
                          : reference::PoolKind::kL2;
    NDArray loops{TensorType::FLOAT32, out[0].shape, {}};
    loops.data.resize(want.size() * sizeof(float));
    ASSERT_TRUE(reference::Pool(kind, win, x.data(), static_cast<float>(act.lo),
                                static_cast<float>(act.hi),
                                reinterpret_cast<float*>(loops.data.data()), 0,
                                int64_t{n} * oh));
    testing::ExpectNear(loops, want, kTol, kTol);
  }
}

TEST(KernelsPooling, AveragePoolAgainstDoubleReference) {
  RunRandom(Op::AVERAGE_POOL_2D, 6000);
}
TEST(KernelsPooling, MaxPoolAgainstDoubleReference) {
  RunRandom(Op::MAX_POOL_2D, 6100);
}
TEST(KernelsPooling, L2PoolAgainstDoubleReference) {
  RunRandom(Op::L2_POOL_2D, 6200);
}

std::string LoadError(Shape xs, int k, int stride, fb::Padding padding,
                      TensorType type = TensorType::FLOAT32) {
  OpModelBuilder b;
  int xi = b.AddInput(type, xs);
  int y = b.AddOutput(type);
  b.AddOp(Op::MAX_POOL_2D, {xi}, {y}, fb::BuiltinOptions::Pool2DOptions,
          [&](FBB& fbb) {
            return fb::CreatePool2DOptions(fbb, padding, stride, stride, k, k)
                .Union();
          });
  auto model = LiteRTModel::Load(b.Finish());
  return model.ok() ? "" : model.status().message();
}

TEST(KernelsPoolingRejects, BadWindowsAndTypes) {
  EXPECT_NE(LoadError({1, 4, 4, 1}, 0, 1, fb::Padding::SAME)
                .find("window (0, 0) must be positive"),
            std::string::npos);
  EXPECT_NE(
      LoadError({1, 4, 4, 1}, 2, 0, fb::Padding::SAME).find("strides (0, 0)"),
      std::string::npos);
  EXPECT_NE(LoadError({1, 2, 2, 1}, 4, 1, fb::Padding::VALID)
                .find("does not fit input"),
            std::string::npos);
  EXPECT_NE(LoadError({4, 4, 1}, 2, 1, fb::Padding::SAME).find("has rank 3"),
            std::string::npos);
  EXPECT_NE(LoadError({1, 4, 4, 1}, 2, 1, fb::Padding::SAME, TensorType::INT32)
                .find("has type int32"),
            std::string::npos);
}

}  // namespace
}  // namespace k2l::runtime
