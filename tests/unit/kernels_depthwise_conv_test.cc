// DEPTHWISE_CONV_2D against a double-precision reference over random
// shapes, multipliers, strides, dilations, padding, bias and activation; and
// the rejections.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::FBB;
using testing::OpModelBuilder;
using Act = fb::ActivationFunctionType;

// At most 9 fp32 products of values in [-1, 1] per output.
constexpr double kTol = 1e-5;

// Every fourth iteration runs on 2 or 3 threads (making a thread pool costs
// milliseconds, so the rest stay on one).
int ThreadsFor(int iter) { return iter % 4 == 3 ? 2 + iter % 8 / 4 : 1; }

TEST(KernelsDepthwiseConv, RandomShapesAgainstDoubleReference) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (int iter = 0; iter < 30; ++iter) {
    const uint64_t seed = testing::TestSeed(3000 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    auto r = [&](int lo, int hi) {
      return lo + static_cast<int>(rng() % (hi - lo + 1));
    };
    // Threaded iterations get enough work per row for ParallelFor to split.
    const int big = ThreadsFor(iter) > 1 ? 8 : 1;
    const int n = r(1, 2), ic = r(1, 6) * big, mult = r(1, 3), kh = r(1, 3),
              kw = r(1, 3), sh = r(1, 3), sw = r(1, 3), dh = r(1, 2),
              dw = r(1, 2);
    const bool same = rng() % 2;
    const int h = r((kh - 1) * dh + 1, 9) + (big > 1 ? 12 : 0),
              w = r((kw - 1) * dw + 1, 9) + (big > 1 ? 12 : 0);
    const int oc = ic * mult;
    const struct {
      Act a;
      double lo, hi;
    } acts[] = {{Act::NONE, -inf, inf},
                {Act::RELU, 0, inf},
                {Act::RELU6, 0, 6},
                {Act::RELU_N1_TO_1, -1, 1}};
    const auto& act = acts[rng() % 4];
    const bool with_bias = rng() % 2;
    const int threads = ThreadsFor(iter);
    // A computed filter takes the kernel's own loops instead of XNNPACK.
    const bool const_filter = rng() % 3 != 0;
    // The depth_multiplier option is not read (LiteRT derives it from the
    // shapes), so give it a wrong value half the time.
    const int mult_option = rng() % 2 ? mult : 0;

    const Shape xs = {n, h, w, ic}, fs = {1, kh, kw, oc};
    auto x = testing::RandomFloats(rng, NumElements(xs));
    auto f = testing::RandomFloats(rng, NumElements(fs));
    auto bias = testing::RandomFloats(rng, oc);
    OpModelBuilder b;
    std::vector<int> ins = {b.AddInput(TensorType::FLOAT32, xs),
                            const_filter
                                ? b.AddConst(TensorType::FLOAT32, fs, f)
                                : b.AddInput(TensorType::FLOAT32, fs)};
    if (with_bias) ins.push_back(b.AddConst(TensorType::FLOAT32, {oc}, bias));
    int y = b.AddOutput(TensorType::FLOAT32);
    b.AddOp(fb::BuiltinOperator::DEPTHWISE_CONV_2D, ins, {y},
            fb::BuiltinOptions::DepthwiseConv2DOptions, [&](FBB& fbb) {
              return fb::CreateDepthwiseConv2DOptions(
                         fbb, same ? fb::Padding::SAME : fb::Padding::VALID, sw,
                         sh, mult_option, act.a, dw, dh)
                  .Union();
            });
    std::vector<NDArray> feeds = {NDArray::Of(TensorType::FLOAT32, xs, x)};
    if (!const_filter) feeds.push_back(NDArray::Of(TensorType::FLOAT32, fs, f));
    auto out = testing::RunOrFail(b.Finish(), feeds, threads);
    ASSERT_EQ(out.size(), 1u);

    auto size_pad = [&](int in, int k, int s, int d, int* o, int* p) {
      const int eff = (k - 1) * d + 1;
      *o = same ? (in + s - 1) / s : (in - eff) / s + 1;
      *p = std::max(0, (*o - 1) * s + eff - in) / 2;
    };
    int oh, ow, ph, pw;
    size_pad(h, kh, sh, dh, &oh, &ph);
    size_pad(w, kw, sw, dw, &ow, &pw);
    std::vector<double> want;
    for (int bb = 0; bb < n; ++bb)
      for (int yy = 0; yy < oh; ++yy)
        for (int xx = 0; xx < ow; ++xx)
          for (int o = 0; o < oc; ++o) {
            double s = with_bias ? bias[o] : 0.0;
            for (int ky = 0; ky < kh; ++ky)
              for (int kx = 0; kx < kw; ++kx) {
                const int iy = yy * sh - ph + ky * dh;
                const int ix = xx * sw - pw + kx * dw;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                s += static_cast<double>(
                         x[((bb * h + iy) * w + ix) * ic + o / mult]) *
                     f[(ky * kw + kx) * oc + o];
              }
            want.push_back(std::clamp(s, act.lo, act.hi));
          }
    EXPECT_EQ(out[0].shape, (Shape{n, oh, ow, oc}));
    testing::ExpectNear(out[0], want, kTol, kTol);
  }
}

