// Serializes an ir::Graph as a LiteRT flatbuffer (`.tflite`).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "core/status.h"
#include "ir/graph.h"

namespace k2l::litert {

struct WriteStats {
  size_t file_bytes = 0;
  size_t constant_bytes = 0;
  size_t num_buffers = 0;
  size_t num_tensors = 0;
  std::map<std::string, int> op_counts;  // builtin name -> count
};

// Builds the flatbuffer in memory. Opcodes and identical constant buffers
// are deduplicated, buffers[0] is the empty sentinel, constant data is
// 16-byte aligned, and one `serving_default` signature maps the graph's
// port names to tensors.
Result<std::vector<uint8_t>> Serialize(const ir::Graph& g, WriteStats* stats);

// Serializes `g` and writes it to `path` atomically, straight from the
// builder's buffer (no second copy of the model in memory).
Status SerializeToFile(const ir::Graph& g, const std::string& path,
                       WriteStats* stats);

}  // namespace k2l::litert
