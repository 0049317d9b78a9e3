#include <gtest/gtest.h>

#include "ir/graph.h"

namespace k2l::ir {
namespace {

TEST(Graph, ShapeInferenceRunsWhenOpsAreAdded) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {kDynamic, 8, 8, 3});
  ValueId w = g.AddFloatConstant(std::vector<float>(4 * 3 * 3 * 3, 0.f),
                                 {4, 3, 3, 3}, "w");
  Conv2DAttrs a;
  a.padding = Padding::kValid;
  a.stride_h = a.stride_w = 2;
  auto y = g.Add(OpKind::kConv2D, {x, w, kNoValue}, a, "conv");
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_EQ(g.value(*y).shape, (Shape{kDynamic, 3, 3, 4}));
}

TEST(Graph, BadOpIsRejectedWithOriginInMessage) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {kDynamic, 5});
  ValueId w = g.AddFloatConstant(std::vector<float>(12, 0.f), {3, 4}, "w");
  auto y =
      g.Add(OpKind::kFullyConnected, {x, w}, FullyConnectedAttrs{}, "dense_7");
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("dense_7"), std::string::npos);
  EXPECT_NE(y.status().message().find("expect 4"), std::string::npos)
      << y.status().message();
}

TEST(Graph, BroadcastingAndDynamicDims) {
  Graph g;
  ValueId a = g.AddInput("a", DType::kFloat32, {kDynamic, 1, 4});
  ValueId b =
      g.AddFloatConstant({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {3, 4}, "b");
  auto y = g.Add(OpKind::kAdd, {a, b}, BinaryAttrs{}, "add");
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(g.value(*y).shape, (Shape{kDynamic, 3, 4}));
  ValueId c = g.AddFloatConstant({1, 2}, {2}, "c");
  EXPECT_FALSE(g.Add(OpKind::kAdd, {*y, c}, BinaryAttrs{}, "bad").ok());
}

TEST(Graph, ReshapeResolvesMinusOneAndKeepsDynamicBatch) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {kDynamic, 4, 5});
  auto y = g.Add(OpKind::kReshape, {x, g.AddInt32Constant({-1, 20}, "s")},
                 NoAttrs{}, "flatten");
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(g.value(*y).shape, (Shape{kDynamic, 20}));
  ValueId s = g.AddInput("s", DType::kFloat32, {2, 6});
  auto z = g.Add(OpKind::kReshape, {s, g.AddInt32Constant({4, -1}, "t")},
                 NoAttrs{}, "r");
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(g.value(*z).shape, (Shape{4, 3}));
  EXPECT_FALSE(g.Add(OpKind::kReshape, {s, g.AddInt32Constant({5, -1}, "u")},
                     NoAttrs{}, "r2")
                   .ok());
}

TEST(Graph, ReductionsConcatTransposeAndSplit) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {kDynamic, 6, 7, 8});
  auto m = g.Add(OpKind::kMean, {x, g.AddInt32Constant({1, 2}, "ax")},
                 ReduceAttrs{true}, "gap");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(g.value(*m).shape, (Shape{kDynamic, 1, 1, 8}));
  auto c = g.Add(OpKind::kConcatenation, {x, x}, ConcatAttrs{-1}, "cat");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(g.value(*c).shape, (Shape{kDynamic, 6, 7, 16}));
  auto t = g.Add(OpKind::kTranspose, {x, g.AddInt32Constant({0, 3, 1, 2}, "p")},
                 NoAttrs{}, "perm");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(g.value(*t).shape, (Shape{kDynamic, 8, 6, 7}));
  auto parts = g.AddOp(OpKind::kSplit, {g.AddInt32Constant({3}, "a"), x},
                       SplitAttrs{4}, "split");
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 4u);
  EXPECT_EQ(g.value((*parts)[0]).shape, (Shape{kDynamic, 6, 7, 2}));
  EXPECT_FALSE(g.AddOp(OpKind::kSplit, {g.AddInt32Constant({3}, "a"), x},
                       SplitAttrs{3}, "split3")
                   .ok());
}

TEST(Graph, TransposeConvOutputFromPadding) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {kDynamic, 4, 4, 3});
  ValueId f = g.AddFloatConstant(std::vector<float>(5 * 3 * 3 * 3, 0.f),
                                 {5, 3, 3, 3}, "f");
  ValueId shape = g.AddInput("shape", DType::kInt32, {4});
  TransposeConvAttrs a;
  a.padding = Padding::kValid;
  a.stride_h = a.stride_w = 2;
  auto y = g.Add(OpKind::kTransposeConv, {shape, f, x}, a, "deconv");
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_EQ(g.value(*y).shape, (Shape{kDynamic, 9, 9, 5}));
}

TEST(Verify, CatchesUseBeforeDefinition) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {2});
  auto y = g.Add(OpKind::kRelu, {x}, NoAttrs{}, "a");
  auto z = g.Add(OpKind::kTanh, {*y}, NoAttrs{}, "b");
  g.outputs().push_back({"z", *z});
  ASSERT_TRUE(Verify(g).ok());
  std::swap(g.mutable_ops()[0], g.mutable_ops()[1]);
  Status s = Verify(g);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("before it is produced"), std::string::npos);
}

TEST(Verify, CatchesStaleShapes) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {2, 3});
  auto y = g.Add(OpKind::kRelu, {x}, NoAttrs{}, "a");
  g.outputs().push_back({"y", *y});
  g.mutable_value(*y).shape = {3, 2};
  EXPECT_FALSE(Verify(g).ok());
}

TEST(Dump, ListsOpsWithOrigins) {
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {kDynamic, 3});
  auto y = g.Add(OpKind::kLogistic, {x}, NoAttrs{}, "sig_layer");
  g.outputs().push_back({"y", *y});
  std::string d = Dump(g);
  EXPECT_NE(d.find("Logistic"), std::string::npos);
  EXPECT_NE(d.find("sig_layer"), std::string::npos);
  EXPECT_NE(d.find("[?, 3]"), std::string::npos);
}

}  // namespace
}  // namespace k2l::ir
