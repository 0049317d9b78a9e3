// A pass rewrites the graph in place. Each lives in its own file, named with
// a verb; pipeline.cc lists them in order. A pass's name appears in errors
// and in --dump-ir output.
#pragma once

#include "core/status.h"
#include "ir/graph.h"

namespace k2l::passes {

struct Pass {
  const char* name;
  Status (*run)(ir::Graph& g);
};

Status InferShapes(ir::Graph& g);
Status FoldBatchNorm(ir::Graph& g);
Status FuseActivation(ir::Graph& g);
Status RemoveIdentity(ir::Graph& g);
Status FoldConstants(ir::Graph& g);
Status DedupeConstants(ir::Graph& g);
Status EliminateDead(ir::Graph& g);

// Removes the ops flagged in `dead` (same indexing as g.ops()).
void EraseOps(ir::Graph& g, const std::vector<bool>& dead);

// True when `id` is a constant of shape [C] or [1, ..., 1, C], i.e. one
// value per channel of the last axis (or a scalar when C == 1).
bool IsPerChannelConst(const ir::Graph& g, ir::ValueId id, int64_t channels);

}  // namespace k2l::passes
