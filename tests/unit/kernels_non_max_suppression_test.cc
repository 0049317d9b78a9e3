// NON_MAX_SUPPRESSION_V5: hand-computed selections (suppression, strict
// score threshold, non-strict IoU threshold, equal scores in heap order,
// either corner order, zero-area boxes, Soft-NMS), the padding past
// valid_outputs, the dynamic output size, and the rejection paths of the
// kernel and of the IR's shape inference.
#include <cmath>

#include "ir/graph.h"
#include "kernels_data_test_util.h"

namespace k2l::runtime {
namespace {

using namespace testing;

const OpSpec kNms{fb::BuiltinOperator::NON_MAX_SUPPRESSION_V5,
                  fb::BuiltinOptions::NonMaxSuppressionV5Options, [](FBB& f) {
                    return fb::CreateNonMaxSuppressionV5Options(f).Union();
                  }};

NDArray F32(Shape shape, const std::vector<float>& v) {
  return Array(TensorType::FLOAT32, std::move(shape), v);
}
NDArray Scalar(float v) { return F32({}, {v}); }

struct NmsCase {
  std::vector<float> boxes;  // [n, 4]
  std::vector<float> scores;
  int32_t max_output_size = 0;
  float iou_threshold = 0.5f;
  float score_threshold = 0.f;
  float sigma = 0.f;
  bool constant_max_size = true;
};

std::vector<OpInput> Inputs(const NmsCase& c) {
  const int32_t n = static_cast<int32_t>(c.scores.size());
  NDArray max_size = I32({}, {c.max_output_size});
  return {Runtime(F32({n, 4}, c.boxes)),
          Runtime(F32({n}, c.scores)),
          c.constant_max_size ? Const(max_size) : Runtime(max_size),
          Runtime(Scalar(c.iou_threshold)),
          Const(Scalar(c.score_threshold)),
          Const(Scalar(c.sigma))};
}

const std::vector<TensorType> kOutTypes = {
    TensorType::INT32, TensorType::FLOAT32, TensorType::INT32};

struct NmsResult {
  Shape shape;  // of selected_indices (selected_scores must match)
  std::vector<int32_t> indices;
  std::vector<float> scores;
  int32_t valid = -1;
};

NmsResult RunNms(const NmsCase& c) {
  auto out = RunOp(kNms, Inputs(c), kOutTypes);
  NmsResult r;
  if (out.size() != 3 || (out[0].data.empty() && c.max_output_size > 0))
    return r;
  EXPECT_EQ(ShapeString(out[0].shape), ShapeString(out[1].shape));
  EXPECT_EQ(ShapeString(out[2].shape), "[]");
  EXPECT_EQ(out[0].dtype, TensorType::INT32);
  EXPECT_EQ(out[1].dtype, TensorType::FLOAT32);
  r.shape = out[0].shape;
  const int64_t m = NumElements(out[0].shape);
  r.indices.assign(out[0].as<int32_t>(), out[0].as<int32_t>() + m);
  r.scores.assign(out[1].as<float>(), out[1].as<float>() + m);
  r.valid = *out[2].as<int32_t>();
  return r;
}

// Three clusters along x: boxes 0-2 overlap (IoU 0.9 / 1.1 with box 0),
// 3-4 overlap, 5 is alone.
NmsCase Clusters() {
  NmsCase c;
  c.boxes = {0, 0,  1, 1,  0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
             0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100,   1, 101};
  c.scores = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};
  c.max_output_size = 3;
  return c;
}

TEST(KernelsNonMaxSuppression, SuppressesOverlapsHighestScoreFirst) {
  NmsResult r = RunNms(Clusters());
  EXPECT_EQ(r.indices, (std::vector<int32_t>{3, 0, 5}));
  EXPECT_EQ(r.scores, (std::vector<float>{0.95f, 0.9f, 0.3f}));
  EXPECT_EQ(r.valid, 3);
}

TEST(KernelsNonMaxSuppression, MaxOutputSizeBelowAndAboveTheSurvivors) {
  NmsCase c = Clusters();
  c.max_output_size = 2;
  NmsResult r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{3, 0}));
  EXPECT_EQ(r.valid, 2);
  // Six slots for three survivors: the rest are 0 and 0.0.
  c.max_output_size = 6;
  r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{3, 0, 5, 0, 0, 0}));
  EXPECT_EQ(r.scores, (std::vector<float>{0.95f, 0.9f, 0.3f, 0, 0, 0}));
  EXPECT_EQ(r.valid, 3);
  c.max_output_size = 0;
  r = RunNms(c);
  EXPECT_EQ(ShapeString(r.shape), "[0]");
  EXPECT_EQ(r.valid, 0);
}

