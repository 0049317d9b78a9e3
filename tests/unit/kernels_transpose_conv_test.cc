// TRANSPOSE_CONV against a double-precision reference: random output
// sizes, strides, padding, bias (4th input, -1 or omitted), activation,
// constant or run-time output_shape; the plain-loop reference header; and
// the rejections.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "runtime/reference/transpose_conv.h"
#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::FBB;
using testing::OpModelBuilder;
using Act = fb::ActivationFunctionType;

// Each output sums at most k_h * k_w * in_c = 3 * 3 * 5 fp32 products of
// values in [-1, 1].
constexpr double kTol = 1e-5;

// Every fourth iteration runs on 2 or 3 threads (making a thread pool costs
// milliseconds, so the rest stay on one).
int ThreadsFor(int iter) { return iter % 4 == 3 ? 2 + iter % 8 / 4 : 1; }

struct Case {
  int n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, ph, pw;
  bool same;
  Act act;
  double lo, hi;
};

// Picks the output size, then the input size the forward convolution of
// the output gives (TensorFlow's arithmetic, written out here).
Case RandomCase(std::mt19937_64& rng) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  auto r = [&](int lo, int hi) {
    return lo + static_cast<int>(rng() % (hi - lo + 1));
  };
  Case c{};
  c.n = r(1, 2);
  c.ic = r(1, 5);
  c.oc = r(1, 5);
  c.kh = r(1, 3);
  c.kw = r(1, 3);
  c.sh = r(1, 3);
  c.sw = r(1, 3);
  c.same = rng() % 2;
  c.oh = r(c.kh, 10);
  c.ow = r(c.kw, 10);
  auto in_pad = [&](int out, int k, int s, int* in, int* pad) {
    *in = c.same ? (out + s - 1) / s : (out - k) / s + 1;
    *pad = std::max(0, (*in - 1) * s + k - out) / 2;
  };
  in_pad(c.oh, c.kh, c.sh, &c.ih, &c.ph);
  in_pad(c.ow, c.kw, c.sw, &c.iw, &c.pw);
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

std::vector<double> Reference(const Case& c, const std::vector<float>& x,
                              const std::vector<float>& f,
                              const std::vector<float>* bias) {
  std::vector<double> out(int64_t{c.n} * c.oh * c.ow * c.oc, 0.0);
  for (int b = 0; b < c.n; ++b)
    for (int iy = 0; iy < c.ih; ++iy)
      for (int ix = 0; ix < c.iw; ++ix)
        for (int ky = 0; ky < c.kh; ++ky)
          for (int kx = 0; kx < c.kw; ++kx) {
            const int y = iy * c.sh - c.ph + ky, xx = ix * c.sw - c.pw + kx;
            if (y < 0 || y >= c.oh || xx < 0 || xx >= c.ow) continue;
            for (int o = 0; o < c.oc; ++o)
              for (int i = 0; i < c.ic; ++i)
                out[((b * c.oh + y) * c.ow + xx) * c.oc + o] +=
                    static_cast<double>(
                        x[((b * c.ih + iy) * c.iw + ix) * c.ic + i]) *
                    f[((o * c.kh + ky) * c.kw + kx) * c.ic + i];
          }
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = std::clamp(out[i] + (bias ? (*bias)[i % c.oc] : 0.0), c.lo, c.hi);
  return out;
}

TEST(KernelsTransposeConv, RandomShapesAgainstDoubleReference) {
  for (int iter = 0; iter < 30; ++iter) {
    const uint64_t seed = testing::TestSeed(4000 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const Case c = RandomCase(rng);
    const int bias_mode = static_cast<int>(rng() % 3);  // none, -1, present
    const bool const_shape = rng() % 3 != 0;
    // A computed filter takes the kernel's GEMM path instead of XNNPACK.
    const bool const_filter = rng() % 3 != 0;
    const int threads = ThreadsFor(iter);
    const Shape xs = {c.n, c.ih, c.iw, c.ic}, fs = {c.oc, c.kh, c.kw, c.ic};
    const std::vector<int32_t> os = {c.n, c.oh, c.ow, c.oc};
    auto x = testing::RandomFloats(rng, NumElements(xs));
    auto f = testing::RandomFloats(rng, NumElements(fs));
    auto bias = testing::RandomFloats(rng, c.oc);
    OpModelBuilder b;
    int si = const_shape ? b.AddConst(TensorType::INT32, {4}, os)
                         : b.AddInput(TensorType::INT32, {4});
    std::vector<int> ins = {si,
                            const_filter
                                ? b.AddConst(TensorType::FLOAT32, fs, f)
                                : b.AddInput(TensorType::FLOAT32, fs),
                            b.AddInput(TensorType::FLOAT32, xs)};
    if (bias_mode == 1) ins.push_back(-1);
    if (bias_mode == 2)
      ins.push_back(b.AddConst(TensorType::FLOAT32, {c.oc}, bias));
    int y = b.AddOutput(TensorType::FLOAT32);
    b.AddOp(
        fb::BuiltinOperator::TRANSPOSE_CONV, ins, {y},
        fb::BuiltinOptions::TransposeConvOptions,
        [&](FBB& fbb) {
          return fb::CreateTransposeConvOptions(
                     fbb, c.same ? fb::Padding::SAME : fb::Padding::VALID, c.sw,
                     c.sh, c.act)
              .Union();
        },
        /*version=*/4);
    std::vector<NDArray> feeds;
    if (!const_shape) feeds.push_back(NDArray::Of(TensorType::INT32, {4}, os));
    if (!const_filter) feeds.push_back(NDArray::Of(TensorType::FLOAT32, fs, f));
    feeds.push_back(NDArray::Of(TensorType::FLOAT32, xs, x));
    auto out = testing::RunOrFail(b.Finish(), feeds, threads);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].shape, (Shape{c.n, c.oh, c.ow, c.oc}));
    testing::ExpectNear(out[0],
                        Reference(c, x, f, bias_mode == 2 ? &bias : nullptr),
                        kTol, kTol);
  }
}

