// MultiHeadAttention over [batch, time, features] inputs: the Q/K/V and
// output projections are EinsumDense equations (FULLY_CONNECTED), the
// attention two BATCH_MATMULs around a masked SOFTMAX.
#include <cmath>

#include "frontend/keras/einsum.h"
#include "frontend/keras/registry.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

// Keras' masked softmax fills masked scores with this before the softmax.
constexpr float kLargeNegative = -1e9f;

bool KwargBool(LayerContext& ctx, const char* key) {
  const json& kw = ctx.kwargs();
  return kw.is_object() && kw.contains(key) && kw[key].is_boolean() &&
         kw[key].get<bool>();
}

// A mask value as bool: Keras keeps positions where it is true (> 0.5 for
// numbers in the softmax; != 0 for the cast in the mask merge).
Result<ValueId> AsBool(LayerContext& ctx, ValueId m) {
  ir::DType dt = ctx.value(m).dtype;
  if (dt == ir::DType::kBool) return m;
  if (dt == ir::DType::kFloat32) {
    return ctx.Op(OpKind::kNotEqual, {m, ctx.ConstFloat(0.0f)});
  }
  if (dt == ir::DType::kInt32) {
    return ctx.Op(OpKind::kNotEqual, {m, ctx.ConstInts({0}, {})});
  }
  return ctx.Invalid("a mask has dtype " + std::string(ir::DTypeName(dt)),
                     "Pass masks as bool, int32 or float32");
}

Result<ValueId> And(LayerContext& ctx, ValueId a, ValueId b) {
  if (a == ir::kNoValue) return b;
  return ctx.Op(OpKind::kLogicalAnd, {a, b});
}

// mask[i, j] = i >= j, as [1, T, S] bool: a constant for fixed lengths,
// else built at run time from the lengths.
Result<ValueId> CausalMask(LayerContext& ctx, ValueId query, ValueId value) {
  const ir::Shape qs = ctx.shape(query), vs = ctx.shape(value);
  if (qs[1] != ir::kDynamic && vs[1] != ir::kDynamic) {
    std::vector<uint8_t> m(static_cast<size_t>(qs[1] * vs[1]));
    for (int64_t i = 0; i < qs[1]; ++i) {
      for (int64_t j = 0; j < vs[1]; ++j) m[i * vs[1] + j] = i >= j;
    }
    return ctx.Const(
        ir::TensorData::FromVector(ir::DType::kBool, {1, qs[1], vs[1]}, m),
        "causal_mask");
  }
  // Dynamic lengths: rows >= columns over RANGE(0, T) and RANGE(0, S).
  auto length = [&](ValueId v) -> Result<ValueId> {
    K2L_ASSIGN_OR_RETURN(ValueId shape, ctx.Op(OpKind::kShape, {v}));
    return ctx.Op(OpKind::kGather, {shape, ctx.ConstInts({1}, {})},
                  ir::GatherAttrs{0});
  };
  auto range = [&](ValueId v) -> Result<ValueId> {
    K2L_ASSIGN_OR_RETURN(ValueId n, length(v));
    return ctx.Op(OpKind::kRange,
                  {ctx.ConstInts({0}, {}), n, ctx.ConstInts({1}, {})});
  };
  K2L_ASSIGN_OR_RETURN(ValueId rows, range(query));
  K2L_ASSIGN_OR_RETURN(ValueId cols, range(value));
  K2L_ASSIGN_OR_RETURN(
      rows, ctx.Op(OpKind::kReshape, {rows, ctx.ConstInts({1, -1, 1})}));
  K2L_ASSIGN_OR_RETURN(
      cols, ctx.Op(OpKind::kReshape, {cols, ctx.ConstInts({1, 1, -1})}));
  return ctx.Op(OpKind::kGreaterEqual, {rows, cols});
}

