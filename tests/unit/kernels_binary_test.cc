// Broadcasting binary ops, comparisons, logical ops and SELECT against a
// reference written here (double math, explicit index arithmetic), on
// random shapes up to rank 6. Seeds are traced; K2L_TEST_SEED replays one.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::OpModelBuilder;
using testing::RandomFloats;
using testing::RunOrFail;
using testing::TestSeed;
using Op = fb::BuiltinOperator;
using TT = TensorType;

// fp32 kernels round once per element (pow: within 1-2 ulp).
constexpr double kTol = 1e-5;

// Random output shape of rank 0..6 and two input shapes that broadcast to
// it (each dim either the output's or 1, leading dims sometimes dropped).
struct Shapes {
  Shape a, b, out;
};
Shapes RandomBroadcast(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> rank_d(0, 6), dim_d(1, 4), coin(0, 3);
  Shapes s;
  int rank = rank_d(rng);
  for (int i = 0; i < rank; ++i) s.out.push_back(dim_d(rng));
  for (Shape* in : {&s.a, &s.b}) {
    int drop = coin(rng) == 0 ? std::min(rank, coin(rng)) : 0;
    for (int i = drop; i < rank; ++i)
      in->push_back(coin(rng) == 0 ? 1 : s.out[i]);
  }
  // The output is what numpy makes of the two (where both drew 1 or
  // dropped a leading dim, it shrinks).
  size_t r = std::max(s.a.size(), s.b.size());
  s.out.assign(r, 1);
  for (size_t i = 0; i < r; ++i) {
    if (i + s.a.size() >= r)
      s.out[i] = std::max(s.out[i], s.a[i + s.a.size() - r]);
    if (i + s.b.size() >= r)
      s.out[i] = std::max(s.out[i], s.b[i + s.b.size() - r]);
  }
  return s;
}

// Flat index into `in` (right-aligned, broadcast) of output element `flat`.
int64_t SourceIndex(const Shape& in, const Shape& out, int64_t flat) {
  int64_t idx = 0, stride = 1;
  for (int d = static_cast<int>(out.size()) - 1; d >= 0; --d) {
    int64_t coord = flat % out[d];
    flat /= out[d];
    int id = d - static_cast<int>(out.size() - in.size());
    if (id >= 0) {
      if (in[id] != 1) idx += coord * stride;
      stride *= in[id];
    }
  }
  return idx;
}

template <typename T>
std::vector<NDArray> RunBinary(
    Op op, TT in_t, TT out_t, const Shapes& s, const std::vector<T>& a,
    const std::vector<T>& b,
    fb::BuiltinOptions opt_type = fb::BuiltinOptions::NONE,
    testing::OptionsFn opt = nullptr) {
  OpModelBuilder m;
  int x = m.AddInput(in_t, s.a);
  int y = m.AddInput(in_t, s.b);
  int o = m.AddOutput(out_t);
  m.AddOp(op, {x, y}, {o}, opt_type, std::move(opt));
  return RunOrFail(m.Finish(),
                   {NDArray::Of(in_t, s.a, a), NDArray::Of(in_t, s.b, b)});
}

struct FloatCase {
  const char* name;
  Op op;
  std::function<double(double, double)> ref;
  float lo = -4, hi = 4;
};

