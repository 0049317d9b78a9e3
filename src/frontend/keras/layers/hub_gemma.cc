// Keras-Hub's Gemma layers (keras-hub 0.32): RMSNormalization of
// models/gemma and models/gemma3 (x * rsqrt(mean(x^2) + eps) * (1 + scale)),
// GemmaDecoderBlock (Gemma 1 and 2) and Gemma3DecoderBlock (text only).
//
// A decoder block is lowered whole, as keras-hub's call computes it:
//   pre_attention_norm -> grouped-query attention (query, key, value
//   projections; Gemma 3's query_norm and key_norm; rotary embedding; query
//   scaled by 1/sqrt(head_dim); optional tanh soft cap of the logits; the
//   causal mask, narrowed to the sliding window on local layers, merged with
//   the padding mask over keys; keras.layers.Softmax; rows with no key to
//   attend to give zeros) -> optional post_attention_norm -> residual ->
//   pre_ffw_norm -> gelu(gating_ffw(x), approximate) * gating_ffw_2(x) ->
//   ffw_linear -> optional post_ffw_norm -> residual.
//
// Gemma 1 and 2 interleave the two rotated halves of the queries and keys
// (CachedGemmaAttention._apply_rope). Both are permuted alike, so their dot
// products, the only thing they feed, are unchanged: the permutation is left
// out. Both blocks build their attention with query_head_dim_normalize=True
// whatever their own config says, so the query scale is always
// 1/sqrt(head_dim), as keras-hub computes it.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "frontend/keras/attention_lowering.h"
#include "frontend/keras/einsum_lowering.h"
#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;
using Outs = Result<std::vector<ValueId>>;

// x * rsqrt(mean(x^2, last axis) + eps) * (1 + scale).
Result<ValueId> GemmaRmsNorm(LayerContext& ctx, ValueId x,
                             const ir::TensorData& scale, double eps,
                             const std::string& what) {
  const ir::Shape xs = ctx.shape(x);
  const int32_t axis = static_cast<int32_t>(xs.size()) - 1;
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(scale, what + " scale", {xs.back()}));
  auto s = scale.as<float>();
  std::vector<float> one_plus(s.begin(), s.end());
  for (float& f : one_plus) f = 1.0f + f;
  K2L_ASSIGN_OR_RETURN(ValueId sq, ctx.Op(OpKind::kSquare, {x}));
  K2L_ASSIGN_OR_RETURN(
      ValueId ms,
      ctx.Op(OpKind::kMean, {sq, ctx.ConstInts({axis})}, ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(
      ValueId me,
      ctx.Op(OpKind::kAdd, {ms, ctx.ConstFloat(static_cast<float>(eps))},
             ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(ValueId inv, ctx.Op(OpKind::kRsqrt, {me}));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kMul, {x, inv}, ir::BinaryAttrs{}));
  return ctx.Op(OpKind::kMul,
                {y, ctx.ConstFloats(one_plus, {xs.back()})},
                ir::BinaryAttrs{});
}

Result<double> Epsilon(LayerContext& ctx, const char* key) {
  K2L_ASSIGN_OR_RETURN(double eps, ctx.FloatOr(key, 1e-6));
  if (!(eps >= 0)) {
    return ctx.Invalid(std::string(key) + "=" + std::to_string(eps) +
                           " is negative",
                       "Use a non-negative epsilon");
  }
  return eps;
}

Outs ConvertGemmaRmsNorm(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(double eps, Epsilon(ctx, "epsilon"));
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights({"scale"}));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       GemmaRmsNorm(ctx, ctx.input(), w[0], eps, "its"));
  return std::vector<ValueId>{y};
}

// --- Rotary embedding (keras_hub.layers.RotaryEmbedding, rope_type
// "linear", over the sequence axis 1 and the feature axis -1).

// Angle-addition tables: a position p < kLo * kHi is p = hi * kLo + lo, and
// cos/sin of p * f come from cos/sin of hi * kLo * f and of lo * f.
constexpr int64_t kLo = 512;
constexpr int64_t kHi = 256;  // positions up to 131072