TEST(KernelsNonMaxSuppression, ScoreThresholdIsStrict) {
  // Box 5 scores exactly the threshold and is left out; no box passes 0.95.
  NmsCase c = Clusters();
  c.score_threshold = 0.3f;
  NmsResult r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{3, 0, 0}));
  EXPECT_EQ(r.scores, (std::vector<float>{0.95f, 0.9f, 0.f}));
  EXPECT_EQ(r.valid, 2);
  c.score_threshold = 0.95f;
  r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{0, 0, 0}));
  EXPECT_EQ(r.valid, 0);
}

TEST(KernelsNonMaxSuppression, IouThresholdIsInclusive) {
  // Areas 3 and 3 overlapping by 2: IoU 2 / 4 = 0.5 exactly.
  NmsCase c;
  c.boxes = {0, 0, 1, 3, 0, 1, 1, 4};
  c.scores = {0.9f, 0.8f};
  c.max_output_size = 2;
  c.iou_threshold = 0.5f;
  NmsResult r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(r.valid, 1);
  c.iou_threshold = 0.50001f;
  r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(r.valid, 2);
}

TEST(KernelsNonMaxSuppression, EitherCornerOrder) {
  // The clusters with each box's corners swapped one way or the other.
  NmsCase c = Clusters();
  for (size_t b = 0; b < c.scores.size(); ++b) {
    float* box = &c.boxes[4 * b];
    if (b % 3 != 2) std::swap(box[0], box[2]);
    if (b % 2 == 0) std::swap(box[1], box[3]);
  }
  NmsResult r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{3, 0, 5}));
  EXPECT_EQ(r.valid, 3);
}

TEST(KernelsNonMaxSuppression, EqualScoresComeOutInHeapOrder) {
  // Four disjoint boxes, one score. The candidates come from a binary heap
  // (as in LiteRT), and each selection goes back on it until its own IoU
  // of 1 drops it. Traced by hand: pop 0; pop 2; pop 3; pop 0 again (its
  // own IoU drops it); pop 2 again (dropped); pop 1.
  NmsCase c;
  c.boxes = {0, 0, 1, 1, 0, 2, 1, 3, 0, 4, 1, 5, 0, 6, 1, 7};
  c.scores = {0.5f, 0.5f, 0.5f, 0.5f};
  c.max_output_size = 4;
  NmsResult r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{0, 2, 3, 1}));
  EXPECT_EQ(r.valid, 4);
  // Equal boxes too: the first one out of the heap wins.
  c.boxes = {0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1};
  r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{0, 0, 0, 0}));
  EXPECT_EQ(r.valid, 1);
}

TEST(KernelsNonMaxSuppression, ZeroAreaBoxesOverlapNothing) {
  // A zero-area box has IoU 0 with every box, so it neither suppresses nor
  // is suppressed. Like LiteRT, it is not even suppressed by itself once it
  // goes back on the heap: it fills every remaining slot.
  NmsCase c;
  c.boxes = {0, 0, 1, 1, 0.5f, 0, 0.5f, 1, 0, 0, 1, 1};
  c.scores = {0.9f, 0.8f, 0.7f};
  c.max_output_size = 3;
  NmsResult r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{0, 1, 1}));
  EXPECT_EQ(r.scores, (std::vector<float>{0.9f, 0.8f, 0.8f}));
  EXPECT_EQ(r.valid, 3);
  // An IoU threshold of 0 drops it (IoU 0 >= 0) after its first selection,
  // and drops every box that follows a selection.
  c.iou_threshold = 0.f;
  r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{0, 0, 0}));
  EXPECT_EQ(r.valid, 1);
}

