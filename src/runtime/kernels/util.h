// Checks and small computations shared by the kernels' Prepare functions.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/kernel.h"

namespace k2l::runtime::kernels {

// Fails unless the op has between min and max inputs (and exactly
// `outputs` outputs).
Status CheckArity(const OpContext& ctx, int min_inputs, int max_inputs,
                  int outputs);
// Fails unless `t` (input or output `what`) has one of `types`.
Status CheckType(const OpContext& ctx, const Tensor& t, const char* what,
                 std::initializer_list<TensorType> types);
// Fails unless input `i` has rank in [min_rank, max_rank].
Status CheckRank(const OpContext& ctx, const Tensor& t, const char* what,
                 int min_rank, int max_rank);

// Numpy broadcasting of two shapes; an error names both.
Result<Shape> BroadcastShapes(const OpContext& ctx, const Shape& a,
                              const Shape& b);

// The values of an integer tensor (int32 or int64) as int64.
std::vector<int64_t> ReadInts(const Tensor& t);
// Wraps a negative axis; fails when it is out of [-rank, rank).
Result<int> NormalizeAxis(const OpContext& ctx, int64_t axis, int rank);

// The clamp range of a fused activation for float math.
struct FloatRange {
  float min;
  float max;
};
Result<FloatRange> ActivationRange(const OpContext& ctx,
                                   fb::ActivationFunctionType act);
// Applies a fused activation (including TANH / SIGN_BIT, which are not
// clamps) to n floats in place.
void ApplyActivation(fb::ActivationFunctionType act, float* x, int64_t n);

}  // namespace k2l::runtime::kernels