// The inverse frequencies keras-hub computes in float32:
// wavelength^(-2j / head_dim) / scaling_factor.
std::vector<double> InverseFrequencies(int64_t head_dim, double wavelength,
                                       double scaling) {
  std::vector<double> inv;
  for (int64_t j = 0; j < head_dim / 2; ++j) {
    float range = static_cast<float>(2 * j) / static_cast<float>(head_dim);
    float f = std::pow(static_cast<float>(wavelength), -range);
    f = f / static_cast<float>(scaling);
    inv.push_back(static_cast<double>(f));
  }
  return inv;
}

// [n, head_dim] tables of cos and sin of (first + i * step) * inv[j mod
// head_dim/2]; the sin's first half is negated, which folds rotate_half's
// sign into it.
void AngleTables(const std::vector<double>& inv, int64_t n, double step,
                 std::vector<float>& cos_t, std::vector<float>& sin_t) {
  const int64_t half = static_cast<int64_t>(inv.size());
  const int64_t d = 2 * half;
  cos_t.assign(static_cast<size_t>(n * d), 0.f);
  sin_t.assign(static_cast<size_t>(n * d), 0.f);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) {
      double a = static_cast<double>(i) * step * inv[static_cast<size_t>(j % half)];
      cos_t[static_cast<size_t>(i * d + j)] = static_cast<float>(std::cos(a));
      double s = std::sin(a);
      sin_t[static_cast<size_t>(i * d + j)] =
          static_cast<float>(j < half ? -s : s);
    }
  }
}

struct Rope {
  ValueId cos = ir::kNoValue;  // [1, T, 1, head_dim]
  ValueId sin = ir::kNoValue;  // the same, first half negated
};

