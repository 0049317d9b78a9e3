// Attention layers: EinsumDense, the dot-product (Attention) and additive
// (AdditiveAttention) attention layers, and the registration of the family,
// MultiHeadAttention (multi_head_attention.cc) included.
#include "frontend/keras/activations.h"
#include "frontend/keras/attention_lowering.h"
#include "frontend/keras/einsum_lowering.h"
#include "frontend/keras/registry.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;
using Outs = Result<std::vector<ValueId>>;

Result<ValueId> Binary(LayerContext& ctx, OpKind k, ValueId a, ValueId b) {
  return ctx.Op(k, {a, b}, ir::BinaryAttrs{});
}

// ---------------------------------------------------------------------------
// EinsumDense

Outs ConvertEinsumDense(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(std::string equation, ctx.String("equation"));
  K2L_ASSIGN_OR_RETURN(std::string bias_axes, ctx.StringOr("bias_axes", ""));
  const bool use_bias = ctx.Has("bias_axes");
  std::vector<std::string> names = {"kernel"};
  if (use_bias) names.push_back("bias");
  auto w = ctx.Weights(names);
  // Keras 3 merges LoRA into the kernel when it saves a .keras file; a
  // legacy .h5 file keeps the factors as separate variables.
  if (!w.ok() && ctx.Has("lora_rank")) {
    return {ctx.Invalid(
        "LoRA is enabled on it (lora_rank is set) and the file keeps the "
        "LoRA factors apart from the kernel",
        "Save the model as .keras, which merges them into the kernel")};
  }
  if (!w.ok()) return w.status();
  K2L_ASSIGN_OR_RETURN(
      ValueId y, LowerEinsumDense(ctx, ctx.input(), equation, (*w)[0],
                                  use_bias ? &(*w)[1] : nullptr, bias_axes));
  K2L_ASSIGN_OR_RETURN(y, ApplyConfigActivation(ctx, y));
  return std::vector<ValueId>{y};
}

// ---------------------------------------------------------------------------
// Attention and AdditiveAttention

