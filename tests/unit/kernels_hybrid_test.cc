// Dynamic-range ("hybrid") FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D:
// float32 input and output, int8 weights. The reference reproduces LiteRT's
// input quantization step (its float arithmetic, which decides the int8
// values) and does the rest in double: sum of weight * (q - zero point),
// times input scale * weight scale, plus the bias, clamped.
//
// Tolerance 1e-5 abs + rel: the kernel's int32 sum is exact; its float
// product of two scales, the product with the sum and the bias addition
// each round once (a few 1e-7 relative).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::FBB;
using testing::OpModelBuilder;
using Act = fb::ActivationFunctionType;

constexpr double kTol = 1e-5;

struct Clamp {
  Act act;
  double lo, hi;
};
Clamp RandomClamp(std::mt19937_64& rng) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const Clamp all[] = {{Act::NONE, -inf, inf},
                       {Act::RELU, 0, inf},
                       {Act::RELU6, 0, 6},
                       {Act::RELU_N1_TO_1, -1, 1}};
  return all[rng() % 4];
}

// One row quantized as LiteRT does: symmetric to [-127, 127] with scale
// max|v| / 127, or asymmetric onto [-128, 127] with the nearer nudged zero
// point. value ~= scale * (q - zp).
struct Row {
  std::vector<int> q;
  double scale = 1;
  int zp = 0;
};
Row QuantizeRow(const float* v, int64_t n, bool asymmetric) {
  Row r;
  r.q.assign(n, 0);
  float lo = 0, hi = 0;
  if (n > 0) {
    lo = *std::min_element(v, v + n);
    hi = *std::max_element(v, v + n);
  }
  if (!asymmetric) {
    const float range = std::max(std::fabs(lo), std::fabs(hi));
    if (range == 0) return r;
    r.scale = static_cast<float>(range / 127.f);
    const float inv = 127.f / range;
    for (int64_t i = 0; i < n; ++i) {
      const float p = v[i] * inv;
      r.q[i] = std::clamp(static_cast<int>(std::round(p)), -127, 127);
    }
    return r;
  }
  const double rmin = std::min(0.f, lo), rmax = std::max(0.f, hi);
  if (rmin == rmax) return r;
  const double s = (rmax - rmin) / 255.0;
  const double zmin = -128 - rmin / s, zmax = 127 - rmax / s;
  const double z =
      128 + std::abs(rmin / s) < 127 + std::abs(rmax / s) ? zmin : zmax;
  r.zp = z <= -128 ? -128 : z >= 127 ? 127 : static_cast<int>(std::round(z));
  r.scale = static_cast<float>(s);
  const float inv = static_cast<float>(1.0 / static_cast<float>(s));
  for (int64_t i = 0; i < n; ++i) {
    const float p = v[i] * inv;
    const float t = static_cast<float>(r.zp) + p;
    r.q[i] = std::clamp(static_cast<int>(std::round(t)), -128, 127);
  }
  return r;
}

std::vector<int8_t> RandomWeights(std::mt19937_64& rng, int64_t n) {
  std::vector<int8_t> w(n);
  for (auto& x : w)
    x = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  return w;
}

std::vector<float> RandomScales(std::mt19937_64& rng, int n, bool equal) {
  auto s = testing::RandomFloats(rng, n, 0.001f, 0.02f);
  if (equal) std::fill(s.begin(), s.end(), s[0]);
  return s;
}

