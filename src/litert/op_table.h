// The one table mapping IR ops to LiteRT builtins: the builtin code, the op
// version, and the writer of its options. The file writer is a lookup in it.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <utility>

#include "core/status.h"
#include "ir/graph.h"
#include "litert/schema_generated.h"

namespace k2l::litert {

namespace fb = k2l::litert::fb;

struct WrittenOptions {
  fb::BuiltinOptions type = fb::BuiltinOptions::NONE;
  flatbuffers::Offset<void> offset;
};

struct OpTableEntry {
  ir::OpKind kind;
  fb::BuiltinOperator code;
  // The runtime version that introduced this op at `version` (for the
  // model's min_runtime_version metadata).
  const char* min_runtime;
  int (*version)(const ir::Graph& g, const ir::Op& op);
  WrittenOptions (*write_options)(flatbuffers::FlatBufferBuilder& fbb,
                                  const ir::Graph& g, const ir::Op& op);
};

const OpTableEntry& LookupOp(ir::OpKind kind);

fb::TensorType ToTensorType(ir::DType t);

}  // namespace k2l::litert