Result<std::vector<ValueId>> ConvertMultiHeadAttention(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(int64_t heads, ctx.Int("num_heads"));
  K2L_ASSIGN_OR_RETURN(int64_t key_dim, ctx.Int("key_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t value_dim, ctx.IntOr("value_dim", key_dim));
  K2L_ASSIGN_OR_RETURN(bool use_bias, ctx.BoolOr("use_bias", true));
  K2L_ASSIGN_OR_RETURN(bool use_gate, ctx.BoolOr("use_gate", false));
  if (use_gate) {
    return {ctx.Invalid("use_gate=True is not supported yet",
                        "Export a model with use_gate=False")};
  }
  if (ctx.Has("sliding_window")) {
    return {ctx.Invalid("a sliding_window is set, which is not supported yet",
                        "Export a model without sliding_window")};
  }
  if (ctx.num_inputs() < 2 || ctx.num_inputs() > 3) {
    return {ctx.Invalid("it is called on " + std::to_string(ctx.num_inputs()) +
                            " positional tensors",
                        "Call it as mha(query, value) or mha(query, value, "
                        "key)")};
  }
  const ValueId query = ctx.input(0), value = ctx.input(1);
  K2L_ASSIGN_OR_RETURN(ValueId key_kw, ctx.KwargInput("key"));
  const ValueId key = ctx.num_inputs() == 3
                          ? ctx.input(2)
                          : (key_kw != ir::kNoValue ? key_kw : value);
  for (ValueId v : {query, value, key}) {
    if (ctx.rank(v) != 3) {
      return {
          ctx.Invalid("an input has shape " + ir::ShapeToString(ctx.shape(v)) +
                          "; only [batch, time, features] inputs are supported",
                      "Reshape the inputs to rank 3")};
    }
  }
  if (ctx.Has("attention_axes")) {
    K2L_ASSIGN_OR_RETURN(auto axes, ctx.IntList("attention_axes"));
    if (!(axes.size() == 1 && (axes[0] == 1 || axes[0] == -2))) {
      return {ctx.Invalid("attention_axes is " +
                              ctx.config()["attention_axes"].dump() +
                              "; only attention over the time axis is "
                              "supported",
                          "Use the default attention_axes")};
    }
  }
  if (ctx.has_input_mask()) {
    // Files that leave Keras masks implicit (tf.keras) would need them
    // merged here as query/value masks.
    return {ctx.Invalid("it receives an implicit Keras mask",
                        "Pass the mask explicitly as attention_mask")};
  }
  const bool causal = KwargBool(ctx, "use_causal_mask");
  const bool return_scores = KwargBool(ctx, "return_attention_scores");

  // Projections, as Keras builds them for rank-3 inputs.
  std::vector<std::string> names = {"kernel"};
  if (use_bias) names.push_back("bias");
  const size_t per = names.size();
  struct Proj {
    const char* attr;
    const char* equation;
    ValueId x;
  };
  const Proj projs[] = {{"query_dense", "abc,cde->abde", query},
                        {"key_dense", "abc,cde->abde", key},
                        {"value_dense", "abc,cde->abde", value}};
  std::vector<ValueId> qkv;
  for (size_t i = 0; i < 3; ++i) {
    K2L_ASSIGN_OR_RETURN(auto w,
                         ctx.SubWeights({projs[i].attr}, names, i * per));
    int64_t dim = i == 2 ? value_dim : key_dim;
    K2L_RETURN_IF_ERROR(
        ctx.ExpectWeightShape(w[0], std::string(projs[i].attr) + " kernel",
                              {ctx.shape(projs[i].x)[2], heads, dim}));
    std::optional<ir::TensorData> b;
    if (use_bias) b = w[1];
    K2L_ASSIGN_OR_RETURN(
        ValueId p, LowerEinsum(ctx, projs[i].x, projs[i].equation, w[0], b));
    qkv.push_back(p);
  }
  // [B, T, N, H] -> [B, N, T, H]; the query scaled by 1/sqrt(key_dim).
  auto heads_first = [&](ValueId v) {
    return ctx.Op(OpKind::kTranspose, {v, ctx.ConstInts({0, 2, 1, 3})});
  };
  const float scale =
      static_cast<float>(1.0 / std::sqrt(static_cast<double>(key_dim)));
  K2L_ASSIGN_OR_RETURN(
      ValueId q,
      ctx.Op(OpKind::kMul, {qkv[0], ctx.ConstFloat(scale)}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(q, heads_first(q));
  K2L_ASSIGN_OR_RETURN(ValueId k, heads_first(qkv[1]));
  K2L_ASSIGN_OR_RETURN(ValueId v, heads_first(qkv[2]));
  ir::BatchMatMulAttrs kt;
  kt.adj_y = true;
  K2L_ASSIGN_OR_RETURN(ValueId scores,
                       ctx.Op(OpKind::kBatchMatMul, {q, k}, kt));  // [B,N,T,S]

  // The merged mask [B, T, S]: Keras masks of query/value/key, the
  // attention_mask, and the causal mask, combined with AND.
  ValueId mask = ir::kNoValue;
  auto expand = [&](ValueId m, int axis) -> Result<ValueId> {
    K2L_ASSIGN_OR_RETURN(m, AsBool(ctx, m));
    return ctx.Op(OpKind::kExpandDims, {m, ctx.ConstInts({axis})});
  };
  K2L_ASSIGN_OR_RETURN(ValueId query_mask, ctx.KwargInput("query_mask"));
  K2L_ASSIGN_OR_RETURN(ValueId value_mask, ctx.KwargInput("value_mask"));
  K2L_ASSIGN_OR_RETURN(ValueId key_mask, ctx.KwargInput("key_mask"));
  if (query_mask != ir::kNoValue) {
    K2L_ASSIGN_OR_RETURN(mask, expand(query_mask, -1));
  }
  for (ValueId m : {value_mask, key_mask}) {
    if (m == ir::kNoValue) continue;
    K2L_ASSIGN_OR_RETURN(ValueId e, expand(m, -2));
    K2L_ASSIGN_OR_RETURN(mask, And(ctx, mask, e));
  }
  if (causal) {
    K2L_ASSIGN_OR_RETURN(ValueId c, CausalMask(ctx, query, value));
    K2L_ASSIGN_OR_RETURN(mask, And(ctx, mask, c));
  }
  K2L_ASSIGN_OR_RETURN(ValueId attention_mask,
                       ctx.KwargInput("attention_mask"));
  if (attention_mask != ir::kNoValue) {
    if (ctx.rank(attention_mask) != 3) {
      return {ctx.Invalid("its attention_mask has shape " +
                              ir::ShapeToString(ctx.shape(attention_mask)) +
                              ", expected [batch, T, S]",
                          "Pass a [batch, T, S] attention_mask")};
    }
    K2L_ASSIGN_OR_RETURN(ValueId a, AsBool(ctx, attention_mask));
    K2L_ASSIGN_OR_RETURN(mask, And(ctx, mask, a));
  }
  if (mask != ir::kNoValue) {
    K2L_ASSIGN_OR_RETURN(
        mask, ctx.Op(OpKind::kExpandDims, {mask, ctx.ConstInts({1})}));
    K2L_ASSIGN_OR_RETURN(
        scores, ctx.Op(OpKind::kSelectV2,
                       {mask, scores, ctx.ConstFloat(kLargeNegative)}));
  }
  K2L_ASSIGN_OR_RETURN(ValueId probs, ctx.Op(OpKind::kSoftmax, {scores},
                                             ir::SoftmaxAttrs{1.0f}));
  // Keras takes one of two paths, which differ on fully masked rows: its
  // fused dot_product_attention (no dropout, no scores returned) leaves
  // them uniform; the Softmax layer's path zeroes masked positions.
  K2L_ASSIGN_OR_RETURN(double dropout, ctx.FloatOr("dropout", 0.0));
  if (mask != ir::kNoValue && (dropout > 0.0 || return_scores)) {
    K2L_ASSIGN_OR_RETURN(
        probs, ctx.Op(OpKind::kSelectV2, {mask, probs, ctx.ConstFloat(0.0f)}));
  }
  K2L_ASSIGN_OR_RETURN(ValueId att, ctx.Op(OpKind::kBatchMatMul, {probs, v},
                                           ir::BatchMatMulAttrs{}));
  K2L_ASSIGN_OR_RETURN(att, heads_first(att));  // back to [B, T, N, H]

  K2L_ASSIGN_OR_RETURN(auto wo,
                       ctx.SubWeights({"output_dense"}, names, 3 * per));
  std::optional<ir::TensorData> bo;
  if (use_bias) bo = wo[1];
  if (wo[0].shape().size() != 3) {
    return {ctx.Invalid(
        "its output kernel has shape " + ir::ShapeToString(wo[0].shape()),
        "Only a single output_shape axis is supported")};
  }
  K2L_ASSIGN_OR_RETURN(ValueId out,
                       LowerEinsum(ctx, att, "abcd,cde->abe", wo[0], bo));
  std::vector<ValueId> outs = {out};
  if (return_scores) outs.push_back(probs);
  return outs;
}

}  // namespace

Status RegisterMultiHeadAttention(Registry& r) {
  return r.Register(
      "MultiHeadAttention", ConvertMultiHeadAttention,
      "FULLY_CONNECTED (projections), TRANSPOSE, BATCH_MATMUL, SELECT_V2 "
      "(masks), SOFTMAX",
      "rank-3 inputs and the default attention_axes only; use_gate and "
      "sliding_window are refused");
}

}  // namespace k2l::keras
