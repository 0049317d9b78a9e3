#include "frontend/keras/shared_lowering.h"

namespace k2l::keras {

using ir::OpKind;
using ir::ValueId;

Result<ValueId> Standardize(LayerContext& ctx, ValueId x,
                            const std::vector<int32_t>& axes, double epsilon) {
  K2L_ASSIGN_OR_RETURN(
      ValueId mean,
      ctx.Op(OpKind::kMean, {x, ctx.ConstInts(axes)}, ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(ValueId sq,
                       ctx.Op(OpKind::kSquaredDifference, {x, mean}));
  K2L_ASSIGN_OR_RETURN(
      ValueId var,
      ctx.Op(OpKind::kMean, {sq, ctx.ConstInts(axes)}, ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(
      ValueId ve,
      ctx.Op(OpKind::kAdd, {var, ctx.ConstFloat(static_cast<float>(epsilon))},
             ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(ValueId inv, ctx.Op(OpKind::kRsqrt, {ve}));
  K2L_ASSIGN_OR_RETURN(ValueId c,
                       ctx.Op(OpKind::kSub, {x, mean}, ir::BinaryAttrs{}));
  return ctx.Op(OpKind::kMul, {c, inv}, ir::BinaryAttrs{});
}

Result<ValueId> L2Normalize(LayerContext& ctx, ValueId x,
                            const std::vector<int32_t>& axes, double epsilon) {
  K2L_ASSIGN_OR_RETURN(ValueId sq, ctx.Op(OpKind::kSquare, {x}));
  K2L_ASSIGN_OR_RETURN(
      ValueId sum,
      ctx.Op(OpKind::kSum, {sq, ctx.ConstInts(axes)}, ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(ValueId inv, ctx.Op(OpKind::kRsqrt, {sum}));
  K2L_ASSIGN_OR_RETURN(
      inv, ctx.Op(OpKind::kMinimum,
                  {inv, ctx.ConstFloat(static_cast<float>(1.0 / epsilon))}));
  return ctx.Op(OpKind::kMul, {x, inv}, ir::BinaryAttrs{});
}

Result<ir::ValueId> RuntimeDims(LayerContext& ctx, ir::ValueId v, int begin,
                                int count) {
  K2L_ASSIGN_OR_RETURN(ir::ValueId shape, ctx.Op(ir::OpKind::kShape, {v}));
  return ctx.Op(ir::OpKind::kSlice,
                {shape, ctx.ConstInts({begin}), ctx.ConstInts({count})});
}

Result<ir::ValueId> RuntimeDim(LayerContext& ctx, ir::ValueId v, int axis) {
  K2L_ASSIGN_OR_RETURN(ir::ValueId shape, ctx.Op(ir::OpKind::kShape, {v}));
  return ctx.Op(ir::OpKind::kGather, {shape, ctx.ConstInts({axis}, {})},
                ir::GatherAttrs{0});
}

}  // namespace k2l::keras
