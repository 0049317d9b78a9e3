// Lowering of a Keras model config (Sequential or Functional, nested at any
// depth) into an ir::Graph, one layer call at a time.
#pragma once

#include <string>

#include "core/status.h"
#include "frontend/keras/model_source.h"
#include "frontend/keras/registry.h"
#include "ir/graph.h"

namespace k2l::keras {

// Keras' `to_snake_case`, which names weight groups in `.weights.h5` files.
std::string ToSnakeCase(const std::string& class_name);

// Builds the graph of `source`. Before lowering anything, the whole model is
// checked: every unsupported layer is reported in one error, and executable
// layers (Lambda) are refused.
Result<ir::Graph> LowerKerasModel(const ModelSource& source,
                                  const Registry& registry);

}  // namespace k2l::keras
