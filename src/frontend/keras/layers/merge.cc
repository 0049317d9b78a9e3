// Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum,
// Concatenate and Dot.
#include <algorithm>

#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;

// Keras merges inputs of lower rank by inserting axes after the batch
// (expand_dims at axis 1), not by numpy's leading-axis rule.
Result<std::vector<ValueId>> AlignRanks(LayerContext& ctx) {
  size_t max_rank = 0;
  for (ValueId v : ctx.inputs()) max_rank = std::max(max_rank, ctx.rank(v));
  std::vector<ValueId> out;
  for (ValueId v : ctx.inputs()) {
    while (ctx.rank(v) < max_rank) {
      K2L_ASSIGN_OR_RETURN(
          v, ctx.Op(OpKind::kExpandDims, {v, ctx.ConstInts({1})}));
    }
    out.push_back(v);
  }
  return out;
}

Status NeedInputs(LayerContext& ctx, size_t min, size_t max) {
  if (ctx.num_inputs() < min || ctx.num_inputs() > max) {
    return ctx.Invalid(
        "it is called on " + std::to_string(ctx.num_inputs()) + " inputs",
        max == min ? "Call it on exactly " + std::to_string(min) + " inputs"
                   : "Call it on at least " + std::to_string(min) + " inputs");
  }
  return Status::Ok();
}

Result<std::vector<ValueId>> Fold(LayerContext& ctx, OpKind kind,
                                  bool average) {
  K2L_RETURN_IF_ERROR(NeedInputs(ctx, 1, 1u << 20));
  K2L_ASSIGN_OR_RETURN(auto ins, AlignRanks(ctx));
  ValueId y = ins[0];
  for (size_t i = 1; i < ins.size(); ++i) {
    ir::Attrs attrs = ir::NoAttrs{};
    if (kind == OpKind::kAdd || kind == OpKind::kSub || kind == OpKind::kMul) {
      attrs = ir::BinaryAttrs{};
    }
    K2L_ASSIGN_OR_RETURN(y, ctx.Op(kind, {y, ins[i]}, attrs));
  }
  if (average) {
    K2L_ASSIGN_OR_RETURN(
        y, ctx.Op(OpKind::kDiv,
                  {y, ctx.ConstFloat(static_cast<float>(ins.size()))},
                  ir::BinaryAttrs{}));
  }
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertAdd(LayerContext& c) {
  return Fold(c, OpKind::kAdd, false);
}
Result<std::vector<ValueId>> ConvertMultiply(LayerContext& c) {
  return Fold(c, OpKind::kMul, false);
}
Result<std::vector<ValueId>> ConvertAverage(LayerContext& c) {
  return Fold(c, OpKind::kAdd, true);
}
Result<std::vector<ValueId>> ConvertMaximum(LayerContext& c) {
  return Fold(c, OpKind::kMaximum, false);
}
Result<std::vector<ValueId>> ConvertMinimum(LayerContext& c) {
  return Fold(c, OpKind::kMinimum, false);
}

Result<std::vector<ValueId>> ConvertSubtract(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(NeedInputs(ctx, 2, 2));
  return Fold(ctx, OpKind::kSub, false);
}

Result<std::vector<ValueId>> ConvertConcatenate(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(NeedInputs(ctx, 1, 1u << 20));
  K2L_ASSIGN_OR_RETURN(int64_t axis, ctx.IntOr("axis", -1));
  size_t rank = ctx.rank(ctx.input());
  int64_t a = axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
  if (a < 1 || a >= static_cast<int64_t>(rank)) {
    return {ctx.Invalid("axis " + std::to_string(axis) +
                            " is out of range for inputs "
                            "of rank " +
                            std::to_string(rank),
                        "Concatenate along a non-batch axis")};
  }
  K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(OpKind::kConcatenation, ctx.inputs(),
                                         ir::ConcatAttrs{static_cast<int>(a)}));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertDot(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(NeedInputs(ctx, 2, 2));
  ValueId x = ctx.input(0), y = ctx.input(1);
  int rx = static_cast<int>(ctx.rank(x)), ry = static_cast<int>(ctx.rank(y));
  std::vector<int64_t> axes;
  if (ctx.config().contains("axes") && ctx.config()["axes"].is_array()) {
    K2L_ASSIGN_OR_RETURN(axes, ctx.IntList("axes"));
  } else {
    K2L_ASSIGN_OR_RETURN(int64_t a, ctx.Int("axes"));
    axes = {a, a};
  }
  if (axes.size() != 2) {
    return {ctx.Invalid("axes must name one axis per input",
                        "Use an int or a pair")};
  }
  int ax = static_cast<int>(axes[0] < 0 ? axes[0] + rx : axes[0]);
  int ay = static_cast<int>(axes[1] < 0 ? axes[1] + ry : axes[1]);
  K2L_ASSIGN_OR_RETURN(bool normalize, ctx.BoolOr("normalize", false));
  if (normalize) {
    K2L_ASSIGN_OR_RETURN(x, L2Normalize(ctx, x, {ax}, 1e-7));
    K2L_ASSIGN_OR_RETURN(y, L2Normalize(ctx, y, {ay}, 1e-7));
  }
  ValueId out;
  if (rx == 2 && ry == 2) {
    // Row-wise dot product: [N, d] . [N, d] -> [N, 1].
    K2L_ASSIGN_OR_RETURN(ValueId m,
                         ctx.Op(OpKind::kMul, {x, y}, ir::BinaryAttrs{}));
    K2L_ASSIGN_OR_RETURN(out, ctx.Op(OpKind::kSum, {m, ctx.ConstInts({1})},
                                     ir::ReduceAttrs{true}));
  } else if (rx == 3 && ry == 3) {
    // Contract x's axis `ax` with y's axis `ay` in one BATCH_MATMUL.
    ir::BatchMatMulAttrs a;
    a.adj_x = ax == 1;
    a.adj_y = ay == 2;
    K2L_ASSIGN_OR_RETURN(out, ctx.Op(OpKind::kBatchMatMul, {x, y}, a));
  } else {
    return {ctx.Invalid("Dot of inputs of rank " + std::to_string(rx) +
                            " and " + std::to_string(ry) +
                            " is not supported yet",
                        "Use inputs of rank 2 or 3 (both the same)")};
  }
  return std::vector<ValueId>{out};
}

}  // namespace

Status RegisterMergeLayers(Registry& r) {
  K2L_RETURN_IF_ERROR(r.Register("Add", ConvertAdd, "ADD"));
  K2L_RETURN_IF_ERROR(r.Register("Subtract", ConvertSubtract, "SUB"));
  K2L_RETURN_IF_ERROR(r.Register("Multiply", ConvertMultiply, "MUL"));
  K2L_RETURN_IF_ERROR(r.Register("Average", ConvertAverage, "ADD, DIV"));
  K2L_RETURN_IF_ERROR(r.Register("Maximum", ConvertMaximum, "MAXIMUM"));
  K2L_RETURN_IF_ERROR(r.Register("Minimum", ConvertMinimum, "MINIMUM"));
  K2L_RETURN_IF_ERROR(
      r.Register("Concatenate", ConvertConcatenate, "CONCATENATION"));
  K2L_RETURN_IF_ERROR(r.Register(
      "Dot", ConvertDot, "MUL + SUM (rank 2) or BATCH_MATMUL (rank 3)"));
  return Status::Ok();
}

}  // namespace k2l::keras
