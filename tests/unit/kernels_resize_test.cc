// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR against double-precision
// references of TensorFlow's formulas. Tolerances: float 1e-5 abs+rel (the
// kernel computes coordinates and weights in float); uint8 / int8 / int16
// within 1 unit (uint8 adds 0.5 and truncates in float; int8 / int16 round
// a 10-bit fixed-point sum, which the reference reproduces in double, so
// only the final rounding differs); nearest neighbour is exact.
#include <cmath>

#include "kernels_data_test_util.h"

namespace k2l::runtime {
namespace {

using namespace testing;

OpSpec Bilinear(bool align, bool half) {
  return {fb::BuiltinOperator::RESIZE_BILINEAR,
          fb::BuiltinOptions::ResizeBilinearOptions, [=](FBB& f) {
            return fb::CreateResizeBilinearOptions(f, align, half).Union();
          }};
}
OpSpec Nearest(bool align, bool half) {
  return {
      fb::BuiltinOperator::RESIZE_NEAREST_NEIGHBOR,
      fb::BuiltinOptions::ResizeNearestNeighborOptions, [=](FBB& f) {
        return fb::CreateResizeNearestNeighborOptions(f, align, half).Union();
      }};
}

double Scale(int in, int out, bool align) {
  return align && out > 1 ? double(in - 1) / (out - 1) : double(in) / out;
}

// LiteRT's int8 / int16 kernel defines its scale in 1/1024 units, rounded
// to nearest; the source coordinate follows from it exactly.
double Coord(int v, int in, int out, bool align, bool half, bool fixed10) {
  if (!fixed10) {
    const double sc = Scale(in, out, align);
    return half ? (v + 0.5) * sc - 0.5 : v * sc;
  }
  const int64_t sc = align && out > 1
                         ? (1024 * int64_t{in - 1} + (out - 1) / 2) / (out - 1)
                         : (1024 * int64_t{in} + out / 2) / out;
  return (half ? v * sc + sc / 2 - 512 : v * sc) / 1024.0;
}

// Bilinear in double: source coordinate, clamped neighbours, weights.
std::vector<double> BilinearRef(const std::vector<double>& x, const Shape& s,
                                int oh, int ow, bool align, bool half,
                                bool fixed10 = false) {
  std::vector<double> out;
  auto at = [&](int b, int y, int xx, int c) {
    return x[((int64_t{b} * s[1] + y) * s[2] + xx) * s[3] + c];
  };
  for (int b = 0; b < s[0]; ++b)
    for (int y = 0; y < oh; ++y)
      for (int xx = 0; xx < ow; ++xx)
        for (int c = 0; c < s[3]; ++c) {
          const double fy = Coord(y, s[1], oh, align, half, fixed10);
          const double fx = Coord(xx, s[2], ow, align, half, fixed10);
          const int y0 = std::max(0, int(std::floor(fy)));
          const int y1 = std::min(s[1] - 1, int(std::ceil(fy)));
          const int x0 = std::max(0, int(std::floor(fx)));
          const int x1 = std::min(s[2] - 1, int(std::ceil(fx)));
          const double dy = fy - y0, dx = fx - x0;
          out.push_back(at(b, y0, x0, c) * (1 - dy) * (1 - dx) +
                        at(b, y1, x0, c) * dy * (1 - dx) +
                        at(b, y0, x1, c) * (1 - dy) * dx +
                        at(b, y1, x1, c) * dy * dx);
        }
  return out;
}

TEST(KernelsResize, BilinearFloatAllModes) {
  const uint64_t seed = TestSeed(61);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 24; ++iter) {
    const Shape s = RandomShape(rng, 4, 1, 5);
    int oh = 1 + static_cast<int>(rng() % 8),
        ow = 1 + static_cast<int>(rng() % 8);
    if (iter % 4 == 3) oh = 2 * s[1], ow = 2 * s[2];  // the 2x fast path
    const bool align = iter % 3 == 1, half = iter % 3 == 2;
    const NDArray x = RandomArray(rng, TensorType::FLOAT32, s);
    std::vector<double> xd(x.as<float>(), x.as<float>() + NumElements(s));
    auto out = RunOp(Bilinear(align, half),
                     {Runtime(x), {I32({2}, {oh, ow}), iter % 2 == 0}},
                     {TensorType::FLOAT32});
    EXPECT_EQ(ShapeString(out[0].shape), ShapeString({s[0], oh, ow, s[3]}));
    ExpectNear(out[0], BilinearRef(xd, s, oh, ow, align, half), 1e-5, 1e-5);
  }
}

template <typename T>
void CheckQuantizedBilinear(TensorType type, uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 12; ++iter) {
    const Shape s = RandomShape(rng, 4, 1, 5);
    const int oh = 1 + static_cast<int>(rng() % 9),
              ow = 1 + static_cast<int>(rng() % 9);
    const bool align = iter % 3 == 1, half = iter % 3 == 2;
    const NDArray x = RandomArray(rng, type, s);
    std::vector<double> xd(NumElements(s));
    for (size_t i = 0; i < xd.size(); ++i) xd[i] = x.as<T>()[i];
    auto out =
        RunOp(Bilinear(align, half), {Runtime(x), Const(I32({2}, {oh, ow}))},
              {type}, {{0.1f, 0}, {0.f, 0}, {0.1f, 0}});
    const auto want =
        BilinearRef(xd, s, oh, ow, align, half, type != TensorType::UINT8);
    ASSERT_EQ(static_cast<size_t>(NumElements(out[0].shape)), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(out[0].as<T>()[i], want[i], 1.0) << "element " << i;
  }
}

TEST(KernelsResize, BilinearQuantizedWithinOneUnit) {
  CheckQuantizedBilinear<uint8_t>(TensorType::UINT8, TestSeed(62));
  CheckQuantizedBilinear<int8_t>(TensorType::INT8, TestSeed(63));
  CheckQuantizedBilinear<int16_t>(TensorType::INT16, TestSeed(64));
}

TEST(KernelsResize, NearestAllModesAndTypes) {
  const uint64_t seed = TestSeed(65);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 24; ++iter) {
    const Shape s = RandomShape(rng, 4, 1, 5);
    const int oh = 1 + static_cast<int>(rng() % 9),
              ow = 1 + static_cast<int>(rng() % 9);
    const bool align = iter % 3 == 1, half = iter % 3 == 2;
    const TensorType type = MovedTypes()[iter % 5];
    const NDArray x = RandomArray(rng, type, s);
    auto src = [&](int v, int in, int out) {
      const double f = (v + (half ? 0.5 : 0.0)) * Scale(in, out, align);
      int64_t r = align ? std::llround(f) : int64_t(std::floor(f));
      r = std::min<int64_t>(r, in - 1);
      return std::max<int64_t>(r, 0);
    };
    NDArray want =
        Expect(x, {s[0], oh, ow, s[3]}, [&](const std::vector<int64_t>& i) {
          return Ravel(
              {i[0], src(int(i[1]), s[1], oh), src(int(i[2]), s[2], ow), i[3]},
              s);
        });
    auto out = RunOp(Nearest(align, half),
                     {Runtime(x), {I32({2}, {oh, ow}), iter % 2 == 0}}, {type});
    ExpectSameArray(out[0], want);
  }
}

TEST(KernelsResizeRejects, OptionsAndSize) {
  const NDArray x =
      NDArray::Of(TensorType::FLOAT32, {1, 2, 2, 1}, std::vector<float>(4));
  auto err =
      RunError(Bilinear(true, true), {Runtime(x), Const(I32({2}, {4, 4}))},
               {TensorType::FLOAT32});
  K2L_EXPECT_ERROR(err, "align_corners and half_pixel_centers are both set");
  err =
      RunError(Bilinear(false, false), {Runtime(x), Runtime(I32({2}, {0, 4}))},
               {TensorType::FLOAT32});
  K2L_EXPECT_ERROR(err, "output size 0");
  err =
      RunError(Nearest(false, false), {Runtime(x), Const(I32({3}, {1, 2, 3}))},
               {TensorType::FLOAT32});
  K2L_EXPECT_ERROR(err, "[2] (height, width) is needed");
}

}  // namespace
}  // namespace k2l::runtime
