// Lowering of the einsums that EinsumDense and MultiHeadAttention's
// projections compute: one input tensor against a constant kernel, plus an
// optional bias that broadcasts the way Keras adds it.
#pragma once

#include <string>

#include "frontend/keras/layer_context.h"

namespace k2l::keras {

// einsum(equation, x, kernel) + bias, for the equation forms EinsumDense
// accepts ("ab,bc->ac", "...b,bc->...c", "ab...,bc->ac..."). Axes that x and
// the kernel share and the output drops are contracted by FULLY_CONNECTED
// (by BATCH_MATMUL when an axis is in x, the kernel and the output alike);
// TRANSPOSE and RESHAPE rearrange the other axes around it. `bias` may be
// null; `bias_axes` are its output letters, as in the layer's config.
// Equations that diagonalise, or that move or contract the batch axis, are
// refused with an error naming the equation. `weights_name` prefixes the
// constants' names (e.g. "query" gives "query/kernel").
Result<ir::ValueId> LowerEinsumDense(LayerContext& ctx, ir::ValueId x,
                                     const std::string& equation,
                                     const ir::TensorData& kernel,
                                     const ir::TensorData* bias,
                                     const std::string& bias_axes,
                                     const std::string& weights_name = "");

// `v` reshaped to `dims`. One dynamic entry becomes -1; several must be v's
// own dynamic dims carried through in order, and are read from v's shape at
// run time. Anything else is an error saying that `what` needs fixed sizes.
Result<ir::ValueId> ReshapeTo(LayerContext& ctx, ir::ValueId v,
                              const ir::Shape& dims, const std::string& what);

// `v` transposed so that output axis i is input axis perm[i]; no op when
// `perm` is the identity.
Result<ir::ValueId> TransposeBy(LayerContext& ctx, ir::ValueId v,
                                const std::vector<int32_t>& perm);

}  // namespace k2l::keras
