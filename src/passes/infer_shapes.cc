// Re-runs shape inference over the graph in order, so that rewrites upstream
// propagate to every value downstream.
#include "passes/pass.h"

namespace k2l::passes {

Status InferShapes(ir::Graph& g) {
  for (const ir::Op& op : g.ops()) {
    auto inferred = ir::InferOutputs(g, op.kind, op.inputs, op.attrs);
    if (!inferred.ok()) {
      return inferred.status().WithContext(
          std::string(ir::OpKindName(op.kind)) + " from '" + op.origin + "'");
    }
    for (size_t k = 0; k < op.outputs.size(); ++k) {
      g.mutable_value(op.outputs[k]).shape = (*inferred)[k].shape;
    }
  }
  return Status::Ok();
}

}  // namespace k2l::passes
