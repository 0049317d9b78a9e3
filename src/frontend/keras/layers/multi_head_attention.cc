// MultiHeadAttention: projections as EinsumDense lowers them, heads split
// by RESHAPE and TRANSPOSE, scores and context by BATCH_MATMUL.
//
// Masks follow the code path Keras takes for the call, since that decides
// what a fully masked row yields (see SoftmaxPath).
#include <array>
#include <cmath>
#include <optional>

#include "frontend/keras/activations.h"
#include "frontend/keras/attention_lowering.h"
#include "frontend/keras/einsum_lowering.h"
#include "frontend/keras/shared_lowering.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

ir::TensorData ScaledBy(const ir::TensorData& t, float s) {
  auto src = t.as<float>();
  std::vector<float> v(src.begin(), src.end());
  for (float& f : v) f *= s;
  return ir::TensorData::FromVector(ir::DType::kFloat32, t.shape(), v);
}

// The call's query, value and key, passed by position or by keyword; the
// key defaults to the value.
Result<std::array<ValueId, 3>> QueryValueKey(LayerContext& ctx) {
  std::array<ValueId, 3> qvk = {ir::kNoValue, ir::kNoValue, ir::kNoValue};
  const json& args = ctx.args();
  if (args.is_array() && !args.empty()) {
    if (args.size() > 3) {
      return ctx.Invalid("it is called with " + std::to_string(args.size()) +
                             " positional arguments",
                         "Pass query, value and key by position and the "
                         "masks by keyword (attention_mask=...)");
    }
    size_t next = 0;
    for (size_t i = 0; i < args.size() && next < ctx.num_inputs(); ++i) {
      if (IsKerasTensor(args[i])) qvk[i] = ctx.input(next++);
    }
  } else {
    for (size_t i = 0; i < ctx.num_inputs() && i < 3; ++i) {
      qvk[i] = ctx.input(i);
    }
  }
  const char* names[3] = {"query", "value", "key"};
  for (size_t i = 0; i < 3; ++i) {
    if (qvk[i] == ir::kNoValue) {
      K2L_ASSIGN_OR_RETURN(qvk[i], ctx.KwargInput(names[i]));
    }
  }
  if (qvk[0] == ir::kNoValue || qvk[1] == ir::kNoValue) {
    return ctx.Invalid("it is called without a query or a value tensor",
                       "Call it as mha(query, value) or mha(query, value, "
                       "key)");
  }
  if (qvk[2] == ir::kNoValue) qvk[2] = qvk[1];
  return qvk;
}

// The sizes of the attention axes (all but batch and features). Over one
// axis its length may be dynamic; over several they are flattened by
// reshapes, which need them fixed. The features must be known.
Result<ir::Shape> AttendedDims(LayerContext& ctx, ValueId v, const char* what) {
  const ir::Shape s = ctx.shape(v);
  for (size_t i = s.size() == 3 ? 2 : 1; i < s.size(); ++i) {
    if (s[i] == ir::kDynamic) {
      return ctx.Invalid(std::string("its ") + what + " has shape " +
                             ir::ShapeToString(s) +
                             "; splitting attention heads needs a fixed size "
                             "on every axis except the batch",
                         "Give the model's Inputs a fixed sequence length");
    }
  }
  return ir::Shape(s.begin() + 1, s.end() - 1);
}

Status CheckAttentionAxes(LayerContext& ctx, size_t rank) {
  if (!ctx.Has("attention_axes")) return Status::Ok();
  std::vector<int64_t> axes;
  if (ctx.config()["attention_axes"].is_array()) {
    K2L_ASSIGN_OR_RETURN(axes, ctx.IntList("attention_axes"));
  } else {
    K2L_ASSIGN_OR_RETURN(int64_t a, ctx.Int("attention_axes"));
    axes = {a};
  }
  // Keras normalises negative axes against the projected rank minus one,
  // which is the input's rank.
  std::vector<int64_t> want;
  for (size_t i = 1; i + 1 < rank; ++i) want.push_back(static_cast<int64_t>(i));
  for (int64_t& a : axes) {
    if (a < 0) a += static_cast<int64_t>(rank);
  }
  if (axes == want) return Status::Ok();
  return ctx.Invalid(
      "attention_axes=" + ctx.config()["attention_axes"].dump() +
          " is not supported: only the default, attention over every axis "
          "between the batch and the features, is lowered",
      "Use attention_axes=None, or reshape the inputs so that the attended "
      "axes lie between the batch and the features");
}

