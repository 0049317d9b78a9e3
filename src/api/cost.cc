#include "api/cost.h"

#include <cstdio>
#include <map>
#include <sstream>

#include "runtime/kernels/op_cost.h"
#include "runtime/litert_model.h"

namespace k2l {

namespace {

std::string Count(int64_t n) {
  char buf[32];
  if (n >= 1000000000) {
    std::snprintf(buf, sizeof buf, "%.2fG", n / 1e9);
  } else if (n >= 1000000) {
    std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  } else if (n >= 1000) {
    std::snprintf(buf, sizeof buf, "%.1fK", n / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  }
  return buf;
}

}  // namespace

Result<std::string> DescribeCosts(const std::vector<uint8_t>& bytes,
                                  const std::string& name) {
  K2L_ASSIGN_OR_RETURN(auto model, runtime::LiteRTModel::Load(bytes));
  std::ostringstream os;
  runtime::Subgraph& sg = model.interpreter().subgraph(0);
  os << "\ncost of subgraph 0 (FLOPs count 2 per multiply-add; bytes are "
        "what each op reads and writes; dynamic dimensions at 1):\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-5s %-28s %-22s %10s %10s %10s\n", "#",
                "op", "output", "FLOPs", "read", "written");
  os << line;
  runtime::OpCost total;
  std::map<std::string, int64_t> by_op;
  for (const runtime::Node& node : sg.nodes()) {
    runtime::OpCost c = runtime::EstimateCost(node, sg);
    std::string op = runtime::BuiltinName(node.kernel->code);
    std::string out =
        node.outputs.empty() || node.outputs[0] < 0
            ? "-"
            : runtime::ShapeString(sg.tensors()[node.outputs[0]].shape);
    bool deferred = node.deferred;
    std::snprintf(line, sizeof line, "  %-5d %-28s %-22s %10s %10s %10s%s\n",
                  node.index, op.c_str(), out.c_str(), Count(c.flops).c_str(),
                  Count(c.bytes_read).c_str(), Count(c.bytes_written).c_str(),
                  deferred ? "  (shape known at run time)" : "");
    os << line;
    total.flops += c.flops;
    total.bytes_read += c.bytes_read;
    total.bytes_written += c.bytes_written;
    by_op[op] += c.flops;
  }
  os << "  total: " << Count(total.flops) << " FLOPs, "
     << Count(total.bytes_read) << "B read, " << Count(total.bytes_written)
     << "B written\n";
  os << "  FLOPs by op:";
  for (const auto& [op, flops] : by_op) os << " " << op << " " << Count(flops);
  os << "\n";
  return os.str();
}

}  // namespace k2l
