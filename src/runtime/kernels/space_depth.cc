// SPACE_TO_DEPTH, DEPTH_TO_SPACE, SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND
// (the last two are how TensorFlow lowers dilated convolutions).
#include "runtime/kernels/data_util.h"
#include "runtime/reference/space_batch.h"
#include "runtime/reference/transpose.h"

namespace k2l::runtime::kernels {

namespace {

struct BlockData : OpData {
  int block = 1;
};

Status BlockPrepare(OpContext& ctx, bool to_depth) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  const Tensor& in = ctx.input(0);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, ctx.output(0)));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 4, 4));
  int b = 0;
  if (to_depth) {
    const auto* o = ctx.options<fb::SpaceToDepthOptions>();
    b = o ? o->block_size() : 0;
  } else {
    const auto* o = ctx.options<fb::DepthToSpaceOptions>();
    b = o ? o->block_size() : 0;
  }
  if (b <= 0)
    return ctx.Error("block_size " + std::to_string(b) + " is not > 0");
  ctx.data<BlockData>().block = b;
  if (to_depth) {
    if (in.dim(1) % b != 0 || in.dim(2) % b != 0) {
      return ctx.Error("input shape " + ShapeString(in.shape) +
                       ": height and width must divide by block_size " +
                       std::to_string(b));
    }
    const int64_t c = int64_t{in.dim(3)} * b * b;
    if (c > INT32_MAX) return ctx.Error("the output depth overflows int32");
    return ctx.ResizeOutput(
        0, {in.dim(0), in.dim(1) / b, in.dim(2) / b, static_cast<int32_t>(c)});
  }
  if (in.dim(3) % (b * b) != 0) {
    return ctx.Error(
        "input shape " + ShapeString(in.shape) +
        ": depth must divide by block_size^2 = " + std::to_string(b * b));
  }
  const int64_t h = int64_t{in.dim(1)} * b, w = int64_t{in.dim(2)} * b;
  if (h > INT32_MAX || w > INT32_MAX)
    return ctx.Error("the output overflows int32");
  return ctx.ResizeOutput(0, {in.dim(0), static_cast<int32_t>(h),
                              static_cast<int32_t>(w), in.dim(3) / (b * b)});
}

Status SpaceToDepthPrepare(OpContext& ctx) { return BlockPrepare(ctx, true); }
Status DepthToSpacePrepare(OpContext& ctx) { return BlockPrepare(ctx, false); }

Status SpaceToDepthEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  if (in.num_elements() == 0) return Status::Ok();
  reference::SpaceToDepth(in.shape, ctx.data<BlockData>().block, in.raw(),
                          ElementSize(in.type), ctx.output(0).mutable_raw());
  return Status::Ok();
}

Status DepthToSpaceEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  if (in.num_elements() == 0) return Status::Ok();
  reference::DepthToSpace(in.shape, ctx.data<BlockData>().block, in.raw(),
                          ElementSize(in.type), ctx.output(0).mutable_raw());
  return Status::Ok();
}

struct SpaceBatchData : OpData {
  reference::SpaceBatchShape s{};
};

