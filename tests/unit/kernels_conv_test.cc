// CONV_2D against a double-precision reference: random shapes, groups,
// strides, dilations, padding, bias, activation and threads; the plain-loop
// reference header; and the rejections.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <limits>

#include "runtime/reference/conv.h"
#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::FBB;
using testing::OpModelBuilder;
using Act = fb::ActivationFunctionType;

// Sums of at most 3 * 3 * 4 = 36 products of values in [-1, 1] in fp32
// stay within 1e-5 of the double result.
constexpr double kTol = 1e-5;

// Every fourth iteration runs on 2 or 3 threads (making a thread pool costs
// milliseconds, so the rest stay on one).
int ThreadsFor(int iter) { return iter % 4 == 3 ? 2 + iter % 8 / 4 : 1; }

struct Case {
  int n, h, w, groups, fic, per_group, kh, kw, sh, sw, dh, dw;
  bool same;
  Act act;
  double lo, hi;
  int ic() const { return groups * fic; }
  int oc() const { return groups * per_group; }
};

// TensorFlow's window arithmetic, written out independently of the kernel.
void OutSizeAndPad(bool same, int in, int k, int s, int d, int* out, int* pad) {
  const int eff = (k - 1) * d + 1;
  *out = same ? (in + s - 1) / s : (in - eff) / s + 1;
  *pad = std::max(0, ((*out - 1) * s + eff - in)) / 2;
}

std::vector<double> Reference(const Case& c, const std::vector<float>& x,
                              const std::vector<float>& f,
                              const std::vector<float>* bias, int* oh,
                              int* ow) {
  int ph, pw;
  OutSizeAndPad(c.same, c.h, c.kh, c.sh, c.dh, oh, &ph);
  OutSizeAndPad(c.same, c.w, c.kw, c.sw, c.dw, ow, &pw);
  std::vector<double> out;
  for (int b = 0; b < c.n; ++b)
    for (int y = 0; y < *oh; ++y)
      for (int xx = 0; xx < *ow; ++xx)
        for (int o = 0; o < c.oc(); ++o) {
          const int g = o / c.per_group;
          double s = bias ? (*bias)[o] : 0.0;
          for (int ky = 0; ky < c.kh; ++ky)
            for (int kx = 0; kx < c.kw; ++kx) {
              const int iy = y * c.sh - ph + ky * c.dh;
              const int ix = xx * c.sw - pw + kx * c.dw;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              for (int i = 0; i < c.fic; ++i)
                s +=
                    static_cast<double>(x[((b * c.h + iy) * c.w + ix) * c.ic() +
                                          g * c.fic + i]) *
                    f[((o * c.kh + ky) * c.kw + kx) * c.fic + i];
            }
          out.push_back(std::clamp(s, c.lo, c.hi));
        }
  return out;
}

Case RandomCase(std::mt19937_64& rng) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  auto r = [&](int lo, int hi) {
    return lo + static_cast<int>(rng() % (hi - lo + 1));
  };
  Case c{};
  c.n = r(1, 2);
  c.groups = rng() % 3 == 0 ? r(2, 3) : 1;
  c.fic = r(1, 4);
  c.per_group = r(1, 4);
  c.kh = r(1, 3);
  c.kw = r(1, 3);
  c.sh = r(1, 3);
  c.sw = r(1, 3);
  c.dh = r(1, 2);
  c.dw = r(1, 2);
  c.same = rng() % 2;
  // VALID needs the dilated window to fit.
  c.h = r((c.kh - 1) * c.dh + 1, 9);
  c.w = r((c.kw - 1) * c.dw + 1, 9);
  const struct {
    Act a;
    double lo, hi;
  } acts[] = {{Act::NONE, -inf, inf},
              {Act::RELU, 0, inf},
              {Act::RELU6, 0, 6},
              {Act::RELU_N1_TO_1, -1, 1}};
  const auto& a = acts[rng() % 4];
  c.act = a.a;
  c.lo = a.lo;
  c.hi = a.hi;
  return c;
}

// Threaded iterations get enough work per row for ParallelFor to split it.
void Enlarge(Case& c) {
  c.fic *= 4;
  c.per_group *= 4;
  c.h += 12;
  c.w += 12;
}

flatbuffers::Offset<void> Options(FBB& fbb, const Case& c) {
  return fb::CreateConv2DOptions(
             fbb, c.same ? fb::Padding::SAME : fb::Padding::VALID, c.sw, c.sh,
             c.act, c.dw, c.dh)
      .Union();
}

