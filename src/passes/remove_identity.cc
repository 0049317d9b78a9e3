// Removes ops that compute the identity: a RESHAPE to the same shape, a
// TRANSPOSE by the identity permutation, a CAST to the same dtype, a PAD by
// zeros, MUL by one or ADD/SUB of zero, and a one-input CONCATENATION.
#include "ir/infer/infer_util.h"
#include "passes/pass.h"

namespace k2l::passes {

namespace {

bool AllFloatEqual(const ir::Graph& g, ir::ValueId id, float want) {
  const ir::Value& v = g.value(id);
  if (!v.is_constant() || v.dtype != ir::DType::kFloat32) return false;
  for (float f : v.constant->as<float>()) {
    if (f != want) return false;
  }
  return true;
}

// Shapes that are equal and fix every dim but at most one.
bool SameShape(const ir::Shape& a, const ir::Shape& b) {
  if (a != b) return false;
  int dynamic = 0;
  for (int64_t d : a) dynamic += d == ir::kDynamic;
  return dynamic <= 1;
}

// The input that op `op` passes through unchanged, or kNoValue.
ir::ValueId PassThrough(const ir::Graph& g, const ir::Op& op) {
  ir::ValueId in = op.inputs.empty() ? ir::kNoValue : op.inputs[0];
  if (op.outputs.size() != 1 || in == ir::kNoValue) return ir::kNoValue;
  const ir::Value& out = g.value(op.outputs[0]);
  if (out.dtype != g.value(in).dtype) return ir::kNoValue;
  switch (op.kind) {
    case ir::OpKind::kReshape:
    case ir::OpKind::kCast:
      return SameShape(g.value(in).shape, out.shape) ? in : ir::kNoValue;
    case ir::OpKind::kTranspose: {
      auto perm = ir::infer::ConstInts(g, op.inputs[1]);
      if (!perm) return ir::kNoValue;
      for (size_t i = 0; i < perm->size(); ++i) {
        if ((*perm)[i] != static_cast<int64_t>(i)) return ir::kNoValue;
      }
      return in;
    }
    case ir::OpKind::kPad:
    case ir::OpKind::kPadV2: {
      auto pads = ir::infer::ConstInts(g, op.inputs[1]);
      if (!pads) return ir::kNoValue;
      for (int64_t p : *pads) {
        if (p != 0) return ir::kNoValue;
      }
      return in;
    }
    case ir::OpKind::kConcatenation:
      return op.inputs.size() == 1 ? in : ir::kNoValue;
    case ir::OpKind::kMul:
    case ir::OpKind::kAdd:
    case ir::OpKind::kSub: {
      if (std::get<ir::BinaryAttrs>(op.attrs).activation !=
          ir::Activation::kNone) {
        return ir::kNoValue;
      }
      float neutral = op.kind == ir::OpKind::kMul ? 1.0f : 0.0f;
      if (out.shape != g.value(in).shape) return ir::kNoValue;
      if (AllFloatEqual(g, op.inputs[1], neutral)) return in;
      return ir::kNoValue;
    }
    default:
      return ir::kNoValue;
  }
}

}  // namespace

Status RemoveIdentity(ir::Graph& g) {
  auto& ops = g.mutable_ops();
  std::vector<bool> dead(ops.size(), false);
  std::vector<bool> is_input(g.num_values(), false);
  for (const ir::Port& p : g.inputs()) is_input[p.value] = true;
  std::vector<bool> is_output(g.num_values(), false);
  for (const ir::Port& p : g.outputs()) is_output[p.value] = true;
  for (size_t i = 0; i < ops.size(); ++i) {
    ir::ValueId in = PassThrough(g, ops[i]);
    if (in == ir::kNoValue) continue;
    ir::ValueId out = ops[i].outputs[0];
    // A graph output must stay a tensor some op writes, distinct from the
    // inputs, or the signature would alias two names to one tensor.
    if (is_output[out] &&
        (is_input[in] || is_output[in] || g.value(in).is_constant())) {
      continue;
    }
    g.ReplaceAllUses(out, in);
    if (is_output[out]) is_output[in] = true;
    dead[i] = true;
  }
  EraseOps(g, dead);
  return Status::Ok();
}

}  // namespace k2l::passes
