// EstimateCost: the convolution family's multiply-adds and the default of
// one flop per output element, with the bytes each op reads and writes.
#include <gtest/gtest.h>

#include "runtime/interpreter.h"
#include "runtime/kernels/op_cost.h"
#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::FBB;
using testing::OpModelBuilder;

TEST(KernelsOpCost, CountsConvMultiplyAddsAndBytes) {
  // CONV_2D 1x8x8x3 -> 4 channels, 3x3 SAME, then RESHAPE (the default
  // model: one flop per output element).
  OpModelBuilder b;
  int x = b.AddInput(TensorType::FLOAT32, {1, 8, 8, 3});
  int f =
      b.AddConst(TensorType::FLOAT32, {4, 3, 3, 3}, std::vector<float>(4 * 27));
  int bias = b.AddConst(TensorType::FLOAT32, {4}, std::vector<float>(4));
  int y = b.AddTensor(TensorType::FLOAT32, {}, {}, {});
  int shape = b.AddConst(TensorType::INT32, {2}, std::vector<int32_t>{64, 4});
  int z = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(
      fb::BuiltinOperator::CONV_2D, {x, f, bias}, {y},
      fb::BuiltinOptions::Conv2DOptions, [](FBB& fbb) {
        return fb::CreateConv2DOptions(fbb, fb::Padding::SAME, 1, 1).Union();
      });
  b.AddOp(fb::BuiltinOperator::RESHAPE, {y, shape}, {z});
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_TRUE(model.ok()) << model.status().message();
  Subgraph& sg = model->interpreter().subgraph(0);
  ASSERT_TRUE(sg.AllocateTensors().ok());
  OpCost conv = EstimateCost(sg.nodes()[0], sg);
  EXPECT_EQ(conv.flops, 2 * (8 * 8 * 4) * (3 * 3 * 3));
  EXPECT_EQ(conv.bytes_read, 4 * (8 * 8 * 3 + 4 * 27 + 4));
  EXPECT_EQ(conv.bytes_written, 4 * 8 * 8 * 4);
  OpCost reshape = EstimateCost(sg.nodes()[1], sg);
  EXPECT_EQ(reshape.flops, 8 * 8 * 4);
  EXPECT_EQ(reshape.bytes_read, 4 * 8 * 8 * 4 + 8);
}

TEST(KernelsOpCost, CountsMatmulsTransposedConvsAndPools) {
  // FULLY_CONNECTED [2, 6] x [5, 6]; BATCH_MATMUL [3, 2, 5] x [5, 4];
  // MAX_POOL_2D 2x2 over [1, 4, 4, 3] (VALID, stride 2).
  OpModelBuilder b;
  int x = b.AddInput(TensorType::FLOAT32, {2, 6});
  int w = b.AddConst(TensorType::FLOAT32, {5, 6}, std::vector<float>(30));
  int fc = b.AddOutput(TensorType::FLOAT32);
  int l = b.AddInput(TensorType::FLOAT32, {3, 2, 5});
  int r = b.AddConst(TensorType::FLOAT32, {5, 4}, std::vector<float>(20));
  int mm = b.AddOutput(TensorType::FLOAT32);
  int p = b.AddInput(TensorType::FLOAT32, {1, 4, 4, 3});
  int pool = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::FULLY_CONNECTED, {x, w, -1}, {fc});
  b.AddOp(fb::BuiltinOperator::BATCH_MATMUL, {l, r}, {mm});
  b.AddOp(fb::BuiltinOperator::MAX_POOL_2D, {p}, {pool},
          fb::BuiltinOptions::Pool2DOptions, [](FBB& fbb) {
            return fb::CreatePool2DOptions(fbb, fb::Padding::VALID, 2, 2, 2, 2)
                .Union();
          });
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_TRUE(model.ok()) << model.status().message();
  Subgraph& sg = model->interpreter().subgraph(0);
  ASSERT_TRUE(sg.AllocateTensors().ok());
  EXPECT_EQ(EstimateCost(sg.nodes()[0], sg).flops, 2 * (2 * 5) * 6);
  EXPECT_EQ(EstimateCost(sg.nodes()[0], sg).bytes_read, 4 * (12 + 30));
  EXPECT_EQ(EstimateCost(sg.nodes()[1], sg).flops, 2 * (3 * 2 * 4) * 5);
  EXPECT_EQ(EstimateCost(sg.nodes()[2], sg).flops, (2 * 2 * 3) * 4);
  EXPECT_EQ(EstimateCost(sg.nodes()[2], sg).bytes_written, 4 * 2 * 2 * 3);
}

}  // namespace
}  // namespace k2l::runtime
