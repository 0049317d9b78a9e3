// Reductions and ARG_MAX / ARG_MIN against references written here, over
// random shapes and axis sets (negative and repeated axes, keep_dims on and
// off, constant and run-time axes). Seeds are traced; K2L_TEST_SEED replays.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

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

// Float sums and means accumulate in double in the kernel; products and
// max/min are exact or one rounding per step.
constexpr double kTol = 1e-5;

struct Reduction {
  Shape out;                    // with keep_dims applied
  std::vector<int64_t> out_of;  // output index of each input element
  int64_t count = 1;            // inputs per output
};

Reduction Plan(const Shape& in, const std::vector<int32_t>& axes, bool keep) {
  const int rank = static_cast<int>(in.size());
  std::set<int> red;
  for (int32_t a : axes) red.insert(a < 0 ? a + rank : a);
  Reduction r;
  Shape kept;  // output dims in order, 1 on reduced
  for (int d = 0; d < rank; ++d) {
    bool is_red = red.count(d) > 0;
    kept.push_back(is_red ? 1 : in[d]);
    if (is_red) r.count *= in[d];
    if (!is_red || keep) r.out.push_back(is_red ? 1 : in[d]);
  }
  int64_t n = NumElements(in);
  r.out_of.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rest = i, o = 0, stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      int64_t c = rest % in[d];
      rest /= in[d];
      if (!red.count(d)) o += c * stride;
      stride *= kept[d];
    }
    r.out_of[i] = o;
  }
  return r;
}

template <typename T>
std::vector<NDArray> RunReduce(Op op, TT type, const Shape& shape,
                               const std::vector<T>& x,
                               const std::vector<int32_t>& axes, bool keep,
                               bool axes_at_run_time = false) {
  OpModelBuilder b;
  int in = b.AddInput(type, shape);
  Shape ashape = {static_cast<int32_t>(axes.size())};
  int ax = axes_at_run_time ? b.AddInput(TT::INT32, ashape)
                            : b.AddConst(TT::INT32, ashape, axes);
  int o = b.AddOutput(type);
  b.AddOp(op, {in, ax}, {o}, fb::BuiltinOptions::ReducerOptions,
          [keep](testing::FBB& f) {
            return fb::CreateReducerOptions(f, keep).Union();
          });
  std::vector<NDArray> ins = {NDArray::Of(type, shape, x)};
  if (axes_at_run_time) ins.push_back(NDArray::Of(TT::INT32, ashape, axes));
  return RunOrFail(b.Finish(), ins);
}

// A random shape and a random set of its axes (some negative, some twice).
void RandomCase(std::mt19937_64& rng, Shape* shape,
                std::vector<int32_t>* axes) {
  *shape = RandomShape(rng, 1 + rng() % 5, 1, 6);
  axes->clear();
  int rank = static_cast<int>(shape->size());
  for (int d = 0; d < rank; ++d) {
    if (rng() % 2) axes->push_back(rng() % 2 ? d : d - rank);
  }
  if (!axes->empty() && rng() % 3 == 0) axes->push_back(axes->front());
}

TEST(KernelsReduce, FloatReductions) {
  struct Case {
    Op op;
    double init;
    double (*step)(double, double);
    bool mean;
  };
  const Case cases[] = {
      {Op::SUM, 0, [](double a, double x) { return a + x; }, false},
      {Op::MEAN, 0, [](double a, double x) { return a + x; }, true},
      {Op::REDUCE_PROD, 1, [](double a, double x) { return a * x; }, false},
      {Op::REDUCE_MAX, -INFINITY,
       [](double a, double x) { return std::max(a, x); }, false},
      {Op::REDUCE_MIN, INFINITY,
       [](double a, double x) { return std::min(a, x); }, false},
  };
  for (const Case& c : cases) {
    for (int iter = 0; iter < 8; ++iter) {
      uint64_t seed = TestSeed(4000 + iter);
      SCOPED_TRACE(std::string(fb::EnumNameBuiltinOperator(c.op)) + " seed " +
                   std::to_string(seed));
      std::mt19937_64 rng(seed);
      Shape shape;
      std::vector<int32_t> axes;
      RandomCase(rng, &shape, &axes);
      bool keep = iter % 2;
      // Products of values near 1 stay well inside float's range.
      auto x = c.op == Op::REDUCE_PROD
                   ? RandomFloats(rng, NumElements(shape), 0.6f, 1.4f)
                   : RandomFloats(rng, NumElements(shape), -5, 5);
      auto out = RunReduce<float>(c.op, TT::FLOAT32, shape, x, axes, keep,
                                  /*axes_at_run_time=*/iter % 3 == 2);
      ASSERT_EQ(out.size(), 1u);
      Reduction r = Plan(shape, axes, keep);
      ASSERT_EQ(out[0].shape, r.out);
      std::vector<double> want(NumElements(r.out), c.init);
      for (size_t i = 0; i < x.size(); ++i)
        want[r.out_of[i]] = c.step(want[r.out_of[i]], x[i]);
      if (c.mean)
        for (double& w : want) w /= r.count;
      testing::ExpectNear(out[0], want, kTol, kTol);
    }
  }
}