TEST(KernelsHybrid, FullyConnectedAgainstDoubleReference) {
  for (int iter = 0; iter < 24; ++iter) {
    const uint64_t seed = testing::TestSeed(7000 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const int batch = 1 + static_cast<int>(rng() % 5);
    const int depth = 1 + static_cast<int>(rng() % 48);
    const int units = 1 + static_cast<int>(rng() % 24);
    const bool per_channel = rng() % 2;
    const bool asymmetric = rng() % 2;
    const bool has_bias = rng() % 3 != 0;
    const Clamp c = RandomClamp(rng);
    auto x = testing::RandomFloats(rng, int64_t{batch} * depth, -2.f, 2.f);
    if (iter == 0) std::fill(x.begin(), x.begin() + depth, 0.f);  // zero row
    auto w = RandomWeights(rng, int64_t{units} * depth);
    auto scales = RandomScales(rng, per_channel ? units : 1, false);
    auto bias = testing::RandomFloats(rng, units);
    OpModelBuilder b;
    int xi = b.AddInput(TensorType::FLOAT32, {batch, depth});
    int wi = b.AddConst(TensorType::INT8, {units, depth}, w);
    b.SetQuant(wi, scales, std::vector<int64_t>(scales.size(), 0), 0);
    std::vector<int> ins = {xi, wi};
    if (has_bias) ins.push_back(b.AddConst(TensorType::FLOAT32, {units}, bias));
    int y = b.AddOutput(TensorType::FLOAT32);
    b.AddOp(fb::BuiltinOperator::FULLY_CONNECTED, ins, {y},
            fb::BuiltinOptions::FullyConnectedOptions, [&](FBB& fbb) {
              return fb::CreateFullyConnectedOptions(
                         fbb, c.act,
                         fb::FullyConnectedOptionsWeightsFormat::DEFAULT, false,
                         asymmetric)
                  .Union();
            });
    auto out = testing::RunOrFail(
        b.Finish(), {NDArray::Of(TensorType::FLOAT32, {batch, depth}, x)});
    ASSERT_EQ(out.size(), 1u);
    std::vector<double> want(int64_t{batch} * units);
    for (int r = 0; r < batch; ++r) {
      Row q = QuantizeRow(x.data() + int64_t{r} * depth, depth, asymmetric);
      for (int u = 0; u < units; ++u) {
        int64_t acc = 0;
        for (int d = 0; d < depth; ++d)
          acc += int64_t{w[u * depth + d]} * (q.q[d] - q.zp);
        double v = acc * q.scale * scales[per_channel ? u : 0];
        if (has_bias) v += bias[u];
        want[r * units + u] = std::clamp(v, c.lo, c.hi);
      }
    }
    testing::ExpectNear(out[0], want, kTol, kTol);
  }
}

// LiteRT's window arithmetic: output size and the padding before.
void Window(bool same, int in, int k, int stride, int dil, int* out, int* pad) {
  const int eff = (k - 1) * dil + 1;
  *out = same ? (in + stride - 1) / stride : (in - eff) / stride + 1;
  *pad = same ? std::max(0, ((*out - 1) * stride + eff - in) / 2) : 0;
}

// CONV_2D (depthwise = false; groups when in_c is a multiple of the
// filter's) or DEPTHWISE_CONV_2D in double, on the per-batch quantized input.
std::vector<double> ConvReference(const std::vector<float>& x, int n, int h,
                                  int wd, int ic, const std::vector<int8_t>& f,
                                  int oc, int kh, int kw, int fic,
                                  bool depthwise, const std::vector<float>& cs,
                                  const std::vector<float>* bias, bool same,
                                  int sh, int sw, int dh, int dw,
                                  bool asymmetric, Clamp c, Shape* shape) {
  int oh, ow, ph, pw;
  Window(same, h, kh, sh, dh, &oh, &ph);
  Window(same, wd, kw, sw, dw, &ow, &pw);
  *shape = {n, oh, ow, oc};
  std::vector<double> out(int64_t{n} * oh * ow * oc);
  const int64_t size = int64_t{h} * wd * ic;
  const int per_group = depthwise ? 1 : oc / (ic / fic);
  for (int b = 0; b < n; ++b) {
    Row q = QuantizeRow(x.data() + b * size, size, asymmetric);
    for (int y = 0; y < oh; ++y) {
      for (int xo = 0; xo < ow; ++xo) {
        for (int o = 0; o < oc; ++o) {
          int64_t acc = 0;
          for (int ky = 0; ky < kh; ++ky) {
            for (int kx = 0; kx < kw; ++kx) {
              const int iy = y * sh - ph + ky * dh, ix = xo * sw - pw + kx * dw;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              const int64_t base = ((int64_t{b} * h + iy) * wd + ix) * ic;
              if (depthwise) {
                const int mult = oc / ic;
                acc += int64_t{f[(ky * kw + kx) * oc + o]} *
                       (q.q[base - b * size + o / mult] - q.zp);
                continue;
              }
              for (int i = 0; i < fic; ++i) {
                const int ch = (o / per_group) * fic + i;
                acc +=
                    int64_t{f[((int64_t{o} * kh + ky) * kw + kx) * fic + i]} *
                    (q.q[base - b * size + ch] - q.zp);
              }
            }
          }
          double v = acc * q.scale * cs[cs.size() > 1 ? o : 0];
          if (bias) v += (*bias)[o];
          out[((int64_t{b} * oh + y) * ow + xo) * oc + o] =
              std::clamp(v, c.lo, c.hi);
        }
      }
    }
  }
  return out;
}

TEST(KernelsHybrid, ConvAgainstDoubleReference) {
  for (int iter = 0; iter < 20; ++iter) {
    const uint64_t seed = testing::TestSeed(7100 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    auto r = [&](int lo, int hi) {
      return lo + static_cast<int>(rng() % (hi - lo + 1));
    };
    const int n = r(1, 3), h = r(3, 8), wd = r(3, 8);
    const int groups = iter % 5 == 4 ? 2 : 1;
    const int fic = r(1, 4), ic = fic * groups, oc = groups * r(1, 4);
    const int kh = r(1, 3), kw = r(1, 3), sh = r(1, 2), sw = r(1, 2);
    const int dh = r(1, 2), dw = r(1, 2);
    const bool same = rng() % 2 || (kh - 1) * dh >= h || (kw - 1) * dw >= wd;
    // One scale, equal scales (both LiteRT's symmetric EvalHybrid, unless
    // grouped) or distinct ones (asymmetric EvalHybridPerChannel).
    const int mode = groups > 1 ? 2 : static_cast<int>(rng() % 3);
    auto cs = RandomScales(rng, mode == 0 ? 1 : oc, mode == 1);
    const bool asymmetric = groups > 1 || (mode == 2 && oc > 1);
    const bool has_bias = rng() % 3 != 0;
    const Clamp c = RandomClamp(rng);
    auto x = testing::RandomFloats(rng, int64_t{n} * h * wd * ic, -1.f, 3.f);
    auto f = RandomWeights(rng, int64_t{oc} * kh * kw * fic);
    auto bias = testing::RandomFloats(rng, oc);
    OpModelBuilder b;
    int xi = b.AddInput(TensorType::FLOAT32, {n, h, wd, ic});
    int fi = b.AddConst(TensorType::INT8, {oc, kh, kw, fic}, f);
    b.SetQuant(fi, cs, std::vector<int64_t>(cs.size(), 0), 0);
    std::vector<int> ins = {xi, fi};
    if (has_bias) ins.push_back(b.AddConst(TensorType::FLOAT32, {oc}, bias));
    int y = b.AddOutput(TensorType::FLOAT32);
    b.AddOp(fb::BuiltinOperator::CONV_2D, ins, {y},
            fb::BuiltinOptions::Conv2DOptions, [&](FBB& fbb) {
              return fb::CreateConv2DOptions(
                         fbb, same ? fb::Padding::SAME : fb::Padding::VALID, sw,
                         sh, c.act, dw, dh)
                  .Union();
            });
    auto out = testing::RunOrFail(
        b.Finish(), {NDArray::Of(TensorType::FLOAT32, {n, h, wd, ic}, x)});
    ASSERT_EQ(out.size(), 1u);
    Shape shape;
    auto want = ConvReference(x, n, h, wd, ic, f, oc, kh, kw, fic, false, cs,
                              has_bias ? &bias : nullptr, same, sh, sw, dh, dw,
                              asymmetric, c, &shape);
    EXPECT_EQ(out[0].shape, shape);
    testing::ExpectNear(out[0], want, kTol, kTol);
  }
}

TEST(KernelsHybrid, DepthwiseAgainstDoubleReference) {
  for (int iter = 0; iter < 20; ++iter) {
    const uint64_t seed = testing::TestSeed(7200 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    auto r = [&](int lo, int hi) {
      return lo + static_cast<int>(rng() % (hi - lo + 1));
    };
    const int n = r(1, 3), h = r(3, 8), wd = r(3, 8), ic = r(1, 5);
    const int oc = ic * r(1, 3);
    const int kh = r(1, 3), kw = r(1, 3), sh = r(1, 2), sw = r(1, 2);
    const int dh = r(1, 2), dw = r(1, 2);
    const bool same = rng() % 2 || (kh - 1) * dh >= h || (kw - 1) * dw >= wd;
    auto cs = RandomScales(rng, oc, false);
    const bool has_bias = rng() % 3 != 0;
    const Clamp c = RandomClamp(rng);
    auto x = testing::RandomFloats(rng, int64_t{n} * h * wd * ic, -3.f, 1.f);
    auto f = RandomWeights(rng, int64_t{kh} * kw * oc);
    auto bias = testing::RandomFloats(rng, oc);
    OpModelBuilder b;
    int xi = b.AddInput(TensorType::FLOAT32, {n, h, wd, ic});
    int fi = b.AddConst(TensorType::INT8, {1, kh, kw, oc}, f);
    b.SetQuant(fi, cs, std::vector<int64_t>(oc, 0), 3);
    std::vector<int> ins = {xi, fi};
    if (has_bias) ins.push_back(b.AddConst(TensorType::FLOAT32, {oc}, bias));
    int y = b.AddOutput(TensorType::FLOAT32);
    b.AddOp(fb::BuiltinOperator::DEPTHWISE_CONV_2D, ins, {y},
            fb::BuiltinOptions::DepthwiseConv2DOptions, [&](FBB& fbb) {
              return fb::CreateDepthwiseConv2DOptions(
                         fbb, same ? fb::Padding::SAME : fb::Padding::VALID, sw,
                         sh, oc / ic, c.act, dw, dh)
                  .Union();
            });
    auto out = testing::RunOrFail(
        b.Finish(), {NDArray::Of(TensorType::FLOAT32, {n, h, wd, ic}, x)});
    ASSERT_EQ(out.size(), 1u);
    Shape shape;
    auto want = ConvReference(x, n, h, wd, ic, f, oc, kh, kw, 1, true, cs,
                              has_bias ? &bias : nullptr, same, sh, sw, dh, dw,
                              /*asymmetric=*/true, c, &shape);
    EXPECT_EQ(out[0].shape, shape);
    testing::ExpectNear(out[0], want, kTol, kTol);
  }
}

// Loading fails with `fragment` in the message.
void ExpectRejected(fb::BuiltinOperator code, Shape in, Shape filter,
                    TensorType ftype, std::vector<float> scale,
                    std::vector<int64_t> zp, int dim, fb::BuiltinOptions ot,
                    testing::OptionsFn opts, const std::string& fragment) {
  OpModelBuilder b;
  int xi = b.AddInput(TensorType::FLOAT32, in);
  int fi =
      b.AddConst(ftype, filter, std::vector<int8_t>(NumElements(filter), 1));
  if (!scale.empty()) b.SetQuant(fi, scale, zp, dim);
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(code, {xi, fi}, {y}, ot, std::move(opts));
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find(fragment), std::string::npos)
      << model.status().message();
}

TEST(KernelsHybrid, Rejections) {
  using fb::BuiltinOperator;
  auto conv = [](FBB& fbb) {
    return fb::CreateConv2DOptions(fbb, fb::Padding::VALID, 1, 1).Union();
  };
  auto dw = [](FBB& fbb) {
    return fb::CreateDepthwiseConv2DOptions(fbb, fb::Padding::VALID, 1, 1, 1)
        .Union();
  };
  // Weights with a zero point.
  ExpectRejected(BuiltinOperator::FULLY_CONNECTED, {2, 4}, {3, 4},
                 TensorType::INT8, {0.1f}, {3}, 0, fb::BuiltinOptions::NONE,
                 nullptr, "must be symmetric");
  // No scale at all.
  ExpectRejected(BuiltinOperator::FULLY_CONNECTED, {2, 4}, {3, 4},
                 TensorType::INT8, {}, {}, 0, fb::BuiltinOptions::NONE, nullptr,
                 "has no scale");
  // uint8 weights.
  ExpectRejected(BuiltinOperator::FULLY_CONNECTED, {2, 4}, {3, 4},
                 TensorType::UINT8, {0.1f}, {0}, 0, fb::BuiltinOptions::NONE,
                 nullptr, "float32 or int8 weights");
  // Scales along the wrong dimension.
  ExpectRejected(BuiltinOperator::FULLY_CONNECTED, {2, 4}, {3, 4},
                 TensorType::INT8, {0.1f, 0.1f, 0.1f, 0.1f}, {0, 0, 0, 0}, 1,
                 fb::BuiltinOptions::NONE, nullptr, "one scale per each");
  // Grouped convolution with one scale.
  ExpectRejected(BuiltinOperator::CONV_2D, {1, 3, 3, 4}, {2, 1, 1, 2},
                 TensorType::INT8, {0.1f}, {0}, 0,
                 fb::BuiltinOptions::Conv2DOptions, conv, "grouped");
  // Depthwise with one scale for several channels (LiteRT needs one each).
  ExpectRejected(BuiltinOperator::DEPTHWISE_CONV_2D, {1, 3, 3, 2}, {1, 1, 1, 2},
                 TensorType::INT8, {0.1f}, {0}, 3,
                 fb::BuiltinOptions::DepthwiseConv2DOptions, dw,
                 "one scale per each");
}

}  // namespace
}  // namespace k2l::runtime