// Integer DEPTHWISE_CONV_2D, int8 (per-channel along dim 3, or per-tensor)
// and uint8 (per-tensor, filter zero point != 0), against the real-valued
// result of the quantized values in double, requantized. Within 1 LSB: the
// kernel's 31-bit fixed-point multiplier can round a tie the other way.
TEST(KernelsDepthwiseConv, QuantizedAgainstDoubleReference) {
  for (int iter = 0; iter < 20; ++iter) {
    const uint64_t seed = testing::TestSeed(3100 + iter);
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
    // Threaded iterations get enough work per row for ParallelFor to split.
    const int big = ThreadsFor(iter) > 1 ? 8 : 1;
    const int n = r(1, 2), ic = r(1, 6) * big, mult = r(1, 3), kh = r(1, 3),
              kw = r(1, 3), sh = r(1, 2), sw = r(1, 2), dh = r(1, 2),
              dw = r(1, 2), oc = ic * mult;
    const bool same = rng() % 2;
    const int h = r((kh - 1) * dh + 1, 8) + (big > 1 ? 12 : 0),
              w = r((kw - 1) * dw + 1, 8) + (big > 1 ? 12 : 0);
    const Act act = static_cast<Act>(r(0, 3));  // NONE, RELU, N1_TO_1, RELU6
    const Shape xs = {n, h, w, ic}, fs = {1, kh, kw, oc};
    const double in_scale = static_cast<float>(uni(0.01, 0.05));
    const int in_zp = r(qmin + 20, qmax - 20);
    const int f_zp = u8 ? r(100, 150) : 0;
    std::vector<float> f_scale(u8 || rng() % 2 ? 1 : oc);
    for (auto& v : f_scale) v = static_cast<float>(uni(0.002, 0.02));
    auto fsc = [&](int o) { return f_scale[f_scale.size() > 1 ? o : 0]; };
    std::vector<int32_t> xq(NumElements(xs)), fq(NumElements(fs)), bq(oc);
    for (auto& q : xq) q = r(qmin, qmax);
    for (auto& q : fq) q = r(u8 ? 0 : -127, qmax);
    for (auto& q : bq) q = r(-2000, 2000);

    int oh, ow, ph, pw;
    auto size_pad = [&](int in, int k, int st, int d, int* o, int* p) {
      const int eff = (k - 1) * d + 1;
      *o = same ? (in + st - 1) / st : (in - eff) / st + 1;
      *p = std::max(0, (*o - 1) * st + eff - in) / 2;
    };
    size_pad(h, kh, sh, dh, &oh, &ph);
    size_pad(w, kw, sw, dw, &ow, &pw);
    std::vector<double> real;
    for (int bb = 0; bb < n; ++bb)
      for (int yy = 0; yy < oh; ++yy)
        for (int xx = 0; xx < ow; ++xx)
          for (int o = 0; o < oc; ++o) {
            double acc = bq[o];
            for (int ky = 0; ky < kh; ++ky)
              for (int kx = 0; kx < kw; ++kx) {
                const int iy = yy * sh - ph + ky * dh;
                const int ix = xx * sw - pw + kx * dw;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += double{xq[((bb * h + iy) * w + ix) * ic + o / mult] -
                              in_zp} *
                       (fq[(ky * kw + kx) * oc + o] - f_zp);
              }
            real.push_back(acc * in_scale * fsc(o));
          }
    double peak = 1e-3;
    for (double v : real) peak = std::max(peak, std::abs(v));
    const float out_scale = static_cast<float>(peak / 100);
    const int out_zp = r(qmin + 100, qmin + 150);

    OpModelBuilder b;
    int xi = b.AddInput(t, xs);
    b.SetQuant(xi, {static_cast<float>(in_scale)}, {in_zp});
    int fi = u8 ? b.AddConst(t, fs, std::vector<uint8_t>(fq.begin(), fq.end()))
                : b.AddConst(t, fs, std::vector<int8_t>(fq.begin(), fq.end()));
    b.SetQuant(fi, f_scale, std::vector<int64_t>(f_scale.size(), f_zp),
               /*dim=*/3);
    int bi = b.AddConst(TensorType::INT32, {oc}, bq);
    std::vector<float> b_scale;
    for (float v : f_scale) b_scale.push_back(static_cast<float>(in_scale) * v);
    b.SetQuant(bi, b_scale, std::vector<int64_t>(b_scale.size(), 0));
    int y = b.AddOutput(t);
    b.SetQuant(y, {out_scale}, {out_zp});
    b.AddOp(
        fb::BuiltinOperator::DEPTHWISE_CONV_2D, {xi, fi, bi}, {y},
        fb::BuiltinOptions::DepthwiseConv2DOptions,
        [&](FBB& fbb) {
          return fb::CreateDepthwiseConv2DOptions(
                     fbb, same ? fb::Padding::SAME : fb::Padding::VALID, sw, sh,
                     mult, act, dw, dh)
              .Union();
        },
        u8 ? 1 : 3);
    NDArray in{t, xs, {}};
    for (int32_t q : xq) in.data.push_back(static_cast<uint8_t>(q));
    auto out = testing::RunOrFail(b.Finish(), {in}, ThreadsFor(iter));
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].shape, (Shape{n, oh, ow, oc}));
    auto q = [&](double v) { return out_zp + std::round(v / out_scale); };
    double lo = qmin, hi = qmax;
    if (act != Act::NONE)
      lo = std::max(lo, q(act == Act::RELU_N1_TO_1 ? -1 : 0));
    if (act == Act::RELU6) hi = std::min(hi, q(6));
    if (act == Act::RELU_N1_TO_1) hi = std::min(hi, q(1));
    for (size_t i = 0; i < real.size(); ++i) {
      const int got = u8 ? out[0].as<uint8_t>()[i] : out[0].as<int8_t>()[i];
      ASSERT_NEAR(got, std::clamp(q(real[i]), lo, hi), 1) << "element " << i;
    }
  }
}