TEST(KernelsReduce, IntegerSumMeanAndBoolAnyAll) {
  for (int iter = 0; iter < 8; ++iter) {
    uint64_t seed = TestSeed(4100 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Shape shape;
    std::vector<int32_t> axes;
    RandomCase(rng, &shape, &axes);
    bool keep = iter % 2;
    std::vector<int32_t> x(NumElements(shape));
    for (auto& v : x) v = static_cast<int32_t>(rng() % 201) - 100;
    std::vector<uint8_t> bx(x.size());
    for (size_t i = 0; i < x.size(); ++i) bx[i] = x[i] > 60;
    Reduction r = Plan(shape, axes, keep);
    auto sum = RunReduce<int32_t>(Op::SUM, TT::INT32, shape, x, axes, keep);
    auto mean = RunReduce<int32_t>(Op::MEAN, TT::INT32, shape, x, axes, keep);
    auto any =
        RunReduce<uint8_t>(Op::REDUCE_ANY, TT::BOOL, shape, bx, axes, keep);
    auto all =
        RunReduce<uint8_t>(Op::REDUCE_ALL, TT::BOOL, shape, bx, axes, keep);
    ASSERT_EQ(sum.size(), 1u);
    ASSERT_EQ(mean.size(), 1u);
    ASSERT_EQ(any.size(), 1u);
    ASSERT_EQ(all.size(), 1u);
    int64_t n = NumElements(r.out);
    std::vector<int64_t> s(n, 0);
    std::vector<bool> a(n, false), l(n, true);
    for (size_t i = 0; i < x.size(); ++i) {
      s[r.out_of[i]] += x[i];
      a[r.out_of[i]] = a[r.out_of[i]] || bx[i];
      l[r.out_of[i]] = l[r.out_of[i]] && bx[i];
    }
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(sum[0].as<int32_t>()[i], s[i]) << i;
      // Integer means truncate toward zero, as C++ division does.
      ASSERT_EQ(mean[0].as<int32_t>()[i], s[i] / r.count) << i;
      ASSERT_EQ(any[0].as<bool>()[i], a[i]) << i;
      ASSERT_EQ(all[0].as<bool>()[i], l[i]) << i;
    }
  }
}

TEST(KernelsReduce, MeanOverLastAxisOnTwoThreads) {
  // The layer-norm pattern: [rows, 768] averaged per row, rows split
  // between threads.
  uint64_t seed = TestSeed(4200);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Shape shape = {4, 32, 768};
  auto x = RandomFloats(rng, NumElements(shape), -3, 3);
  std::vector<int32_t> axes = {-1};
  OpModelBuilder b;
  int in = b.AddInput(TT::FLOAT32, shape);
  int ax = b.AddConst(TT::INT32, {1}, axes);
  int o = b.AddOutput(TT::FLOAT32);
  b.AddOp(Op::MEAN, {in, ax}, {o}, fb::BuiltinOptions::ReducerOptions,
          [](testing::FBB& f) {
            return fb::CreateReducerOptions(f, true).Union();
          });
  auto out = RunOrFail(b.Finish(), {NDArray::Of(TT::FLOAT32, shape, x)}, 2);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape, (Shape{4, 32, 1}));
  std::vector<double> want(128, 0);
  for (size_t i = 0; i < x.size(); ++i) want[i / 768] += x[i] / 768.0;
  testing::ExpectNear(out[0], want, kTol, kTol);
}

