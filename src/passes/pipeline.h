// The pass pipeline: every pass in order, with the verifier after each.
#pragma once

#include <functional>
#include <string>

#include "core/status.h"
#include "ir/graph.h"

namespace k2l::passes {

struct PipelineOptions {
  // Called after each pass with its name and the graph (for --dump-ir).
  std::function<void(const std::string& pass, const ir::Graph& g)> after_pass;
};

Status RunPipeline(ir::Graph& g, const PipelineOptions& options);

// How many passes RunPipeline runs (for progress reports).
int NumPasses();

}  // namespace k2l::passes
