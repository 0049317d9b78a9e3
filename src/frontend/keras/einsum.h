// Lowering of x·kernel einsum equations, as EinsumDense (and the layers
// built from it, such as MultiHeadAttention's projections) use them.
#pragma once

#include <optional>
#include <string>

#include "frontend/keras/layer_context.h"

namespace k2l::keras {

// Computes einsum(equation, x, kernel) (+ bias) with a constant kernel.
// Supported: every letter of the kernel also appears in x or in the output;
// letters of x and the kernel that leave the output are contracted, as
// FULLY_CONNECTED over them; the output may order its letters freely
// (TRANSPOSE); a leading "..." on x and the output stands for leading dims.
// Anything else (a letter shared by all three, a letter summed from x
// alone, a trailing "...") is an error naming the equation.
Result<ir::ValueId> LowerEinsum(LayerContext& ctx, ir::ValueId x,
                                const std::string& equation,
                                const ir::TensorData& kernel,
                                const std::optional<ir::TensorData>& bias);

}  // namespace k2l::keras