TEST(KernelsBinary, FloatOpsBroadcastLikeNumpy) {
  const std::vector<FloatCase> cases = {
      {"ADD", Op::ADD, std::plus<double>()},
      {"SUB", Op::SUB, std::minus<double>()},
      {"MUL", Op::MUL, std::multiplies<double>()},
      {"DIV", Op::DIV, std::divides<double>(), 0.5f, 4},
      {"MAXIMUM", Op::MAXIMUM,
       [](double a, double b) { return std::max(a, b); }},
      {"MINIMUM", Op::MINIMUM,
       [](double a, double b) { return std::min(a, b); }},
      {"POW", Op::POW, [](double a, double b) { return std::pow(a, b); }, 0.1f,
       3},
      {"SQUARED_DIFFERENCE", Op::SQUARED_DIFFERENCE,
       [](double a, double b) { return (a - b) * (a - b); }},
      {"FLOOR_DIV", Op::FLOOR_DIV,
       [](double a, double b) { return std::floor(a / b); }, 0.5f, 9},
      {"FLOOR_MOD", Op::FLOOR_MOD,
       [](double a, double b) { return a - b * std::floor(a / b); }, 0.5f, 9},
  };
  for (const FloatCase& c : cases) {
    for (int iter = 0; iter < 6; ++iter) {
      uint64_t seed = TestSeed(2000 + iter);
      SCOPED_TRACE(std::string(c.name) + " seed " + std::to_string(seed));
      std::mt19937_64 rng(seed);
      Shapes s = RandomBroadcast(rng);
      auto a = RandomFloats(rng, NumElements(s.a), c.lo, c.hi);
      auto b = RandomFloats(rng, NumElements(s.b), c.lo, c.hi);
      // Signed operands for the floor ops' sign rules.
      if (c.op == Op::FLOOR_DIV || c.op == Op::FLOOR_MOD)
        for (size_t i = 0; i < a.size(); i += 2) a[i] = -a[i];
      auto out = RunBinary<float>(c.op, TT::FLOAT32, TT::FLOAT32, s, a, b);
      ASSERT_EQ(out.size(), 1u);
      ASSERT_EQ(out[0].shape, s.out);
      std::vector<double> want(NumElements(s.out));
      for (size_t i = 0; i < want.size(); ++i)
        want[i] =
            c.ref(a[SourceIndex(s.a, s.out, i)], b[SourceIndex(s.b, s.out, i)]);
      // FLOOR_MOD's float fmod is exact, but a - b*floor(a/b) in double
      // differs by an ulp of b.
      testing::ExpectNear(out[0], want, kTol, kTol);
    }
  }
}

