// UNSORTED_SEGMENT_* and SEGMENT_SUM against a double-precision reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::OpModelBuilder;
using Op = fb::BuiltinOperator;

std::vector<double> Reference(Op op, const std::vector<float>& data,
                              const std::vector<int32_t>& ids, int rows,
                              int inner) {
  double init =
      op == Op::UNSORTED_SEGMENT_PROD  ? 1.0
      : op == Op::UNSORTED_SEGMENT_MAX ? std::numeric_limits<float>::lowest()
      : op == Op::UNSORTED_SEGMENT_MIN ? std::numeric_limits<float>::max()
                                       : 0.0;
  std::vector<double> out(rows * inner, init);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0) continue;
    for (int k = 0; k < inner; ++k) {
      double& o = out[ids[i] * inner + k];
      double v = data[i * inner + k];
      if (op == Op::UNSORTED_SEGMENT_PROD)
        o *= v;
      else if (op == Op::UNSORTED_SEGMENT_MAX)
        o = std::max(o, v);
      else if (op == Op::UNSORTED_SEGMENT_MIN)
        o = std::min(o, v);
      else
        o += v;
    }
  }
  return out;
}

TEST(SegmentKernels, MatchReferenceOverRandomShapes) {
  for (Op op :
       {Op::UNSORTED_SEGMENT_SUM, Op::UNSORTED_SEGMENT_PROD,
        Op::UNSORTED_SEGMENT_MAX, Op::UNSORTED_SEGMENT_MIN, Op::SEGMENT_SUM}) {
    for (int iter = 0; iter < 5; ++iter) {
      uint64_t seed = testing::TestSeed(100 + iter);
      SCOPED_TRACE(BuiltinName(op) + " seed=" + std::to_string(seed));
      std::mt19937_64 rng(seed);
      Shape shape = testing::RandomShape(rng, 3);
      int n = shape[0], inner = shape[1] * shape[2];
      int rows = std::uniform_int_distribution<int>(1, 4)(rng);
      std::vector<int32_t> ids(n);
      for (auto& id : ids)
        id = std::uniform_int_distribution<int>(-1, rows - 1)(rng);
      if (op == Op::SEGMENT_SUM) {
        for (auto& id : ids) id = std::max(id, 0);
        std::sort(ids.begin(), ids.end());
        rows = ids.back() + 1;
      }
      auto data = testing::RandomFloats(rng, n * inner);
      OpModelBuilder b;
      int x = b.AddInput(TensorType::FLOAT32, shape);
      int s = b.AddConst(TensorType::INT32, {n}, ids);
      std::vector<int> ins = {x, s};
      if (op != Op::SEGMENT_SUM)
        ins.push_back(
            b.AddConst(TensorType::INT32, {}, std::vector<int32_t>{rows}));
      int y = b.AddOutput(TensorType::FLOAT32);
      b.AddOp(op, ins, {y});
      auto out = testing::RunOrFail(
          b.Finish(), {NDArray::Of(TensorType::FLOAT32, shape, data)});
      ASSERT_EQ(out.size(), 1u);
      EXPECT_EQ(out[0].shape, (Shape{rows, shape[1], shape[2]}));
      // Sums and products of a few floats: float32 rounding only.
      testing::ExpectNear(out[0], Reference(op, data, ids, rows, inner), 1e-5,
                          1e-5);
    }
  }
}

TEST(SegmentKernels, RejectIdBeyondNumSegments) {
  OpModelBuilder b;
  int x = b.AddInput(TensorType::FLOAT32, {3, 2});
  int s = b.AddConst(TensorType::INT32, {3}, std::vector<int32_t>{0, 5, 1});
  int n = b.AddConst(TensorType::INT32, {}, std::vector<int32_t>{2});
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(Op::UNSORTED_SEGMENT_SUM, {x, s, n}, {y});
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto out = model->Predict(
      {NDArray::Of(TensorType::FLOAT32, {3, 2}, std::vector<float>(6, 1.f))});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("segment id 5 at position 1 is out of "
                                        "range [0, 2)"),
            std::string::npos)
      << out.status().message();
}

TEST(SegmentKernels, RejectUnsortedIdsForSegmentSum) {
  OpModelBuilder b;
  int x = b.AddInput(TensorType::FLOAT32, {3});
  int s = b.AddConst(TensorType::INT32, {3}, std::vector<int32_t>{1, 0, 2});
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(Op::SEGMENT_SUM, {x, s}, {y});
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("must be sorted"), std::string::npos);
}

}  // namespace
}  // namespace k2l::runtime