std::string LoadError(Shape xs, Shape fs, int bias_size) {
  OpModelBuilder b;
  std::vector<int> ins = {
      b.AddInput(TensorType::FLOAT32, xs),
      b.AddConst(TensorType::FLOAT32, fs, std::vector<float>(NumElements(fs)))};
  if (bias_size > 0) {
    ins.push_back(b.AddConst(TensorType::FLOAT32, {bias_size},
                             std::vector<float>(bias_size)));
  }
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::DEPTHWISE_CONV_2D, ins, {y},
          fb::BuiltinOptions::DepthwiseConv2DOptions, [&](FBB& fbb) {
            return fb::CreateDepthwiseConv2DOptions(fbb, fb::Padding::SAME, 1,
                                                    1, 1)
                .Union();
          });
  auto model = LiteRTModel::Load(b.Finish());
  return model.ok() ? "" : model.status().message();
}

TEST(KernelsDepthwiseConvRejects, BadShapes) {
  EXPECT_NE(LoadError({1, 4, 4, 3}, {2, 3, 3, 3}, 0)
                .find("a depthwise filter is [1, height, width, channels]"),
            std::string::npos);
  EXPECT_NE(LoadError({1, 4, 4, 3}, {1, 3, 3, 4}, 0)
                .find("are not a multiple of input"),
            std::string::npos);
  EXPECT_NE(LoadError({1, 4, 4, 3}, {1, 3, 3, 6}, 3)
                .find("bias 't2' has 3 values but the filter has 6"),
            std::string::npos);
}

}  // namespace
}  // namespace k2l::runtime