// Shared by both directions: `to_batch` pads (input 2 is paddings),
// otherwise it crops (input 2 is crops).
Status SpaceBatchPrepare(OpContext& ctx, bool to_batch) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 3, 3, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& out = ctx.output(0);
  const char* what = to_batch ? "paddings" : "crops";
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, out));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 3, 4));
  if (in.type == TensorType::UINT8 || in.type == TensorType::INT8 ||
      in.type == TensorType::INT16)
    K2L_RETURN_IF_ERROR(CheckSameQuant(ctx, in, out));
  if (in.type == TensorType::INT16 && QuantZeroPoint(in) != 0)
    return ctx.Error("int16 input '" + in.name + "' needs zero point 0");
  const int spatial = in.rank() - 2;
  const Tensor& block = ctx.input(1);
  const Tensor& pads = ctx.input(2);
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, block, "block_shape", 1));
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, pads, what, 2));
  if (block.dim(0) != spatial || pads.dim(0) != spatial || pads.dim(1) != 2) {
    return ctx.Error("block_shape " + ShapeString(block.shape) + " and " +
                     what + " " + ShapeString(pads.shape) + " must be [" +
                     std::to_string(spatial) + "] and [" +
                     std::to_string(spatial) + ", 2] for input shape " +
                     ShapeString(in.shape));
  }
  if (!ValuesOrDefer(ctx, {1, 2})) return Status::Ok();
  const std::vector<int64_t> bs = ReadInts(block), p = ReadInts(pads);
  Shape shape = in.shape;
  int64_t batch = in.dim(0);
  for (int d = 0; d < spatial; ++d) {
    if (bs[d] <= 0 || p[2 * d] < 0 || p[2 * d + 1] < 0) {
      return ctx.Error("block_shape must be > 0 and " + std::string(what) +
                       " >= 0 (axis " + std::to_string(d + 1) + ")");
    }
    if (to_batch) {
      const int64_t padded = in.dim(d + 1) + p[2 * d] + p[2 * d + 1];
      if (padded % bs[d] != 0) {
        return ctx.Error("padded axis " + std::to_string(d + 1) + " (" +
                         std::to_string(padded) +
                         ") does not divide by block " + std::to_string(bs[d]));
      }
      shape[d + 1] = static_cast<int32_t>(padded / bs[d]);
      batch *= bs[d];
    } else {
      if (batch % bs[d] != 0) {
        return ctx.Error("batch " + std::to_string(in.dim(0)) +
                         " does not divide by the block product");
      }
      batch /= bs[d];
      shape[d + 1] =
          static_cast<int32_t>(in.dim(d + 1) * bs[d] - p[2 * d] - p[2 * d + 1]);
    }
  }
  if (batch > INT32_MAX) return ctx.Error("the output batch overflows int32");
  shape[0] = static_cast<int32_t>(batch);
  K2L_RETURN_IF_ERROR(ctx.ResizeOutput(0, shape));
  const bool r4 = spatial == 2;
  auto& s = ctx.data<SpaceBatchData>().s;
  s = {in.dim(0),
       in.dim(1),
       r4 ? in.dim(2) : 1,
       shape[0],
       shape[1],
       r4 ? shape[2] : 1,
       in.dim(in.rank() - 1),
       bs[0],
       r4 ? bs[1] : 1,
       p[0],
       r4 ? p[2] : 0};
  return Status::Ok();
}

Status SpaceToBatchPrepare(OpContext& ctx) {
  return SpaceBatchPrepare(ctx, true);
}
Status BatchToSpacePrepare(OpContext& ctx) {
  return SpaceBatchPrepare(ctx, false);
}

Status SpaceToBatchEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  if (out.num_elements() == 0) return Status::Ok();
  const size_t elem = ElementSize(in.type);
  // LiteRT pads 8- and 16-bit types with the zero point's low byte
  // (a memset), wider ones with 0.
  const uint8_t pad =
      elem <= 2 ? static_cast<uint8_t>(QuantZeroPoint(out)) : uint8_t{0};
  reference::SpaceToBatchNd(ctx.data<SpaceBatchData>().s, in.raw(), pad, elem,
                            out.mutable_raw());
  return Status::Ok();
}

Status BatchToSpaceEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  if (out.num_elements() == 0) return Status::Ok();
  reference::BatchToSpaceNd(ctx.data<SpaceBatchData>().s, in.raw(),
                            ElementSize(in.type), out.mutable_raw());
  return Status::Ok();
}

}  // namespace

Status RegisterSpaceDepthKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(r.Add({fb::BuiltinOperator::SPACE_TO_DEPTH, 1, 2,
                             SpaceToDepthPrepare, SpaceToDepthEval}));
  K2L_RETURN_IF_ERROR(r.Add({fb::BuiltinOperator::DEPTH_TO_SPACE, 1, 2,
                             DepthToSpacePrepare, DepthToSpaceEval}));
  K2L_RETURN_IF_ERROR(r.Add({fb::BuiltinOperator::SPACE_TO_BATCH_ND, 1, 4,
                             SpaceToBatchPrepare, SpaceToBatchEval}));
  return r.Add({fb::BuiltinOperator::BATCH_TO_SPACE_ND, 1, 4,
                BatchToSpacePrepare, BatchToSpaceEval});
}

}  // namespace k2l::runtime::kernels