TEST(KernelsNonMaxSuppression, SoftNmsDecaysScoresAndReorders) {
  // Box 1 overlaps box 0 with IoU 0.5 / 1.5; sigma 0.5 multiplies its score
  // by exp(-0.5 * iou^2 / 0.5). Box 2 is far away.
  NmsCase c;
  c.boxes = {0, 0, 1, 1, 0, 0.5f, 1, 1.5f, 0, 5, 1, 6};
  c.scores = {0.9f, 0.8f, 0.75f};
  c.max_output_size = 3;
  c.iou_threshold = 1.f;
  c.sigma = 0.5f;
  const float iou = 0.5f / 1.5f;
  const float decayed = 0.8f * std::exp(-1.f * iou * iou);  // 0.7159
  NmsResult r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{0, 2, 1}));
  ASSERT_EQ(r.scores.size(), 3u);
  EXPECT_EQ(r.scores[0], 0.9f);
  EXPECT_EQ(r.scores[1], 0.75f);
  EXPECT_NEAR(r.scores[2], decayed, 1e-6);
  EXPECT_EQ(r.valid, 3);
  // A decayed score at or below the threshold drops the box.
  c.score_threshold = 0.72f;
  r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{0, 2, 0}));
  EXPECT_EQ(r.valid, 2);
  // Sigma 0 is plain NMS: box 1 stays at 0.8 and comes second.
  c.score_threshold = 0.f;
  c.sigma = 0.f;
  r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(r.scores, (std::vector<float>{0.9f, 0.8f, 0.75f}));
}

TEST(KernelsNonMaxSuppression, RuntimeMaxOutputSizeResizesTheOutputs) {
  NmsCase c = Clusters();
  c.constant_max_size = false;
  c.max_output_size = 5;
  NmsResult r = RunNms(c);
  EXPECT_EQ(ShapeString(r.shape), "[5]");
  EXPECT_EQ(r.indices, (std::vector<int32_t>{3, 0, 5, 0, 0}));
  EXPECT_EQ(r.valid, 3);
  c.max_output_size = 1;
  r = RunNms(c);
  EXPECT_EQ(r.indices, (std::vector<int32_t>{3}));
  EXPECT_EQ(r.valid, 1);
}

TEST(KernelsNonMaxSuppressionRejects, BadShapesTypesAndValues) {
  NmsCase c = Clusters();
  std::vector<OpInput> in = Inputs(c);
  in[0] = Runtime(F32({6, 3}, std::vector<float>(18)));
  K2L_EXPECT_ERROR(RunError(kNms, in, kOutTypes), "it must be [num_boxes, 4]");
  in = Inputs(c);
  in[1] = Runtime(F32({5}, std::vector<float>(5)));
  K2L_EXPECT_ERROR(RunError(kNms, in, kOutTypes), "one score per box");
  in = Inputs(c);
  in[0] = Runtime(I32({6, 4}, std::vector<int32_t>(24)));
  K2L_EXPECT_ERROR(RunError(kNms, in, kOutTypes),
                   "boxes 't0' has type int32 but this kernel takes float32");
  in = Inputs(c);
  in[2] = Const(Scalar(3.f));
  K2L_EXPECT_ERROR(RunError(kNms, in, kOutTypes), "max_output_size 't2'");
  in = Inputs(c);
  in[3] = Runtime(F32({1}, {0.5f}));
  K2L_EXPECT_ERROR(RunError(kNms, in, kOutTypes), "it must be a scalar");
  in = Inputs(c);
  in.pop_back();
  K2L_EXPECT_ERROR(RunError(kNms, in, kOutTypes), "has 5 inputs but takes 6");
  K2L_EXPECT_ERROR(
      RunError(kNms, Inputs(c),
               {TensorType::INT32, TensorType::INT32, TensorType::INT32}),
      "selected_scores");

  c.max_output_size = -1;
  K2L_EXPECT_ERROR(RunError(kNms, Inputs(c), kOutTypes),
                   "max_output_size 't2' is -1; it must be >= 0");
  c.constant_max_size = false;
  K2L_EXPECT_ERROR(RunError(kNms, Inputs(c), kOutTypes),
                   "max_output_size 't2' is -1; it must be >= 0");
  c = Clusters();
  c.sigma = -0.5f;
  K2L_EXPECT_ERROR(RunError(kNms, Inputs(c), kOutTypes),
                   "soft_nms_sigma 't5' is -0.5");
  // A computed sigma is checked when the op runs.
  in = Inputs(c);
  in[5] = Runtime(Scalar(-0.5f));
  K2L_EXPECT_ERROR(RunError(kNms, in, kOutTypes), "it must be >= 0");
}

