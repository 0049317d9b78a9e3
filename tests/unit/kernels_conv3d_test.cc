// CONV_3D and CONV_3D_TRANSPOSE against double-precision references over
// random shapes, strides, dilations, padding, bias and activation; the
// plain-loop reference header; and the rejections.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <limits>

#include "runtime/reference/conv3d.h"
#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::FBB;
using testing::OpModelBuilder;
using Act = fb::ActivationFunctionType;

// At most 2 * 2 * 2 * 4 fp32 products of values in [-1, 1] per output.
constexpr double kTol = 1e-5;

// Every fourth iteration runs on 2 or 3 threads (making a thread pool costs
// milliseconds, so the rest stay on one).
int ThreadsFor(int iter) { return iter % 4 == 3 ? 2 + iter % 8 / 4 : 1; }

// Spatial dims in D, H, W order. For CONV_3D "in" is the data input; for
// CONV_3D_TRANSPOSE too, and "out" is the larger output.
struct Case {
  int n, ic, oc;
  std::array<int, 3> in, out, k, s, d, pad;
  bool same;
  Act act;
  double lo, hi;
};

// `big`: enough work for ParallelFor to split.
Case RandomCase(std::mt19937_64& rng, bool transpose, bool big = false) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  auto r = [&](int lo, int hi) {
    return lo + static_cast<int>(rng() % (hi - lo + 1));
  };
  Case c{};
  c.n = r(1, 2);
  c.ic = r(1, 4) * (big ? 4 : 1);
  c.oc = r(1, 4) * (big ? 4 : 1);
  c.same = rng() % 2;
  for (int i = 0; i < 3; ++i) {
    c.k[i] = r(1, 2);
    c.s[i] = r(1, 2);
    c.d[i] = r(1, 2);
    const int eff = (c.k[i] - 1) * c.d[i] + 1;
    // The larger side of the window and what the forward convolution
    // makes of it.
    const int large = r(eff, 6) + (big ? 6 : 0);
    const int small =
        c.same ? (large + c.s[i] - 1) / c.s[i] : (large - eff) / c.s[i] + 1;
    c.pad[i] = std::max(0, (small - 1) * c.s[i] + eff - large) / 2;
    c.in[i] = transpose ? small : large;
    c.out[i] = transpose ? large : small;
  }
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

int64_t Index(const std::array<int, 3>& dims, int c, int b, int z, int y, int x,
              int ch) {
  return (((int64_t{b} * dims[0] + z) * dims[1] + y) * dims[2] + x) * c + ch;
}

// Visits every (output position, input position, tap) the window links:
// out = in * stride - pad + k * dilation for the transpose, in = out *
// stride - pad + k * dilation for the convolution.
std::vector<double> Reference(const Case& c, bool transpose,
                              const std::vector<float>& x,
                              const std::vector<float>& f,
                              const std::vector<float>* bias) {
  std::vector<double> out(int64_t{c.n} * c.out[0] * c.out[1] * c.out[2] * c.oc,
                          0.0);
  const auto& small = transpose ? c.in : c.out;
  const auto& big = transpose ? c.out : c.in;
  for (int b = 0; b < c.n; ++b)
    for (int z = 0; z < small[0]; ++z)
      for (int y = 0; y < small[1]; ++y)
        for (int xx = 0; xx < small[2]; ++xx)
          for (int kd = 0; kd < c.k[0]; ++kd)
            for (int ky = 0; ky < c.k[1]; ++ky)
              for (int kx = 0; kx < c.k[2]; ++kx) {
                const int bz = z * c.s[0] - c.pad[0] + kd * c.d[0];
                const int by = y * c.s[1] - c.pad[1] + ky * c.d[1];
                const int bx = xx * c.s[2] - c.pad[2] + kx * c.d[2];
                if (bz < 0 || bz >= big[0] || by < 0 || by >= big[1] ||
                    bx < 0 || bx >= big[2])
                  continue;
                const int64_t tap = (kd * c.k[1] + ky) * c.k[2] + kx;
                for (int o = 0; o < c.oc; ++o)
                  for (int i = 0; i < c.ic; ++i) {
                    if (transpose) {
                      out[Index(c.out, c.oc, b, bz, by, bx, o)] +=
                          static_cast<double>(
                              x[Index(c.in, c.ic, b, z, y, xx, i)]) *
                          f[(tap * c.oc + o) * c.ic + i];
                    } else {
                      out[Index(c.out, c.oc, b, z, y, xx, o)] +=
                          static_cast<double>(
                              x[Index(c.in, c.ic, b, bz, by, bx, i)]) *
                          f[(tap * c.ic + i) * c.oc + o];
                    }
                  }
              }
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = std::clamp(out[i] + (bias ? (*bias)[i % c.oc] : 0.0), c.lo, c.hi);
  return out;
}

