// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR (align_corners,
// half_pixel_centers); the size input may be computed at run time.
#include "runtime/reference/resize.h"

#include "runtime/kernels/data_util.h"

namespace k2l::runtime::kernels {

namespace {

struct ResizeData : OpData {
  reference::ResizeShape shape{};
  bool align_corners = false;
  bool half_pixel = false;
};

Status ResizePrepare(OpContext& ctx, bool bilinear) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& size = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, ctx.output(0)));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 4, 4));
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, size, "size", 1));
  if (size.dim(0) != 2) {
    return ctx.Error("size '" + size.name + "' has shape " +
                     ShapeString(size.shape) +
                     "; [2] (height, width) is needed");
  }
  auto& d = ctx.data<ResizeData>();
  if (bilinear) {
    K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input",
                                  {TensorType::FLOAT32, TensorType::UINT8,
                                   TensorType::INT8, TensorType::INT16}));
    const auto* o = ctx.options<fb::ResizeBilinearOptions>();
    d.align_corners = o && o->align_corners();
    d.half_pixel = o && o->half_pixel_centers();
  } else {
    K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
    const auto* o = ctx.options<fb::ResizeNearestNeighborOptions>();
    d.align_corners = o && o->align_corners();
    d.half_pixel = o && o->half_pixel_centers();
  }
  if (d.align_corners && d.half_pixel) {
    return ctx.Error(
        "align_corners and half_pixel_centers are both set; at most one may "
        "be");
  }
  if (!ValuesOrDefer(ctx, {1})) return Status::Ok();
  const std::vector<int64_t> hw = ReadInts(size);
  for (int64_t v : hw) {
    if (v < (bilinear ? 1 : 0) || v > INT32_MAX) {
      return ctx.Error("output size " + std::to_string(v) + " in '" +
                       size.name + "' is not a valid size");
    }
  }
  if (in.num_elements() == 0 && in.dim(0) * in.dim(3) * hw[0] * hw[1] > 0) {
    return ctx.Error("input '" + in.name + "' is empty (shape " +
                     ShapeString(in.shape) + ") but the output is not");
  }
  d.shape = {in.dim(0), in.dim(1), in.dim(2), in.dim(3), hw[0], hw[1]};
  return ctx.ResizeOutput(0, {in.dim(0), static_cast<int32_t>(hw[0]),
                              static_cast<int32_t>(hw[1]), in.dim(3)});
}

Status BilinearPrepare(OpContext& ctx) { return ResizePrepare(ctx, true); }
Status NearestPrepare(OpContext& ctx) { return ResizePrepare(ctx, false); }

Status BilinearEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  if (out.num_elements() == 0) return Status::Ok();
  const auto& d = ctx.data<ResizeData>();
  switch (in.type) {
    case TensorType::FLOAT32:
      reference::ResizeBilinearFloat(d.shape, d.align_corners, d.half_pixel,
                                     in.data<float>(),
                                     out.mutable_data<float>());
      break;
    case TensorType::UINT8:
      reference::ResizeBilinearUint8(d.shape, d.align_corners, d.half_pixel,
                                     in.data<uint8_t>(),
                                     out.mutable_data<uint8_t>());
      break;
    case TensorType::INT8:
      reference::ResizeBilinearInteger(d.shape, d.align_corners, d.half_pixel,
                                       in.data<int8_t>(),
                                       out.mutable_data<int8_t>());
      break;
    default:
      reference::ResizeBilinearInteger(d.shape, d.align_corners, d.half_pixel,
                                       in.data<int16_t>(),
                                       out.mutable_data<int16_t>());
      break;
  }
  return Status::Ok();
}

Status NearestEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  if (out.num_elements() == 0) return Status::Ok();
  const auto& d = ctx.data<ResizeData>();
  reference::ResizeNearest(d.shape, d.align_corners, d.half_pixel, in.raw(),
                           ElementSize(in.type), out.mutable_raw());
  return Status::Ok();
}

}  // namespace

Status RegisterResizeKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(r.Add({fb::BuiltinOperator::RESIZE_BILINEAR, 1, 4,
                             BilinearPrepare, BilinearEval}));
  return r.Add({fb::BuiltinOperator::RESIZE_NEAREST_NEIGHBOR, 1, 4,
                NearestPrepare, NearestEval});
}

}  // namespace k2l::runtime::kernels
