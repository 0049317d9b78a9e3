// NON_MAX_SUPPRESSION_V5 (float32). The selections are max_output_size long:
// sized in Prepare when it is a constant, else right before each Eval. The
// entries past valid_outputs are 0 (indices) and 0.0 (scores).
#include "runtime/reference/non_max_suppression.h"

#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

constexpr int kBoxes = 0;
constexpr int kScores = 1;
constexpr int kMaxOutputSize = 2;
constexpr int kIouThreshold = 3;
constexpr int kScoreThreshold = 4;
constexpr int kSigma = 5;

Status CheckScalar(const OpContext& ctx, int i, const char* what,
                   TensorType type) {
  const Tensor& t = ctx.input(i);
  K2L_RETURN_IF_ERROR(CheckType(ctx, t, what, {type}));
  if (t.rank() == 0) return Status::Ok();
  return ctx.Error(std::string(what) + " '" + t.name + "' has shape " +
                   ShapeString(t.shape) + "; it must be a scalar");
}

Status CheckSigma(const OpContext& ctx) {
  const Tensor& t = ctx.input(kSigma);
  const float sigma = *t.data<float>();
  if (sigma >= 0.f) return Status::Ok();
  return ctx.Error("soft_nms_sigma '" + t.name + "' is " +
                   std::to_string(sigma) +
                   "; it must be >= 0 (0 turns Soft-NMS off)");
}

Status NmsPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 6, 6, 3));
  const Tensor& boxes = ctx.input(kBoxes);
  const Tensor& scores = ctx.input(kScores);
  K2L_RETURN_IF_ERROR(CheckType(ctx, boxes, "boxes", {TensorType::FLOAT32}));
  if (boxes.rank() != 2 || boxes.dim(1) != 4) {
    return ctx.Error("boxes '" + boxes.name + "' has shape " +
                     ShapeString(boxes.shape) +
                     "; it must be [num_boxes, 4] ([y1, x1, y2, x2] rows)");
  }
  K2L_RETURN_IF_ERROR(CheckType(ctx, scores, "scores", {TensorType::FLOAT32}));
  if (scores.rank() != 1 || scores.dim(0) != boxes.dim(0)) {
    return ctx.Error("scores '" + scores.name + "' has shape " +
                     ShapeString(scores.shape) + " for boxes of shape " +
                     ShapeString(boxes.shape) + "; it must be [" +
                     std::to_string(boxes.dim(0)) + "], one score per box");
  }
  K2L_RETURN_IF_ERROR(
      CheckScalar(ctx, kMaxOutputSize, "max_output_size", TensorType::INT32));
  K2L_RETURN_IF_ERROR(
      CheckScalar(ctx, kIouThreshold, "iou_threshold", TensorType::FLOAT32));
  K2L_RETURN_IF_ERROR(CheckScalar(ctx, kScoreThreshold, "score_threshold",
                                  TensorType::FLOAT32));
  K2L_RETURN_IF_ERROR(
      CheckScalar(ctx, kSigma, "soft_nms_sigma", TensorType::FLOAT32));
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, ctx.output(0), "selected_indices", {TensorType::INT32}));
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, ctx.output(1), "selected_scores", {TensorType::FLOAT32}));
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, ctx.output(2), "valid_outputs", {TensorType::INT32}));
  if (ctx.ValueKnown(kSigma)) K2L_RETURN_IF_ERROR(CheckSigma(ctx));
  K2L_RETURN_IF_ERROR(ctx.ResizeOutput(2, {}));
  if (!ctx.ValueKnown(kMaxOutputSize)) {
    ctx.Defer();
    return Status::Ok();
  }
  const Tensor& max_size = ctx.input(kMaxOutputSize);
  const int32_t n = *max_size.data<int32_t>();
  if (n < 0) {
    return ctx.Error("max_output_size '" + max_size.name + "' is " +
                     std::to_string(n) + "; it must be >= 0");
  }
  K2L_RETURN_IF_ERROR(ctx.ResizeOutput(0, {n}));
  return ctx.ResizeOutput(1, {n});
}

Status NmsEval(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckSigma(ctx));
  const Tensor& boxes = ctx.input(kBoxes);
  Tensor& indices = ctx.output(0);
  Tensor& scores = ctx.output(1);
  const int max_size = static_cast<int>(indices.num_elements());
  const int count = reference::NonMaxSuppression(
      boxes.data<float>(), boxes.dim(0), ctx.input(kScores).data<float>(),
      max_size, *ctx.input(kIouThreshold).data<float>(),
      *ctx.input(kScoreThreshold).data<float>(),
      *ctx.input(kSigma).data<float>(), indices.mutable_data<int32_t>(),
      scores.mutable_data<float>());
  std::fill(indices.mutable_data<int32_t>() + count,
            indices.mutable_data<int32_t>() + max_size, 0);
  std::fill(scores.mutable_data<float>() + count,
            scores.mutable_data<float>() + max_size, 0.f);
  *ctx.output(2).mutable_data<int32_t>() = count;
  return Status::Ok();
}

}  // namespace

Status RegisterNonMaxSuppressionKernels(OpResolver& r) {
  return r.Add(
      {fb::BuiltinOperator::NON_MAX_SUPPRESSION_V5, 1, 1, NmsPrepare, NmsEval});
}

}  // namespace k2l::runtime::kernels
