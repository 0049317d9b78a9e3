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

// Every fourth iteration runs on 2 or 3 threads (making a thread pool costs
// milliseconds, so the rest stay on one).
int ThreadsFor(int iter) { return iter % 4 == 3 ? 2 + iter % 8 / 4 : 1; }

void RunRandom(Op op, uint64_t base) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (int iter = 0; iter < 16; ++iter) {
    const uint64_t seed = testing::TestSeed(base + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    auto r = [&](int lo, int hi) {
      return lo + static_cast<int>(rng() % (hi - lo + 1));
    };
    // Threaded iterations get enough work per row for ParallelFor to split.
    const int big = ThreadsFor(iter) > 1 ? 16 : 1;
    const int n = r(1, 2), c = r(1, 6) * big, kh = r(1, 4), kw = r(1, 4),
              sh = r(1, 3), sw = r(1, 3);
    const bool same = rng() % 2;
    const int h = r(kh, 9) + (big > 1 ? 12 : 0),
              w = r(kw, 9) + (big > 1 ? 12 : 0);
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
    auto out = testing::RunOrFail(b.Finish(),
                                  {NDArray::Of(TensorType::FLOAT32, xs, x)},
                                  ThreadsFor(iter));
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

// Integer average and max pools on int8 and uint8: exact. The average sums
// the stored values and divides rounding half away from zero; the clamp of
// a fused activation is computed from the (shared) output quantization.
void RunQuantized(Op op, uint64_t base) {
  for (int iter = 0; iter < 12; ++iter) {
    const uint64_t seed = testing::TestSeed(base + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    auto r = [&](int lo, int hi) {
      return lo + static_cast<int>(rng() % (hi - lo + 1));
    };
    const bool u8 = iter % 2;
    const TensorType t = u8 ? TensorType::UINT8 : TensorType::INT8;
    const int qmin = u8 ? 0 : -128, qmax = u8 ? 255 : 127;
    // Threaded iterations get enough work per row for ParallelFor to split.
    const int big = ThreadsFor(iter) > 1 ? 16 : 1;
    const int n = r(1, 2), c = r(1, 6) * big, kh = r(1, 4), kw = r(1, 4),
              sh = r(1, 3), sw = r(1, 3);
    const bool same = rng() % 2;
    const int h = r(kh, 9) + (big > 1 ? 12 : 0),
              w = r(kw, 9) + (big > 1 ? 12 : 0);
    const Act act = static_cast<Act>(r(0, 3));  // NONE, RELU, N1_TO_1, RELU6
    const float scale = 0.02f + 0.01f * r(0, 4);
    const int zp = r(qmin + 50, qmax - 50);
    const Shape xs = {n, h, w, c};
    std::vector<int32_t> xq(NumElements(xs));
    for (auto& q : xq) q = r(qmin, qmax);
    OpModelBuilder b;
    int xi = b.AddInput(t, xs);
    int y = b.AddOutput(t);
    b.SetQuant(xi, {scale}, {zp});
    b.SetQuant(y, {scale}, {zp});
    b.AddOp(
        op, {xi}, {y}, fb::BuiltinOptions::Pool2DOptions,
        [&](FBB& fbb) {
          return fb::CreatePool2DOptions(
                     fbb, same ? fb::Padding::SAME : fb::Padding::VALID, sw, sh,
                     kw, kh, act)
              .Union();
        },
        u8 ? 1 : 2);
    NDArray in{t, xs, {}};
    for (int32_t q : xq) in.data.push_back(static_cast<uint8_t>(q));
    auto out = testing::RunOrFail(b.Finish(), {in}, ThreadsFor(iter));
    ASSERT_EQ(out.size(), 1u);

    auto size_pad = [&](int in, int k, int s, int* o, int* p) {
      *o = same ? (in + s - 1) / s : (in - k) / s + 1;
      *p = std::max(0, (*o - 1) * s + k - in) / 2;
    };
    int oh, ow, ph, pw;
    size_pad(h, kh, sh, &oh, &ph);
    size_pad(w, kw, sw, &ow, &pw);
    ASSERT_EQ(out[0].shape, (Shape{n, oh, ow, c}));
    auto quant = [&](double v) {
      return zp + static_cast<int>(std::round(v / scale));
    };
    int lo = qmin, hi = qmax;
    if (act != Act::NONE)
      lo = std::max(lo, quant(act == Act::RELU_N1_TO_1 ? -1 : 0));
    if (act == Act::RELU6) hi = std::min(hi, quant(6));
    if (act == Act::RELU_N1_TO_1) hi = std::min(hi, quant(1));
    int64_t i = 0;
    for (int bb = 0; bb < n; ++bb)
      for (int yy = 0; yy < oh; ++yy)
        for (int xx = 0; xx < ow; ++xx)
          for (int ch = 0; ch < c; ++ch, ++i) {
            int sum = 0, count = 0, mx = qmin;
            for (int ky = 0; ky < kh; ++ky)
              for (int kx = 0; kx < kw; ++kx) {
                const int iy = yy * sh - ph + ky, ix = xx * sw - pw + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const int v = xq[((bb * h + iy) * w + ix) * c + ch];
                sum += v;
                mx = std::max(mx, v);
                ++count;
              }
            // Half away from zero, in exact rational arithmetic.
            const int avg =
                static_cast<int>(std::round(static_cast<double>(sum) / count));
            const int want =
                std::clamp(op == Op::MAX_POOL_2D ? mx : avg, lo, hi);
            const int got =
                u8 ? out[0].as<uint8_t>()[i] : out[0].as<int8_t>()[i];
            ASSERT_EQ(got, want) << "element " << i;
          }
  }
}

TEST(KernelsPooling, QuantizedAveragePoolIsExact) {
  RunQuantized(Op::AVERAGE_POOL_2D, 6300);
}
TEST(KernelsPooling, QuantizedMaxPoolIsExact) {
  RunQuantized(Op::MAX_POOL_2D, 6400);
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

TEST(KernelsPoolingRejects, QuantizationThatDiffers) {
  OpModelBuilder b;
  int x = b.AddInput(TensorType::INT8, {1, 4, 4, 1});
  int y = b.AddOutput(TensorType::INT8);
  b.SetQuant(x, {0.5f}, {0});
  b.SetQuant(y, {0.25f}, {0});
  b.AddOp(Op::AVERAGE_POOL_2D, {x}, {y}, fb::BuiltinOptions::Pool2DOptions,
          [&](FBB& fbb) {
            return fb::CreatePool2DOptions(fbb, fb::Padding::SAME, 1, 1, 2, 2)
                .Union();
          });
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("are quantized differently"),
            std::string::npos)
      << model.status().message();
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
