// Normalization layers: BatchNormalization, LayerNormalization,
// Normalization and Rescaling. Every epsilon comes from the config.
//
// BatchNormalization at inference is a per-channel affine map; it lowers to
// MUL + ADD by constants, which fold_batchnorm merges into a preceding
// convolution or dense layer.
#include <algorithm>
#include <cmath>

#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"
#include "frontend/keras/weight_layout.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;

// The axes of a config field that is an int or a list, normalised to
// [0, rank).
Result<std::vector<int>> Axes(LayerContext& ctx, const std::string& key,
                              size_t rank, int64_t fallback) {
  std::vector<int64_t> raw = {fallback};
  if (ctx.Has(key)) {
    if (ctx.config()[key].is_array()) {
      K2L_ASSIGN_OR_RETURN(raw, ctx.IntList(key));
    } else {
      K2L_ASSIGN_OR_RETURN(int64_t a, ctx.Int(key));
      raw = {a};
    }
  }
  std::vector<int> axes;
  for (int64_t a : raw) {
    int64_t n = a < 0 ? a + static_cast<int64_t>(rank) : a;
    if (n < 1 || n >= static_cast<int64_t>(rank)) {
      return ctx.Invalid("axis " + std::to_string(a) +
                             " is out of range for "
                             "an input of rank " +
                             std::to_string(rank) +
                             " (the batch axis cannot be normalised)",
                         "Use an axis between 1 and rank - 1");
    }
    axes.push_back(static_cast<int>(n));
  }
  std::sort(axes.begin(), axes.end());
  return axes;
}

// The shape that broadcasts a parameter over `axes` of `x`: their sizes,
// and 1 elsewhere (batch included).
Result<ir::Shape> ParamShape(LayerContext& ctx, const ir::Shape& xs,
                             const std::vector<int>& axes) {
  ir::Shape s(xs.size(), 1);
  for (int a : axes) {
    if (xs[a] == ir::kDynamic) {
      return ctx.Invalid(
          "normalised axis " + std::to_string(a) + " has a dynamic size",
          "Give the model's Input a fixed size on that axis");
    }
    s[a] = xs[a];
  }
  return s;
}

