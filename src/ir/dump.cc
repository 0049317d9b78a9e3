#include <sstream>

#include "ir/graph.h"

namespace k2l::ir {

namespace {
void DumpValue(std::ostringstream& os, const Graph& g, ValueId id) {
  if (id == kNoValue) {
    os << "-";
    return;
  }
  const Value& v = g.value(id);
  os << "%" << id << ":" << DTypeName(v.dtype) << ShapeToString(v.shape);
  if (v.is_constant()) os << "=const";
}
}  // namespace

namespace {
void DumpGraph(std::ostringstream& os, const Graph& g);
}  // namespace

std::string Dump(const Graph& g) {
  std::ostringstream os;
  DumpGraph(os, g);
  for (int i = 1; i <= g.num_subgraphs(); ++i) {
    os << "subgraph " << i << " '" << g.subgraph(i).name() << "':\n";
    DumpGraph(os, g.subgraph(i));
  }
  return os.str();
}

namespace {
void DumpGraph(std::ostringstream& os, const Graph& g) {
  for (const Port& p : g.inputs()) {
    os << "input " << p.name << " ";
    DumpValue(os, g, p.value);
    os << "\n";
  }
  for (const Op& op : g.ops()) {
    for (size_t i = 0; i < op.outputs.size(); ++i) {
      if (i) os << ", ";
      DumpValue(os, g, op.outputs[i]);
    }
    os << " = " << OpKindName(op.kind) << "(";
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      if (i) os << ", ";
      DumpValue(os, g, op.inputs[i]);
    }
    os << ")  # " << op.origin << "\n";
  }
  for (const Port& p : g.outputs()) {
    os << "output " << p.name << " ";
    DumpValue(os, g, p.value);
    os << "\n";
  }
}
}  // namespace

}  // namespace k2l::ir
