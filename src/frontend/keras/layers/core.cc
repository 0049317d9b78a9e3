// Core layers: Dense, Embedding, Identity, and the layers that are no-ops at
// inference (the Dropout family, noise and regularization layers).
#include "frontend/keras/activations.h"
#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"
#include "frontend/keras/weight_layout.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;

Result<std::vector<ValueId>> ConvertDense(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(int64_t units, ctx.Int("units"));
  K2L_ASSIGN_OR_RETURN(bool use_bias, ctx.BoolOr("use_bias", true));
  if (ctx.Has("lora_rank")) {
    return {ctx.Invalid("LoRA is enabled on it (lora_rank is set)",
                        "Merge the LoRA weights first: call "
                        "layer.enable_lora() only for training, and save the "
                        "model after merging (or without LoRA)")};
  }
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  if (xs.size() < 2 || xs.back() == ir::kDynamic) {
    return {ctx.Invalid("its input has shape " + ir::ShapeToString(xs) +
                            "; the last dim must be known",
                        "Give the model's Input a fixed last dimension")};
  }
  int64_t in = xs.back();
  std::vector<std::string> names = {"kernel"};
  if (use_bias) names.push_back("bias");
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights(names));
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[0], "kernel", {in, units}));
  ValueId kernel = ctx.Const(Permute(w[0], {1, 0}), "kernel");
  ValueId bias = ir::kNoValue;
  if (use_bias) {
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[1], "bias", {units}));
    bias = ctx.Const(w[1], "bias");
  }
  ir::FullyConnectedAttrs attrs;
  attrs.keep_num_dims = xs.size() > 2;
  K2L_ASSIGN_OR_RETURN(
      ValueId y, ctx.Op(OpKind::kFullyConnected, {x, kernel, bias}, attrs));
  K2L_ASSIGN_OR_RETURN(y, ApplyConfigActivation(ctx, y));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertEmbedding(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(int64_t input_dim, ctx.Int("input_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t output_dim, ctx.Int("output_dim"));
  if (ctx.Has("lora_rank")) {
    return {ctx.Invalid("LoRA is enabled on it (lora_rank is set)",
                        "Save the model without LoRA")};
  }
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights({"embeddings"}));
  K2L_RETURN_IF_ERROR(
      ctx.ExpectWeightShape(w[0], "embeddings", {input_dim, output_dim}));
  ValueId table = ctx.Const(w[0], "embeddings");
  K2L_ASSIGN_OR_RETURN(bool mask_zero, ctx.BoolOr("mask_zero", false));
  K2L_ASSIGN_OR_RETURN(
      ValueId y, LowerEmbeddingLookup(ctx, table, ctx.input(), mask_zero));
  return std::vector<ValueId>{y};
}

// Masking: a step whose features all equal mask_value is zeroed and masked.
Result<std::vector<ValueId>> ConvertMasking(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(double mv, ctx.FloatOr("mask_value", 0.0));
  ValueId x = ctx.input();
  if (ctx.value(x).dtype != ir::DType::kFloat32) {
    return {ctx.Invalid("its input is not float32", "Feed float32 values")};
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId ne, ctx.Op(OpKind::kNotEqual, {x, ctx.ConstFloat(float(mv))}));
  ir::ReduceAttrs keep;
  keep.keep_dims = true;
  K2L_ASSIGN_OR_RETURN(
      ValueId any, ctx.Op(OpKind::kReduceAny, {ne, ctx.ConstInts({-1})}, keep));
  K2L_ASSIGN_OR_RETURN(ValueId f, ctx.Op(OpKind::kCast, {any}, ir::NoAttrs{},
                                         ir::DType::kFloat32));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kMul, {x, f}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(
      ValueId mask,
      ctx.Op(OpKind::kReduceAny, {ne, ctx.ConstInts({-1})}, ir::ReduceAttrs{}));
  ctx.SetOutputMask(0, mask);
  return std::vector<ValueId>{y};
}

// Layers that compute the identity at inference time.
Result<std::vector<ValueId>> ConvertPassThrough(LayerContext& ctx) {
  if (ctx.num_inputs() != 1) {
    return {ctx.Invalid(
        "it takes " + std::to_string(ctx.num_inputs()) + " inputs, expected 1",
        "Call it on a single tensor")};
  }
  return std::vector<ValueId>{ctx.input()};
}

}  // namespace

Status RegisterCoreLayers(Registry& r) {
  K2L_RETURN_IF_ERROR(r.Register("Dense", ConvertDense, "FULLY_CONNECTED",
                                 "LoRA-enabled layers (lora_rank set) are "
                                 "refused: merge LoRA first"));
  K2L_RETURN_IF_ERROR(r.Register(
      "Embedding", ConvertEmbedding, "GATHER (NOT_EQUAL for mask_zero's mask)",
      "LoRA-enabled layers (lora_rank set) are refused"));
  K2L_RETURN_IF_ERROR(r.Register(
      "Masking", ConvertMasking,
      "NOT_EQUAL, REDUCE_ANY, CAST, MUL (the mask reaches later layers)"));
  for (const char* cls :
       {"Identity", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
        "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
        "ActivityRegularization"}) {
    K2L_RETURN_IF_ERROR(
        r.Register(cls, ConvertPassThrough, "none (identity at inference)"));
  }
  return Status::Ok();
}

}  // namespace k2l::keras