TEST(KernelsConv, RandomShapesAgainstDoubleReference) {
  for (int iter = 0; iter < 30; ++iter) {
    const uint64_t seed = testing::TestSeed(2000 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Case c = RandomCase(rng);
    if (ThreadsFor(iter) > 1) Enlarge(c);
    const int bias_mode = static_cast<int>(rng() % 3);  // none, -1, present
    const bool const_filter = rng() % 4 != 0;
    const int threads = ThreadsFor(iter);
    const Shape xs = {c.n, c.h, c.w, c.ic()}, fs = {c.oc(), c.kh, c.kw, c.fic};
    auto x = testing::RandomFloats(rng, NumElements(xs));
    auto f = testing::RandomFloats(rng, NumElements(fs));
    auto bias = testing::RandomFloats(rng, c.oc());
    OpModelBuilder b;
    int xi = b.AddInput(TensorType::FLOAT32, xs);
    int fi = const_filter ? b.AddConst(TensorType::FLOAT32, fs, f)
                          : b.AddInput(TensorType::FLOAT32, fs);
    std::vector<int> ins = {xi, fi};
    if (bias_mode == 1) ins.push_back(-1);
    if (bias_mode == 2)
      ins.push_back(b.AddConst(TensorType::FLOAT32, {c.oc()}, bias));
    int y = b.AddOutput(TensorType::FLOAT32);
    b.AddOp(fb::BuiltinOperator::CONV_2D, ins, {y},
            fb::BuiltinOptions::Conv2DOptions,
            [&](FBB& fbb) { return Options(fbb, c); });
    std::vector<NDArray> feeds = {NDArray::Of(TensorType::FLOAT32, xs, x)};
    if (!const_filter) feeds.push_back(NDArray::Of(TensorType::FLOAT32, fs, f));
    auto out = testing::RunOrFail(b.Finish(), feeds, threads);
    ASSERT_EQ(out.size(), 1u);
    int oh, ow;
    auto want = Reference(c, x, f, bias_mode == 2 ? &bias : nullptr, &oh, &ow);
    EXPECT_EQ(out[0].shape, (Shape{c.n, oh, ow, c.oc()}));
    testing::ExpectNear(out[0], want, kTol, kTol);
  }
}

// Integer CONV_2D, int8 (per-channel or per-tensor symmetric filter) and
// uint8 (per-tensor, filter zero point != 0): the double convolution of the
// dequantized values, requantized and clamped in the quantized domain. The
// kernel applies a 31-bit fixed-point multiplier, so a value at a rounding
// tie may land 1 LSB away: the tolerance is 1.
TEST(KernelsConv, QuantizedAgainstDoubleReference) {
  for (int iter = 0; iter < 20; ++iter) {
    const uint64_t seed = testing::TestSeed(2200 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Case c = RandomCase(rng);
    if (ThreadsFor(iter) > 1) Enlarge(c);
    const bool u8 = iter % 2;
    const TensorType t = u8 ? TensorType::UINT8 : TensorType::INT8;
    const int qmin = u8 ? 0 : -128, qmax = u8 ? 255 : 127;
    auto uni = [&](double lo, double hi) {
      return std::uniform_real_distribution<double>(lo, hi)(rng);
    };
    auto ints = [&](int64_t n, int lo, int hi) {
      std::vector<int32_t> v(n);
      for (auto& q : v) q = lo + static_cast<int>(rng() % (hi - lo + 1));
      return v;
    };
    const Shape xs = {c.n, c.h, c.w, c.ic()}, fs = {c.oc(), c.kh, c.kw, c.fic};
    const float in_scale = static_cast<float>(uni(0.01, 0.05));
    const int in_zp = qmin + 20 + static_cast<int>(rng() % 200);
    const int f_zp = u8 ? 100 + static_cast<int>(rng() % 50) : 0;
    std::vector<float> f_scale(u8 || rng() % 2 ? 1 : c.oc());
    for (auto& v : f_scale) v = static_cast<float>(uni(0.002, 0.02));
    auto xq = ints(NumElements(xs), qmin, qmax);
    auto fq = ints(NumElements(fs), u8 ? 0 : -127, qmax);
    auto bq = ints(c.oc(), -2000, 2000);
    // Dequantize; the reference convolves in double.
    std::vector<float> x(xq.size()), f(fq.size()), bias(c.oc());
    const int64_t per_oc = NumElements(fs) / c.oc();
    for (size_t i = 0; i < xq.size(); ++i) x[i] = (xq[i] - in_zp) * in_scale;
    for (size_t i = 0; i < fq.size(); ++i)
      f[i] = static_cast<float>(
          (fq[i] - f_zp) *
          static_cast<double>(f_scale[f_scale.size() > 1 ? i / per_oc : 0]));
    for (int o = 0; o < c.oc(); ++o)
      bias[o] = static_cast<float>(bq[o] * static_cast<double>(in_scale) *
                                   f_scale[f_scale.size() > 1 ? o : 0]);
    const Act act = c.act;
    c.act = Act::NONE, c.lo = -1e300, c.hi = 1e300;
    int oh, ow;
    auto real = Reference(c, x, f, &bias, &oh, &ow);
    double peak = 1e-3;
    for (double v : real) peak = std::max(peak, std::abs(v));
    const float out_scale = static_cast<float>(peak / 100);
    const int out_zp = qmin + 100 + static_cast<int>(rng() % 50);

    OpModelBuilder b;
    int xi = b.AddInput(t, xs);
    b.SetQuant(xi, {in_scale}, {in_zp});
    std::vector<int> ins = {xi};
    if (u8) {
      ins.push_back(
          b.AddConst(t, fs, std::vector<uint8_t>(fq.begin(), fq.end())));
    } else {
      ins.push_back(
          b.AddConst(t, fs, std::vector<int8_t>(fq.begin(), fq.end())));
    }
    b.SetQuant(ins[1], f_scale, std::vector<int64_t>(f_scale.size(), f_zp));
    ins.push_back(b.AddConst(TensorType::INT32, {c.oc()}, bq));
    std::vector<float> b_scale;
    for (float s : f_scale) b_scale.push_back(in_scale * s);
    b.SetQuant(ins[2], b_scale, std::vector<int64_t>(b_scale.size(), 0));
    int y = b.AddOutput(t);
    b.SetQuant(y, {out_scale}, {out_zp});
    c.act = act;
    b.AddOp(
        fb::BuiltinOperator::CONV_2D, ins, {y},
        fb::BuiltinOptions::Conv2DOptions,
        [&](FBB& fbb) { return Options(fbb, c); }, u8 ? 1 : 3);
    NDArray in{t, xs, {}};
    for (int32_t q : xq) in.data.push_back(static_cast<uint8_t>(q));
    auto out = testing::RunOrFail(b.Finish(), {in}, ThreadsFor(iter));
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].shape, (Shape{c.n, oh, ow, c.oc()}));
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

TEST(KernelsConv, PlainLoopReferenceAgrees) {
  for (int iter = 0; iter < 10; ++iter) {
    const uint64_t seed = testing::TestSeed(2100 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const Case c = RandomCase(rng);
    auto x = testing::RandomFloats(rng, c.n * c.h * c.w * c.ic());
    auto f = testing::RandomFloats(rng, c.oc() * c.kh * c.kw * c.fic);
    auto bias = testing::RandomFloats(rng, c.oc());
    int oh, ow;
    auto want = Reference(c, x, f, &bias, &oh, &ow);
    reference::Window w{.batches = c.n,
                        .in_h = c.h,
                        .in_w = c.w,
                        .in_c = c.ic(),
                        .out_c = c.oc(),
                        .k_h = c.kh,
                        .k_w = c.kw,
                        .stride_h = c.sh,
                        .stride_w = c.sw,
                        .dil_h = c.dh,
                        .dil_w = c.dw,
                        .groups = c.groups};
    ASSERT_TRUE(reference::ResolveWindow(c.same, &w));
    ASSERT_EQ(w.out_h, oh);
    ASSERT_EQ(w.out_w, ow);
    std::vector<float> got(want.size());
    reference::Conv2D(w, x.data(), f.data(), bias.data(),
                      static_cast<float>(c.lo), static_cast<float>(c.hi),
                      got.data(), 0, int64_t{c.n} * oh);
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], kTol + kTol * std::abs(want[i])) << i;
  }
}

TEST(KernelsConv, SamePaddingPutsTheOddPixelAfter) {
  // in 4, k 2, stride 2: no padding; in 5, k 2, stride 2: one pixel of
  // padding, at the end.
  EXPECT_EQ(reference::WindowOutputSize(true, 5, 2, 2, 1), 3);
  EXPECT_EQ(reference::WindowPaddingBefore(2, 1, 5, 2, 3), 0);
  EXPECT_EQ(reference::WindowPaddingBefore(1, 1, 5, 4, 5), 1);
  EXPECT_EQ(reference::WindowOutputSize(false, 5, 3, 2, 2), 1);
  EXPECT_EQ(reference::WindowOutputSize(false, 1, 3, 1, 1), -1);
}

std::string LoadError(Shape xs, Shape fs, int bias_size, int stride,
                      TensorType ftype = TensorType::FLOAT32) {
  OpModelBuilder b;
  int xi = b.AddInput(TensorType::FLOAT32, xs);
  int fi = b.AddConst(
      ftype, fs, std::vector<uint8_t>(NumElements(fs) * ElementSize(ftype)));
  std::vector<int> ins = {xi, fi};
  if (bias_size > 0) {
    ins.push_back(b.AddConst(TensorType::FLOAT32, {bias_size},
                             std::vector<float>(bias_size)));
  }
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::CONV_2D, ins, {y},
          fb::BuiltinOptions::Conv2DOptions, [&](FBB& fbb) {
            return fb::CreateConv2DOptions(fbb, fb::Padding::VALID, stride,
                                           stride)
                .Union();
          });
  auto model = LiteRTModel::Load(b.Finish());
  return model.ok() ? "" : model.status().message();
}

