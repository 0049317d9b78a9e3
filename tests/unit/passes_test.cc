#include <gtest/gtest.h>

#include "passes/pass.h"
#include "passes/pipeline.h"

namespace k2l::passes {
namespace {

using ir::DType;
using ir::Graph;
using ir::kDynamic;
using ir::kNoValue;
using ir::OpKind;
using ir::ValueId;

std::vector<float> ConstFloats(const Graph& g, ValueId id) {
  auto s = g.value(id).constant->as<float>();
  return {s.begin(), s.end()};
}

int Count(const Graph& g, OpKind k) {
  int n = 0;
  for (const auto& op : g.ops()) n += op.kind == k;
  return n;
}

// x[?,2] -> FC(W=[[1,2],[3,4]], b=[1,1]) -> MUL [2,3] -> ADD [10,20]
Graph DenseWithAffine() {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {kDynamic, 2});
  ValueId w = g.AddFloatConstant({1, 2, 3, 4}, {2, 2}, "w");
  ValueId b = g.AddFloatConstant({1, 1}, {2}, "b");
  ValueId y = *g.Add(OpKind::kFullyConnected, {x, w, b},
                     ir::FullyConnectedAttrs{}, "d");
  ValueId m = *g.Add(OpKind::kMul, {y, g.AddFloatConstant({2, 3}, {2}, "s")},
                     ir::BinaryAttrs{}, "bn");
  ValueId a = *g.Add(OpKind::kAdd, {m, g.AddFloatConstant({10, 20}, {2}, "t")},
                     ir::BinaryAttrs{}, "bn");
  g.outputs().push_back({"out", a});
  return g;
}

TEST(FoldBatchNorm, FoldsMulAndAddIntoFullyConnected) {
  Graph g = DenseWithAffine();
  ASSERT_TRUE(FoldBatchNorm(g).ok());
  ASSERT_TRUE(ir::Verify(g).ok());
  ASSERT_EQ(g.ops().size(), 1u);
  const auto& fc = g.ops()[0];
  EXPECT_EQ(fc.kind, OpKind::kFullyConnected);
  EXPECT_EQ(fc.outputs[0], g.outputs()[0].value);
  // Row c of W scales by s[c]; bias becomes b*s + t.
  EXPECT_EQ(ConstFloats(g, fc.inputs[1]), (std::vector<float>{2, 4, 9, 12}));
  EXPECT_EQ(ConstFloats(g, fc.inputs[2]), (std::vector<float>{12, 23}));
}

TEST(FoldBatchNorm, LeavesSharedProducersAlone) {
  Graph g = DenseWithAffine();
  // A second reader of the FC output keeps it from being rewritten.
  g.outputs().push_back({"raw", g.ops()[0].outputs[0]});
  ASSERT_TRUE(FoldBatchNorm(g).ok());
  EXPECT_EQ(g.ops().size(), 3u);
}

TEST(FoldBatchNorm, FoldsIntoDepthwiseAlongLastAxis) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {kDynamic, 3, 3, 2});
  ValueId w =
      g.AddFloatConstant(std::vector<float>(18, 1.f), {1, 3, 3, 2}, "w");
  ValueId y = *g.Add(OpKind::kDepthwiseConv2D, {x, w, kNoValue},
                     ir::DepthwiseConv2DAttrs{}, "dw");
  ValueId m = *g.Add(OpKind::kMul, {y, g.AddFloatConstant({2, 5}, {2}, "s")},
                     ir::BinaryAttrs{}, "bn");
  g.outputs().push_back({"out", m});
  ASSERT_TRUE(FoldBatchNorm(g).ok());
  ASSERT_EQ(g.ops().size(), 1u);
  auto nw = ConstFloats(g, g.ops()[0].inputs[1]);
  for (size_t i = 0; i < nw.size(); ++i) EXPECT_EQ(nw[i], i % 2 ? 5.f : 2.f);
  EXPECT_EQ(ConstFloats(g, g.ops()[0].inputs[2]), (std::vector<float>{0, 0}));
}

TEST(FuseActivation, FusesReluIntoConvButNotIntoSharedValue) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {kDynamic, 4, 4, 1});
  ValueId w = g.AddFloatConstant(std::vector<float>(9, 1.f), {1, 3, 3, 1}, "w");
  ValueId c =
      *g.Add(OpKind::kConv2D, {x, w, kNoValue}, ir::Conv2DAttrs{}, "conv");
  ValueId r = *g.Add(OpKind::kRelu6, {c}, ir::NoAttrs{}, "act");
  g.outputs().push_back({"y", r});
  ASSERT_TRUE(FuseActivation(g).ok());
  ASSERT_TRUE(ir::Verify(g).ok());
  ASSERT_EQ(g.ops().size(), 1u);
  EXPECT_EQ(std::get<ir::Conv2DAttrs>(g.ops()[0].attrs).activation,
            ir::Activation::kRelu6);

  Graph h;
  ValueId a = h.AddInput("a", DType::kFloat32, {2});
  ValueId s = *h.Add(OpKind::kAdd, {a, a}, ir::BinaryAttrs{}, "add");
  ValueId t = *h.Add(OpKind::kRelu, {s}, ir::NoAttrs{}, "relu");
  h.outputs().push_back({"pre", s});
  h.outputs().push_back({"post", t});
  ASSERT_TRUE(FuseActivation(h).ok());
  EXPECT_EQ(h.ops().size(), 2u);
}