int64_t Elements(const ir::Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

ValueId FloatConst(LayerContext& ctx, const std::vector<double>& v,
                   ir::Shape shape) {
  std::vector<float> f(v.begin(), v.end());
  return ctx.ConstFloats(f, std::move(shape));
}

std::vector<double> AsDoubles(const ir::TensorData& t) {
  auto s = t.as<float>();
  return {s.begin(), s.end()};
}

Result<std::vector<ValueId>> ConvertBatchNorm(LayerContext& ctx) {
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  K2L_ASSIGN_OR_RETURN(auto axes, Axes(ctx, "axis", xs.size(), -1));
  K2L_ASSIGN_OR_RETURN(double eps, ctx.Float("epsilon"));
  K2L_ASSIGN_OR_RETURN(bool scale, ctx.BoolOr("scale", true));
  K2L_ASSIGN_OR_RETURN(bool center, ctx.BoolOr("center", true));
  K2L_ASSIGN_OR_RETURN(bool renorm, ctx.BoolOr("renorm", false));
  if (renorm) {
    return {
        ctx.Invalid("renorm=True is set; batch renormalization keeps "
                    "extra statistics this converter does not read",
                    "Train without renorm, or save a model whose "
                    "BatchNormalization uses renorm=False")};
  }
  K2L_ASSIGN_OR_RETURN(ir::Shape ps, ParamShape(ctx, xs, axes));
  int64_t n = Elements(ps);
  std::vector<std::string> names;
  if (scale) names.push_back("gamma");
  if (center) names.push_back("beta");
  names.push_back("moving_mean");
  names.push_back("moving_variance");
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights(names));
  ir::Shape vs;
  for (int a : axes) vs.push_back(xs[a]);
  for (size_t i = 0; i < w.size(); ++i) {
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[i], names[i], vs));
  }
  size_t k = 0;
  std::vector<double> gamma =
      scale ? AsDoubles(w[k++]) : std::vector<double>(n, 1.0);
  std::vector<double> beta =
      center ? AsDoubles(w[k++]) : std::vector<double>(n, 0.0);
  std::vector<double> mean = AsDoubles(w[k++]);
  std::vector<double> var = AsDoubles(w[k++]);
  // y = x * inv + (beta - mean * inv), inv = gamma / sqrt(var + eps),
  // evaluated in double and rounded once.
  std::vector<double> mul(n), add(n);
  for (int64_t i = 0; i < n; ++i) {
    mul[i] = gamma[i] / std::sqrt(var[i] + eps);
    add[i] = beta[i] - mean[i] * mul[i];
  }
  // A parameter along the last axis only is written as [C], the per-channel
  // form fold_batchnorm recognises.
  ir::Shape cs =
      (axes.size() == 1 && axes[0] == static_cast<int>(xs.size()) - 1)
          ? ir::Shape{n}
          : ps;
  K2L_ASSIGN_OR_RETURN(
      ValueId y,
      ctx.Op(OpKind::kMul, {x, FloatConst(ctx, mul, cs)}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kAdd, {y, FloatConst(ctx, add, cs)},
                                 ir::BinaryAttrs{}));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertLayerNorm(LayerContext& ctx) {
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  K2L_ASSIGN_OR_RETURN(auto axes, Axes(ctx, "axis", xs.size(), -1));
  K2L_ASSIGN_OR_RETURN(double eps, ctx.Float("epsilon"));
  K2L_ASSIGN_OR_RETURN(bool scale, ctx.BoolOr("scale", true));
  K2L_ASSIGN_OR_RETURN(bool center, ctx.BoolOr("center", true));
  K2L_ASSIGN_OR_RETURN(bool rms, ctx.BoolOr("rms_scaling", false));
  // With rms_scaling Keras creates no beta and applies none.
  if (rms) center = false;
  K2L_ASSIGN_OR_RETURN(ir::Shape ps, ParamShape(ctx, xs, axes));
  std::vector<std::string> names;
  if (scale) names.push_back("gamma");
  if (center) names.push_back("beta");
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights(names));
  ir::Shape vs;
  for (int a : axes) vs.push_back(xs[a]);
  for (size_t i = 0; i < w.size(); ++i) {
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[i], names[i], vs));
  }
  std::vector<int32_t> ax(axes.begin(), axes.end());
  ValueId y;
  if (rms) {
    // Keras' rms_scaling divides by the root of the variance (not of the
    // mean square) and applies gamma only.
    K2L_ASSIGN_OR_RETURN(
        ValueId mean,
        ctx.Op(OpKind::kMean, {x, ctx.ConstInts(ax)}, ir::ReduceAttrs{true}));
    K2L_ASSIGN_OR_RETURN(ValueId sq,
                         ctx.Op(OpKind::kSquaredDifference, {x, mean}));
    K2L_ASSIGN_OR_RETURN(
        ValueId var,
        ctx.Op(OpKind::kMean, {sq, ctx.ConstInts(ax)}, ir::ReduceAttrs{true}));
    K2L_ASSIGN_OR_RETURN(
        ValueId ve,
        ctx.Op(OpKind::kAdd, {var, ctx.ConstFloat(static_cast<float>(eps))},
               ir::BinaryAttrs{}));
    K2L_ASSIGN_OR_RETURN(ValueId inv, ctx.Op(OpKind::kRsqrt, {ve}));
    K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kMul, {x, inv}, ir::BinaryAttrs{}));
  } else {
    K2L_ASSIGN_OR_RETURN(y, Standardize(ctx, x, ax, eps));
  }
  size_t k = 0;
  if (scale) {
    ValueId gamma = ctx.Const(Reshaped(w[k++], ps), "gamma");
    K2L_ASSIGN_OR_RETURN(y,
                         ctx.Op(OpKind::kMul, {y, gamma}, ir::BinaryAttrs{}));
  }
  if (center) {
    ValueId beta = ctx.Const(Reshaped(w[k++], ps), "beta");
    K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kAdd, {y, beta}, ir::BinaryAttrs{}));
  }
  return std::vector<ValueId>{y};
}