TEST(KernelsBinary, FusedActivationsClamp) {
  using AF = fb::ActivationFunctionType;
  const std::pair<AF, std::pair<double, double>> acts[] = {
      {AF::RELU, {0, 1e30}},
      {AF::RELU6, {0, 6}},
      {AF::RELU_N1_TO_1, {-1, 1}},
      // LiteRT ignores TANH and SIGN_BIT here.
      {AF::TANH, {-1e30, 1e30}}};
  for (auto [act, range] : acts) {
    uint64_t seed = TestSeed(2100 + static_cast<int>(act));
    SCOPED_TRACE("activation " + std::to_string(static_cast<int>(act)) +
                 " seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Shapes s{{3, 4}, {4}, {3, 4}};
    auto a = RandomFloats(rng, 12, -8, 8);
    auto b = RandomFloats(rng, 4, -8, 8);
    auto out = RunBinary<float>(Op::MUL, TT::FLOAT32, TT::FLOAT32, s, a, b,
                                fb::BuiltinOptions::MulOptions,
                                [act = act](testing::FBB& f) {
                                  return fb::CreateMulOptions(f, act).Union();
                                });
    ASSERT_EQ(out.size(), 1u);
    std::vector<double> want(12);
    for (int i = 0; i < 12; ++i)
      want[i] = std::clamp(double(a[i]) * b[i % 4], range.first, range.second);
    testing::ExpectNear(out[0], want, kTol, kTol);
  }
}

TEST(KernelsBinary, IntegerOpsAreExact) {
  for (int iter = 0; iter < 6; ++iter) {
    uint64_t seed = TestSeed(2200 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Shapes s = RandomBroadcast(rng);
    std::uniform_int_distribution<int32_t> d(-40, 40);
    std::vector<int32_t> a(NumElements(s.a)), b(NumElements(s.b));
    for (auto& v : a) v = d(rng);
    for (auto& v : b) v = d(rng) | 1;  // never zero
    struct IntCase {
      Op op;
      std::function<int64_t(int64_t, int64_t)> ref;
    };
    const IntCase cases[] = {
        {Op::ADD, std::plus<int64_t>()},
        {Op::SUB, std::minus<int64_t>()},
        {Op::MUL, std::multiplies<int64_t>()},
        {Op::DIV, std::divides<int64_t>()},  // truncates
        {Op::FLOOR_DIV,
         [](int64_t x, int64_t y) {
           return static_cast<int64_t>(std::floor(double(x) / y));
         }},
        {Op::FLOOR_MOD, [](int64_t x, int64_t y) { return ((x % y) + y) % y; }},
        {Op::MAXIMUM, [](int64_t x, int64_t y) { return std::max(x, y); }},
        {Op::SQUARED_DIFFERENCE,
         [](int64_t x, int64_t y) { return (x - y) * (x - y); }},
    };
    for (const IntCase& c : cases) {
      SCOPED_TRACE(fb::EnumNameBuiltinOperator(c.op));
      auto out = RunBinary<int32_t>(c.op, TT::INT32, TT::INT32, s, a, b);
      ASSERT_EQ(out.size(), 1u);
      ASSERT_EQ(out[0].shape, s.out);
      for (int64_t i = 0; i < NumElements(s.out); ++i) {
        int64_t want =
            c.ref(a[SourceIndex(s.a, s.out, i)], b[SourceIndex(s.b, s.out, i)]);
        ASSERT_EQ(out[0].as<int32_t>()[i], want) << "element " << i;
      }
    }
  }
}

TEST(KernelsBinary, LargeInputsSplitAcrossThreads) {
  // [64, 96, 33] + [96, 1]: the general broadcast path over many runs,
  // split between two threads at arbitrary element offsets.
  uint64_t seed = TestSeed(2300);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Shapes s{{64, 96, 33}, {96, 1}, {64, 96, 33}};
  auto a = RandomFloats(rng, NumElements(s.a));
  auto b = RandomFloats(rng, NumElements(s.b));
  OpModelBuilder m;
  int x = m.AddInput(TT::FLOAT32, s.a);
  int y = m.AddInput(TT::FLOAT32, s.b);
  int o = m.AddOutput(TT::FLOAT32);
  m.AddOp(Op::SUB, {x, y}, {o});
  auto out = RunOrFail(
      m.Finish(),
      {NDArray::Of(TT::FLOAT32, s.a, a), NDArray::Of(TT::FLOAT32, s.b, b)},
      /*threads=*/2);
  ASSERT_EQ(out.size(), 1u);
  std::vector<double> want(a.size());
  for (size_t i = 0; i < a.size(); ++i)
    want[i] = double(a[i]) - b[SourceIndex(s.b, s.out, i)];
  testing::ExpectNear(out[0], want, kTol, kTol);
}

TEST(KernelsBinary, ComparisonsAndLogical) {
  for (int iter = 0; iter < 6; ++iter) {
    uint64_t seed = TestSeed(2400 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Shapes s = RandomBroadcast(rng);
    std::uniform_int_distribution<int32_t> d(-2, 2);
    std::vector<int32_t> a(NumElements(s.a)), b(NumElements(s.b));
    for (auto& v : a) v = d(rng);
    for (auto& v : b) v = d(rng);
    std::vector<float> fa(a.begin(), a.end()), fb_(b.begin(), b.end());
    const std::pair<Op, std::function<bool(int, int)>> cases[] = {
        {Op::EQUAL, std::equal_to<int>()},
        {Op::NOT_EQUAL, std::not_equal_to<int>()},
        {Op::GREATER, std::greater<int>()},
        {Op::GREATER_EQUAL, std::greater_equal<int>()},
        {Op::LESS, std::less<int>()},
        {Op::LESS_EQUAL, std::less_equal<int>()},
    };
    for (const auto& [op, ref] : cases) {
      SCOPED_TRACE(fb::EnumNameBuiltinOperator(op));
      auto oi = RunBinary<int32_t>(op, TT::INT32, TT::BOOL, s, a, b);
      auto of = RunBinary<float>(op, TT::FLOAT32, TT::BOOL, s, fa, fb_);
      ASSERT_EQ(oi.size(), 1u);
      ASSERT_EQ(of.size(), 1u);
      ASSERT_EQ(oi[0].dtype, TT::BOOL);
      for (int64_t i = 0; i < NumElements(s.out); ++i) {
        bool want =
            ref(a[SourceIndex(s.a, s.out, i)], b[SourceIndex(s.b, s.out, i)]);
        ASSERT_EQ(oi[0].as<bool>()[i], want) << i;
        ASSERT_EQ(of[0].as<bool>()[i], want) << i;
      }
    }
    std::vector<uint8_t> ba(a.size()), bb(b.size());
    for (size_t i = 0; i < a.size(); ++i) ba[i] = a[i] > 0;
    for (size_t i = 0; i < b.size(); ++i) bb[i] = b[i] > 0;
    auto land =
        RunBinary<uint8_t>(Op::LOGICAL_AND, TT::BOOL, TT::BOOL, s, ba, bb);
    auto lor =
        RunBinary<uint8_t>(Op::LOGICAL_OR, TT::BOOL, TT::BOOL, s, ba, bb);
    ASSERT_EQ(land.size(), 1u);
    ASSERT_EQ(lor.size(), 1u);
    for (int64_t i = 0; i < NumElements(s.out); ++i) {
      bool x = ba[SourceIndex(s.a, s.out, i)],
           y = bb[SourceIndex(s.b, s.out, i)];
      ASSERT_EQ(land[0].as<bool>()[i], x && y);
      ASSERT_EQ(lor[0].as<bool>()[i], x || y);
    }
  }
}

// `out` is the output shape the model declares, which LiteRT keeps when all
// three inputs hold one element.
std::vector<NDArray> RunSelect(Op op, const Shape& c, const Shape& x,
                               const Shape& y, const Shape& out,
                               const std::vector<uint8_t>& cv,
                               const std::vector<float>& xv,
                               const std::vector<float>& yv) {
  OpModelBuilder m;
  int ci = m.AddInput(TT::BOOL, c);
  int xi = m.AddInput(TT::FLOAT32, x);
  int yi = m.AddInput(TT::FLOAT32, y);
  int o = m.AddOutput(TT::FLOAT32, out);
  m.AddOp(op, {ci, xi, yi}, {o});
  return RunOrFail(m.Finish(), {NDArray::Of(TT::BOOL, c, cv),
                                NDArray::Of(TT::FLOAT32, x, xv),
                                NDArray::Of(TT::FLOAT32, y, yv)});
}

TEST(KernelsBinary, SelectV2BroadcastsAllThree) {
  for (int iter = 0; iter < 6; ++iter) {
    uint64_t seed = TestSeed(2500 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Shapes s1 = RandomBroadcast(rng);
    // The third shape: another broadcastable view of the same output.
    Shape c;
    for (int32_t d : s1.out) c.push_back(rng() % 2 ? d : 1);
    std::vector<uint8_t> cv(NumElements(c));
    for (auto& v : cv) v = rng() % 2;
    auto xv = RandomFloats(rng, NumElements(s1.a));
    auto yv = RandomFloats(rng, NumElements(s1.b));
    auto out = RunSelect(Op::SELECT_V2, c, s1.a, s1.b, s1.out, cv, xv, yv);
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].shape, s1.out);
    for (int64_t i = 0; i < NumElements(s1.out); ++i) {
      float want = cv[SourceIndex(c, s1.out, i)]
                       ? xv[SourceIndex(s1.a, s1.out, i)]
                       : yv[SourceIndex(s1.b, s1.out, i)];
      ASSERT_EQ(out[0].as<float>()[i], want) << i;
    }
  }
}

TEST(KernelsBinary, SelectV1TakesRowConditions) {
  std::vector<float> x = {1, 2, 3, 4, 5, 6}, y = {-1, -2, -3, -4, -5, -6};
  auto rows = RunSelect(Op::SELECT, {2}, {2, 3}, {2, 3}, {2, 3}, {0, 1}, x, y);
  ASSERT_EQ(rows.size(), 1u);
  std::vector<float> want = {-1, -2, -3, 4, 5, 6};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(rows[0].as<float>()[i], want[i]);
  auto scalar = RunSelect(Op::SELECT, {}, {2, 3}, {2, 3}, {2, 3}, {1}, x, y);
  ASSERT_EQ(scalar.size(), 1u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(scalar[0].as<float>()[i], x[i]);
}

TEST(KernelsBinaryRejects, ShapesThatDoNotBroadcast) {
  OpModelBuilder m;
  int x = m.AddInput(TT::FLOAT32, {2, 3});
  int y = m.AddInput(TT::FLOAT32, {4});
  int o = m.AddOutput(TT::FLOAT32);
  m.AddOp(Op::ADD, {x, y}, {o});
  auto model = LiteRTModel::Load(m.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("do not broadcast"),
            std::string::npos)
      << model.status().message();
}

TEST(KernelsBinaryRejects, MixedInputTypes) {
  OpModelBuilder m;
  int x = m.AddInput(TT::FLOAT32, {2});
  int y = m.AddInput(TT::INT32, {2});
  int o = m.AddOutput(TT::FLOAT32);
  m.AddOp(Op::MUL, {x, y}, {o});
  auto model = LiteRTModel::Load(m.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("differ in type"), std::string::npos)
      << model.status().message();
}

TEST(KernelsBinaryRejects, IntegerDivisionByZeroAtRunTime) {
  for (Op op : {Op::DIV, Op::FLOOR_DIV, Op::FLOOR_MOD}) {
    OpModelBuilder m;
    int x = m.AddInput(TT::INT32, {2});
    int y = m.AddInput(TT::INT32, {2});
    int o = m.AddOutput(TT::INT32);
    m.AddOp(op, {x, y}, {o});
    auto model = LiteRTModel::Load(m.Finish());
    ASSERT_TRUE(model.ok()) << model.status().message();
    auto r = model->Predict(std::vector<NDArray>{
        NDArray::Of(TT::INT32, {2}, std::vector<int32_t>{4, 5}),
        NDArray::Of(TT::INT32, {2}, std::vector<int32_t>{2, 0})});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("holds a zero"), std::string::npos)
        << r.status().message();
  }
}

TEST(KernelsBinaryRejects, NegativeIntegerPow) {
  OpModelBuilder m;
  int x = m.AddInput(TT::INT32, {2});
  int y = m.AddInput(TT::INT32, {2});
  int o = m.AddOutput(TT::INT32);
  m.AddOp(Op::POW, {x, y}, {o});
  auto model = LiteRTModel::Load(m.Finish());
  ASSERT_TRUE(model.ok());
  auto r = model->Predict(std::vector<NDArray>{
      NDArray::Of(TT::INT32, {2}, std::vector<int32_t>{4, 5}),
      NDArray::Of(TT::INT32, {2}, std::vector<int32_t>{2, -1})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("negative value"), std::string::npos)
      << r.status().message();
}

TEST(KernelsBinaryRejects, SelectV1ConditionOfOtherShape) {
  OpModelBuilder m;
  int c = m.AddInput(TT::BOOL, {3});
  int x = m.AddInput(TT::FLOAT32, {2, 3});
  int y = m.AddInput(TT::FLOAT32, {2, 3});
  int o = m.AddOutput(TT::FLOAT32);
  m.AddOp(Op::SELECT, {c, x, y}, {o});
  auto model = LiteRTModel::Load(m.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("SELECT_V2 broadcasts"),
            std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace k2l::runtime