// The cos and sin of RotaryEmbedding for the positions 0..T-1 of `x`
// ([B, T, ...]): constants when T is fixed, else gathered from the
// angle-addition tables at run time.
Result<Rope> RopeTables(LayerContext& ctx, ValueId x, int64_t head_dim,
                        double wavelength, double scaling) {
  const std::vector<double> inv =
      InverseFrequencies(head_dim, wavelength, scaling);
  const int64_t t = ctx.shape(x)[1];
  Rope r;
  std::vector<float> c, s;
  if (t != ir::kDynamic) {
    AngleTables(inv, t, 1.0, c, s);
    r.cos = ctx.ConstFloats(c, {1, t, 1, head_dim});
    r.sin = ctx.ConstFloats(s, {1, t, 1, head_dim});
    return r;
  }
  // p = hi * kLo + lo, computed in float32 (exact for these integers).
  K2L_ASSIGN_OR_RETURN(ValueId n, RuntimeDim(ctx, x, 1));
  K2L_ASSIGN_OR_RETURN(ValueId p, ctx.Op(OpKind::kRange,
                                         {ctx.ConstInts({0}, {}), n,
                                          ctx.ConstInts({1}, {})}));
  K2L_ASSIGN_OR_RETURN(ValueId pf, ctx.Op(OpKind::kCast, {p}, ir::NoAttrs{},
                                          ir::DType::kFloat32));
  K2L_ASSIGN_OR_RETURN(
      ValueId hf,
      ctx.Op(OpKind::kMul,
             {pf, ctx.ConstFloat(1.0f / static_cast<float>(kLo))},
             ir::BinaryAttrs{}));
  // Non-negative, so the truncating cast is the floor.
  K2L_ASSIGN_OR_RETURN(ValueId hi, ctx.Op(OpKind::kCast, {hf}, ir::NoAttrs{},
                                          ir::DType::kInt32));
  K2L_ASSIGN_OR_RETURN(ValueId hi_f, ctx.Op(OpKind::kCast, {hi}, ir::NoAttrs{},
                                            ir::DType::kFloat32));
  K2L_ASSIGN_OR_RETURN(
      ValueId base,
      ctx.Op(OpKind::kMul, {hi_f, ctx.ConstFloat(static_cast<float>(kLo))},
             ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(ValueId lo_f,
                       ctx.Op(OpKind::kSub, {pf, base}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(ValueId lo, ctx.Op(OpKind::kCast, {lo_f}, ir::NoAttrs{},
                                          ir::DType::kInt32));
  std::vector<float> ch, sh;
  AngleTables(inv, kLo, 1.0, c, s);
  AngleTables(inv, kHi, static_cast<double>(kLo), ch, sh);
  ValueId c_lo = ctx.ConstFloats(c, {kLo, head_dim});
  ValueId s_lo = ctx.ConstFloats(s, {kLo, head_dim});
  ValueId c_hi = ctx.ConstFloats(ch, {kHi, head_dim});
  ValueId s_hi = ctx.ConstFloats(sh, {kHi, head_dim});
  auto gather = [&](ValueId table, ValueId idx) {
    return ctx.Op(OpKind::kGather, {table, idx}, ir::GatherAttrs{0});
  };
  K2L_ASSIGN_OR_RETURN(ValueId cl, gather(c_lo, lo));
  K2L_ASSIGN_OR_RETURN(ValueId sl, gather(s_lo, lo));
  K2L_ASSIGN_OR_RETURN(ValueId chh, gather(c_hi, hi));
  K2L_ASSIGN_OR_RETURN(ValueId shh, gather(s_hi, hi));
  auto mul = [&](ValueId a, ValueId b) {
    return ctx.Op(OpKind::kMul, {a, b}, ir::BinaryAttrs{});
  };
  // cos(a + b) = cos a cos b - sin a sin b; with both sines' first halves
  // negated their product keeps its sign. sin(a + b) = sin a cos b +
  // cos a sin b keeps the negated first half.
  K2L_ASSIGN_OR_RETURN(ValueId cc, mul(chh, cl));
  K2L_ASSIGN_OR_RETURN(ValueId ss, mul(shh, sl));
  K2L_ASSIGN_OR_RETURN(ValueId sc, mul(shh, cl));
  K2L_ASSIGN_OR_RETURN(ValueId cs, mul(chh, sl));
  K2L_ASSIGN_OR_RETURN(ValueId cos_v,
                       ctx.Op(OpKind::kSub, {cc, ss}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(ValueId sin_v,
                       ctx.Op(OpKind::kAdd, {sc, cs}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(r.cos, ReshapeTo(ctx, cos_v, {1, ir::kDynamic, 1, head_dim},
                                        "the rotary embedding"));
  K2L_ASSIGN_OR_RETURN(r.sin, ReshapeTo(ctx, sin_v, {1, ir::kDynamic, 1, head_dim},
                                        "the rotary embedding"));
  return r;
}

// x * cos + rotate_half(x) * sin over x's last axis ([B, T, N, H]), with
// rotate_half(x) = concat(-x2, x1) and its sign folded into `sin`.
Result<ValueId> ApplyRope(LayerContext& ctx, ValueId x, const Rope& r) {
  const int32_t axis = static_cast<int32_t>(ctx.rank(x)) - 1;
  K2L_ASSIGN_OR_RETURN(auto halves,
                       ctx.MultiOp(OpKind::kSplit, {ctx.ConstInts({axis}), x},
                                   ir::SplitAttrs{2}));
  K2L_ASSIGN_OR_RETURN(ValueId swapped,
                       ctx.Op(OpKind::kConcatenation, {halves[1], halves[0]},
                              ir::ConcatAttrs{axis}));
  K2L_ASSIGN_OR_RETURN(ValueId a,
                       ctx.Op(OpKind::kMul, {x, r.cos}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(ValueId b, ctx.Op(OpKind::kMul, {swapped, r.sin},
                                         ir::BinaryAttrs{}));
  return ctx.Op(OpKind::kAdd, {a, b}, ir::BinaryAttrs{});
}

// --- The decoder blocks.

struct BlockConfig {
  int64_t hidden = 0, intermediate = 0, head_dim = 0, heads = 0, kv_heads = 0;
  int64_t ffw_dim = 0;  // the gating projections' width
  double eps = 1e-6;
  bool post_attention_norm = false, post_ffw_norm = false;
  std::optional<double> soft_cap;
  int64_t window = 0;  // 0: no sliding window
  bool query_key_norm = false;
  double rope_wavelength = 10000.0, rope_scaling = 1.0;
};

Result<int64_t> PositiveInt(LayerContext& ctx, const char* key) {
  K2L_ASSIGN_OR_RETURN(int64_t v, ctx.Int(key));
  if (v <= 0) {
    return ctx.Invalid(std::string(key) + "=" + std::to_string(v) +
                           " is not positive",
                       "Give " + std::string(key) + " a positive value");
  }
  return v;
}

Result<BlockConfig> ReadBlockConfig(LayerContext& ctx, bool gemma3) {
  BlockConfig b;
  K2L_ASSIGN_OR_RETURN(b.hidden, PositiveInt(ctx, "hidden_dim"));
  K2L_ASSIGN_OR_RETURN(b.intermediate, PositiveInt(ctx, "intermediate_dim"));
  K2L_ASSIGN_OR_RETURN(b.head_dim, PositiveInt(ctx, "head_dim"));
  K2L_ASSIGN_OR_RETURN(b.heads, PositiveInt(ctx, "num_query_heads"));
  K2L_ASSIGN_OR_RETURN(b.kv_heads, PositiveInt(ctx, "num_key_value_heads"));
  if (b.heads % b.kv_heads != 0) {
    return ctx.Invalid("num_query_heads=" + std::to_string(b.heads) +
                           " is not a multiple of num_key_value_heads=" +
                           std::to_string(b.kv_heads),
                       "Use a number of query heads that the key/value "
                       "heads divide");
  }
  if (b.head_dim % 2 != 0) {
    return ctx.Invalid("head_dim=" + std::to_string(b.head_dim) +
                           " is odd; the rotary embedding splits it in halves",
                       "Use an even head_dim");
  }
  K2L_ASSIGN_OR_RETURN(b.eps, Epsilon(ctx, "layer_norm_epsilon"));
  K2L_ASSIGN_OR_RETURN(b.post_attention_norm,
                       ctx.BoolOr("use_post_attention_norm", false));
  K2L_ASSIGN_OR_RETURN(b.post_ffw_norm, ctx.BoolOr("use_post_ffw_norm", false));
  if (ctx.Has("logit_soft_cap") && !ctx.config()["logit_soft_cap"].is_null()) {
    K2L_ASSIGN_OR_RETURN(double cap, ctx.Float("logit_soft_cap"));
    if (!(cap > 0)) {
      return ctx.Invalid("logit_soft_cap=" + std::to_string(cap) +
                             " is not positive",
                         "Use a positive soft cap, or None");
    }
    b.soft_cap = cap;
  }
  K2L_ASSIGN_OR_RETURN(bool sliding,
                       ctx.BoolOr("use_sliding_window_attention", false));
  if (sliding) {
    K2L_ASSIGN_OR_RETURN(int64_t w, ctx.Int("sliding_window_size"));
    if (w < 1) {
      return ctx.Invalid("sliding_window_size=" + std::to_string(w) +
                             " is less than 1",
                         "Use a window of at least one token");
    }
    b.window = w;
  }
  int64_t reduction = 2;
  if (gemma3) {
    K2L_ASSIGN_OR_RETURN(b.query_key_norm,
                         ctx.BoolOr("use_query_key_norm", false));
    K2L_ASSIGN_OR_RETURN(reduction, ctx.IntOr("gate_dim_reduction", 2));
    if (reduction <= 0) {
      return ctx.Invalid("gate_dim_reduction=" + std::to_string(reduction) +
                             " is not positive",
                         "Use a positive gate_dim_reduction");
    }
    K2L_ASSIGN_OR_RETURN(b.rope_wavelength,
                         ctx.FloatOr("rope_wavelength", 10000.0));
    K2L_ASSIGN_OR_RETURN(b.rope_scaling, ctx.FloatOr("rope_scaling_factor", 1.0));
    if (!(b.rope_wavelength > 0) || !(b.rope_scaling > 0)) {
      return ctx.Invalid("rope_wavelength and rope_scaling_factor must be "
                         "positive",
                         "Use positive rotary embedding parameters");
    }
    K2L_ASSIGN_OR_RETURN(bool bidir,
                         ctx.BoolOr("use_bidirectional_attention", false));
    if (bidir) {
      return ctx.Invalid(
          "use_bidirectional_attention=True (the attention of Gemma 3 "
          "embedding models) is not supported; keras2litert lowers the "
          "causal attention of the decoder",
          "Use use_bidirectional_attention=False");
    }
  }
  b.ffw_dim = b.intermediate / reduction;
  return b;
}

// The bool [B or 1, 1, T, T] mask: causal, within the sliding window when
// there is one, and over the keys the padding mask (kNoValue: none) keeps.
Result<ValueId> BlockMask(LayerContext& ctx, ValueId x, ValueId padding,
                          int64_t window) {
  const int64_t t = ctx.shape(x)[1];
  ValueId causal;
  if (t != ir::kDynamic) {
    causal = ConstantMask(ctx, t, t, true, window, {1, 1, t, t});
  } else {
    K2L_ASSIGN_OR_RETURN(ValueId n, RuntimeDim(ctx, x, 1));
    K2L_ASSIGN_OR_RETURN(ValueId r, ctx.Op(OpKind::kRange,
                                           {ctx.ConstInts({0}, {}), n,
                                            ctx.ConstInts({1}, {})}));
    K2L_ASSIGN_OR_RETURN(
        ValueId rows, ctx.Op(OpKind::kReshape, {r, ctx.ConstInts({1, 1, -1, 1})}));
    K2L_ASSIGN_OR_RETURN(
        ValueId cols, ctx.Op(OpKind::kReshape, {r, ctx.ConstInts({1, 1, 1, -1})}));
    K2L_ASSIGN_OR_RETURN(causal, ctx.Op(OpKind::kGreaterEqual, {rows, cols}));
    if (window > 0) {
      // Below the diagonal the window keeps i - j < window, i.e. i < j + w.
      K2L_ASSIGN_OR_RETURN(
          ValueId shifted,
          ctx.Op(OpKind::kAdd,
                 {cols, ctx.ConstInts({static_cast<int32_t>(window)}, {})},
                 ir::BinaryAttrs{}));
      K2L_ASSIGN_OR_RETURN(ValueId in_window,
                           ctx.Op(OpKind::kLess, {rows, shifted}));
      K2L_ASSIGN_OR_RETURN(causal, AndMasks(ctx, causal, in_window));
    }
  }
  if (padding == ir::kNoValue) return causal;
  const ir::Shape ps = ctx.shape(padding);
  if (ps.size() != 2) {
    return ctx.Invalid("its padding_mask has shape " + ir::ShapeToString(ps) +
                           ", not [batch, sequence]",
                       "Pass a [batch, sequence] padding mask");
  }
  K2L_ASSIGN_OR_RETURN(ValueId pm, AsBoolMask(ctx, padding));
  K2L_ASSIGN_OR_RETURN(pm, ReshapeTo(ctx, pm, {ps[0], 1, 1, ps[1]},
                                     "its padding_mask"));
  return AndMasks(ctx, pm, causal);
}

Result<ir::TensorData> SubKernel(LayerContext& ctx,
                                 const std::vector<std::string>& attrs,
                                 const ir::Shape& expected) {
  K2L_ASSIGN_OR_RETURN(auto w, ctx.SubWeights(attrs, {"kernel"}, 0));
  std::string what;
  for (const auto& a : attrs) what += (what.empty() ? "" : "/") + a;
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[0], what + " kernel", expected));
  return w[0];
}

Result<ValueId> SubNorm(LayerContext& ctx, ValueId x,
                        const std::vector<std::string>& attrs, double eps) {
  K2L_ASSIGN_OR_RETURN(auto w, ctx.SubWeights(attrs, {"scale"}, 0));
  std::string what;
  for (const auto& a : attrs) what += (what.empty() ? "" : "/") + a;
  return GemmaRmsNorm(ctx, x, w[0], eps, what);
}

Outs ConvertDecoderBlock(LayerContext& ctx, bool gemma3) {
  K2L_ASSIGN_OR_RETURN(BlockConfig b, ReadBlockConfig(ctx, gemma3));
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  if (xs.size() != 3 || xs[2] != b.hidden) {
    return ctx.Invalid("its input has shape " + ir::ShapeToString(xs) +
                           ", not [batch, sequence, hidden_dim=" +
                           std::to_string(b.hidden) + "]",
                       "Pass a [batch, sequence, hidden_dim] tensor");
  }
  K2L_ASSIGN_OR_RETURN(ValueId padding, ctx.KwargInput("padding_mask"));
  if (gemma3) {
    K2L_ASSIGN_OR_RETURN(ValueId vision, ctx.KwargInput("vision_mask"));
    if (vision != ir::kNoValue) {
      return ctx.Invalid("it is called with a vision_mask (Gemma 3 with a "
                         "vision encoder), which is not supported",
                         "Export a text-only Gemma 3 (vision_encoder=None)");
    }
  }
  const int64_t n = b.heads, k = b.kv_heads, h = b.head_dim, d = b.hidden;

  // Attention.
  K2L_ASSIGN_OR_RETURN(ValueId xn,
                       SubNorm(ctx, x, {"pre_attention_norm"}, b.eps));
  K2L_ASSIGN_OR_RETURN(ValueId mask, BlockMask(ctx, x, padding, b.window));
  K2L_ASSIGN_OR_RETURN(auto wq, SubKernel(ctx, {"attention", "query_dense"}, {n, d, h}));
  K2L_ASSIGN_OR_RETURN(auto wk, SubKernel(ctx, {"attention", "key_dense"}, {k, d, h}));
  K2L_ASSIGN_OR_RETURN(auto wv, SubKernel(ctx, {"attention", "value_dense"}, {k, d, h}));
  K2L_ASSIGN_OR_RETURN(auto wo, SubKernel(ctx, {"attention", "output_dense"}, {n, h, d}));
  K2L_ASSIGN_OR_RETURN(ValueId q, LowerEinsumDense(ctx, xn, "btd,ndh->btnh", wq,
                                                   nullptr, "", "query"));
  K2L_ASSIGN_OR_RETURN(ValueId kk, LowerEinsumDense(ctx, xn, "bsd,kdh->bskh", wk,
                                                    nullptr, "", "key"));
  K2L_ASSIGN_OR_RETURN(ValueId v, LowerEinsumDense(ctx, xn, "bsd,kdh->bskh", wv,
                                                   nullptr, "", "value"));
  if (b.query_key_norm) {
    K2L_ASSIGN_OR_RETURN(q, SubNorm(ctx, q, {"attention", "query_norm"}, b.eps));
    K2L_ASSIGN_OR_RETURN(kk, SubNorm(ctx, kk, {"attention", "key_norm"}, b.eps));
  }
  K2L_ASSIGN_OR_RETURN(Rope rope, RopeTables(ctx, x, h, b.rope_wavelength,
                                             b.rope_scaling));
  K2L_ASSIGN_OR_RETURN(q, ApplyRope(ctx, q, rope));
  K2L_ASSIGN_OR_RETURN(kk, ApplyRope(ctx, kk, rope));
  // keras-hub multiplies the queries by float32(1 / sqrt(head_dim)).
  const float qscale =
      static_cast<float>(1.0 / std::sqrt(static_cast<double>(h)));
  K2L_ASSIGN_OR_RETURN(q, ctx.Op(OpKind::kMul, {q, ctx.ConstFloat(qscale)},
                                 ir::BinaryAttrs{}));
  if (k != n) {
    // Grouped queries: query head i reads key/value head i / (n / k).
    std::vector<int32_t> idx;
    for (int64_t i = 0; i < n; ++i) idx.push_back(static_cast<int32_t>(i / (n / k)));
    ValueId gi = ctx.ConstInts(idx);
    K2L_ASSIGN_OR_RETURN(kk, ctx.Op(OpKind::kGather, {kk, gi}, ir::GatherAttrs{2}));
    K2L_ASSIGN_OR_RETURN(v, ctx.Op(OpKind::kGather, {v, gi}, ir::GatherAttrs{2}));
  }
  K2L_ASSIGN_OR_RETURN(ValueId qt, TransposeBy(ctx, q, {0, 2, 1, 3}));
  K2L_ASSIGN_OR_RETURN(ValueId kt, TransposeBy(ctx, kk, {0, 2, 3, 1}));
  K2L_ASSIGN_OR_RETURN(ValueId vt, TransposeBy(ctx, v, {0, 2, 1, 3}));
  K2L_ASSIGN_OR_RETURN(ValueId scores, ctx.Op(OpKind::kBatchMatMul, {qt, kt},
                                              ir::BatchMatMulAttrs{}));
  if (b.soft_cap) {
    const float cap = static_cast<float>(*b.soft_cap);
    K2L_ASSIGN_OR_RETURN(scores, ctx.Op(OpKind::kDiv,
                                        {scores, ctx.ConstFloat(cap)},
                                        ir::BinaryAttrs{}));
    K2L_ASSIGN_OR_RETURN(scores, ctx.Op(OpKind::kTanh, {scores}));
    K2L_ASSIGN_OR_RETURN(scores, ctx.Op(OpKind::kMul,
                                        {scores, ctx.ConstFloat(cap)},
                                        ir::BinaryAttrs{}));
  }
  // keras.layers.Softmax with the mask zeroes masked weights, so a query
  // with no key to attend to gets zeros, as keras-hub's where() gives.
  K2L_ASSIGN_OR_RETURN(ValueId probs, MaskedSoftmax(ctx, scores, mask,
                                                    SoftmaxPath::kSoftmaxLayer));
  K2L_ASSIGN_OR_RETURN(ValueId att, ctx.Op(OpKind::kBatchMatMul, {probs, vt},
                                           ir::BatchMatMulAttrs{}));
  K2L_ASSIGN_OR_RETURN(att, TransposeBy(ctx, att, {0, 2, 1, 3}));
  K2L_ASSIGN_OR_RETURN(att, LowerEinsumDense(ctx, att, "btnh,nhd->btd", wo,
                                             nullptr, "", "attention_output"));
  if (b.post_attention_norm) {
    K2L_ASSIGN_OR_RETURN(att, SubNorm(ctx, att, {"post_attention_norm"}, b.eps));
  }
  K2L_ASSIGN_OR_RETURN(ValueId ax, ctx.Op(OpKind::kAdd, {x, att}, ir::BinaryAttrs{}));

  // Gated feedforward.
  K2L_ASSIGN_OR_RETURN(ValueId fn, SubNorm(ctx, ax, {"pre_ffw_norm"}, b.eps));
  K2L_ASSIGN_OR_RETURN(auto wg, SubKernel(ctx, {"gating_ffw"}, {d, b.ffw_dim}));
  K2L_ASSIGN_OR_RETURN(auto wg2, SubKernel(ctx, {"gating_ffw_2"}, {d, b.ffw_dim}));
  K2L_ASSIGN_OR_RETURN(auto wl, SubKernel(ctx, {"ffw_linear"}, {b.ffw_dim, d}));
  K2L_ASSIGN_OR_RETURN(ValueId x1, LowerEinsumDense(ctx, fn, "btd,df->btf", wg,
                                                    nullptr, "", "ffw_gating"));
  K2L_ASSIGN_OR_RETURN(ValueId x2, LowerEinsumDense(ctx, fn, "btd,df->btf", wg2,
                                                    nullptr, "", "ffw_gating_2"));
  K2L_ASSIGN_OR_RETURN(x1, ctx.Op(OpKind::kGelu, {x1}, ir::GeluAttrs{true}));
  K2L_ASSIGN_OR_RETURN(ValueId f, ctx.Op(OpKind::kMul, {x1, x2}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(f, LowerEinsumDense(ctx, f, "btf,fd->btd", wl, nullptr, "",
                                           "ffw_linear"));
  if (b.post_ffw_norm) {
    K2L_ASSIGN_OR_RETURN(f, SubNorm(ctx, f, {"post_ffw_norm"}, b.eps));
  }
  K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(OpKind::kAdd, {f, ax}, ir::BinaryAttrs{}));
  return std::vector<ValueId>{y};
}

Outs ConvertGemmaDecoderBlock(LayerContext& ctx) {
  return ConvertDecoderBlock(ctx, false);
}
Outs ConvertGemma3DecoderBlock(LayerContext& ctx) {
  return ConvertDecoderBlock(ctx, true);
}

}  // namespace

Status RegisterHubGemmaLayers(Registry& r) {
  // keras-hub's RMSNormalization shares its class name with Keras's own,
  // which scales by `scale`, not 1 + scale: it is registered under the
  // keras_hub> key that keras-hub layers are looked up by first.
  K2L_RETURN_IF_ERROR(r.Register("keras_hub>RMSNormalization",
                                 ConvertGemmaRmsNorm,
                                 "SQUARE, MEAN, ADD, RSQRT, MUL"));
  const char* ops =
      "FULLY_CONNECTED, BATCH_MATMUL, TRANSPOSE, RESHAPE, SPLIT, "
      "CONCATENATION, GATHER, SOFTMAX, SELECT_V2, TANH, GELU, SQUARE, MEAN, "
      "RSQRT, ADD, SUB, MUL, DIV";
  K2L_RETURN_IF_ERROR(r.Register(
      "GemmaDecoderBlock", ConvertGemmaDecoderBlock, ops));
  K2L_RETURN_IF_ERROR(r.Register(
      "Gemma3DecoderBlock", ConvertGemma3DecoderBlock, ops,
      "text only (a vision_mask is refused); use_bidirectional_attention=True "
      "is refused"));
  return Status::Ok();
}

}  // namespace k2l::keras