flatbuffers::Offset<void> Options(FBB& fbb, const Case& c) {
  return fb::CreateConv3DOptions(
             fbb, c.same ? fb::Padding::SAME : fb::Padding::VALID, c.s[0],
             c.s[2], c.s[1], c.act, c.d[0], c.d[2], c.d[1])
      .Union();
}

void RunRandom(bool transpose, uint64_t base) {
  for (int iter = 0; iter < 16; ++iter) {
    const uint64_t seed = testing::TestSeed(base + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const Case c = RandomCase(rng, transpose, ThreadsFor(iter) > 1);
    const bool with_bias = rng() % 2;
    const int threads = ThreadsFor(iter);
    const Shape xs = {c.n, c.in[0], c.in[1], c.in[2], c.ic};
    const Shape fs = transpose ? Shape{c.k[0], c.k[1], c.k[2], c.oc, c.ic}
                               : Shape{c.k[0], c.k[1], c.k[2], c.ic, c.oc};
    const std::vector<int32_t> os = {c.n, c.out[0], c.out[1], c.out[2], c.oc};
    auto x = testing::RandomFloats(rng, NumElements(xs));
    auto f = testing::RandomFloats(rng, NumElements(fs));
    auto bias = testing::RandomFloats(rng, c.oc);
    OpModelBuilder b;
    std::vector<int> ins;
    if (transpose) ins.push_back(b.AddConst(TensorType::INT32, {5}, os));
    ins.push_back(b.AddConst(TensorType::FLOAT32, fs, f));
    int xi = b.AddInput(TensorType::FLOAT32, xs);
    ins.insert(transpose ? ins.end() : ins.begin(), xi);
    if (with_bias) ins.push_back(b.AddConst(TensorType::FLOAT32, {c.oc}, bias));
    int y = b.AddOutput(TensorType::FLOAT32);
    b.AddOp(transpose ? fb::BuiltinOperator::CONV_3D_TRANSPOSE
                      : fb::BuiltinOperator::CONV_3D,
            ins, {y}, fb::BuiltinOptions::Conv3DOptions,
            [&](FBB& fbb) { return Options(fbb, c); });
    auto out = testing::RunOrFail(
        b.Finish(), {NDArray::Of(TensorType::FLOAT32, xs, x)}, threads);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].shape, Shape(os.begin(), os.end()));
    testing::ExpectNear(
        out[0], Reference(c, transpose, x, f, with_bias ? &bias : nullptr),
        kTol, kTol);
  }
}

TEST(KernelsConv3D, RandomShapesAgainstDoubleReference) {
  RunRandom(false, 5000);
}

TEST(KernelsConv3DTranspose, RandomShapesAgainstDoubleReference) {
  RunRandom(true, 5100);
}

