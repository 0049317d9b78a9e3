#include "frontend/keras/einsum_lowering.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <numeric>

namespace k2l::keras {
namespace {

using ir::OpKind;

ir::TensorData Iota(ir::Shape shape, float start = 0) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), start);
  return ir::TensorData::FromVector(ir::DType::kFloat32, std::move(shape), v);
}

// A graph with one input and a context for a layer 'ein' reading it.
struct Fixture {
  explicit Fixture(ir::Shape x_shape) {
    x = g.AddInput("x", ir::DType::kFloat32, std::move(x_shape));
    ctx = std::make_unique<LayerContext>(g, config, "EinsumDense", "ein",
                                         std::vector<ir::ValueId>{x}, args,
                                         kwargs, nullptr, WeightPath{});
  }
  std::vector<OpKind> Kinds() const {
    std::vector<OpKind> k;
    for (const ir::Op& op : g.ops()) k.push_back(op.kind);
    return k;
  }
  ir::Graph g;
  nlohmann::json config = nlohmann::json::object();
  nlohmann::json args = nlohmann::json::array();
  nlohmann::json kwargs = nlohmann::json::object();
  ir::ValueId x;
  std::unique_ptr<LayerContext> ctx;
};

TEST(LowerEinsumDense, TrailingContractionIsOneFullyConnected) {
  Fixture f({ir::kDynamic, 5, 4});
  auto y =
      LowerEinsumDense(*f.ctx, f.x, "abc,cd->abd", Iota({4, 3}), nullptr, "");
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_EQ(f.Kinds(), std::vector<OpKind>{OpKind::kFullyConnected});
  EXPECT_EQ(f.g.value(*y).shape, (ir::Shape{ir::kDynamic, 5, 3}));
  // Keras' (in, out) kernel becomes FULLY_CONNECTED's (out, in).
  const ir::Value& w = f.g.value(f.g.ops()[0].inputs[1]);
  EXPECT_EQ(w.shape, (ir::Shape{3, 4}));
  auto wv = w.constant->as<float>();
  EXPECT_EQ(wv[1], 3.0f);  // w[0][1] = kernel[1][0]
}

TEST(LowerEinsumDense, SplitOutputAxesAndPartialBiasFuse) {
  Fixture f({ir::kDynamic, 5, 4});
  // Bias over 'd' only: Keras' bias has shape [2, 1] and broadcasts over e.
  ir::TensorData bias = Iota({2, 1}, 1);
  auto y = LowerEinsumDense(*f.ctx, f.x, "abc,cde->abde", Iota({4, 2, 3}),
                            &bias, "d");
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_EQ(f.Kinds(),
            (std::vector<OpKind>{OpKind::kFullyConnected, OpKind::kReshape}));
  EXPECT_EQ(f.g.value(*y).shape, (ir::Shape{ir::kDynamic, 5, 2, 3}));
  const ir::Value& b = f.g.value(f.g.ops()[0].inputs[2]);
  auto bv = b.constant->as<float>();
  EXPECT_EQ(std::vector<float>(bv.begin(), bv.end()),
            (std::vector<float>{1, 1, 1, 2, 2, 2}));
}

TEST(LowerEinsumDense, MiddleContractionTransposesFirst) {
  Fixture f({ir::kDynamic, 5, 4});
  auto y =
      LowerEinsumDense(*f.ctx, f.x, "abc,bd->acd", Iota({5, 3}), nullptr, "");
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_EQ(f.Kinds(),
            (std::vector<OpKind>{OpKind::kTranspose, OpKind::kFullyConnected}));
  EXPECT_EQ(f.g.value(*y).shape, (ir::Shape{ir::kDynamic, 4, 3}));
}

TEST(LowerEinsumDense, SharedAxisIsBatchMatMulWithBiasAdded) {
  Fixture f({ir::kDynamic, 5, 4});
  ir::TensorData bias = Iota({5, 3});
  auto y = LowerEinsumDense(*f.ctx, f.x, "abc,bcd->abd", Iota({5, 4, 3}), &bias,
                            "bd");
  ASSERT_TRUE(y.ok()) << y.status().message();
  auto kinds = f.Kinds();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), OpKind::kBatchMatMul),
            kinds.end());
  EXPECT_EQ(kinds.back(), OpKind::kAdd);
  EXPECT_EQ(f.g.value(*y).shape, (ir::Shape{ir::kDynamic, 5, 3}));
}

TEST(LowerEinsumDense, KeepsSeveralUnknownDimsThatPassThrough) {
  Fixture f({ir::kDynamic, ir::kDynamic, 4});
  auto y = LowerEinsumDense(*f.ctx, f.x, "abc,cde->abde", Iota({4, 2, 3}),
                            nullptr, "");
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_EQ(f.ctx->shape(*y),
            (ir::Shape{ir::kDynamic, ir::kDynamic, 2, 3}));
}

TEST(LowerEinsumDense, RefusesWithTheEquationNamed) {
  struct Case {
    const char* equation;
    ir::Shape x, kernel;
    const char* fragment;
  };
  const Case cases[] = {
      {"abc,cd->bad", {ir::kDynamic, 4, 4}, {4, 3}, "batch axis"},
      {"abb,bc->ac", {ir::kDynamic, 4, 4}, {4, 3}, "repeats the letter 'b'"},
      {"abc->abc", {ir::kDynamic, 4, 4}, {4, 3}, "is not of the form"},
      {"abcd,bde->abce",
       {ir::kDynamic, 3, ir::kDynamic, 4},
       {3, 4, 2},
       "merges unknown dimensions"},
      {"abc,cd->abd", {ir::kDynamic, 5, 4}, {6, 3}, "expects size 6"},
  };
  for (const Case& c : cases) {
    Fixture f(c.x);
    auto y =
        LowerEinsumDense(*f.ctx, f.x, c.equation, Iota(c.kernel), nullptr, "");
    ASSERT_FALSE(y.ok()) << c.equation;
    const std::string& m = y.status().message();
    EXPECT_NE(m.find("layer 'ein' (EinsumDense)"), std::string::npos) << m;
    EXPECT_NE(m.find(c.equation), std::string::npos) << m;
    EXPECT_NE(m.find(c.fragment), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace k2l::keras
