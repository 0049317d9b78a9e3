// TimeDistributed: the wrapped layer applied to every step of a sequence,
// lowered as one call on the steps folded into the batch.
#include "frontend/keras/masking.h"
#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

// A Reshape target: `lead` then dims [from, rank) of `src`. Constant when
// all of those are known, else read from `src`'s shape at run time (with
// `lead_value`, a 1-D int32 value equal to `lead`).
Result<ValueId> Target(LayerContext& ctx, const std::vector<int32_t>& lead,
                       ValueId lead_value, ValueId src, size_t from) {
  const ir::Shape ss = ctx.shape(src);
  std::vector<int32_t> all = lead;
  bool known = true;
  for (size_t i = from; i < ss.size(); ++i) {
    known &= ss[i] != ir::kDynamic;
    all.push_back(static_cast<int32_t>(ss[i]));
  }
  if (known && lead_value == ir::kNoValue) return ctx.ConstInts(all);
  if (lead_value == ir::kNoValue) lead_value = ctx.ConstInts(lead);
  K2L_ASSIGN_OR_RETURN(ValueId tail,
                       RuntimeDims(ctx, src, static_cast<int>(from),
                                   static_cast<int>(ss.size() - from)));
  return ctx.Op(OpKind::kConcatenation, {lead_value, tail}, ir::ConcatAttrs{0});
}

Result<std::vector<ValueId>> ConvertTimeDistributed(LayerContext& ctx) {
  const json& inner = ctx.config().value("layer", json());
  if (!inner.is_object() || !inner.contains("class_name")) {
    return {ctx.Invalid("its config has no wrapped 'layer'",
                        "Re-save the model with Keras 3")};
  }
  const std::string cls = inner.value("class_name", "");
  const LayerInfo* info = DefaultRegistry().Find(cls);
  if (info == nullptr || cls == "TimeDistributed") {
    return {ctx.Invalid("it wraps a '" + cls +
                            "' layer, which has no "
                            "converter",
                        "Wrap a supported layer (see "
                        "docs/supported_layers.md)")};
  }
  if (ctx.num_inputs() != 1) {
    return {ctx.Invalid(
        "it is called on " + std::to_string(ctx.num_inputs()) + " inputs",
        "Call it on one sequence")};
  }
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  if (xs.size() < 3) {
    return {ctx.Invalid("its input has shape " + ir::ShapeToString(xs) +
                            "; it needs [batch, time, ...]",
                        "Feed a sequence of at least rank 3")};
  }
  if (ctx.InputMask(0) != ir::kNoValue &&
      MaskRuleFor(cls) == MaskRule::kConsume) {
    return {ctx.Invalid("it receives a Keras mask and wraps '" + cls +
                            "', which would read it per step",
                        "Remove the mask upstream, or apply the layer "
                        "without TimeDistributed")};
  }
  ctx.MarkMaskUsed();
  ctx.SetOutputMask(0, ctx.InputMask(0));
  // Fold time into the batch: [batch * time, ...].
  K2L_ASSIGN_OR_RETURN(ValueId flat_shape,
                       Target(ctx, {-1}, ir::kNoValue, x, 2));
  K2L_ASSIGN_OR_RETURN(ValueId folded,
                       ctx.Op(OpKind::kReshape, {x, flat_shape}));
  const json& inner_cfg = inner.value("config", json::object());
  std::string inner_name = inner_cfg.value("name", cls);
  LayerContext sub =
      ctx.Sublayer(inner_cfg, cls, inner_name, {folded}, {"layer"});
  K2L_ASSIGN_OR_RETURN(auto ys, info->convert(sub));
  K2L_RETURN_IF_ERROR(sub.RequireKwargInputsUsed());
  std::vector<ValueId> outs;
  // Unfold: [batch, time, ...] with time known, or read from x's shape.
  ValueId lead_value = ir::kNoValue;
  std::vector<int32_t> lead = {-1, static_cast<int32_t>(xs[1])};
  if (xs[1] == ir::kDynamic) {
    K2L_ASSIGN_OR_RETURN(lead_value, RuntimeDims(ctx, x, 0, 2));
  }
  for (ValueId y : ys) {
    K2L_ASSIGN_OR_RETURN(ValueId target, Target(ctx, lead, lead_value, y, 1));
    K2L_ASSIGN_OR_RETURN(ValueId r, ctx.Op(OpKind::kReshape, {y, target}));
    outs.push_back(r);
  }
  return outs;
}

}  // namespace

Status RegisterWrapperLayers(Registry& r) {
  return r.Register("TimeDistributed", ConvertTimeDistributed,
                    "RESHAPE around the wrapped layer's ops",
                    "the wrapped layer must be supported; a mask reaching a "
                    "wrapped layer that reads masks is refused");
}

}  // namespace k2l::keras
