// Checks shared by the data-movement kernels (transpose, concat, pad, slice,
// gather, tile, split, shape, fill, resize, space/depth, misc), and the
// registration function of each of their files.
#pragma once

#include <string>
#include <vector>

#include "runtime/kernel.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

// Fails unless `t` holds elements of 1, 2, 4 or 8 bytes: these kernels move
// bytes, so every such type works the same way.
inline Status CheckMovable(const OpContext& ctx, const Tensor& t,
                           const char* what) {
  const size_t e = ElementSize(t.type);
  if (e == 1 || e == 2 || e == 4 || e == 8) return Status::Ok();
  return ctx.Error(std::string(what) + " '" + t.name + "' has type " +
                   TypeName(t.type) + ", which this kernel does not move");
}

// Fails unless `b` has the type of `a` (an output copies an input's type).
inline Status CheckSameType(const OpContext& ctx, const Tensor& a,
                            const Tensor& b) {
  if (a.type == b.type) return Status::Ok();
  return ctx.Error("'" + b.name + "' has type " + TypeName(b.type) + " but '" +
                   a.name + "' has type " + TypeName(a.type) +
                   "; they must match (corrupt model?)");
}

inline float QuantScale(const Tensor& t) {
  return t.quant.scale.empty() ? 0.f : t.quant.scale[0];
}
inline int64_t QuantZeroPoint(const Tensor& t) {
  return t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0];
}

// Fails unless `a` and `b` have the same (per-tensor) scale and zero point,
// as LiteRT requires where bytes are copied without requantizing.
inline Status CheckSameQuant(const OpContext& ctx, const Tensor& a,
                             const Tensor& b) {
  if (QuantScale(a) == QuantScale(b) && QuantZeroPoint(a) == QuantZeroPoint(b))
    return Status::Ok();
  return ctx.Error("'" + a.name + "' (scale " + std::to_string(QuantScale(a)) +
                   ", zero point " + std::to_string(QuantZeroPoint(a)) +
                   ") and '" + b.name + "' (scale " +
                   std::to_string(QuantScale(b)) + ", zero point " +
                   std::to_string(QuantZeroPoint(b)) +
                   ") must share quantization: this op copies bytes");
}

// Whether every listed input's value can be read now; Defer()s when not.
inline bool ValuesOrDefer(OpContext& ctx, std::initializer_list<int> inputs) {
  for (int i : inputs) {
    if (ctx.has_input(i) && !ctx.ValueKnown(i)) {
      ctx.Defer();
      return false;
    }
  }
  return true;
}

// Fails unless integer input `what` has type int32 or int64 and rank
// `rank` (-1: any).
inline Status CheckIndexInput(const OpContext& ctx, const Tensor& t,
                              const char* what, int rank) {
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, t, what, {TensorType::INT32, TensorType::INT64}));
  if (rank >= 0 && t.rank() != rank) {
    return ctx.Error(std::string(what) + " '" + t.name + "' has shape " +
                     ShapeString(t.shape) + " but must have rank " +
                     std::to_string(rank));
  }
  return Status::Ok();
}

// One per file.
Status RegisterTransposeKernels(OpResolver& r);
Status RegisterConcatKernels(OpResolver& r);
Status RegisterPadKernels(OpResolver& r);
Status RegisterSliceKernels(OpResolver& r);
Status RegisterGatherKernels(OpResolver& r);
Status RegisterTileKernels(OpResolver& r);
Status RegisterSplitKernels(OpResolver& r);
Status RegisterShapeKernels(OpResolver& r);
Status RegisterFillKernels(OpResolver& r);
Status RegisterDynamicUpdateSliceKernels(OpResolver& r);
Status RegisterResizeKernels(OpResolver& r);
Status RegisterSpaceDepthKernels(OpResolver& r);
Status RegisterMiscDataKernels(OpResolver& r);

}  // namespace k2l::runtime::kernels
