// Normalization layers: BatchNormalization, LayerNormalization,
// Normalization and Rescaling. Every epsilon comes from the config.
//
// BatchNormalization at inference is a per-channel affine map; it lowers to
// MUL + ADD by constants, which fold_batchnorm merges into a preceding
// convolution or dense layer.
#include <algorithm>
#include <cmath>
#include <optional>

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

// Rescaling and Normalization cast their input to the float32 compute dtype,
// so integer inputs (uint8 pixels, say) are accepted.
Result<ValueId> AsFloat32(LayerContext& ctx, ValueId x) {
  if (ctx.value(x).dtype == ir::DType::kFloat32) return x;
  return ctx.Op(OpKind::kCast, {x}, ir::NoAttrs{}, ir::DType::kFloat32);
}

// (x - mean) * rsqrt(var + eps) * gamma + beta over `axes` (kept).
// Keras computes x * inv + (beta - mean * inv) with inv = rsqrt(..) * gamma;
// that order was measured against Keras predict (JAX) on inputs with
// |mean| = 0, 10 and 100 std: centring first is as close to Keras at every
// scale and closer to the exact result, since XLA's fusion already rounds
// differently from eager Keras.
Result<ValueId> StandardizeAffine(LayerContext& ctx, ValueId x,
                                  const std::vector<int32_t>& axes, double eps,
                                  std::optional<ValueId> gamma,
                                  std::optional<ValueId> beta) {
  K2L_ASSIGN_OR_RETURN(ValueId y, Standardize(ctx, x, axes, eps));
  if (gamma) {
    K2L_ASSIGN_OR_RETURN(y,
                         ctx.Op(OpKind::kMul, {y, *gamma}, ir::BinaryAttrs{}));
  }
  if (beta) {
    K2L_ASSIGN_OR_RETURN(y,
                         ctx.Op(OpKind::kAdd, {y, *beta}, ir::BinaryAttrs{}));
  }
  return y;
}

Result<std::vector<ValueId>> ConvertBatchNorm(LayerContext& ctx) {
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  K2L_ASSIGN_OR_RETURN(auto axes, Axes(ctx, "axis", xs.size(), -1));
  K2L_ASSIGN_OR_RETURN(double eps, ctx.Float("epsilon"));
  K2L_ASSIGN_OR_RETURN(bool scale, ctx.BoolOr("scale", true));
  K2L_ASSIGN_OR_RETURN(bool center, ctx.BoolOr("center", true));
  // Batch renormalization only changes training; inference reads the
  // moving mean and variance like plain BatchNormalization.
  K2L_ASSIGN_OR_RETURN(bool renorm, ctx.BoolOr("renorm", false));
  K2L_ASSIGN_OR_RETURN(ir::Shape ps, ParamShape(ctx, xs, axes));
  int64_t n = Elements(ps);
  std::vector<std::string> names;
  if (scale) names.push_back("gamma");
  if (center) names.push_back("beta");
  names.push_back("moving_mean");
  names.push_back("moving_variance");
  const size_t used = names.size();
  if (renorm) {
    for (const char* extra : {"moving_stddev", "renorm_mean", "renorm_stddev"})
      names.push_back(extra);
  }
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights(names));
  ir::Shape vs;
  for (int a : axes) vs.push_back(xs[a]);
  for (size_t i = 0; i < used; ++i) {
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
  // With rms_scaling Keras always creates and applies gamma, and never beta.
  if (rms) {
    scale = true;
    center = false;
  }
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
  std::optional<ValueId> gamma, beta;
  size_t k = 0;
  if (scale) gamma = ctx.Const(Reshaped(w[k++], ps), "gamma");
  if (center) beta = ctx.Const(Reshaped(w[k++], ps), "beta");
  if (!rms) {
    K2L_ASSIGN_OR_RETURN(ValueId y,
                         StandardizeAffine(ctx, x, ax, eps, gamma, beta));
    return std::vector<ValueId>{y};
  }
  // Keras' rms_scaling divides by the root of the variance (not of the
  // mean square): x * rsqrt(var + eps) * gamma.
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
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kMul, {x, inv}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kMul, {y, *gamma}, ir::BinaryAttrs{}));
  return std::vector<ValueId>{y};
}

// A numeric config value as Keras serialises it: a number, a nested list,
// or a numpy array / tensor wrapped as {"class_name": "__numpy__",
// "config": {"value": ...}}. Values are row-major.
struct NumericArray {
  std::vector<double> values;
  ir::Shape shape;
};

Result<NumericArray> ParseNumeric(LayerContext& ctx, const std::string& key,
                                  const nlohmann::json& j) {
  auto bad = [&]() {
    return ctx.Invalid("its '" + key + "' is " + j.dump().substr(0, 200) +
                           ", not a number or a (nested) list of numbers",
                       "Save the layer with numeric " + key + " values");
  };
  if (j.is_number()) return NumericArray{{j.get<double>()}, {}};
  if (j.is_object()) {
    if (j.contains("config") && j["config"].is_object() &&
        j["config"].contains("value")) {
      return ParseNumeric(ctx, key, j["config"]["value"]);
    }
    return bad();
  }
  if (!j.is_array()) return bad();
  NumericArray out;
  out.shape = {static_cast<int64_t>(j.size())};
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_number() && !j[i].is_array()) return bad();
    K2L_ASSIGN_OR_RETURN(NumericArray e, ParseNumeric(ctx, key, j[i]));
    if (i == 0) {
      out.shape.insert(out.shape.end(), e.shape.begin(), e.shape.end());
    } else if (!std::equal(e.shape.begin(), e.shape.end(),
                           out.shape.begin() + 1, out.shape.end()) ||
               e.shape.size() + 1 != out.shape.size()) {
      return ctx.Invalid("its '" + key + "' is a ragged list",
                         "Give " + key + " a rectangular shape");
    }
    out.values.insert(out.values.end(), e.values.begin(), e.values.end());
  }
  return out;
}