TEST(KernelsConvRejects, BadShapesTypesAndOptions) {
  EXPECT_NE(LoadError({1, 5, 5, 5}, {4, 3, 3, 2}, 0, 1)
                .find("not a multiple of the filter's 2 input channels"),
            std::string::npos);
  EXPECT_NE(LoadError({1, 5, 5, 4}, {3, 3, 3, 2}, 0, 1)
                .find("do not split into 2 groups"),
            std::string::npos);
  EXPECT_NE(LoadError({1, 5, 5, 2}, {4, 3, 3, 2}, 3, 1)
                .find("bias 't2' has 3 values"),
            std::string::npos);
  EXPECT_NE(
      LoadError({1, 5, 5, 2}, {4, 3, 3, 2}, 0, 0).find("must be positive"),
      std::string::npos);
  EXPECT_NE(LoadError({1, 2, 2, 2}, {4, 4, 4, 2}, 0, 1)
                .find("does not fit the input"),
            std::string::npos);
  EXPECT_NE(LoadError({1, 5, 5, 2}, {4, 3, 3, 2}, 0, 1, TensorType::INT8)
                .find("dynamic-range (hybrid)"),
            std::string::npos);
  EXPECT_NE(LoadError({5, 5, 2}, {4, 3, 3, 2}, 0, 1).find("has rank 3"),
            std::string::npos);
}

