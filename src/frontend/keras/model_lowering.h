// Lowering of a Keras model config (Sequential or Functional, nested at any
// depth) into an ir::Graph, one layer call at a time.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "frontend/keras/model_source.h"
#include "frontend/keras/registry.h"
#include "ir/graph.h"

namespace k2l::keras {

// Keras' `to_snake_case`, which names weight groups in `.weights.h5` files.
std::string ToSnakeCase(const std::string& class_name);
// The name Keras' saving gives the k-th layer of `class_name` in a list or
// dict attribute: its snake-cased name, then _1, _2, ... (e.g. conv2d_1).
std::string ContainerItemName(const std::string& class_name, size_t k);

// A user's override of one top-level input, as Keras' `input_signature`
// gives it. It may fix a dimension the model leaves dynamic (the batch
// included) or make the batch dynamic; it may not change a dimension the
// model fixes, the rank, or the dtype (no casts are inserted).
struct InputOverride {
  std::string name;                // signature name; empty means by position
  std::string dtype;               // Keras dtype name; empty keeps the model's
  std::optional<ir::Shape> shape;  // ir::kDynamic for None
};

struct LoweringOptions {
  // Empty: the model's own inputs. Otherwise either every entry is named or
  // none is, and positional entries must cover every input.
  std::vector<InputOverride> inputs;
  // Called after each layer call with (calls done, layers in the config).
  // A shared layer is called more than once, so `done` is clamped.
  std::function<void(int done, int total)> on_layer;
};

// Builds the graph of `source`. Before lowering anything, the whole model is
// checked: every unsupported layer is reported in one error, and executable
// layers (Lambda) are refused.
Result<ir::Graph> LowerKerasModel(const ModelSource& source,
                                  const Registry& registry,
                                  const LoweringOptions& options = {});

}  // namespace k2l::keras
