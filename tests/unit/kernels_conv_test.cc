// CONV_2D against a double-precision reference: random shapes, groups,
// strides, dilations, padding, bias, activation and threads; the plain-loop
// reference header; and the rejections.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "runtime/interpreter.h"
#include "runtime/kernels/op_cost.h"
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
    const Case c = RandomCase(rng);
    const int bias_mode = static_cast<int>(rng() % 3);  // none, -1, present
    const bool const_filter = rng() % 4 != 0;
    const int threads = 1 + static_cast<int>(rng() % 3);
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
    reference::Window w;
    w.batches = c.n;
    w.in_h = c.h;
    w.in_w = c.w;
    w.in_c = c.ic();
    w.out_c = c.oc();
    w.k_h = c.kh;
    w.k_w = c.kw;
    w.stride_h = c.sh;
    w.stride_w = c.sw;
    w.dil_h = c.dh;
    w.dil_w = c.dw;
    w.groups = c.groups;
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

TEST(KernelsOpCost, CountsConvMultiplyAddsAndBytes) {
  // CONV_2D 1x8x8x3 -> 4 channels, 3x3 SAME, then RESHAPE (the default
  // model: one flop per output element).
  OpModelBuilder b;
  int x = b.AddInput(TensorType::FLOAT32, {1, 8, 8, 3});
  int f =
      b.AddConst(TensorType::FLOAT32, {4, 3, 3, 3}, std::vector<float>(4 * 27));
  int bias = b.AddConst(TensorType::FLOAT32, {4}, std::vector<float>(4));
  int y = b.AddTensor(TensorType::FLOAT32, {}, {}, {});
  int shape = b.AddConst(TensorType::INT32, {2}, std::vector<int32_t>{64, 4});
  int z = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(
      fb::BuiltinOperator::CONV_2D, {x, f, bias}, {y},
      fb::BuiltinOptions::Conv2DOptions, [](FBB& fbb) {
        return fb::CreateConv2DOptions(fbb, fb::Padding::SAME, 1, 1).Union();
      });
  b.AddOp(fb::BuiltinOperator::RESHAPE, {y, shape}, {z});
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_TRUE(model.ok()) << model.status().message();
  Subgraph& sg = model->interpreter().subgraph(0);
  ASSERT_TRUE(sg.AllocateTensors().ok());
  OpCost conv = EstimateCost(sg.nodes()[0], sg);
  EXPECT_EQ(conv.flops, 2 * (8 * 8 * 4) * (3 * 3 * 3));
  EXPECT_EQ(conv.bytes_read, 4 * (8 * 8 * 3 + 4 * 27 + 4));
  EXPECT_EQ(conv.bytes_written, 4 * 8 * 8 * 4);
  OpCost reshape = EstimateCost(sg.nodes()[1], sg);
  EXPECT_EQ(reshape.flops, 8 * 8 * 4);
  EXPECT_EQ(reshape.bytes_read, 4 * 8 * 8 * 4 + 8);
}

}  // namespace
}  // namespace k2l::runtime
