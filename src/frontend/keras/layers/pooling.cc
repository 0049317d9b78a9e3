// Pooling layers: Max/AveragePooling1D/2D and Global{Average,Max}Pooling1D/2D.
// 1-D pools run as 2-D ops over [N, 1, W, C]. Keras' 'same' average pool
// divides by the count of non-padded inputs, which is also LiteRT's rule.
#include "frontend/keras/registry.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;

Result<std::vector<ValueId>> ConvertPool(LayerContext& ctx, int rank,
                                         OpKind kind) {
  K2L_RETURN_IF_ERROR(ctx.RequireChannelsLast("pools"));
  K2L_ASSIGN_OR_RETURN(auto pool, ctx.Ints("pool_size", rank));
  std::vector<int64_t> strides = pool;
  if (ctx.Has("strides")) {
    K2L_ASSIGN_OR_RETURN(strides, ctx.Ints("strides", rank));
  }
  K2L_ASSIGN_OR_RETURN(std::string pad,
                       ctx.Choice("padding", {"valid", "same"}, "valid"));
  ValueId x = ctx.input();
  if (ctx.rank(x) != static_cast<size_t>(rank) + 2) {
    return {ctx.Invalid("its input has shape " +
                            ir::ShapeToString(ctx.shape(x)) +
                            ", expected rank " + std::to_string(rank + 2),
                        "Check the model's input shape")};
  }
  ir::Pool2DAttrs a;
  a.padding = pad == "same" ? ir::Padding::kSame : ir::Padding::kValid;
  if (rank == 2) {
    a.filter_h = static_cast<int>(pool[0]);
    a.filter_w = static_cast<int>(pool[1]);
    a.stride_h = static_cast<int>(strides[0]);
    a.stride_w = static_cast<int>(strides[1]);
    K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(kind, {x}, a));
    return std::vector<ValueId>{y};
  }
  a.filter_w = static_cast<int>(pool[0]);
  a.stride_w = static_cast<int>(strides[0]);
  K2L_ASSIGN_OR_RETURN(ValueId x4,
                       ctx.Op(OpKind::kExpandDims, {x, ctx.ConstInts({1})}));
  K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(kind, {x4}, a));
  K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kSqueeze, {y}, ir::SqueezeAttrs{{1}}));
  return std::vector<ValueId>{y};
}

// 3-D pools have no builtin, but max and mean over a box factor into a pool
// over (h, w) on [N*D, H, W, C] and a pool over d on [N, D, H'*W', C]. For
// averages with 'same' padding the valid-entry counts factor the same way.
Result<std::vector<ValueId>> ConvertPool3D(LayerContext& ctx, OpKind kind) {
  K2L_RETURN_IF_ERROR(ctx.RequireChannelsLast("pools"));
  K2L_ASSIGN_OR_RETURN(auto pool, ctx.Ints("pool_size", 3));
  std::vector<int64_t> strides = pool;
  if (ctx.Has("strides")) {
    K2L_ASSIGN_OR_RETURN(strides, ctx.Ints("strides", 3));
  }
  K2L_ASSIGN_OR_RETURN(std::string pad,
                       ctx.Choice("padding", {"valid", "same"}, "valid"));
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  if (xs.size() != 5) {
    return {ctx.Invalid(
        "its input has shape " + ir::ShapeToString(xs) + ", expected rank 5",
        "Check the model's input shape")};
  }
  for (int i = 1; i < 5; ++i) {
    if (xs[i] == ir::kDynamic) {
      return {ctx.Invalid(
          "its input " + ir::ShapeToString(xs) + " has a dynamic non-batch dim",
          "Give the model's Input fixed dimensions")};
    }
  }
  auto i32 = [](int64_t v) { return static_cast<int32_t>(v); };
  ir::Pool2DAttrs hw;
  hw.padding = pad == "same" ? ir::Padding::kSame : ir::Padding::kValid;
  hw.filter_h = i32(pool[1]);
  hw.filter_w = i32(pool[2]);
  hw.stride_h = i32(strides[1]);
  hw.stride_w = i32(strides[2]);
  K2L_ASSIGN_OR_RETURN(
      ValueId a,
      ctx.Op(OpKind::kReshape,
             {x, ctx.ConstInts({-1, i32(xs[2]), i32(xs[3]), i32(xs[4])})}));
  K2L_ASSIGN_OR_RETURN(a, ctx.Op(kind, {a}, hw));
  const ir::Shape as = ctx.shape(a);
  K2L_ASSIGN_OR_RETURN(
      ValueId b, ctx.Op(OpKind::kReshape,
                        {a, ctx.ConstInts({-1, i32(xs[1]), i32(as[1] * as[2]),
                                           i32(xs[4])})}));
  ir::Pool2DAttrs d = hw;
  d.filter_h = i32(pool[0]);
  d.filter_w = 1;
  d.stride_h = i32(strides[0]);
  d.stride_w = 1;
  K2L_ASSIGN_OR_RETURN(b, ctx.Op(kind, {b}, d));
  const ir::Shape bs = ctx.shape(b);
  K2L_ASSIGN_OR_RETURN(
      ValueId y,
      ctx.Op(OpKind::kReshape, {b, ctx.ConstInts({-1, i32(bs[1]), i32(as[1]),
                                                  i32(as[2]), i32(xs[4])})}));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> MaxPool3D(LayerContext& c) {
  return ConvertPool3D(c, OpKind::kMaxPool2D);
}
Result<std::vector<ValueId>> AvgPool3D(LayerContext& c) {
  return ConvertPool3D(c, OpKind::kAveragePool2D);
}

Result<std::vector<ValueId>> ConvertGlobal(LayerContext& ctx, int rank,
                                           OpKind kind) {
  K2L_RETURN_IF_ERROR(ctx.RequireChannelsLast("pools"));
  K2L_ASSIGN_OR_RETURN(bool keepdims, ctx.BoolOr("keepdims", false));
  ValueId x = ctx.input();
  if (ctx.rank(x) != static_cast<size_t>(rank) + 2) {
    return {ctx.Invalid("its input has shape " +
                            ir::ShapeToString(ctx.shape(x)) +
                            ", expected rank " + std::to_string(rank + 2),
                        "Check the model's input shape")};
  }
  if (ctx.num_inputs() > 1) {
    return {ctx.Invalid("it is called with a mask",
                        "Pool without a mask, or mask the input first")};
  }
  std::vector<int32_t> axes;
  for (int i = 1; i <= rank; ++i) axes.push_back(i);
  K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(kind, {x, ctx.ConstInts(axes)},
                                         ir::ReduceAttrs{keepdims}));
  return std::vector<ValueId>{y};
}