// A statistic from the config (a number or a list) or from the weights.
Result<std::vector<double>> Statistic(LayerContext& ctx, const std::string& key,
                                      const ir::TensorData* stored, int64_t n) {
  std::vector<double> v;
  if (stored != nullptr) {
    v = AsDoubles(*stored);
  } else if (ctx.config()[key].is_number()) {
    v.assign(n, ctx.config()[key].get<double>());
  } else if (ctx.config()[key].is_array()) {
    for (const auto& e : ctx.config()[key]) {
      if (!e.is_number()) {
        return ctx.Invalid("its '" + key + "' holds a non-number",
                           "Pass numbers for mean and variance");
      }
      v.push_back(e.get<double>());
    }
    if (v.size() == 1) v.assign(n, v[0]);
  }
  if (static_cast<int64_t>(v.size()) != n) {
    return ctx.Invalid("its " + key + " has " + std::to_string(v.size()) +
                           " values but the normalised axes hold " +
                           std::to_string(n),
                       "Adapt the layer on data of the model's input shape");
  }
  return v;
}

Result<std::vector<ValueId>> ConvertNormalization(LayerContext& ctx) {
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  K2L_ASSIGN_OR_RETURN(auto axes, Axes(ctx, "axis", xs.size(), -1));
  K2L_ASSIGN_OR_RETURN(bool invert, ctx.BoolOr("invert", false));
  K2L_ASSIGN_OR_RETURN(ir::Shape ps, ParamShape(ctx, xs, axes));
  int64_t n = Elements(ps);
  bool from_config = ctx.Has("mean") && ctx.Has("variance");
  std::vector<double> mean, var;
  if (from_config) {
    K2L_ASSIGN_OR_RETURN(mean, Statistic(ctx, "mean", nullptr, n));
    K2L_ASSIGN_OR_RETURN(var, Statistic(ctx, "variance", nullptr, n));
  } else {
    K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights({"mean", "variance", "count"}));
    K2L_ASSIGN_OR_RETURN(mean, Statistic(ctx, "mean", &w[0], n));
    K2L_ASSIGN_OR_RETURN(var, Statistic(ctx, "variance", &w[1], n));
  }
  // Keras divides by max(sqrt(variance), epsilon) with epsilon = 1e-7.
  std::vector<float> denom(n), m(mean.begin(), mean.end());
  for (int64_t i = 0; i < n; ++i) {
    denom[i] = std::max(std::sqrt(static_cast<float>(var[i])), 1e-7f);
  }
  ValueId mc = ctx.ConstFloats(m, ps);
  ValueId dc = ctx.ConstFloats(denom, ps);
  ValueId y;
  if (invert) {
    K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kMul, {x, dc}, ir::BinaryAttrs{}));
    K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kAdd, {y, mc}, ir::BinaryAttrs{}));
  } else {
    K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kSub, {x, mc}, ir::BinaryAttrs{}));
    K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kDiv, {y, dc}, ir::BinaryAttrs{}));
  }
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertRescaling(LayerContext& ctx) {
  ValueId x = ctx.input();
  auto values = [&](const std::string& key,
                    double fallback) -> Result<std::vector<float>> {
    if (!ctx.Has(key)) return std::vector<float>{static_cast<float>(fallback)};
    const auto& j = ctx.config()[key];
    if (j.is_number()) return std::vector<float>{j.get<float>()};
    std::vector<float> v;
    if (j.is_array()) {
      for (const auto& e : j) {
        if (!e.is_number()) break;
        v.push_back(e.get<float>());
      }
      if (v.size() == j.size()) return v;
    }
    return ctx.Invalid(
        "its '" + key + "' is " + j.dump() + ", not a number or a list",
        "Use a number or a per-channel list");
  };
  K2L_ASSIGN_OR_RETURN(auto scale, values("scale", 1.0));
  K2L_ASSIGN_OR_RETURN(auto offset, values("offset", 0.0));
  auto as_const = [&](const std::vector<float>& v) {
    return v.size() == 1 ? ctx.ConstFloat(v[0])
                         : ctx.ConstFloats(v, {static_cast<int64_t>(v.size())});
  };
  K2L_ASSIGN_OR_RETURN(
      ValueId y, ctx.Op(OpKind::kMul, {x, as_const(scale)}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(
      y, ctx.Op(OpKind::kAdd, {y, as_const(offset)}, ir::BinaryAttrs{}));
  return std::vector<ValueId>{y};
}

// x * rsqrt(mean(x^2, axes) + epsilon) * scale, as keras.ops.rms_normalization.
Result<std::vector<ValueId>> ConvertRMSNorm(LayerContext& ctx) {
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  K2L_ASSIGN_OR_RETURN(auto axes, Axes(ctx, "axis", xs.size(), -1));
  K2L_ASSIGN_OR_RETURN(double eps, ctx.Float("epsilon"));
  K2L_ASSIGN_OR_RETURN(ir::Shape ps, ParamShape(ctx, xs, axes));
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights({"scale"}));
  ir::Shape vs;
  for (int a : axes) vs.push_back(xs[a]);
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[0], "scale", vs));
  std::vector<int32_t> ax(axes.begin(), axes.end());
  K2L_ASSIGN_OR_RETURN(ValueId sq, ctx.Op(OpKind::kSquare, {x}));
  K2L_ASSIGN_OR_RETURN(
      ValueId ms,
      ctx.Op(OpKind::kMean, {sq, ctx.ConstInts(ax)}, ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(
      ValueId me,
      ctx.Op(OpKind::kAdd, {ms, ctx.ConstFloat(static_cast<float>(eps))},
             ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(ValueId inv, ctx.Op(OpKind::kRsqrt, {me}));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kMul, {x, inv}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(
      y, ctx.Op(OpKind::kMul, {y, ctx.Const(Reshaped(w[0], ps), "scale")},
                ir::BinaryAttrs{}));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertUnitNorm(LayerContext& ctx) {
  ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(auto axes, Axes(ctx, "axis", ctx.rank(x), -1));
  std::vector<int32_t> ax(axes.begin(), axes.end());
  // keras.layers.UnitNormalization uses epsilon 1e-12.
  K2L_ASSIGN_OR_RETURN(ValueId y, L2Normalize(ctx, x, ax, 1e-12));
  return std::vector<ValueId>{y};
}

// Statistics per group of channels: [N, ..., C] is viewed as
// [N, ..., G, C/G] and standardised over every axis but the batch and G.
Result<std::vector<ValueId>> ConvertGroupNorm(LayerContext& ctx) {
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  K2L_ASSIGN_OR_RETURN(int64_t groups, ctx.Int("groups"));
  K2L_ASSIGN_OR_RETURN(int64_t axis, ctx.IntOr("axis", -1));
  K2L_ASSIGN_OR_RETURN(double eps, ctx.Float("epsilon"));
  K2L_ASSIGN_OR_RETURN(bool scale, ctx.BoolOr("scale", true));
  K2L_ASSIGN_OR_RETURN(bool center, ctx.BoolOr("center", true));
  int64_t rank = static_cast<int64_t>(xs.size());
  if (axis != -1 && axis != rank - 1) {
    return {
        ctx.Invalid("axis=" + std::to_string(axis) +
                        " is not supported; only the channels axis (-1) is",
                    "Use GroupNormalization(axis=-1) on channels_last data")};
  }
  if (rank < 2) {
    return {ctx.Invalid("its input has rank " + std::to_string(rank),
                        "Apply it to inputs of rank 2 or more")};
  }
  for (int64_t i = 1; i < rank; ++i) {
    if (xs[i] == ir::kDynamic) {
      return {ctx.Invalid(
          "its input " + ir::ShapeToString(xs) + " has a dynamic non-batch dim",
          "Give the model's Input fixed dimensions")};
    }
  }
  int64_t channels = xs.back();
  if (groups < 1 || channels % groups) {
    return {ctx.Invalid("groups=" + std::to_string(groups) +
                            " does not divide the " + std::to_string(channels) +
                            " channels",
                        "Use a group count that divides the channels")};
  }
  std::vector<std::string> names;
  if (scale) names.push_back("gamma");
  if (center) names.push_back("beta");
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights(names));
  for (size_t i = 0; i < w.size(); ++i) {
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[i], names[i], {channels}));
  }
  std::vector<int32_t> grouped = {-1};
  for (int64_t i = 1; i + 1 < rank; ++i)
    grouped.push_back(static_cast<int32_t>(xs[i]));
  grouped.push_back(static_cast<int32_t>(groups));
  grouped.push_back(static_cast<int32_t>(channels / groups));
  K2L_ASSIGN_OR_RETURN(ValueId g,
                       ctx.Op(OpKind::kReshape, {x, ctx.ConstInts(grouped)}));
  std::vector<int32_t> axes;
  for (int32_t i = 1; i < static_cast<int32_t>(rank); ++i) {
    axes.push_back(i == rank - 1 ? static_cast<int32_t>(rank) : i);
  }
  K2L_ASSIGN_OR_RETURN(ValueId n, Standardize(ctx, g, axes, eps));
  std::vector<int32_t> back = {-1};
  for (int64_t i = 1; i < rank; ++i)
    back.push_back(static_cast<int32_t>(xs[i]));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kReshape, {n, ctx.ConstInts(back)}));
  size_t k = 0;
  if (scale) {
    K2L_ASSIGN_OR_RETURN(y,
                         ctx.Op(OpKind::kMul, {y, ctx.Const(w[k++], "gamma")},
                                ir::BinaryAttrs{}));
  }
  if (center) {
    K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kAdd, {y, ctx.Const(w[k++], "beta")},
                                   ir::BinaryAttrs{}));
  }
  return std::vector<ValueId>{y};
}

}  // namespace

