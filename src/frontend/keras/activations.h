// Lowering of Keras activation functions (the `activation=` argument of
// Dense, Conv*, Activation layers, ...) to builtin ops.
#pragma once

#include <nlohmann/json.hpp>

#include "frontend/keras/layer_context.h"

namespace k2l::keras {

// Applies the activation named by `spec` (a string such as "relu", or a
// serialized function object) to `x`. Null and "linear" return `x`.
Result<ir::ValueId> ApplyActivation(LayerContext& ctx, ir::ValueId x,
                                    const nlohmann::json& spec);

// Applies the layer's `activation` config field if present.
Result<ir::ValueId> ApplyConfigActivation(LayerContext& ctx, ir::ValueId x);

// Keras' relu(x, negative_slope, max_value, threshold), as the ReLU layer
// and the relu activation share it. `max_value` < 0 means none.
Result<ir::ValueId> LowerRelu(LayerContext& ctx, ir::ValueId x,
                              double negative_slope, double max_value,
                              double threshold);

// Softmax over `axis` (any axis: non-last axes are transposed to the end).
Result<ir::ValueId> LowerSoftmax(LayerContext& ctx, ir::ValueId x, int axis,
                                 bool log);

// Keras' elu with any alpha.
Result<ir::ValueId> LowerElu(LayerContext& ctx, ir::ValueId x, double alpha);

}  // namespace k2l::keras