TEST(KernelsTransposeConv, PlainLoopReferenceAgrees) {
  for (int iter = 0; iter < 10; ++iter) {
    const uint64_t seed = testing::TestSeed(4100 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const Case c = RandomCase(rng);
    auto x = testing::RandomFloats(rng, int64_t{c.n} * c.ih * c.iw * c.ic);
    auto f = testing::RandomFloats(rng, int64_t{c.oc} * c.kh * c.kw * c.ic);
    auto bias = testing::RandomFloats(rng, c.oc);
    reference::Window w;
    w.batches = c.n;
    w.in_h = c.ih;
    w.in_w = c.iw;
    w.in_c = c.ic;
    w.out_h = c.oh;
    w.out_w = c.ow;
    w.out_c = c.oc;
    w.k_h = c.kh;
    w.k_w = c.kw;
    w.stride_h = c.sh;
    w.stride_w = c.sw;
    w.pad_h = c.ph;
    w.pad_w = c.pw;
    auto want = Reference(c, x, f, &bias);
    std::vector<float> got(want.size());
    reference::TransposeConv2D(w, x.data(), f.data(), bias.data(),
                               static_cast<float>(c.lo),
                               static_cast<float>(c.hi), got.data(), 0, c.n);
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], kTol + kTol * std::abs(want[i])) << i;
  }
}

std::string LoadError(std::vector<int32_t> os, Shape fs, Shape xs,
                      int bias_size,
                      TensorType shape_type = TensorType::INT32) {
  OpModelBuilder b;
  int si =
      shape_type == TensorType::INT32
          ? b.AddConst(TensorType::INT32, {static_cast<int32_t>(os.size())}, os)
          : b.AddConst(TensorType::INT64, {static_cast<int32_t>(os.size())},
                       std::vector<int64_t>(os.begin(), os.end()));
  std::vector<int> ins = {
      si,
      b.AddConst(TensorType::FLOAT32, fs, std::vector<float>(NumElements(fs))),
      b.AddInput(TensorType::FLOAT32, xs)};
  if (bias_size > 0) {
    ins.push_back(b.AddConst(TensorType::FLOAT32, {bias_size},
                             std::vector<float>(bias_size)));
  }
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::TRANSPOSE_CONV, ins, {y},
          fb::BuiltinOptions::TransposeConvOptions, [&](FBB& fbb) {
            return fb::CreateTransposeConvOptions(fbb, fb::Padding::SAME, 2, 2)
                .Union();
          });
  auto model = LiteRTModel::Load(b.Finish());
  return model.ok() ? "" : model.status().message();
}

TEST(KernelsTransposeConvRejects, BadShapes) {
  EXPECT_NE(LoadError({1, 8, 8, 2}, {2, 3, 3, 4}, {1, 3, 3, 4}, 0)
                .find("does not match input [1, 3, 3, 4]"),
            std::string::npos);
  EXPECT_NE(LoadError({1, 8, 8, 3}, {2, 3, 3, 4}, {1, 4, 4, 4}, 0)
                .find("the filter's 2 channels"),
            std::string::npos);
  EXPECT_NE(
      LoadError({1, 8, 8, 2}, {2, 3, 3, 3}, {1, 4, 4, 4}, 0).find("takes 3"),
      std::string::npos);
  EXPECT_NE(LoadError({1, 8, 8, 2}, {2, 3, 3, 4}, {1, 4, 4, 4}, 5)
                .find("bias 't3' has 5 values"),
            std::string::npos);
  EXPECT_NE(
      LoadError({1, 8, 8, 2}, {2, 3, 3, 4}, {1, 4, 4, 4}, 0, TensorType::INT64)
          .find("output_shape 't0' has type int64"),
      std::string::npos);
  EXPECT_NE(
      LoadError({1, 8, 8}, {2, 3, 3, 4}, {1, 4, 4, 4}, 0).find("it needs 4"),
      std::string::npos);
}

}  // namespace
}  // namespace k2l::runtime