#define K2L_POOL(Name, rank, kind)                     \
  Result<std::vector<ValueId>> Name(LayerContext& c) { \
    return ConvertPool(c, rank, kind);                 \
  }
#define K2L_GLOBAL(Name, rank, kind)                   \
  Result<std::vector<ValueId>> Name(LayerContext& c) { \
    return ConvertGlobal(c, rank, kind);               \
  }
K2L_POOL(MaxPool1D, 1, OpKind::kMaxPool2D)
K2L_POOL(MaxPool2D, 2, OpKind::kMaxPool2D)
K2L_POOL(AvgPool1D, 1, OpKind::kAveragePool2D)
K2L_POOL(AvgPool2D, 2, OpKind::kAveragePool2D)
K2L_GLOBAL(GlobalAvg1D, 1, OpKind::kMean)
K2L_GLOBAL(GlobalAvg2D, 2, OpKind::kMean)
K2L_GLOBAL(GlobalMax1D, 1, OpKind::kReduceMax)
K2L_GLOBAL(GlobalMax2D, 2, OpKind::kReduceMax)
K2L_GLOBAL(GlobalAvg3D, 3, OpKind::kMean)
K2L_GLOBAL(GlobalMax3D, 3, OpKind::kReduceMax)
#undef K2L_POOL
#undef K2L_GLOBAL

}  // namespace

Status RegisterPoolingLayers(Registry& r) {
  K2L_RETURN_IF_ERROR(r.Register("MaxPooling1D", MaxPool1D, "MAX_POOL_2D",
                                 kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("MaxPooling2D", MaxPool2D, "MAX_POOL_2D",
                                 kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("AveragePooling1D", AvgPool1D,
                                 "AVERAGE_POOL_2D", kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("AveragePooling2D", AvgPool2D,
                                 "AVERAGE_POOL_2D", kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(
      r.Register("GlobalAveragePooling1D", GlobalAvg1D, "MEAN",
                 "data_format='channels_first' and masks are refused"));
  K2L_RETURN_IF_ERROR(r.Register("GlobalAveragePooling2D", GlobalAvg2D, "MEAN",
                                 kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("GlobalMaxPooling1D", GlobalMax1D,
                                 "REDUCE_MAX", kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("GlobalMaxPooling2D", GlobalMax2D,
                                 "REDUCE_MAX", kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("MaxPooling3D", MaxPool3D,
                                 "RESHAPE, MAX_POOL_2D (twice)",
                                 kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("AveragePooling3D", AvgPool3D,
                                 "RESHAPE, AVERAGE_POOL_2D (twice)",
                                 kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("GlobalAveragePooling3D", GlobalAvg3D, "MEAN",
                                 kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("GlobalMaxPooling3D", GlobalMax3D,
                                 "REDUCE_MAX", kRefusesChannelsFirst));
  return Status::Ok();
}

}  // namespace k2l::keras