// A uint8/int8 CONV_2D 1x4x4x2 -> 3 channels whose quantization `edit`
// spoils; returns the load error.
std::string QuantizedLoadError(
    TensorType t,
    const std::function<void(OpModelBuilder&, int x, int f, int bias, int y)>&
        edit) {
  OpModelBuilder b;
  int x = b.AddInput(t, {1, 4, 4, 2});
  int f = b.AddConst(t, {3, 3, 3, 2}, std::vector<uint8_t>(54));
  int bias = b.AddConst(TensorType::INT32, {3}, std::vector<int32_t>(3));
  int y = b.AddOutput(t);
  b.SetQuant(x, {0.5f}, {0});
  b.SetQuant(f, {0.25f}, {0});
  b.SetQuant(bias, {0.125f}, {0});
  b.SetQuant(y, {1.f}, {0});
  edit(b, x, f, bias, y);
  b.AddOp(
      fb::BuiltinOperator::CONV_2D, {x, f, bias}, {y},
      fb::BuiltinOptions::Conv2DOptions, [&](FBB& fbb) {
        return fb::CreateConv2DOptions(fbb, fb::Padding::SAME, 1, 1).Union();
      });
  auto model = LiteRTModel::Load(b.Finish());
  return model.ok() ? "" : model.status().message();
}

TEST(KernelsConvRejects, BadQuantization) {
  using B = OpModelBuilder;
  EXPECT_EQ(QuantizedLoadError(TensorType::INT8, [](B&, int, int, int, int) {}),
            "");
  EXPECT_NE(QuantizedLoadError(
                TensorType::INT8,
                [](B& b, int, int f, int, int) { b.SetQuant(f, {0.25f}, {3}); })
                .find("int8 filters must be symmetric"),
            std::string::npos);
  EXPECT_NE(QuantizedLoadError(TensorType::UINT8,
                               [](B& b, int, int f, int, int) {
                                 b.SetQuant(f, {0.25f, 0.5f, 1.f}, {0, 0, 0});
                               })
                .find("per-channel quantization needs int8"),
            std::string::npos);
  EXPECT_NE(
      QuantizedLoadError(TensorType::INT8,
                         [](B& b, int, int f, int, int) {
                           b.SetQuant(f, {0.25f, 0.5f, 1.f}, {0, 0, 0}, 3);
                         })
          .find("3 scales along dim 3"),
      std::string::npos);
  EXPECT_NE(QuantizedLoadError(TensorType::UINT8,
                               [](B& b, int, int, int bias, int) {
                                 b.SetQuant(bias, {0.5f}, {0});
                               })
                .find("LiteRT allows 2% of an output step"),
            std::string::npos);
  EXPECT_NE(
      QuantizedLoadError(TensorType::INT8, [](B& b, int x, int, int,
                                              int) { b.SetQuant(x, {}, {}); })
          .find("input 't0' of type int8 has no quantization"),
      std::string::npos);
}

}  // namespace
}  // namespace k2l::runtime