TEST(KernelsConv3D, PlainLoopReferencesAgree) {
  for (int iter = 0; iter < 8; ++iter) {
    const uint64_t seed = testing::TestSeed(5200 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const bool transpose = iter % 2;
    const Case c = RandomCase(rng, transpose);
    auto x = testing::RandomFloats(
        rng, int64_t{c.n} * c.in[0] * c.in[1] * c.in[2] * c.ic);
    auto f = testing::RandomFloats(rng, c.k[0] * c.k[1] * c.k[2] * c.ic * c.oc);
    auto bias = testing::RandomFloats(rng, c.oc);
    reference::Window w;
    w.batches = c.n;
    w.in_d = c.in[0], w.in_h = c.in[1], w.in_w = c.in[2], w.in_c = c.ic;
    w.out_d = c.out[0], w.out_h = c.out[1], w.out_w = c.out[2], w.out_c = c.oc;
    w.k_d = c.k[0], w.k_h = c.k[1], w.k_w = c.k[2];
    w.stride_d = c.s[0], w.stride_h = c.s[1], w.stride_w = c.s[2];
    w.dil_d = c.d[0], w.dil_h = c.d[1], w.dil_w = c.d[2];
    w.pad_d = c.pad[0], w.pad_h = c.pad[1], w.pad_w = c.pad[2];
    auto want = Reference(c, transpose, x, f, &bias);
    std::vector<float> got(want.size());
    const float lo = static_cast<float>(c.lo), hi = static_cast<float>(c.hi);
    if (transpose) {
      reference::Conv3DTranspose(w, x.data(), f.data(), bias.data(), lo, hi,
                                 got.data(), 0, c.n);
    } else {
      reference::Conv3D(w, x.data(), f.data(), bias.data(), lo, hi, got.data(),
                        0, int64_t{c.n} * c.out[0] * c.out[1]);
    }
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], kTol + kTol * std::abs(want[i])) << i;
  }
}

std::string LoadError(bool transpose, std::vector<int32_t> os, Shape fs,
                      Shape xs) {
  OpModelBuilder b;
  std::vector<int> ins;
  if (transpose) {
    ins.push_back(
        b.AddConst(TensorType::INT32, {static_cast<int32_t>(os.size())}, os));
  }
  ins.push_back(
      b.AddConst(TensorType::FLOAT32, fs, std::vector<float>(NumElements(fs))));
  int xi = b.AddInput(TensorType::FLOAT32, xs);
  ins.insert(transpose ? ins.end() : ins.begin(), xi);
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(transpose ? fb::BuiltinOperator::CONV_3D_TRANSPOSE
                    : fb::BuiltinOperator::CONV_3D,
          ins, {y}, fb::BuiltinOptions::Conv3DOptions, [&](FBB& fbb) {
            return fb::CreateConv3DOptions(fbb, fb::Padding::VALID, 1, 1, 1)
                .Union();
          });
  auto model = LiteRTModel::Load(b.Finish());
  return model.ok() ? "" : model.status().message();
}

TEST(KernelsConv3DRejects, BadShapes) {
  EXPECT_NE(LoadError(false, {}, {2, 2, 2, 3, 4}, {1, 4, 4, 4, 2})
                .find("has 2 channels but the filter"),
            std::string::npos);
  EXPECT_NE(LoadError(false, {}, {2, 2, 2, 3}, {1, 4, 4, 4, 3})
                .find("filter 't0' has rank 4"),
            std::string::npos);
  EXPECT_NE(LoadError(true, {1, 5, 5, 5, 4}, {2, 2, 2, 4, 3}, {1, 3, 3, 3, 3})
                .find("does not match input"),
            std::string::npos);
  EXPECT_NE(LoadError(true, {1, 4, 4, 4, 2}, {2, 2, 2, 4, 3}, {1, 3, 3, 3, 3})
                .find("the filter's 4 output channels"),
            std::string::npos);
  EXPECT_NE(LoadError(true, {1, 4, 4, 4}, {2, 2, 2, 4, 3}, {1, 3, 3, 3, 3})
                .find("it needs 5 values"),
            std::string::npos);
}

}  // namespace
}  // namespace k2l::runtime
