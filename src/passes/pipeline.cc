#include "passes/pipeline.h"

#include "passes/pass.h"

#include <iterator>

namespace k2l::passes {

namespace {
// Order matters: constants fold before dead code goes; BatchNorm folds
// before activations fuse, since a fused activation would sit between the
// producer and the BatchNorm's MUL/ADD.
constexpr Pass kPipeline[] = {
    {"infer_shapes", InferShapes},       {"fold_constants", FoldConstants},
    {"remove_identity", RemoveIdentity}, {"fold_batchnorm", FoldBatchNorm},
    {"fuse_activation", FuseActivation}, {"dedupe_constants", DedupeConstants},
    {"eliminate_dead", EliminateDead},
};
}  // namespace

namespace {
// Runs one pass on the main graph and on every subgraph, verifying each.
Status RunOnAll(const Pass& p, ir::Graph& g) {
  auto run = [&p](ir::Graph& sg) -> Status {
    Status s = p.run(sg);
    if (!s.ok()) return s.WithContext(std::string("pass ") + p.name);
    s = ir::Verify(sg);
    if (!s.ok()) {
      return s.WithContext(std::string("after pass ") + p.name +
                           ", subgraph '" + sg.name() + "' is invalid");
    }
    return Status::Ok();
  };
  for (int i = 1; i <= g.num_subgraphs(); ++i) {
    K2L_RETURN_IF_ERROR(run(g.subgraph(i)));
  }
  // The main graph last: its While ops check their subgraphs' ports.
  return run(g);
}
}  // namespace

int NumPasses() { return int(std::size(kPipeline)); }

Status RunPipeline(ir::Graph& g, const PipelineOptions& options) {
  for (int i = 1; i <= g.num_subgraphs(); ++i) {
    Status s = ir::Verify(g.subgraph(i));
    if (!s.ok()) {
      return s.WithContext("the lowered subgraph '" + g.subgraph(i).name() +
                           "' is invalid");
    }
  }
  {
    Status s = ir::Verify(g);
    if (!s.ok()) return s.WithContext("the lowered graph is invalid");
  }
  if (options.after_pass) options.after_pass("lower", g);
  for (const Pass& p : kPipeline) {
    K2L_RETURN_IF_ERROR(RunOnAll(p, g));
    if (options.after_pass) options.after_pass(p.name, g);
  }
  return Status::Ok();
}

void EraseOps(ir::Graph& g, const std::vector<bool>& dead) {
  auto& ops = g.mutable_ops();
  std::vector<ir::Op> kept;
  kept.reserve(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!dead[i]) kept.push_back(std::move(ops[i]));
  }
  ops = std::move(kept);
}

bool IsPerChannelConst(const ir::Graph& g, ir::ValueId id, int64_t channels) {
  const ir::Value& v = g.value(id);
  if (!v.is_constant() || v.dtype != ir::DType::kFloat32) return false;
  if (v.shape.empty()) return channels == 1;
  for (size_t i = 0; i + 1 < v.shape.size(); ++i) {
    if (v.shape[i] != 1) return false;
  }
  return v.shape.back() == channels;
}

}  // namespace k2l::passes
