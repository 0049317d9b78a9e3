// Folds RELU, RELU6 and RELU_N1_TO_1 into the producer's
// fused_activation_function when the producer supports it and nothing else
// reads the pre-activation value.
#include "passes/pass.h"

namespace k2l::passes {

namespace {

ir::Activation* FusedActivationSlot(ir::Op& op) {
  switch (op.kind) {
    case ir::OpKind::kFullyConnected:
      return &std::get<ir::FullyConnectedAttrs>(op.attrs).activation;
    case ir::OpKind::kConv2D:
      return &std::get<ir::Conv2DAttrs>(op.attrs).activation;
    case ir::OpKind::kDepthwiseConv2D:
      return &std::get<ir::DepthwiseConv2DAttrs>(op.attrs).activation;
    case ir::OpKind::kAveragePool2D:
    case ir::OpKind::kMaxPool2D:
      return &std::get<ir::Pool2DAttrs>(op.attrs).activation;
    case ir::OpKind::kAdd:
    case ir::OpKind::kSub:
    case ir::OpKind::kMul:
    case ir::OpKind::kDiv:
      return &std::get<ir::BinaryAttrs>(op.attrs).activation;
    case ir::OpKind::kConcatenation:
      return &std::get<ir::ConcatAttrs>(op.attrs).activation;
    default:
      return nullptr;
  }
}

}  // namespace

Status FuseActivation(ir::Graph& g) {
  auto uses = g.UseCounts();
  auto producer = g.ProducerIndex();
  std::vector<bool> is_output(g.num_values(), false);
  for (const ir::Port& p : g.outputs()) is_output[p.value] = true;
  auto& ops = g.mutable_ops();
  std::vector<bool> dead(ops.size(), false);
  for (size_t i = 0; i < ops.size(); ++i) {
    ir::Activation act;
    switch (ops[i].kind) {
      case ir::OpKind::kRelu:
        act = ir::Activation::kRelu;
        break;
      case ir::OpKind::kRelu6:
        act = ir::Activation::kRelu6;
        break;
      case ir::OpKind::kReluN1To1:
        act = ir::Activation::kReluN1To1;
        break;
      default:
        continue;
    }
    ir::ValueId in = ops[i].inputs[0];
    int p = producer[in];
    if (p < 0 || dead[p] || uses[in] != 1 || is_output[in]) continue;
    if (ops[p].outputs.size() != 1) continue;
    ir::Activation* slot = FusedActivationSlot(ops[p]);
    if (slot == nullptr || *slot != ir::Activation::kNone) continue;
    if (g.value(in).dtype != ir::DType::kFloat32) continue;
    *slot = act;
    ir::ValueId out = ops[i].outputs[0];
    ops[p].outputs[0] = out;
    producer[out] = p;
    dead[i] = true;
  }
  EraseOps(g, dead);
  return Status::Ok();
}

}  // namespace k2l::passes
