// Lowerings that several layer families share.
#pragma once

#include <functional>
#include <vector>

#include "frontend/keras/layer_context.h"

namespace k2l::keras {

// Runs the registered converter of Keras class `cls` on a sublayer of
// `ctx`'s layer: configured by `config`, saved under `attrs` (the
// attribute path below the layer's weight group), named `keras_name` by
// Keras, on `x`. Returns its first output.
Result<ir::ValueId> RunSublayer(LayerContext& ctx, const std::string& cls,
                                const nlohmann::json& config,
                                const std::vector<std::string>& attrs,
                                const std::string& keras_name, ir::ValueId x);

// (x - mean) * rsqrt(var + epsilon) over `axes` (kept), with the variance
// taken as mean((x - mean)^2).
Result<ir::ValueId> Standardize(LayerContext& ctx, ir::ValueId x,
                                const std::vector<int32_t>& axes,
                                double epsilon);

// x * min(rsqrt(sum(x^2, axes)), 1 / epsilon), as keras.ops.normalize with
// order 2.
Result<ir::ValueId> L2Normalize(LayerContext& ctx, ir::ValueId x,
                                const std::vector<int32_t>& axes,
                                double epsilon);

// The rows of `table` at `ids` (GATHER), as Embedding looks them up:
// non-integer ids are cast to int32 first. With `mask_zero`, output 0 of
// the call gets the Keras mask ids != 0.
Result<ir::ValueId> LowerEmbeddingLookup(LayerContext& ctx, ir::ValueId table,
                                         ir::ValueId ids, bool mask_zero);

// Dims [begin, begin + count) of v's shape at run time, as 1-D int32.
Result<ir::ValueId> RuntimeDims(LayerContext& ctx, ir::ValueId v, int begin,
                                int count);

// Dim `axis` of v's shape at run time, as an int32 scalar.
Result<ir::ValueId> RuntimeDim(LayerContext& ctx, ir::ValueId v, int axis);

// The body of a CountedLoop: on `body` (a context for the body subgraph),
// from the counter i, the count and the loop variables, the variables'
// next values.
using LoopBody = std::function<Result<std::vector<ir::ValueId>>(
    LayerContext& body, ir::ValueId i, ir::ValueId count,
    const std::vector<ir::ValueId>& vars)>;

// A WHILE loop for i in [0, count) (int32 scalars) carrying `vars`, whose
// cond and body subgraphs are named after `name`. Returns the variables'
// values after the loop.
Result<std::vector<ir::ValueId>> CountedLoop(
    LayerContext& ctx, const std::string& name, ir::ValueId count,
    const std::vector<ir::ValueId>& vars, const LoopBody& body);

}  // namespace k2l::keras
