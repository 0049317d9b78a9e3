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

// keras.layers.Dot is batch_dot: contract x's axis a0 with y's axis a1 and
// keep every other axis, x's first. Like Keras, a rank-2 input gains a unit
// axis, x's contracted axis moves last and y's moves to position 1, inputs
// of rank > 3 are squashed to rank 3, and one BATCH_MATMUL does the work.
Result<std::vector<ValueId>> ConvertDot(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(NeedInputs(ctx, 2, 2));
  ValueId x = ctx.input(0), y = ctx.input(1);
  const ir::Shape xs = ctx.shape(x), ys = ctx.shape(y);
  const int rx = static_cast<int>(xs.size()), ry = static_cast<int>(ys.size());
  std::vector<int64_t> axes;
  if (ctx.Has("axes") && ctx.config()["axes"].is_array()) {
    K2L_ASSIGN_OR_RETURN(axes, ctx.IntList("axes"));
  } else {
    K2L_ASSIGN_OR_RETURN(int64_t a, ctx.Int("axes"));
    axes = {a, a};
  }
  if (axes.size() != 2) {
    return {ctx.Invalid("axes " + ctx.config()["axes"].dump() +
                            " does not name one axis per input",
                        "Use an int or a pair of ints")};
  }
  if (rx < 2 || ry < 2) {
    return {ctx.Invalid("its inputs have rank " + std::to_string(rx) + " and " +
                            std::to_string(ry) +
                            "; batch_dot needs rank 2 or more",
                        "Give both inputs a feature axis")};
  }
  const int ax = static_cast<int>(axes[0] < 0 ? axes[0] + rx : axes[0]);
  const int ay = static_cast<int>(axes[1] < 0 ? axes[1] + ry : axes[1]);
  if (ax < 1 || ax >= rx || ay < 1 || ay >= ry ||
      (xs[ax] != ir::kDynamic && ys[ay] != ir::kDynamic && xs[ax] != ys[ay])) {
    return {ctx.Invalid("axes " + ctx.config()["axes"].dump() +
                            " do not pair two equal non-batch axes of " +
                            ir::ShapeToString(xs) + " and " +
                            ir::ShapeToString(ys),
                        "Contract axes of equal size other than the batch")};
  }
  K2L_ASSIGN_OR_RETURN(bool normalize, ctx.BoolOr("normalize", false));
  if (normalize) {
    // keras.ops.normalize with the default epsilon, backend.epsilon().
    K2L_ASSIGN_OR_RETURN(x, L2Normalize(ctx, x, {ax}, 1e-7));
    K2L_ASSIGN_OR_RETURN(y, L2Normalize(ctx, y, {ay}, 1e-7));
  }
  if (rx == 2 && ry == 2) {
    // Row-wise dot product: [N, d] . [N, d] -> [N, 1].
    K2L_ASSIGN_OR_RETURN(ValueId m,
                         ctx.Op(OpKind::kMul, {x, y}, ir::BinaryAttrs{}));
    K2L_ASSIGN_OR_RETURN(
        ValueId out,
        ctx.Op(OpKind::kSum, {m, ctx.ConstInts({1})}, ir::ReduceAttrs{true}));
    return std::vector<ValueId>{out};
  }
  // Keras' output: x's non-batch dims but a0, then y's but a1.
  std::vector<int32_t> final_shape = {-1};
  for (int i = 1; i < rx; ++i)
    if (i != ax) final_shape.push_back(static_cast<int32_t>(xs[i]));
  for (int i = 1; i < ry; ++i)
    if (i != ay) final_shape.push_back(static_cast<int32_t>(ys[i]));

  ir::BatchMatMulAttrs mm;
  int a0 = ax, xr = rx, yr = ry;
  if (rx == 2) {
    K2L_ASSIGN_OR_RETURN(x,
                         ctx.Op(OpKind::kExpandDims, {x, ctx.ConstInts({1})}));
    a0 = 2;
    xr = 3;
  }
  if (ry == 2) {
    K2L_ASSIGN_OR_RETURN(y,
                         ctx.Op(OpKind::kExpandDims, {y, ctx.ConstInts({2})}));
    yr = 3;
  }
  if (a0 != xr - 1) {
    if (xr == 3) {
      mm.adj_x = true;
    } else {
      std::vector<int32_t> perm;
      for (int i = 0; i < xr; ++i)
        if (i != a0) perm.push_back(i);
      perm.push_back(a0);
      K2L_ASSIGN_OR_RETURN(
          x, ctx.Op(OpKind::kTranspose, {x, ctx.ConstInts(perm)}));
    }
  }
  if (ry > 2 && ay != 1) {
    if (yr == 3) {
      mm.adj_y = true;
    } else {
      std::vector<int32_t> perm = {0, ay};
      for (int i = 1; i < yr; ++i)
        if (i != ay) perm.push_back(i);
      K2L_ASSIGN_OR_RETURN(
          y, ctx.Op(OpKind::kTranspose, {y, ctx.ConstInts(perm)}));
    }
  }
  bool reshape = rx != 3 || ry != 3;
  auto fixed = [&](ValueId v, size_t from, size_t to) -> Result<int32_t> {
    int64_t p = 1;
    ir::Shape s = ctx.shape(v);
    for (size_t i = from; i < to; ++i) {
      if (s[i] == ir::kDynamic) {
        return ctx.Invalid("input " + ir::ShapeToString(s) +
                               " has a dynamic non-batch dim, which "
                               "batch_dot of rank " +
                               std::to_string(rx) + " and " +
                               std::to_string(ry) + " must reshape",
                           "Give the model's Inputs fixed non-batch "
                           "dimensions");
      }
      p *= s[i];
    }
    return static_cast<int32_t>(p);
  };
  if (xr > 3) {
    K2L_ASSIGN_OR_RETURN(int32_t mid, fixed(x, 1, xr - 1));
    K2L_ASSIGN_OR_RETURN(int32_t last, fixed(x, xr - 1, xr));
    K2L_ASSIGN_OR_RETURN(
        x, ctx.Op(OpKind::kReshape, {x, ctx.ConstInts({-1, mid, last})}));
  }
  if (yr > 3) {
    K2L_ASSIGN_OR_RETURN(int32_t first, fixed(y, 1, 2));
    K2L_ASSIGN_OR_RETURN(int32_t trail, fixed(y, 2, yr));
    K2L_ASSIGN_OR_RETURN(
        y, ctx.Op(OpKind::kReshape, {y, ctx.ConstInts({-1, first, trail})}));
  }
  K2L_ASSIGN_OR_RETURN(ValueId out, ctx.Op(OpKind::kBatchMatMul, {x, y}, mm));
  if (reshape) {
    for (size_t i = 1; i < final_shape.size(); ++i) {
      if (final_shape[i] == ir::kDynamic) {
        return {
            ctx.Invalid("its output " + ir::ShapeToString(ctx.shape(out)) +
                            " has a dynamic non-batch dim to reshape",
                        "Give the model's Inputs fixed non-batch dimensions")};
      }
    }
    K2L_ASSIGN_OR_RETURN(
        out, ctx.Op(OpKind::kReshape, {out, ctx.ConstInts(final_shape)}));
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
      "Dot", ConvertDot,
      "MUL + SUM (rank 2), else BATCH_MATMUL (+TRANSPOSE, RESHAPE)"));
  return Status::Ok();
}

}  // namespace k2l::keras
