#include <string>
#include <vector>

#include "ir/graph.h"

namespace k2l::ir {

namespace {
std::string OpDesc(const Op& op, size_t index) {
  return "op #" + std::to_string(index) + " " +
         std::string(OpKindName(op.kind)) + " (from '" + op.origin + "')";
}
}  // namespace

Status Verify(const Graph& g) {
  std::vector<bool> defined(g.num_values(), false);
  for (ValueId id = 0; id < static_cast<ValueId>(g.num_values()); ++id) {
    if (g.value(id).is_constant()) defined[id] = true;
  }
  for (const Port& p : g.inputs()) defined[p.value] = true;

  for (size_t i = 0; i < g.ops().size(); ++i) {
    const Op& op = g.ops()[i];
    for (ValueId in : op.inputs) {
      if (in == kNoValue) continue;
      if (in < 0 || static_cast<size_t>(in) >= g.num_values() || !defined[in]) {
        return Status::Internal(OpDesc(op, i) + " reads value " +
                                std::to_string(in) + " before it is produced");
      }
    }
    auto inferred = InferOutputs(g, op.kind, op.inputs, op.attrs);
    if (!inferred.ok()) {
      return inferred.status().WithContext(OpDesc(op, i));
    }
    if (inferred->size() != op.outputs.size()) {
      return Status::Internal(
          OpDesc(op, i) + " has " + std::to_string(op.outputs.size()) +
          " outputs, inference says " + std::to_string(inferred->size()));
    }
    for (size_t k = 0; k < op.outputs.size(); ++k) {
      ValueId out = op.outputs[k];
      if (defined[out]) {
        return Status::Internal(OpDesc(op, i) + " redefines value '" +
                                g.value(out).name + "'");
      }
      defined[out] = true;
      if ((*inferred)[k].shape != g.value(out).shape) {
        return Status::Internal(
            OpDesc(op, i) + " output '" + g.value(out).name + "' has shape " +
            ShapeToString(g.value(out).shape) + " but inference gives " +
            ShapeToString((*inferred)[k].shape));
      }
    }
  }
  for (const Port& p : g.outputs()) {
    if (!defined[p.value]) {
      return Status::Internal("graph output '" + p.name +
                              "' is never produced");
    }
  }
  return Status::Ok();
}

}  // namespace k2l::ir
