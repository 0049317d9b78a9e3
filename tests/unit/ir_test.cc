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

TEST(Graph, SliceSizeComputedFromShapeKeepsItsKnownDims) {
  // rows [0, T) of a [12, 8] table, T read from x's shape at run time.
  Graph g;
  ValueId x = g.AddInput("x", DType::kFloat32, {kDynamic, kDynamic, 8});
  ValueId table =
      g.AddFloatConstant(std::vector<float>(12 * 8, 0.f), {12, 8}, "table");
  ValueId shape = *g.Add(OpKind::kShape, {x}, NoAttrs{}, "shape");
  ValueId t = *g.Add(
      OpKind::kSlice,
      {shape, g.AddInt32Constant({1}, "b"), g.AddInt32Constant({1}, "n")},
      NoAttrs{}, "t");
  ValueId size =
      *g.Add(OpKind::kConcatenation, {t, g.AddInt32Constant({8}, "f")},
             ConcatAttrs{0}, "size");
  auto rows =
      g.Add(OpKind::kSlice, {table, g.AddInt32Constant({0, 0}, "begin"), size},
            NoAttrs{}, "rows");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(g.value(*rows).shape, (Shape{kDynamic, 8}));
  // A computed begin: the sizes still decide the output.
  auto shifted = g.Add(OpKind::kSlice, {table, size, size}, NoAttrs{}, "s");
  ASSERT_TRUE(shifted.ok()) << shifted.status().message();
  EXPECT_EQ(g.value(*shifted).shape, (Shape{kDynamic, 8}));
  // A constant -1 still means "to the end".
  auto rest = g.Add(OpKind::kSlice,
                    {table, g.AddInt32Constant({2, 0}, "b2"),
                     g.AddInt32Constant({-1, 8}, "n2")},
                    NoAttrs{}, "rest");
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(g.value(*rest).shape, (Shape{10, 8}));
  // Known sizes are still checked against the input.
  EXPECT_FALSE(g.Add(OpKind::kSlice,
                     {table, g.AddInt32Constant({0, 0}, "b3"),
                      g.AddInt32Constant({13, 8}, "n3")},
                     NoAttrs{}, "bad")
                   .ok());

  // BroadcastTo the input's run-time shape: fixed dims of the operand
  // fill in what the shape leaves unknown.
  ValueId small =
      g.AddFloatConstant(std::vector<float>(5 * 8, 0.f), {5, 8}, "small");
  auto b = g.Add(OpKind::kBroadcastTo, {small, shape}, NoAttrs{}, "bcast");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(g.value(*b).shape, (Shape{kDynamic, 5, 8}));
  ValueId wrong =
      g.AddFloatConstant(std::vector<float>(5 * 3, 0.f), {5, 3}, "wrong");
  EXPECT_FALSE(
      g.Add(OpKind::kBroadcastTo, {wrong, shape}, NoAttrs{}, "bad_b").ok());
  ValueId big =
      g.AddFloatConstant(std::vector<float>(8, 0.f), {1, 1, 1, 8}, "big");
  EXPECT_FALSE(
      g.Add(OpKind::kBroadcastTo, {big, shape}, NoAttrs{}, "bad_rank").ok());
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
