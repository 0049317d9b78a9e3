// Activation layers: Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax.
#include "frontend/keras/activations.h"
#include "frontend/keras/registry.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;

Result<std::vector<ValueId>> ConvertActivation(LayerContext& ctx) {
  if (!ctx.config().contains("activation")) {
    return {ctx.Invalid("its config has no 'activation'",
                        "Re-save the model with Keras 3")};
  }
  K2L_ASSIGN_OR_RETURN(ValueId y, ApplyConfigActivation(ctx, ctx.input()));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertReLU(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(double slope, ctx.FloatOr("negative_slope", 0.0));
  K2L_ASSIGN_OR_RETURN(double threshold, ctx.FloatOr("threshold", 0.0));
  double max_value = -1;
  if (ctx.Has("max_value")) {
    K2L_ASSIGN_OR_RETURN(max_value, ctx.Float("max_value"));
    if (max_value < 0) {
      return {
          ctx.Invalid("max_value is negative", "Use max_value >= 0 or None")};
    }
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId y, LowerRelu(ctx, ctx.input(), slope, max_value, threshold));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertLeakyReLU(LayerContext& ctx) {
  // Keras 3 names it negative_slope; Keras 2 files say alpha.
  double slope = 0.3;
  if (ctx.Has("negative_slope")) {
    K2L_ASSIGN_OR_RETURN(slope, ctx.Float("negative_slope"));
  } else if (ctx.Has("alpha")) {
    K2L_ASSIGN_OR_RETURN(slope, ctx.Float("alpha"));
  }
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kLeakyRelu, {ctx.input()},
                              ir::LeakyReluAttrs{static_cast<float>(slope)}));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertPReLU(LayerContext& ctx) {
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  ir::Shape expected(xs.begin() + 1, xs.end());
  if (ctx.Has("shared_axes")) {
    K2L_ASSIGN_OR_RETURN(auto shared, ctx.IntList("shared_axes"));
    for (int64_t a : shared) {
      if (a < 1 || a > static_cast<int64_t>(expected.size())) {
        return {
            ctx.Invalid("shared axis " + std::to_string(a) + " is out of range",
                        "Use axes between 1 and the input's rank - 1")};
      }
      expected[a - 1] = 1;
    }
  }
  for (int64_t d : expected) {
    if (d == ir::kDynamic) {
      return {
          ctx.Invalid("its input has a dynamic non-batch dim that alpha "
                      "is not shared over",
                      "Set shared_axes for the dynamic dims")};
    }
  }
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights({"alpha"}));
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[0], "alpha", expected));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kPrelu, {x, ctx.Const(w[0], "alpha")}));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertELU(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(double alpha, ctx.FloatOr("alpha", 1.0));
  K2L_ASSIGN_OR_RETURN(ValueId y, LowerElu(ctx, ctx.input(), alpha));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertSoftmax(LayerContext& ctx) {
  ValueId x = ctx.input();
  if (ctx.num_inputs() > 1) {
    return {ctx.Invalid("it is called with a mask tensor",
                        "Apply the mask before the Softmax layer")};
  }
  std::vector<int64_t> axes = {-1};
  if (ctx.Has("axis")) {
    if (ctx.config()["axis"].is_array()) {
      K2L_ASSIGN_OR_RETURN(axes, ctx.IntList("axis"));
    } else {
      K2L_ASSIGN_OR_RETURN(int64_t a, ctx.Int("axis"));
      axes = {a};
    }
  }
  if (axes.size() == 1) {
    K2L_ASSIGN_OR_RETURN(
        ValueId y, LowerSoftmax(ctx, x, static_cast<int>(axes[0]), false));
    return std::vector<ValueId>{y};
  }
  // Several axes: exp(x - max) / sum(exp(x - max)) over all of them.
  std::vector<int32_t> ax32(axes.begin(), axes.end());
  K2L_ASSIGN_OR_RETURN(ValueId m,
                       ctx.Op(OpKind::kReduceMax, {x, ctx.ConstInts(ax32)},
                              ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(ValueId d,
                       ctx.Op(OpKind::kSub, {x, m}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(ValueId e, ctx.Op(OpKind::kExp, {d}));
  K2L_ASSIGN_OR_RETURN(ValueId s, ctx.Op(OpKind::kSum, {e, ctx.ConstInts(ax32)},
                                         ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kDiv, {e, s}, ir::BinaryAttrs{}));
  return std::vector<ValueId>{y};
}

}  // namespace

Status RegisterActivationLayers(Registry& r) {
  K2L_RETURN_IF_ERROR(r.Register("Activation", ConvertActivation,
                                 "the activation's ops (see activations.cc)"));
  K2L_RETURN_IF_ERROR(r.Register("ReLU", ConvertReLU,
                                 "RELU, RELU6, LEAKY_RELU or a composition"));
  K2L_RETURN_IF_ERROR(r.Register("LeakyReLU", ConvertLeakyReLU, "LEAKY_RELU"));
  K2L_RETURN_IF_ERROR(r.Register("PReLU", ConvertPReLU, "PRELU"));
  K2L_RETURN_IF_ERROR(
      r.Register("ELU", ConvertELU, "ELU, or EXP-based for alpha != 1"));
  K2L_RETURN_IF_ERROR(r.Register("Softmax", ConvertSoftmax,
                                 "SOFTMAX (+TRANSPOSE off the last axis)",
                                 "a mask tensor is refused"));
  return Status::Ok();
}

}  // namespace k2l::keras