// Shape inference of the IR op.
class NonMaxSuppressionInfer : public ::testing::Test {
 protected:
  ir::ValueId Int32Scalar(int32_t v, const std::string& name) {
    return g.AddConstant(ir::TensorData::FromVector(ir::DType::kInt32, {},
                                                    std::vector<int32_t>{v}),
                         name);
  }
  std::vector<ir::ValueId> Ins(ir::Shape boxes = {ir::kDynamic, 4},
                               ir::Shape scores = {ir::kDynamic}) {
    return {g.AddInput("boxes", ir::DType::kFloat32, std::move(boxes)),
            g.AddInput("scores", ir::DType::kFloat32, std::move(scores)),
            Int32Scalar(10, "max"),
            g.AddScalarFloat(0.5f, "iou"),
            g.AddScalarFloat(0.f, "score"),
            g.AddScalarFloat(0.f, "sigma")};
  }
  std::string Error(std::vector<ir::ValueId> in) {
    auto r = g.AddOp(ir::OpKind::kNonMaxSuppressionV5, std::move(in),
                     ir::NoAttrs{}, "nms");
    EXPECT_FALSE(r.ok()) << "accepted";
    return r.ok() ? "" : r.status().message();
  }
  ir::Graph g;
};

TEST_F(NonMaxSuppressionInfer, OutputsAreMaxOutputSizeLong) {
  auto out =
      g.AddOp(ir::OpKind::kNonMaxSuppressionV5, Ins(), ir::NoAttrs{}, "nms");
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 3u);
  EXPECT_EQ(g.value((*out)[0]).dtype, ir::DType::kInt32);
  EXPECT_EQ(g.value((*out)[0]).shape, (ir::Shape{10}));
  EXPECT_EQ(g.value((*out)[1]).dtype, ir::DType::kFloat32);
  EXPECT_EQ(g.value((*out)[1]).shape, (ir::Shape{10}));
  EXPECT_EQ(g.value((*out)[2]).dtype, ir::DType::kInt32);
  EXPECT_EQ(g.value((*out)[2]).shape, (ir::Shape{}));
  // A computed max_output_size leaves the length dynamic.
  auto in = Ins({7, 4}, {7});
  in[2] = g.AddInput("max_size", ir::DType::kInt32, {});
  out = g.AddOp(ir::OpKind::kNonMaxSuppressionV5, in, ir::NoAttrs{}, "nms2");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(g.value((*out)[0]).shape, (ir::Shape{ir::kDynamic}));
  EXPECT_EQ(g.value((*out)[1]).shape, (ir::Shape{ir::kDynamic}));
}

TEST_F(NonMaxSuppressionInfer, RejectsWrongRanksDtypesAndValues) {
  K2L_EXPECT_ERROR(Error(Ins({8}, {8})),
                   "boxes must be float32 [num_boxes, 4], got float32[8]");
  K2L_EXPECT_ERROR(Error(Ins({8, 3}, {8})), "got float32[8, 3]");
  K2L_EXPECT_ERROR(Error(Ins({8, 4}, {8, 1})),
                   "scores must be float32 [num_boxes]");
  K2L_EXPECT_ERROR(Error(Ins({8, 4}, {6})), "disagree on the number of boxes");
  auto in = Ins();
  in[1] = g.AddInput("int_scores", ir::DType::kInt32, {ir::kDynamic});
  K2L_EXPECT_ERROR(Error(in), "scores must be float32 [num_boxes], got int32");
  in = Ins();
  in[2] = g.AddScalarFloat(3.f, "float_max");
  K2L_EXPECT_ERROR(Error(in), "max_output_size must be an int32 scalar");
  in = Ins();
  in[2] = g.AddInt32Constant({3}, "vector_max");
  K2L_EXPECT_ERROR(Error(in), "max_output_size must be an int32 scalar");
  in = Ins();
  in[2] = Int32Scalar(-2, "negative_max");
  K2L_EXPECT_ERROR(Error(in), "max_output_size is -2; it must be >= 0");
  in = Ins();
  in[3] = g.AddFloatConstant({0.5f}, {1}, "vector_iou");
  K2L_EXPECT_ERROR(Error(in), "iou_threshold must be a float32 scalar");
  in = Ins();
  in[4] = Int32Scalar(0, "int_score");
  K2L_EXPECT_ERROR(Error(in), "score_threshold must be a float32 scalar");
  in = Ins();
  in[5] = g.AddScalarFloat(-1.f, "negative_sigma");
  K2L_EXPECT_ERROR(Error(in), "soft_nms_sigma is -1.0");
  in = Ins();
  in.pop_back();
  K2L_EXPECT_ERROR(Error(in), "expects 6..6 inputs");
}

}  // namespace
}  // namespace k2l::runtime