TEST(KernelsReduce, ArgMaxArgMin) {
  for (int iter = 0; iter < 8; ++iter) {
    uint64_t seed = TestSeed(4300 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Shape shape = RandomShape(rng, 1 + iter % 4, 1, 6);
    int rank = static_cast<int>(shape.size());
    int axis = static_cast<int>(rng() % rank);
    // Few distinct values, so ties (which take the first index) happen.
    std::vector<float> x(NumElements(shape));
    for (auto& v : x) v = static_cast<float>(rng() % 4);
    for (bool is_max : {true, false}) {
      TT out_t = iter % 2 ? TT::INT64 : TT::INT32;
      OpModelBuilder b;
      int in = b.AddInput(TT::FLOAT32, shape);
      int ax = b.AddConst(TT::INT32, {1},
                          std::vector<int32_t>{axis - (iter % 3 ? 0 : rank)});
      int o = b.AddOutput(out_t);
      b.AddOp(is_max ? Op::ARG_MAX : Op::ARG_MIN, {in, ax}, {o});
      auto out = RunOrFail(b.Finish(), {NDArray::Of(TT::FLOAT32, shape, x)});
      ASSERT_EQ(out.size(), 1u);
      int64_t outer = 1, inner = 1, n = shape[axis];
      for (int d = 0; d < axis; ++d) outer *= shape[d];
      for (int d = axis + 1; d < rank; ++d) inner *= shape[d];
      for (int64_t o2 = 0; o2 < outer; ++o2) {
        for (int64_t j = 0; j < inner; ++j) {
          int64_t best = 0;
          for (int64_t i = 1; i < n; ++i) {
            float v = x[(o2 * n + i) * inner + j];
            float b2 = x[(o2 * n + best) * inner + j];
            if (is_max ? v > b2 : v < b2) best = i;
          }
          int64_t got = out_t == TT::INT64
                            ? out[0].as<int64_t>()[o2 * inner + j]
                            : out[0].as<int32_t>()[o2 * inner + j];
          ASSERT_EQ(got, best) << "outer " << o2 << " inner " << j;
        }
      }
    }
  }
}

TEST(KernelsReduceRejects, AxisOutOfRange) {
  auto model = [] {
    OpModelBuilder b;
    int in = b.AddInput(TT::FLOAT32, {2, 3});
    int ax = b.AddConst(TT::INT32, {1}, std::vector<int32_t>{2});
    int o = b.AddOutput(TT::FLOAT32);
    b.AddOp(Op::SUM, {in, ax}, {o});
    return LiteRTModel::Load(b.Finish());
  }();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("axis 2 is out of range for rank 2"),
            std::string::npos)
      << model.status().message();
}

TEST(KernelsReduceRejects, BoolSumAndMultiAxisArgMax) {
  OpModelBuilder b;
  int in = b.AddInput(TT::BOOL, {2, 3});
  int ax = b.AddConst(TT::INT32, {1}, std::vector<int32_t>{0});
  int o = b.AddOutput(TT::BOOL);
  b.AddOp(Op::SUM, {in, ax}, {o});
  auto m1 = LiteRTModel::Load(b.Finish());
  ASSERT_FALSE(m1.ok());
  EXPECT_NE(m1.status().message().find("has type bool"), std::string::npos)
      << m1.status().message();

  OpModelBuilder c;
  int x = c.AddInput(TT::FLOAT32, {2, 3});
  int axes = c.AddConst(TT::INT32, {2}, std::vector<int32_t>{0, 1});
  int y = c.AddOutput(TT::INT32);
  c.AddOp(Op::ARG_MAX, {x, axes}, {y});
  auto m2 = LiteRTModel::Load(c.Finish());
  ASSERT_FALSE(m2.ok());
  EXPECT_NE(m2.status().message().find("must hold one"), std::string::npos)
      << m2.status().message();
}

}  // namespace
}  // namespace k2l::runtime
