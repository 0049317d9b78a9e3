// Removes ops none of whose outputs reach a graph output, and drops the data
// of constants that no remaining op reads.
#include "passes/pass.h"

namespace k2l::passes {

Status EliminateDead(ir::Graph& g) {
  std::vector<bool> live(g.num_values(), false);
  for (const ir::Port& p : g.outputs()) live[p.value] = true;
  const auto& ops = g.ops();
  std::vector<bool> dead(ops.size(), true);
  for (size_t i = ops.size(); i-- > 0;) {
    bool needed = false;
    for (ir::ValueId out : ops[i].outputs) needed |= live[out];
    if (!needed) continue;
    dead[i] = false;
    for (ir::ValueId in : ops[i].inputs) {
      if (in != ir::kNoValue) live[in] = true;
    }
  }
  EraseOps(g, dead);
  // Release the data of constants nothing reads any more (weights replaced
  // by folding), so peak memory does not hold both versions.
  for (ir::ValueId id = 0; id < static_cast<ir::ValueId>(g.num_values()); ++id) {
    if (!live[id] && g.value(id).is_constant()) g.mutable_value(id).constant.reset();
  }
  return Status::Ok();
}

}  // namespace k2l::passes