TEST(RemoveIdentity, DropsNoOpReshapeTransposeAndMulByOne) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {kDynamic, 3});
  ValueId a = *g.Add(OpKind::kReshape, {x, g.AddInt32Constant({-1, 3}, "s")},
                     ir::NoAttrs{}, "r");
  ValueId b = *g.Add(OpKind::kTranspose, {a, g.AddInt32Constant({0, 1}, "p")},
                     ir::NoAttrs{}, "t");
  ValueId c = *g.Add(OpKind::kMul, {b, g.AddScalarFloat(1.f, "one")},
                     ir::BinaryAttrs{}, "m");
  ValueId d = *g.Add(OpKind::kTanh, {c}, ir::NoAttrs{}, "tanh");
  g.outputs().push_back({"y", d});
  ASSERT_TRUE(RemoveIdentity(g).ok());
  ASSERT_TRUE(ir::Verify(g).ok());
  ASSERT_EQ(g.ops().size(), 1u);
  EXPECT_EQ(g.ops()[0].inputs[0], x);
}

TEST(RemoveIdentity, KeepsAnOpThatWouldAliasInputAndOutput) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {kDynamic, 3});
  ValueId a = *g.Add(OpKind::kReshape, {x, g.AddInt32Constant({-1, 3}, "s")},
                     ir::NoAttrs{}, "r");
  g.outputs().push_back({"y", a});
  ASSERT_TRUE(RemoveIdentity(g).ok());
  EXPECT_EQ(g.ops().size(), 1u);
}

TEST(FoldConstants, EvaluatesConstantSubgraphs) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {2, 3});
  ValueId k = g.AddFloatConstant({1, 2, 3, 4, 5, 6}, {3, 2}, "k");
  ValueId kt = *g.Add(OpKind::kTranspose, {k, g.AddInt32Constant({1, 0}, "p")},
                      ir::NoAttrs{}, "t");
  ValueId k2 = *g.Add(OpKind::kMul, {kt, g.AddScalarFloat(2.f, "two")},
                      ir::BinaryAttrs{}, "m");
  ValueId y = *g.Add(OpKind::kAdd, {x, k2}, ir::BinaryAttrs{}, "add");
  g.outputs().push_back({"y", y});
  ASSERT_TRUE(FoldConstants(g).ok());
  ASSERT_TRUE(ir::Verify(g).ok());
  ASSERT_EQ(g.ops().size(), 1u);
  EXPECT_EQ(ConstFloats(g, g.ops()[0].inputs[1]),
            (std::vector<float>{2, 6, 10, 4, 8, 12}));
}

TEST(DedupeConstantsAndEliminateDead, ShareIdenticalDataAndDropUnusedOps) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {4});
  ValueId c1 = g.AddFloatConstant({1, 2, 3, 4}, {4}, "c1");
  ValueId c2 = g.AddFloatConstant({1, 2, 3, 4}, {4}, "c2");
  ValueId a = *g.Add(OpKind::kAdd, {x, c1}, ir::BinaryAttrs{}, "a");
  ValueId b = *g.Add(OpKind::kMul, {a, c2}, ir::BinaryAttrs{}, "b");
  *g.Add(OpKind::kExp, {b}, ir::NoAttrs{}, "unused");
  g.outputs().push_back({"y", b});
  ASSERT_TRUE(DedupeConstants(g).ok());
  EXPECT_EQ(g.ops()[1].inputs[1], c1);
  ASSERT_TRUE(EliminateDead(g).ok());
  EXPECT_EQ(g.ops().size(), 2u);
  EXPECT_EQ(Count(g, OpKind::kExp), 0);
}

TEST(Pipeline, ReportsEveryPassInOrder) {
  Graph g = DenseWithAffine();
  std::vector<std::string> seen;
  PipelineOptions o;
  o.after_pass = [&](const std::string& p, const Graph&) { seen.push_back(p); };
  ASSERT_TRUE(RunPipeline(g, o).ok());
  EXPECT_EQ(seen.front(), "lower");
  EXPECT_EQ(seen.back(), "eliminate_dead");
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_EQ(g.ops().size(), 1u);
}

}  // namespace
}  // namespace k2l::passes