// Broadcasts `a` to `target` with its dims aligned to the right, as Keras
// does with a Normalization mean given over the kept axes.
Result<std::vector<double>> BroadcastTo(LayerContext& ctx,
                                        const std::string& key,
                                        const NumericArray& a,
                                        const ir::Shape& target) {
  const size_t r = target.size();
  bool ok = a.shape.size() <= r;
  ir::Shape src(r, 1);
  for (size_t i = 0; ok && i < a.shape.size(); ++i) {
    int64_t d = a.shape[a.shape.size() - 1 - i];
    src[r - 1 - i] = d;
    ok = d == 1 || d == target[r - 1 - i];
  }
  if (!ok) {
    return ctx.Invalid("its " + key + " has shape " +
                           ir::ShapeToString(a.shape) +
                           ", which does not broadcast to the normalised "
                           "axes' shape " +
                           ir::ShapeToString(target),
                       "Give " + key +
                           " one value, or one per position of "
                           "the kept axes");
  }
  int64_t n = Elements(target);
  std::vector<double> out(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rest = i, idx = 0, stride = 1;
    for (size_t d = r; d-- > 0;) {
      int64_t c = rest % target[d];
      rest /= target[d];
      if (src[d] != 1) idx += c * stride;
      stride *= src[d];
    }
    out[i] = a.values[idx];
  }
  return out;
}

Result<std::vector<ValueId>> ConvertNormalization(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId x, AsFloat32(ctx, ctx.input()));
  const ir::Shape xs = ctx.shape(x);
  K2L_ASSIGN_OR_RETURN(auto axes, Axes(ctx, "axis", xs.size(), -1));
  K2L_ASSIGN_OR_RETURN(bool invert, ctx.BoolOr("invert", false));
  K2L_ASSIGN_OR_RETURN(ir::Shape ps, ParamShape(ctx, xs, axes));
  int64_t n = Elements(ps);
  ir::Shape vs;
  for (int a : axes) vs.push_back(xs[a]);
  // Given statistics live in the config; adapted ones are weights.
  bool from_config = ctx.Has("mean") && ctx.Has("variance");
  std::vector<double> mean, var;
  if (from_config) {
    K2L_ASSIGN_OR_RETURN(auto m,
                         ParseNumeric(ctx, "mean", ctx.config()["mean"]));
    K2L_ASSIGN_OR_RETURN(
        auto v, ParseNumeric(ctx, "variance", ctx.config()["variance"]));
    K2L_ASSIGN_OR_RETURN(mean, BroadcastTo(ctx, "mean", m, vs));
    K2L_ASSIGN_OR_RETURN(var, BroadcastTo(ctx, "variance", v, vs));
  } else {
    K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights({"mean", "variance", "count"}));
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[0], "mean", vs));
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[1], "variance", vs));
    mean = AsDoubles(w[0]);
    var = AsDoubles(w[1]);
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

// inputs * scale + offset; scale and offset broadcast like numpy (a list
// is per channel).
Result<std::vector<ValueId>> ConvertRescaling(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId x, AsFloat32(ctx, ctx.input()));
  auto as_const = [&](const std::string& key,
                      double fallback) -> Result<ValueId> {
    NumericArray a{{fallback}, {}};
    if (ctx.Has(key)) {
      K2L_ASSIGN_OR_RETURN(a, ParseNumeric(ctx, key, ctx.config()[key]));
    }
    if (a.shape.size() > ctx.rank(x)) {
      return ctx.Invalid("its " + key + " has shape " +
                             ir::ShapeToString(a.shape) +
                             ", of higher rank than the input " +
                             ir::ShapeToString(ctx.shape(x)),
                         "Use a number or a per-channel list");
    }
    if (a.shape.empty()) return ctx.ConstFloat(static_cast<float>(a.values[0]));
    std::vector<float> f(a.values.begin(), a.values.end());
    return ctx.ConstFloats(f, a.shape);
  };
  K2L_ASSIGN_OR_RETURN(ValueId scale, as_const("scale", 1.0));
  K2L_ASSIGN_OR_RETURN(ValueId offset, as_const("offset", 0.0));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kMul, {x, scale}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kAdd, {y, offset}, ir::BinaryAttrs{}));
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
  K2L_RETURN_IF_ERROR(
      r.Register("Normalization", ConvertNormalization,
                 "(CAST) SUB + DIV, or MUL + ADD when inverted"));
  K2L_RETURN_IF_ERROR(
      r.Register("Rescaling", ConvertRescaling,
                 "(CAST) MUL + ADD (removed when the identity)"));
  return Status::Ok();
}

}  // namespace k2l::keras