// A projection's weights: kernel, and bias when the layer uses one.
struct Projection {
  ir::TensorData kernel;
  std::optional<ir::TensorData> bias;
  const ir::TensorData* bias_or_null() const { return bias ? &*bias : nullptr; }
};

// Loads the projection saved under sublayer `attr` (legacy .h5 position
// `index`) and checks it against the config's kernel shape.
Result<Projection> LoadProjection(LayerContext& ctx, const std::string& attr,
                                  size_t index, bool use_bias,
                                  const ir::Shape& kernel) {
  std::vector<std::string> names = {"kernel"};
  if (use_bias) names.push_back("bias");
  // .keras files keep the weights under the sublayers' attributes; legacy
  // .h5 files list them flat in creation order.
  K2L_ASSIGN_OR_RETURN(auto w,
                       ctx.SubWeights({attr}, names, index * names.size()));
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[0], attr + " kernel", kernel));
  Projection p{w[0], std::nullopt};
  if (use_bias) {
    // The bias spans the kernel's output axes: all but the contracted ones.
    const size_t contracted = attr == "output_dense" ? 2 : 1;
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(
        w[1], attr + " bias",
        ir::Shape(kernel.begin() + contracted, kernel.end())));
    p.bias = w[1];
  }
  return p;
}

// mask[i, j] = i >= j as [1, 1, T, S] bool, for lengths known only at run
// time: RANGE(0, T) against RANGE(0, S).
Result<ValueId> RuntimeCausalMask(LayerContext& ctx, ValueId query,
                                  ValueId value) {
  auto range = [&](ValueId v) -> Result<ValueId> {
    K2L_ASSIGN_OR_RETURN(ValueId n, RuntimeDim(ctx, v, 1));
    return ctx.Op(OpKind::kRange,
                  {ctx.ConstInts({0}, {}), n, ctx.ConstInts({1}, {})});
  };
  K2L_ASSIGN_OR_RETURN(ValueId rows, range(query));
  K2L_ASSIGN_OR_RETURN(ValueId cols, range(value));
  K2L_ASSIGN_OR_RETURN(
      rows, ctx.Op(OpKind::kReshape, {rows, ctx.ConstInts({1, 1, -1, 1})}));
  K2L_ASSIGN_OR_RETURN(
      cols, ctx.Op(OpKind::kReshape, {cols, ctx.ConstInts({1, 1, 1, -1})}));
  return ctx.Op(OpKind::kGreaterEqual, {rows, cols});
}

