// Keras activation functions as builtin ops. Where LiteRT has the function
// as one op (RELU, LOGISTIC, GELU, HARD_SWISH, ...) that op is used;
// otherwise the function is composed from elementwise builtins following the
// formula Keras itself evaluates, so results agree to float rounding.
#include "frontend/keras/activations.h"

#include <cmath>
#include <map>

namespace k2l::keras {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

namespace {

Result<ValueId> Unary(LayerContext& ctx, OpKind k, ValueId x) {
  return ctx.Op(k, {x});
}
Result<ValueId> Binary(LayerContext& ctx, OpKind k, ValueId a, ValueId b) {
  return ctx.Op(k, {a, b}, ir::BinaryAttrs{});
}
Result<ValueId> MulScalar(LayerContext& ctx, ValueId x, float s) {
  return Binary(ctx, OpKind::kMul, x, ctx.ConstFloat(s));
}
Result<ValueId> AddScalar(LayerContext& ctx, ValueId x, float s) {
  return Binary(ctx, OpKind::kAdd, x, ctx.ConstFloat(s));
}

// softplus(x) = relu(x) + log(1 + exp(-|x|)), the overflow-free form that
// jax.nn.softplus (logaddexp(x, 0)) also evaluates.
Result<ValueId> Softplus(LayerContext& ctx, ValueId x) {
  K2L_ASSIGN_OR_RETURN(ValueId ax, Unary(ctx, OpKind::kAbs, x));
  K2L_ASSIGN_OR_RETURN(ValueId nax, Unary(ctx, OpKind::kNeg, ax));
  K2L_ASSIGN_OR_RETURN(ValueId e, Unary(ctx, OpKind::kExp, nax));
  K2L_ASSIGN_OR_RETURN(ValueId e1, AddScalar(ctx, e, 1.0f));
  K2L_ASSIGN_OR_RETURN(ValueId l, Unary(ctx, OpKind::kLog, e1));
  K2L_ASSIGN_OR_RETURN(ValueId r, Unary(ctx, OpKind::kRelu, x));
  return Binary(ctx, OpKind::kAdd, r, l);
}

Result<ValueId> ByName(LayerContext& ctx, ValueId x, const std::string& name) {
  if (name == "linear") return x;
  if (name == "relu") return Unary(ctx, OpKind::kRelu, x);
  if (name == "relu6") return Unary(ctx, OpKind::kRelu6, x);
  if (name == "sigmoid") return Unary(ctx, OpKind::kLogistic, x);
  if (name == "tanh") return Unary(ctx, OpKind::kTanh, x);
  if (name == "exponential") return Unary(ctx, OpKind::kExp, x);
  if (name == "softmax") return LowerSoftmax(ctx, x, -1, false);
  if (name == "log_softmax") return LowerSoftmax(ctx, x, -1, true);
  if (name == "gelu") return ctx.Op(OpKind::kGelu, {x}, ir::GeluAttrs{false});
  if (name == "hard_silu" || name == "hard_swish") {
    return Unary(ctx, OpKind::kHardSwish, x);
  }
  if (name == "silu" || name == "swish") {
    K2L_ASSIGN_OR_RETURN(ValueId s, Unary(ctx, OpKind::kLogistic, x));
    return Binary(ctx, OpKind::kMul, x, s);
  }
  if (name == "hard_sigmoid") {
    // relu6(x + 3) / 6, as jax.nn.hard_sigmoid.
    K2L_ASSIGN_OR_RETURN(ValueId a, AddScalar(ctx, x, 3.0f));
    K2L_ASSIGN_OR_RETURN(ValueId r, Unary(ctx, OpKind::kRelu6, a));
    return Binary(ctx, OpKind::kDiv, r, ctx.ConstFloat(6.0f));
  }
  if (name == "elu") return LowerElu(ctx, x, 1.0);
  if (name == "selu") {
    constexpr double kAlpha = 1.6732632423543772848170429916717;
    constexpr double kScale = 1.0507009873554804934193349852946;
    K2L_ASSIGN_OR_RETURN(ValueId e, LowerElu(ctx, x, kAlpha));
    return MulScalar(ctx, e, static_cast<float>(kScale));
  }
  if (name == "leaky_relu") {
    return ctx.Op(OpKind::kLeakyRelu, {x}, ir::LeakyReluAttrs{0.2f});
  }
  if (name == "softplus") return Softplus(ctx, x);
  if (name == "softsign") {
    K2L_ASSIGN_OR_RETURN(ValueId a, Unary(ctx, OpKind::kAbs, x));
    K2L_ASSIGN_OR_RETURN(ValueId d, AddScalar(ctx, a, 1.0f));
    return Binary(ctx, OpKind::kDiv, x, d);
  }
  if (name == "mish") {
    K2L_ASSIGN_OR_RETURN(ValueId sp, Softplus(ctx, x));
    K2L_ASSIGN_OR_RETURN(ValueId t, Unary(ctx, OpKind::kTanh, sp));
    return Binary(ctx, OpKind::kMul, x, t);
  }
  if (name == "log_sigmoid") {
    // log_sigmoid(x) = -softplus(-x)
    K2L_ASSIGN_OR_RETURN(ValueId nx, Unary(ctx, OpKind::kNeg, x));
    K2L_ASSIGN_OR_RETURN(ValueId sp, Softplus(ctx, nx));
    return Unary(ctx, OpKind::kNeg, sp);
  }
  if (name == "tanh_shrink") {
    K2L_ASSIGN_OR_RETURN(ValueId t, Unary(ctx, OpKind::kTanh, x));
    return Binary(ctx, OpKind::kSub, x, t);
  }
  if (name == "hard_tanh") return Unary(ctx, OpKind::kReluN1To1, x);
  return ctx.Invalid(
      "activation '" + name + "' has no builtin lowering",
      "Supported activations: linear, relu, relu6, sigmoid, hard_sigmoid, "
      "tanh, softmax, log_softmax, gelu, silu/swish, hard_silu/hard_swish, "
      "elu, selu, leaky_relu, softplus, softsign, exponential, mish, "
      "log_sigmoid, tanh_shrink, hard_tanh");
}

}  // namespace

Result<ValueId> LowerElu(LayerContext& ctx, ValueId x, double alpha) {
  if (alpha == 1.0) return Unary(ctx, OpKind::kElu, x);
  // relu(x) + alpha * (exp(min(x, 0)) - 1)
  K2L_ASSIGN_OR_RETURN(ValueId m,
                       Binary(ctx, OpKind::kMinimum, x, ctx.ConstFloat(0.0f)));
  K2L_ASSIGN_OR_RETURN(ValueId e, Unary(ctx, OpKind::kExp, m));
  K2L_ASSIGN_OR_RETURN(ValueId e1, AddScalar(ctx, e, -1.0f));
  K2L_ASSIGN_OR_RETURN(ValueId neg,
                       MulScalar(ctx, e1, static_cast<float>(alpha)));
  K2L_ASSIGN_OR_RETURN(ValueId r, Unary(ctx, OpKind::kRelu, x));
  return Binary(ctx, OpKind::kAdd, r, neg);
}

Result<ValueId> LowerSoftmax(LayerContext& ctx, ValueId x, int axis, bool log) {
  size_t rank = ctx.rank(x);
  if (rank == 0)
    return ctx.Invalid("softmax of a scalar", "Apply it to a vector");
  int a = axis < 0 ? axis + static_cast<int>(rank) : axis;
  if (a < 0 || a >= static_cast<int>(rank)) {
    return ctx.Invalid("softmax axis " + std::to_string(axis) +
                           " is out of range for rank " + std::to_string(rank),
                       "Use an axis within the input's rank");
  }
  OpKind k = log ? OpKind::kLogSoftmax : OpKind::kSoftmax;
  ir::Attrs attrs =
      log ? ir::Attrs(ir::NoAttrs{}) : ir::Attrs(ir::SoftmaxAttrs{1.0f});
  if (a == static_cast<int>(rank) - 1) return ctx.Op(k, {x}, attrs);
  // LiteRT's softmax works on the last axis: swap `a` to the end and back.
  std::vector<int32_t> perm(rank);
  for (size_t i = 0; i < rank; ++i) perm[i] = static_cast<int32_t>(i);
  std::swap(perm[a], perm[rank - 1]);
  K2L_ASSIGN_OR_RETURN(ValueId t,
                       ctx.Op(OpKind::kTranspose, {x, ctx.ConstInts(perm)}));
  K2L_ASSIGN_OR_RETURN(ValueId s, ctx.Op(k, {t}, attrs));
  return ctx.Op(OpKind::kTranspose, {s, ctx.ConstInts(perm)});
}

Result<ValueId> LowerRelu(LayerContext& ctx, ValueId x, double negative_slope,
                          double max_value, double threshold) {
  bool has_max = max_value >= 0;
  if (negative_slope == 0 && threshold == 0) {
    if (!has_max) return Unary(ctx, OpKind::kRelu, x);
    if (max_value == 6) return Unary(ctx, OpKind::kRelu6, x);
    if (max_value == 1) {
      K2L_ASSIGN_OR_RETURN(ValueId r, Unary(ctx, OpKind::kRelu, x));
      return Binary(ctx, OpKind::kMinimum, r, ctx.ConstFloat(1.0f));
    }
  }
  if (negative_slope != 0 && !has_max && threshold == 0) {
    return ctx.Op(OpKind::kLeakyRelu, {x},
                  ir::LeakyReluAttrs{static_cast<float>(negative_slope)});
  }
  // General form, step for step as keras.activations.relu:
  //   neg = relu(threshold - x) (if negative_slope)
  //   y = x > threshold ? x : 0, or relu(x); clipped to max_value
  //   y -= negative_slope * neg
  ValueId neg = ir::kNoValue;
  if (negative_slope != 0) {
    K2L_ASSIGN_OR_RETURN(ValueId nx, Unary(ctx, OpKind::kNeg, x));
    ValueId shifted = nx;
    if (threshold != 0) {
      K2L_ASSIGN_OR_RETURN(shifted,
                           AddScalar(ctx, nx, static_cast<float>(threshold)));
    }
    K2L_ASSIGN_OR_RETURN(neg, Unary(ctx, OpKind::kRelu, shifted));
  }
  ValueId y;
  if (threshold != 0) {
    ValueId t = ctx.ConstFloat(static_cast<float>(threshold));
    K2L_ASSIGN_OR_RETURN(ValueId cond, ctx.Op(OpKind::kGreater, {x, t}));
    K2L_ASSIGN_OR_RETURN(
        y, ctx.Op(OpKind::kSelectV2, {cond, x, ctx.ConstFloat(0.0f)}));
  } else {
    K2L_ASSIGN_OR_RETURN(y, Unary(ctx, OpKind::kRelu, x));
  }
  if (has_max) {
    K2L_ASSIGN_OR_RETURN(
        y, Binary(ctx, OpKind::kMaximum, y, ctx.ConstFloat(0.0f)));
    K2L_ASSIGN_OR_RETURN(y,
                         Binary(ctx, OpKind::kMinimum, y,
                                ctx.ConstFloat(static_cast<float>(max_value))));
  }
  if (neg != ir::kNoValue) {
    K2L_ASSIGN_OR_RETURN(
        ValueId scaled,
        MulScalar(ctx, neg, static_cast<float>(negative_slope)));
    K2L_ASSIGN_OR_RETURN(y, Binary(ctx, OpKind::kSub, y, scaled));
  }
  return y;
}

Result<ValueId> ApplyActivation(LayerContext& ctx, ValueId x,
                                const json& spec) {
  if (spec.is_null()) return x;
  if (spec.is_string()) return ByName(ctx, x, spec.get<std::string>());
  if (spec.is_object() && spec.value("class_name", "") == "function" &&
      spec.contains("config") && spec["config"].is_string()) {
    const std::string fn = spec["config"].get<std::string>();
    // Keras-Hub registers gelu_approximate(x) = gelu(x, approximate=True)
    // (under both of its package names); the file names it, it holds no code.
    if (fn == "keras_hub>gelu_approximate" ||
        fn == "keras_nlp>gelu_approximate") {
      return ctx.Op(OpKind::kGelu, {x}, ir::GeluAttrs{true});
    }
    std::string module = spec.value("module", "keras.activations");
    if (module.rfind("keras", 0) != 0) {
      return ctx.Invalid("activation '" + spec["config"].get<std::string>() +
                             "' comes from module '" + module +
                             "', which is Python code outside Keras",
                         "Use a built-in Keras activation");
    }
    return ByName(ctx, x, spec["config"].get<std::string>());
  }
  return ctx.Invalid("its activation " + spec.dump() +
                         " is not a built-in "
                         "activation function",
                     "Use a built-in Keras activation name such as 'relu'");
}

Result<ValueId> ApplyConfigActivation(LayerContext& ctx, ValueId x) {
  if (!ctx.Has("activation")) return x;
  return ApplyActivation(ctx, x, ctx.config()["activation"]);
}

}  // namespace k2l::keras