Outs ConvertAttentionLayer(LayerContext& ctx, bool additive) {
  std::vector<ValueId> ins = ctx.inputs();
  if (ins.empty()) {
    if (auto kw = ctx.KwargInputs("inputs")) ins = *kw;
  }
  if (ins.size() < 2 || ins.size() > 3) {
    return {ctx.Invalid(
        "it is called on " + std::to_string(ins.size()) + " tensors",
        "Call it on [query, value] or [query, value, key]")};
  }
  ValueId q = ins[0], v = ins[1], k = ins.size() > 2 ? ins[2] : ins[1];
  if (ctx.rank(q) < 3 || ctx.rank(v) != ctx.rank(q) ||
      ctx.rank(k) != ctx.rank(q)) {
    return {ctx.Invalid("its query, value and key have shapes " +
                            ir::ShapeToString(ctx.shape(q)) + ", " +
                            ir::ShapeToString(ctx.shape(v)) + " and " +
                            ir::ShapeToString(ctx.shape(k)) +
                            ", but attention needs three tensors of one "
                            "rank of at least 3",
                        "Pass tensors of shape [batch, length, dim]")};
  }
  // mask=[query_mask, value_mask]; Keras reads no further entries.
  ValueId q_mask = ir::kNoValue, v_mask = ir::kNoValue;
  if (auto masks = ctx.KwargInputs("mask")) {
    const json& mj = ctx.kwargs()["mask"];
    if (!mj.is_array()) {
      return {ctx.Invalid("its mask argument is not a list",
                          "Pass mask=[query_mask, value_mask]")};
    }
    size_t next = 0;
    for (size_t i = 0; i < mj.size() && next < masks->size(); ++i) {
      if (!IsKerasTensor(mj[i])) continue;
      ValueId m = (*masks)[next++];
      if (i == 0) q_mask = m;
      if (i == 1) v_mask = m;
    }
  }
  K2L_ASSIGN_OR_RETURN(bool want_scores,
                       CallFlag(ctx, "return_attention_scores"));
  K2L_ASSIGN_OR_RETURN(bool causal, CallFlag(ctx, "use_causal_mask"));
  K2L_ASSIGN_OR_RETURN(bool use_scale, ctx.BoolOr("use_scale", additive));
  std::string mode = "dot";
  if (!additive) {
    K2L_ASSIGN_OR_RETURN(mode,
                         ctx.Choice("score_mode", {"dot", "concat"}, "dot"));
  }
  std::vector<std::string> names;
  if (use_scale) names.push_back("scale");
  if (mode == "concat") names.push_back("concat_score_weight");
  std::vector<ir::TensorData> w;
  if (!names.empty()) {
    K2L_ASSIGN_OR_RETURN(w, ctx.Weights(names));
  }
  const int64_t dim = ctx.shape(q).back();
  for (size_t i = 0; i < w.size(); ++i) {
    ir::Shape want = additive ? ir::Shape{dim} : ir::Shape{};
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[i], names[i], want));
  }

  ValueId scores;
  if (!additive && mode == "dot") {
    K2L_ASSIGN_OR_RETURN(scores, ctx.Op(OpKind::kBatchMatMul, {q, k},
                                        ir::BatchMatMulAttrs{false, true}));
    if (use_scale) {
      K2L_ASSIGN_OR_RETURN(
          scores, Binary(ctx, OpKind::kMul, scores, ctx.Const(w[0], "scale")));
    }
  } else {
    // [B, Tq, 1, dim] + [B, 1, Tv, dim]
    K2L_ASSIGN_OR_RETURN(ValueId qe,
                         ctx.Op(OpKind::kExpandDims, {q, ctx.ConstInts({-2})}));
    K2L_ASSIGN_OR_RETURN(ValueId ke,
                         ctx.Op(OpKind::kExpandDims, {k, ctx.ConstInts({-3})}));
    K2L_ASSIGN_OR_RETURN(ValueId sum, Binary(ctx, OpKind::kAdd, qe, ke));
    if (use_scale && !additive) {
      K2L_ASSIGN_OR_RETURN(
          sum, Binary(ctx, OpKind::kMul, sum, ctx.Const(w[0], "scale")));
    }
    K2L_ASSIGN_OR_RETURN(ValueId th, ctx.Op(OpKind::kTanh, {sum}));
    if (use_scale && additive) {
      K2L_ASSIGN_OR_RETURN(
          th, Binary(ctx, OpKind::kMul, th, ctx.Const(w[0], "scale")));
    }
    K2L_ASSIGN_OR_RETURN(scores, ctx.Op(OpKind::kSum, {th, ctx.ConstInts({-1})},
                                        ir::ReduceAttrs{false}));
    if (mode == "concat") {
      K2L_ASSIGN_OR_RETURN(scores,
                           Binary(ctx, OpKind::kMul, scores,
                                  ctx.Const(w.back(), "concat_score_weight")));
    }
  }

  // Masked scores are shifted down by 1e9 (not replaced), as Keras does.
  ValueId mask = ir::kNoValue;
  if (v_mask != ir::kNoValue) {
    K2L_ASSIGN_OR_RETURN(mask, AsBoolMask(ctx, v_mask));
    if (ctx.rank(mask) == 2) {
      K2L_ASSIGN_OR_RETURN(
          mask, ctx.Op(OpKind::kExpandDims, {mask, ctx.ConstInts({-2})}));
    }
  }
  if (causal) {
    const ir::Shape ss = ctx.shape(scores);
    int64_t tq = ss[ss.size() - 2], tv = ss.back();
    if (tq == ir::kDynamic || tv == ir::kDynamic) {
      return {
          ctx.Invalid("use_causal_mask needs fixed query and value lengths, "
                      "but the scores have shape " +
                          ir::ShapeToString(ss),
                      "Give the model's Inputs a fixed sequence length")};
    }
    K2L_ASSIGN_OR_RETURN(
        mask,
        AndMasks(ctx, ConstantMask(ctx, tq, tv, true, 0, {1, tq, tv}), mask));
  }
  if (mask != ir::kNoValue) {
    K2L_ASSIGN_OR_RETURN(ValueId shifted, Binary(ctx, OpKind::kSub, scores,
                                                 ctx.ConstFloat(1e9f)));
    K2L_ASSIGN_OR_RETURN(scores,
                         ctx.Op(OpKind::kSelectV2, {mask, scores, shifted}));
  }
  K2L_ASSIGN_OR_RETURN(ValueId weights, LowerSoftmax(ctx, scores, -1, false));
  K2L_ASSIGN_OR_RETURN(ValueId out, ctx.Op(OpKind::kBatchMatMul, {weights, v},
                                           ir::BatchMatMulAttrs{}));
  if (q_mask != ir::kNoValue) {
    K2L_ASSIGN_OR_RETURN(ValueId qm, AsBoolMask(ctx, q_mask));
    K2L_ASSIGN_OR_RETURN(
        qm, ctx.Op(OpKind::kExpandDims, {qm, ctx.ConstInts({-1})}));
    K2L_ASSIGN_OR_RETURN(
        out, ctx.Op(OpKind::kSelectV2, {qm, out, ctx.ConstFloat(0.0f)}));
  }
  if (want_scores) return std::vector<ValueId>{out, weights};
  return std::vector<ValueId>{out};
}

Outs ConvertAttention(LayerContext& ctx) {
  return ConvertAttentionLayer(ctx, false);
}
Outs ConvertAdditiveAttention(LayerContext& ctx) {
  return ConvertAttentionLayer(ctx, true);
}

}  // namespace

Status RegisterAttentionLayers(Registry& r) {
  K2L_RETURN_IF_ERROR(r.Register("EinsumDense", ConvertEinsumDense,
                                 "FULLY_CONNECTED or BATCH_MATMUL, with "
                                 "RESHAPE and TRANSPOSE as needed"));
  K2L_RETURN_IF_ERROR(
      r.Register("MultiHeadAttention", ConvertMultiHeadAttention,
                 "FULLY_CONNECTED, RESHAPE, TRANSPOSE, BATCH_MATMUL, SOFTMAX "
                 "(+ SELECT_V2 for masks)"));
  K2L_RETURN_IF_ERROR(r.Register("Attention", ConvertAttention,
                                 "BATCH_MATMUL, SOFTMAX (+ SELECT_V2 for "
                                 "masks; ADD, TANH, SUM for score_mode "
                                 "'concat')"));
  K2L_RETURN_IF_ERROR(r.Register("AdditiveAttention", ConvertAdditiveAttention,
                                 "ADD, TANH, MUL, SUM, SOFTMAX, BATCH_MATMUL "
                                 "(+ SELECT_V2 for masks)"));
  return Status::Ok();
}

}  // namespace k2l::keras