Status RegisterNormalizationLayers(Registry& r) {
  K2L_RETURN_IF_ERROR(r.Register("RMSNormalization", ConvertRMSNorm,
                                 "SQUARE, MEAN, ADD, RSQRT, MUL"));
  K2L_RETURN_IF_ERROR(r.Register("UnitNormalization", ConvertUnitNorm,
                                 "SQUARE, SUM, RSQRT, MINIMUM, MUL"));
  K2L_RETURN_IF_ERROR(r.Register("GroupNormalization", ConvertGroupNorm,
                                 "RESHAPE, MEAN, SQUARED_DIFFERENCE, RSQRT, "
                                 "SUB, MUL, ADD"));
  K2L_RETURN_IF_ERROR(r.Register("BatchNormalization", ConvertBatchNorm,
                                 "folded into the producer, or MUL + ADD"));
  K2L_RETURN_IF_ERROR(
      r.Register("LayerNormalization", ConvertLayerNorm,
                 "MEAN, SQUARED_DIFFERENCE, ADD, RSQRT, SUB, MUL"));
  K2L_RETURN_IF_ERROR(r.Register("Normalization", ConvertNormalization,
                                 "SUB + DIV (MUL + ADD when inverted)"));
  K2L_RETURN_IF_ERROR(r.Register("Rescaling", ConvertRescaling,
                                 "MUL + ADD (removed when the identity)"));
  return Status::Ok();
}

}  // namespace k2l::keras