// The bool mask MultiHeadAttention applies, broadcastable to the [B, N, T, S]
// scores, or kNoValue: attention_mask, value_mask and key_mask (each [B, S]),
// and the causal and sliding-window masks, ANDed as Keras does.
Result<ValueId> MultiHeadMask(LayerContext& ctx, size_t rank,
                              const ir::Shape& tq, const ir::Shape& tv,
                              bool causal, int64_t window, ValueId query,
                              ValueId value,
                              const std::array<ValueId, 3>& implicit) {
  int64_t t = 1, s = 1;
  for (int64_t d : tq)
    t = d == ir::kDynamic || t == ir::kDynamic ? ir::kDynamic : t * d;
  for (int64_t d : tv)
    s = d == ir::kDynamic || s == ir::kDynamic ? ir::kDynamic : s * d;
  // Keras replaces an explicit query_mask by the query's implicit mask, so
  // a query_mask tensor passed by keyword has no effect.
  (void)ctx.KwargInputs("query_mask");
  K2L_ASSIGN_OR_RETURN(ValueId mask, ctx.KwargInput("attention_mask"));
  if (mask != ir::kNoValue) {
    K2L_ASSIGN_OR_RETURN(mask, AsBoolMask(ctx, mask));
    const ir::Shape ms = ctx.shape(mask);
    if (rank > 3) {
      // Attention over several axes is attention over their flattening.
      ir::Shape full = tq;
      full.insert(full.end(), tv.begin(), tv.end());
      if (ms.size() != full.size() + 1 ||
          !std::equal(full.begin(), full.end(), ms.begin() + 1)) {
        full.insert(full.begin(), ir::kDynamic);
        return ctx.Invalid(
            "its attention_mask has shape " + ir::ShapeToString(ms) +
                "; over several attention axes only a full mask of shape " +
                ir::ShapeToString(full) + " is supported",
            "Pass a mask of that shape");
      }
      K2L_ASSIGN_OR_RETURN(
          mask, ReshapeTo(ctx, mask, {ms[0], t, s}, "its attention_mask"));
    }
    if (ctx.rank(mask) > 4) {
      return ctx.Invalid("its attention_mask has shape " +
                             ir::ShapeToString(ms) +
                             ", more axes than the [batch, heads, query, "
                             "value] attention scores",
                         "Pass a mask of shape [batch, query length, value "
                         "length]");
    }
    // Keras inserts the missing axes before the [T, S] pair.
    while (ctx.rank(mask) < 4) {
      K2L_ASSIGN_OR_RETURN(
          mask, ctx.Op(OpKind::kExpandDims, {mask, ctx.ConstInts({-3})}));
    }
  }
  // Implicit Keras masks (Embedding(mask_zero=True), Masking) of query,
  // value and key, which Keras applies without recording them: the query's
  // always wins; the value's and key's fill in for absent keyword masks.
  if (implicit[0] != ir::kNoValue) {
    if (rank > 3) {
      return ctx.Invalid(
          "its query carries a Keras mask over several "
          "attention axes, which is not supported",
          "Pass the mask as a full attention_mask");
    }
    K2L_ASSIGN_OR_RETURN(ValueId qm, AsBoolMask(ctx, implicit[0]));
    K2L_ASSIGN_OR_RETURN(
        qm, ReshapeTo(ctx, qm, {ir::kDynamic, 1, t, 1}, "its query mask"));
    K2L_ASSIGN_OR_RETURN(mask, AndMasks(ctx, qm, mask));
  }
  const char* keys[] = {"value_mask", "key_mask"};
  for (int i = 0; i < 2; ++i) {
    const char* key = keys[i];
    K2L_ASSIGN_OR_RETURN(ValueId m, ctx.KwargInput(key));
    if (m == ir::kNoValue) m = implicit[1 + i];
    if (m == ir::kNoValue) continue;
    if (rank > 3 || ctx.rank(m) != 2) {
      return ctx.Invalid(std::string("its ") + key + " has shape " +
                             ir::ShapeToString(ctx.shape(m)) +
                             "; only a [batch, length] mask of a sequence is "
                             "supported",
                         "Pass the mask as attention_mask of shape [batch, "
                         "query length, value length]");
    }
    K2L_ASSIGN_OR_RETURN(m, AsBoolMask(ctx, m));
    // [B, S] -> [B, 1, 1, S]
    K2L_ASSIGN_OR_RETURN(m, ReshapeTo(ctx, m, {ir::kDynamic, 1, 1, s}, key));
    K2L_ASSIGN_OR_RETURN(mask, AndMasks(ctx, m, mask));
  }
  if (causal || window > 0) {
    if (rank > 3) {
      return ctx.Invalid(
          "a causal or sliding-window mask over more than one attention axis "
          "is not supported",
          "Flatten the attended axes into one sequence axis");
    }
    ValueId c = ir::kNoValue;
    if (t != ir::kDynamic && s != ir::kDynamic) {
      c = ConstantMask(ctx, t, s, causal, window, {1, 1, t, s});
    } else if (window > 0) {
      return ctx.Invalid(
          "a sliding_window mask needs fixed query and value lengths",
          "Give the query and value Inputs a fixed sequence length");
    } else {
      K2L_ASSIGN_OR_RETURN(c, RuntimeCausalMask(ctx, query, value));
    }
    K2L_ASSIGN_OR_RETURN(mask, AndMasks(ctx, c, mask));
  }
  return mask;
}

}  // namespace

