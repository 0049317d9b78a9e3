#include "frontend/keras/decoder_blocks.h"

#include <cmath>

#include "frontend/keras/activations.h"
#include "frontend/keras/einsum_lowering.h"
#include "frontend/keras/shared_lowering.h"

namespace k2l::keras {

using ir::OpKind;
using ir::ValueId;

Result<ValueId> RmsNormLastAxis(LayerContext& ctx, ValueId x,
                                const ir::TensorData& scale, double epsilon,
                                const std::string& what) {
  const ir::Shape xs = ctx.shape(x);
  K2L_RETURN_IF_ERROR(
      ctx.ExpectWeightShape(scale, what + " scale", {xs.back()}));
  K2L_ASSIGN_OR_RETURN(ValueId sq, ctx.Op(OpKind::kSquare, {x}));
  K2L_ASSIGN_OR_RETURN(
      ValueId ms,
      ctx.Op(OpKind::kMean, {sq, ctx.ConstInts({-1})}, ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(
      ValueId me,
      ctx.Op(OpKind::kAdd, {ms, ctx.ConstFloat(static_cast<float>(epsilon))},
             ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(ValueId inv, ctx.Op(OpKind::kRsqrt, {me}));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kMul, {x, inv}, ir::BinaryAttrs{}));
  return ctx.Op(OpKind::kMul, {y, ctx.Const(scale, what + "/scale")},
                ir::BinaryAttrs{});
}

std::vector<float> RopeInverseFrequencies(int64_t dim, double max_wavelength,
                                          double scaling_factor) {
  std::vector<float> inv;
  for (int64_t i = 0; i < dim; i += 2) {
    // In float32, as Keras computes it.
    const float range = static_cast<float>(i) / static_cast<float>(dim);
    const float f =
        std::pow(static_cast<float>(max_wavelength), -range);
    inv.push_back(f / static_cast<float>(scaling_factor));
  }
  return inv;
}

std::vector<float> Llama3RopeInverseFrequencies(int64_t dim,
                                                double max_wavelength,
                                                double adjustment_factor,
                                                double low_freq_factor,
                                                double high_freq_factor,
                                                double pretraining_length) {
  std::vector<float> inv;
  const float pi = static_cast<float>(M_PI);
  const float low_wavelen =
      static_cast<float>(pretraining_length / low_freq_factor);
  const float high_wavelen =
      static_cast<float>(pretraining_length / high_freq_factor);
  const float adj = static_cast<float>(adjustment_factor);
  const float lo = static_cast<float>(low_freq_factor);
  const float hi = static_cast<float>(high_freq_factor);
  const float len = static_cast<float>(pretraining_length);
  for (int64_t i = 0; i < dim; i += 2) {
    const float range = static_cast<float>(i) / static_cast<float>(dim);
    float f = 1.0f / std::pow(static_cast<float>(max_wavelength), range);
    const float wavelen = 2 * pi / f;
    if (wavelen > low_wavelen) {
      f = f / adj;
    } else if (wavelen >= high_wavelen) {
      const float smooth = (len / wavelen - lo) / (hi - lo);
      f = (1 - smooth) * (f / adj) + smooth * f;
    }
    inv.push_back(f);
  }
  return inv;
}

namespace {

Result<ValueId> Mul(LayerContext& ctx, ValueId a, ValueId b) {
  return ctx.Op(OpKind::kMul, {a, b}, ir::BinaryAttrs{});
}
Result<ValueId> Add(LayerContext& ctx, ValueId a, ValueId b) {
  return ctx.Op(OpKind::kAdd, {a, b}, ir::BinaryAttrs{});
}
Result<ValueId> Sub(LayerContext& ctx, ValueId a, ValueId b) {
  return ctx.Op(OpKind::kSub, {a, b}, ir::BinaryAttrs{});
}

// c[0] + x * (c[1] + x * (c[2] + ...)), by Horner's rule.
Result<ValueId> Polynomial(LayerContext& ctx, ValueId x,
                           const std::vector<double>& c) {
  K2L_ASSIGN_OR_RETURN(
      ValueId p, Mul(ctx, x, ctx.ConstFloat(static_cast<float>(c.back()))));
  for (size_t i = c.size() - 1; i-- > 0;) {
    K2L_ASSIGN_OR_RETURN(
        p, Add(ctx, p, ctx.ConstFloat(static_cast<float>(c[i]))));
    if (i > 0) {
      K2L_ASSIGN_OR_RETURN(p, Mul(ctx, p, x));
    }
  }
  return p;
}

// 0..S-1 for S = dim 1 of `seq` at run time, as int32 [S].
Result<ValueId> Positions(LayerContext& ctx, ValueId seq) {
  K2L_ASSIGN_OR_RETURN(ValueId n, RuntimeDim(ctx, seq, 1));
  return ctx.Op(OpKind::kRange,
                {ctx.ConstInts({0}, {}), n, ctx.ConstInts({1}, {})});
}

}  // namespace

Result<RotaryTables> RotaryCosSin(LayerContext& ctx, ValueId seq,
                                  const std::vector<float>& inv_freq) {
  const int64_t half = static_cast<int64_t>(inv_freq.size());
  K2L_ASSIGN_OR_RETURN(ValueId pos, Positions(ctx, seq));
  K2L_ASSIGN_OR_RETURN(
      pos, ctx.Op(OpKind::kCast, {pos}, ir::NoAttrs{}, ir::DType::kFloat32));
  K2L_ASSIGN_OR_RETURN(pos,
                       ctx.Op(OpKind::kReshape, {pos, ctx.ConstInts({-1, 1})}));
  // theta = position * inv_freq, [S, D/2], rounded as Keras rounds it.
  K2L_ASSIGN_OR_RETURN(
      ValueId theta, Mul(ctx, pos, ctx.ConstFloats(inv_freq, {1, half})));
  // Range reduction: r = theta - 2*pi*n with n = round(theta / 2pi) (theta
  // >= 0, so a cast truncates like floor), 2*pi split in two parts (the
  // first exact in few bits) so that n * 2pi loses nothing.
  const double two_pi = 2 * M_PI;
  const float c1 = 6.28125f;
  const float c2 = static_cast<float>(two_pi - 6.28125);
  K2L_ASSIGN_OR_RETURN(
      ValueId n,
      Mul(ctx, theta, ctx.ConstFloat(static_cast<float>(1.0 / two_pi))));
  K2L_ASSIGN_OR_RETURN(n, Add(ctx, n, ctx.ConstFloat(0.5f)));
  K2L_ASSIGN_OR_RETURN(
      n, ctx.Op(OpKind::kCast, {n}, ir::NoAttrs{}, ir::DType::kInt32));
  K2L_ASSIGN_OR_RETURN(
      n, ctx.Op(OpKind::kCast, {n}, ir::NoAttrs{}, ir::DType::kFloat32));
  K2L_ASSIGN_OR_RETURN(ValueId t1, Mul(ctx, n, ctx.ConstFloat(c1)));
  K2L_ASSIGN_OR_RETURN(ValueId r, Sub(ctx, theta, t1));
  K2L_ASSIGN_OR_RETURN(ValueId t2, Mul(ctx, n, ctx.ConstFloat(c2)));
  K2L_ASSIGN_OR_RETURN(r, Sub(ctx, r, t2));
  // With h = r / 2 in [-pi/2, pi/2], Taylor series to degree 13/14 are
  // exact to float32; then sin r = 2 sin h cos h, cos r = 1 - 2 sin^2 h.
  K2L_ASSIGN_OR_RETURN(ValueId h, Mul(ctx, r, ctx.ConstFloat(0.5f)));
  K2L_ASSIGN_OR_RETURN(ValueId h2, Mul(ctx, h, h));
  std::vector<double> sin_c, cos_c;
  double f = 1;
  for (int k = 0; k <= 7; ++k) {
    // sin: h * sum (-1)^k h^2k / (2k+1)!; cos: sum (-1)^k h^2k / (2k)!.
    if (k > 0) f *= (2.0 * k - 1) * (2.0 * k);
    cos_c.push_back((k % 2 ? -1.0 : 1.0) / f);
    sin_c.push_back((k % 2 ? -1.0 : 1.0) / (f * (2.0 * k + 1)));
  }
  K2L_ASSIGN_OR_RETURN(ValueId sh, Polynomial(ctx, h2, sin_c));
  K2L_ASSIGN_OR_RETURN(sh, Mul(ctx, sh, h));
  K2L_ASSIGN_OR_RETURN(ValueId ch, Polynomial(ctx, h2, cos_c));
  K2L_ASSIGN_OR_RETURN(ValueId s, Mul(ctx, sh, ch));
  K2L_ASSIGN_OR_RETURN(s, Mul(ctx, s, ctx.ConstFloat(2.0f)));
  K2L_ASSIGN_OR_RETURN(ValueId c, Mul(ctx, sh, sh));
  K2L_ASSIGN_OR_RETURN(c, Mul(ctx, c, ctx.ConstFloat(-2.0f)));
  K2L_ASSIGN_OR_RETURN(c, Add(ctx, c, ctx.ConstFloat(1.0f)));
  RotaryTables out;
  for (auto [src, dst] : {std::pair{c, &out.cos}, std::pair{s, &out.sin}}) {
    K2L_ASSIGN_OR_RETURN(ValueId both,
                         ctx.Op(OpKind::kConcatenation, {src, src},
                                ir::ConcatAttrs{1, ir::Activation::kNone}));
    K2L_ASSIGN_OR_RETURN(
        *dst, ctx.Op(OpKind::kReshape,
                     {both, ctx.ConstInts({1, -1, 1,
                                           static_cast<int32_t>(2 * half)})}));
  }
  return out;
}

Result<ValueId> ApplyRotary(LayerContext& ctx, ValueId x,
                            const RotaryTables& t) {
  K2L_ASSIGN_OR_RETURN(auto halves,
                       ctx.MultiOp(OpKind::kSplit, {ctx.ConstInts({3}, {}), x},
                                   ir::SplitAttrs{2}));
  K2L_ASSIGN_OR_RETURN(ValueId neg, ctx.Op(OpKind::kNeg, {halves[1]}));
  K2L_ASSIGN_OR_RETURN(ValueId rot,
                       ctx.Op(OpKind::kConcatenation, {neg, halves[0]},
                              ir::ConcatAttrs{3, ir::Activation::kNone}));
  K2L_ASSIGN_OR_RETURN(ValueId a, Mul(ctx, x, t.cos));
  K2L_ASSIGN_OR_RETURN(ValueId b, Mul(ctx, rot, t.sin));
  return Add(ctx, a, b);
}

Result<ValueId> DecoderSelfAttentionMask(LayerContext& ctx, ValueId seq,
                                         ValueId padding_mask,
                                         int64_t sliding_window) {
  K2L_ASSIGN_OR_RETURN(ValueId idx, Positions(ctx, seq));
  K2L_ASSIGN_OR_RETURN(
      ValueId rows,
      ctx.Op(OpKind::kReshape, {idx, ctx.ConstInts({1, 1, -1, 1})}));
  K2L_ASSIGN_OR_RETURN(
      ValueId cols,
      ctx.Op(OpKind::kReshape, {idx, ctx.ConstInts({1, 1, 1, -1})}));
  K2L_ASSIGN_OR_RETURN(ValueId mask,
                       ctx.Op(OpKind::kGreaterEqual, {rows, cols}));
  if (sliding_window > 0) {
    // i < j + window, i.e. i - j < window.
    K2L_ASSIGN_OR_RETURN(ValueId d, Sub(ctx, rows, cols));
    K2L_ASSIGN_OR_RETURN(
        ValueId near,
        ctx.Op(OpKind::kLess,
               {d, ctx.ConstInts({static_cast<int32_t>(sliding_window)}, {})}));
    K2L_ASSIGN_OR_RETURN(mask, AndMasks(ctx, mask, near));
  }
  if (padding_mask != ir::kNoValue) {
    if (ctx.rank(padding_mask) != 2) {
      return ctx.Invalid("its decoder_padding_mask has shape " +
                             ir::ShapeToString(ctx.shape(padding_mask)),
                         "Pass a [batch, sequence] padding mask");
    }
    K2L_ASSIGN_OR_RETURN(ValueId pm, AsBoolMask(ctx, padding_mask));
    // [B, S] -> [B, 1, 1, S]: the padding hides keys.
    K2L_ASSIGN_OR_RETURN(
        pm, ctx.Op(OpKind::kExpandDims, {pm, ctx.ConstInts({1}, {})}));
    K2L_ASSIGN_OR_RETURN(
        pm, ctx.Op(OpKind::kExpandDims, {pm, ctx.ConstInts({1}, {})}));
    K2L_ASSIGN_OR_RETURN(mask, AndMasks(ctx, pm, mask));
  }
  return mask;
}

Result<ValueId> GroupedQueryAttention(LayerContext& ctx, ValueId q, ValueId k,
                                      ValueId v, ValueId mask, int64_t heads,
                                      int64_t kv_heads, SoftmaxPath path) {
  if (kv_heads != heads) {
    // Query head u reads key/value head u / groups.
    const int64_t groups = heads / kv_heads;
    std::vector<int32_t> idx;
    for (int64_t u = 0; u < heads; ++u) {
      idx.push_back(static_cast<int32_t>(u / groups));
    }
    ValueId ids = ctx.ConstInts(idx);
    K2L_ASSIGN_OR_RETURN(k, ctx.Op(OpKind::kGather, {k, ids},
                                   ir::GatherAttrs{2, 0}));
    K2L_ASSIGN_OR_RETURN(v, ctx.Op(OpKind::kGather, {v, ids},
                                   ir::GatherAttrs{2, 0}));
  }
  // [B, S, H, D] -> [B, H, S, D]; the key as [B, H, D, S].
  K2L_ASSIGN_OR_RETURN(q, TransposeBy(ctx, q, {0, 2, 1, 3}));
  K2L_ASSIGN_OR_RETURN(k, TransposeBy(ctx, k, {0, 2, 3, 1}));
  K2L_ASSIGN_OR_RETURN(v, TransposeBy(ctx, v, {0, 2, 1, 3}));
  K2L_ASSIGN_OR_RETURN(ValueId scores, ctx.Op(OpKind::kBatchMatMul, {q, k},
                                              ir::BatchMatMulAttrs{}));
  K2L_ASSIGN_OR_RETURN(ValueId w, MaskedSoftmax(ctx, scores, mask, path));
  K2L_ASSIGN_OR_RETURN(ValueId o, ctx.Op(OpKind::kBatchMatMul, {w, v},
                                         ir::BatchMatMulAttrs{}));
  return TransposeBy(ctx, o, {0, 2, 1, 3});
}

}  // namespace k2l::keras
