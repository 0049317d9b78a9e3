// A rough cost model of one operator for `inspect`: arithmetic (2 per
// multiply-add) and the bytes its inputs and outputs hold.
#pragma once

#include <cstdint>

#include "runtime/interpreter.h"

namespace k2l::runtime {

struct OpCost {
  int64_t flops = 0;
  int64_t bytes_read = 0;
  int64_t bytes_written = 0;
};

// Needs the subgraph's tensors sized (after AllocateTensors). The matmul and
// convolution families and the pools are modelled; any other op counts one
// flop per output element. bytes_read counts every present input
// (constants included), bytes_written every output.
OpCost EstimateCost(const Node& node, const Subgraph& sg);

}  // namespace k2l::runtime
