// Makes uses of identical constants (same dtype, shape and bytes) share one
// value, so the file stores one tensor for them.
#include <cstring>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "passes/pass.h"

namespace k2l::passes {

Status DedupeConstants(ir::Graph& g) {
  std::unordered_multimap<size_t, ir::ValueId> seen;
  std::vector<ir::ValueId> canonical(g.num_values());
  for (ir::ValueId id = 0; id < static_cast<ir::ValueId>(g.num_values());
       ++id) {
    canonical[id] = id;
    const ir::Value& v = g.value(id);
    if (!v.is_constant()) continue;
    auto bytes = v.constant->bytes();
    size_t h = ir::SampledHash(bytes);
    auto range = seen.equal_range(h);
    for (auto it = range.first; it != range.second; ++it) {
      const ir::Value& other = g.value(it->second);
      auto ob = other.constant->bytes();
      if (other.dtype == v.dtype && other.shape == v.shape &&
          ob.size() == bytes.size() &&
          std::memcmp(ob.data(), bytes.data(), bytes.size()) == 0) {
        canonical[id] = it->second;
        break;
      }
    }
    if (canonical[id] == id) seen.emplace(h, id);
  }
  for (ir::Op& op : g.mutable_ops()) {
    for (ir::ValueId& in : op.inputs) {
      if (in != ir::kNoValue) in = canonical[in];
    }
  }
  return Status::Ok();
}

}  // namespace k2l::passes