Result<std::vector<ValueId>> ConvertMultiHeadAttention(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(int64_t heads, ctx.Int("num_heads"));
  K2L_ASSIGN_OR_RETURN(int64_t key_dim, ctx.Int("key_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t value_dim, ctx.IntOr("value_dim", key_dim));
  K2L_ASSIGN_OR_RETURN(double dropout, ctx.FloatOr("dropout", 0.0));
  K2L_ASSIGN_OR_RETURN(bool use_bias, ctx.BoolOr("use_bias", true));
  K2L_ASSIGN_OR_RETURN(bool use_gate, ctx.BoolOr("use_gate", false));
  K2L_ASSIGN_OR_RETURN(int64_t window, ctx.IntOr("sliding_window", 0));
  K2L_ASSIGN_OR_RETURN(bool want_scores,
                       CallFlag(ctx, "return_attention_scores"));
  K2L_ASSIGN_OR_RETURN(bool causal, CallFlag(ctx, "use_causal_mask"));
  K2L_ASSIGN_OR_RETURN(auto qvk, QueryValueKey(ctx));
  auto [query, value, key] = qvk;
  // Keras fills key_mask only when a key is passed.
  const bool key_passed =
      ctx.num_inputs() >= 3 || ctx.KwargInputs("key").has_value();
  const std::array<ValueId, 3> implicit = {
      ctx.ImplicitMaskOf(query), ctx.ImplicitMaskOf(value),
      key_passed ? ctx.ImplicitMaskOf(key) : ir::kNoValue};
  ctx.MarkMaskUsed();

  const size_t rank = ctx.rank(query);
  if (rank < 3 || ctx.rank(value) != rank || ctx.rank(key) != rank) {
    return {ctx.Invalid("its query, value and key have ranks " +
                            std::to_string(rank) + ", " +
                            std::to_string(ctx.rank(value)) + " and " +
                            std::to_string(ctx.rank(key)),
                        "Pass query, value and key of one rank, at least 3 "
                        "(batch, sequence, features)")};
  }
  K2L_RETURN_IF_ERROR(CheckAttentionAxes(ctx, rank));
  K2L_ASSIGN_OR_RETURN(ir::Shape tq, AttendedDims(ctx, query, "query"));
  K2L_ASSIGN_OR_RETURN(ir::Shape tv, AttendedDims(ctx, value, "value"));
  K2L_ASSIGN_OR_RETURN(ir::Shape tk, AttendedDims(ctx, key, "key"));
  if (tk != tv) {
    return {ctx.Invalid("its value and key have shapes " +
                            ir::ShapeToString(ctx.shape(value)) + " and " +
                            ir::ShapeToString(ctx.shape(key)),
                        "Pass a key and value that differ in the last axis "
                        "only")};
  }
  int64_t t = 1, s = 1;
  for (int64_t d : tq)
    t = d == ir::kDynamic || t == ir::kDynamic ? ir::kDynamic : t * d;
  for (int64_t d : tv)
    s = d == ir::kDynamic || s == ir::kDynamic ? ir::kDynamic : s * d;
  const int64_t eq = ctx.shape(query).back();
  const int64_t ek = ctx.shape(key).back(), ev = ctx.shape(value).back();
  std::vector<int64_t> out_dims = {eq};
  if (ctx.Has("output_shape")) {
    if (ctx.config()["output_shape"].is_array()) {
      K2L_ASSIGN_OR_RETURN(out_dims, ctx.IntList("output_shape"));
    } else {
      K2L_ASSIGN_OR_RETURN(int64_t o, ctx.Int("output_shape"));
      out_dims = {o};
    }
  }
  ir::Shape out_kernel = {heads, value_dim};
  out_kernel.insert(out_kernel.end(), out_dims.begin(), out_dims.end());

  // Creation order: query, key, gate, value, output. The gate has no public
  // property, so its attribute keeps the underscore.
  const size_t g = use_gate ? 1 : 0;
  K2L_ASSIGN_OR_RETURN(
      Projection qw,
      LoadProjection(ctx, "query_dense", 0, use_bias, {eq, heads, key_dim}));
  K2L_ASSIGN_OR_RETURN(
      Projection kw,
      LoadProjection(ctx, "key_dense", 1, use_bias, {ek, heads, key_dim}));
  Projection gw;
  if (use_gate) {
    K2L_ASSIGN_OR_RETURN(gw, LoadProjection(ctx, "_gate_dense", 2, use_bias,
                                            {eq, heads, value_dim}));
  }
  K2L_ASSIGN_OR_RETURN(Projection vw,
                       LoadProjection(ctx, "value_dense", 2 + g, use_bias,
                                      {ev, heads, value_dim}));
  K2L_ASSIGN_OR_RETURN(Projection ow, LoadProjection(ctx, "output_dense", 3 + g,
                                                     use_bias, out_kernel));

  // Attention over several axes is attention over their flattening.
  const std::string why = "multi-head attention";
  K2L_ASSIGN_OR_RETURN(query,
                       ReshapeTo(ctx, query, {ir::kDynamic, t, eq}, why));
  K2L_ASSIGN_OR_RETURN(value,
                       ReshapeTo(ctx, value, {ir::kDynamic, s, ev}, why));
  K2L_ASSIGN_OR_RETURN(key, ReshapeTo(ctx, key, {ir::kDynamic, s, ek}, why));

  const std::string proj = "abc,cde->abde";
  // The 1/sqrt(key_dim) Keras applies to the projected query is folded into
  // the query projection.
  const float scale =
      static_cast<float>(1.0 / std::sqrt(static_cast<double>(key_dim)));
  qw.kernel = ScaledBy(qw.kernel, scale);
  if (qw.bias) qw.bias = ScaledBy(*qw.bias, scale);
  K2L_ASSIGN_OR_RETURN(ValueId q,
                       LowerEinsumDense(ctx, query, proj, qw.kernel,
                                        qw.bias_or_null(), "de", "query"));
  K2L_ASSIGN_OR_RETURN(
      ValueId k, LowerEinsumDense(ctx, key, proj, kw.kernel, kw.bias_or_null(),
                                  "de", "key"));
  K2L_ASSIGN_OR_RETURN(ValueId v,
                       LowerEinsumDense(ctx, value, proj, vw.kernel,
                                        vw.bias_or_null(), "de", "value"));
  // [B, T, N, H] -> [B, N, T, H]; the key as [B, N, H, S].
  K2L_ASSIGN_OR_RETURN(q, TransposeBy(ctx, q, {0, 2, 1, 3}));
  K2L_ASSIGN_OR_RETURN(k, TransposeBy(ctx, k, {0, 2, 3, 1}));
  K2L_ASSIGN_OR_RETURN(v, TransposeBy(ctx, v, {0, 2, 1, 3}));
  K2L_ASSIGN_OR_RETURN(ValueId scores, ctx.Op(OpKind::kBatchMatMul, {q, k},
                                              ir::BatchMatMulAttrs{}));
  K2L_ASSIGN_OR_RETURN(
      ValueId mask,
      MultiHeadMask(ctx, rank, tq, tv, causal, window, query, value, implicit));
  // Keras takes ops.dot_product_attention unless it needs the weights
  // (returned or dropped out) or attends over several axes.
  const bool explicit_weights = dropout > 0 || want_scores || rank != 3;
  K2L_ASSIGN_OR_RETURN(
      ValueId weights,
      MaskedSoftmax(ctx, scores, mask,
                    explicit_weights ? SoftmaxPath::kSoftmaxLayer
                                     : SoftmaxPath::kDotProductAttention));
  K2L_ASSIGN_OR_RETURN(ValueId ctxv, ctx.Op(OpKind::kBatchMatMul, {weights, v},
                                            ir::BatchMatMulAttrs{}));
  K2L_ASSIGN_OR_RETURN(ctxv, TransposeBy(ctx, ctxv, {0, 2, 1, 3}));
  if (use_gate) {
    K2L_ASSIGN_OR_RETURN(ValueId gate,
                         LowerEinsumDense(ctx, query, proj, gw.kernel,
                                          gw.bias_or_null(), "de", "gate"));
    K2L_ASSIGN_OR_RETURN(gate, ApplyActivation(ctx, gate, json("sigmoid")));
    K2L_ASSIGN_OR_RETURN(ctxv,
                         ctx.Op(OpKind::kMul, {ctxv, gate}, ir::BinaryAttrs{}));
  }
  std::string letters;
  for (size_t i = 0; i < out_dims.size(); ++i) {
    letters += static_cast<char>('e' + i);
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId out,
      LowerEinsumDense(ctx, ctxv, "abcd,cd" + letters + "->ab" + letters,
                       ow.kernel, ow.bias_or_null(), letters,
                       "attention_output"));
  if (rank > 3) {
    ir::Shape os = {ir::kDynamic};
    os.insert(os.end(), tq.begin(), tq.end());
    os.insert(os.end(), out_dims.begin(), out_dims.end());
    K2L_ASSIGN_OR_RETURN(out, ReshapeTo(ctx, out, os, why));
    ir::Shape ss = {ir::kDynamic, heads};
    ss.insert(ss.end(), tq.begin(), tq.end());
    ss.insert(ss.end(), tv.begin(), tv.end());
    K2L_ASSIGN_OR_RETURN(weights, ReshapeTo(ctx, weights, ss, why));
  }
  if (want_scores) return std::vector<ValueId>{out, weights};
  return std::vector<ValueId>{out};
}

}  // namespace k2l::keras
