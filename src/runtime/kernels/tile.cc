// TILE and BROADCAST_TO: block replication with memcpy.
#include "runtime/reference/tile.h"

#include "runtime/kernels/data_util.h"

namespace k2l::runtime::kernels {

namespace {

struct TileData : OpData {
  std::vector<int64_t> mult;
};

Status TilePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& m = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, ctx.output(0)));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, m, "multiples", -1));
  if (m.num_elements() != in.rank()) {
    return ctx.Error(
        "multiples '" + m.name + "' holds " + std::to_string(m.num_elements()) +
        " values but the input has rank " + std::to_string(in.rank()));
  }
  if (!ValuesOrDefer(ctx, {1})) return Status::Ok();
  auto& data = ctx.data<TileData>();
  data.mult = ReadInts(m);
  Shape out(in.rank());
  for (int d = 0; d < in.rank(); ++d) {
    const int64_t k = data.mult[d];
    if (k < 0) {
      return ctx.Error("multiple " + std::to_string(k) + " of axis " +
                       std::to_string(d) + " is negative");
    }
    if (in.dim(d) > 0 && k > INT32_MAX / in.dim(d)) {
      return ctx.Error("tiling axis " + std::to_string(d) + " of size " +
                       std::to_string(in.dim(d)) + " " + std::to_string(k) +
                       " times overflows int32");
    }
    out[d] = static_cast<int32_t>(in.dim(d) * k);
  }
  return ctx.ResizeOutput(0, out);
}

Status TileEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  if (out.num_elements() == 0) return Status::Ok();
  reference::Tile(in.shape, ctx.data<TileData>().mult, in.raw(),
                  ElementSize(in.type), out.mutable_raw());
  return Status::Ok();
}

Status BroadcastToPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& s = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, ctx.output(0)));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, s, "shape", 1));
  if (s.dim(0) < in.rank()) {
    return ctx.Error("cannot broadcast input shape " + ShapeString(in.shape) +
                     " to rank " + std::to_string(s.dim(0)) +
                     ": the target rank is smaller");
  }
  if (!ValuesOrDefer(ctx, {1})) return Status::Ok();
  const std::vector<int64_t> want = ReadInts(s);
  const int lead = static_cast<int>(want.size()) - in.rank();
  Shape out(want.size());
  for (size_t d = 0; d < want.size(); ++d) {
    if (want[d] < 0 || want[d] > INT32_MAX) {
      return ctx.Error("target shape entry " + std::to_string(want[d]) +
                       " is not a size");
    }
    out[d] = static_cast<int32_t>(want[d]);
  }
  for (int d = 0; d < in.rank(); ++d) {
    if (in.dim(d) != 1 && in.dim(d) != out[lead + d]) {
      return ctx.Error("cannot broadcast input shape " + ShapeString(in.shape) +
                       " to " + ShapeString(out) +
                       ": each input axis must be 1 or match");
    }
  }
  return ctx.ResizeOutput(0, out);
}

Status BroadcastToEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  if (out.num_elements() == 0) return Status::Ok();
  Shape in_shape(out.rank() - in.rank(), 1);
  in_shape.insert(in_shape.end(), in.shape.begin(), in.shape.end());
  reference::BroadcastTo(in_shape, out.shape, in.raw(), ElementSize(in.type),
                         out.mutable_raw());
  return Status::Ok();
}

}  // namespace

Status RegisterTileKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::TILE, 1, 3, TilePrepare, TileEval}));
  // LiteRT registers BROADCAST_TO from version 2: version 1 was rolled back.
  return r.Add({fb::BuiltinOperator::BROADCAST_TO, 2, 4, BroadcastToPrepare,
                BroadcastToEval});
}

}  // namespace k2l::runtime::kernels
