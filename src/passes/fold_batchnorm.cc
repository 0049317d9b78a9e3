// Folds a per-channel MUL and/or ADD by constants (what BatchNormalization
// and Rescaling-like layers lower to) into the weights and bias of the
// CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED that produces their input:
//   (x * W + b) * s + t  ==  x * (W * s) + (b * s + t)
#include <vector>

#include "passes/pass.h"

namespace k2l::passes {

namespace {

struct Producer {
  size_t op;
  int weights_input;  // index of the filter/weights input
  int channel_axis;   // axis of the weights that indexes output channels
  int bias_input;
};

bool IsFoldable(const ir::Graph& g, const ir::Op& op, Producer* p,
                size_t index) {
  ir::Activation act;
  int axis;
  switch (op.kind) {
    case ir::OpKind::kConv2D:
      act = std::get<ir::Conv2DAttrs>(op.attrs).activation;
      axis = 0;
      break;
    case ir::OpKind::kFullyConnected:
      act = std::get<ir::FullyConnectedAttrs>(op.attrs).activation;
      axis = 0;
      break;
    case ir::OpKind::kDepthwiseConv2D:
      act = std::get<ir::DepthwiseConv2DAttrs>(op.attrs).activation;
      axis = 3;
      break;
    default:
      return false;
  }
  if (act != ir::Activation::kNone) return false;
  if (!g.value(op.inputs[1]).is_constant()) return false;
  if (g.value(op.inputs[1]).dtype != ir::DType::kFloat32) return false;
  if (op.inputs.size() > 2 && op.inputs[2] != ir::kNoValue &&
      !g.value(op.inputs[2]).is_constant()) {
    return false;
  }
  *p = Producer{index, 1, axis, 2};
  return true;
}

std::vector<float> PerChannel(const ir::Graph& g, ir::ValueId id,
                              int64_t channels) {
  auto data = g.value(id).constant->as<float>();
  if (data.size() == 1) return std::vector<float>(channels, data[0]);
  return std::vector<float>(data.begin(), data.end());
}

}  // namespace

Status FoldBatchNorm(ir::Graph& g) {
  bool changed = true;
  while (changed) {
    changed = false;
    auto uses = g.UseCounts();
    auto producer = g.ProducerIndex();
    std::vector<bool> is_output(g.num_values(), false);
    for (const ir::Port& p : g.outputs()) is_output[p.value] = true;
    auto& ops = g.mutable_ops();
    for (size_t i = 0; i < ops.size(); ++i) {
      ir::Op& affine = ops[i];
      bool is_mul = affine.kind == ir::OpKind::kMul;
      bool is_add = affine.kind == ir::OpKind::kAdd;
      if (!is_mul && !is_add) continue;
      if (std::get<ir::BinaryAttrs>(affine.attrs).activation !=
          ir::Activation::kNone) {
        continue;
      }
      ir::ValueId x = affine.inputs[0], c = affine.inputs[1];
      if (g.value(x).is_constant()) std::swap(x, c);
      int pi = producer[x];
      if (pi < 0 || uses[x] != 1 || is_output[x]) continue;
      Producer p;
      if (!IsFoldable(g, ops[pi], &p, static_cast<size_t>(pi))) continue;
      const ir::Value& w = g.value(ops[pi].inputs[p.weights_input]);
      int64_t channels = w.shape[p.channel_axis];
      if (!IsPerChannelConst(g, c, channels)) continue;
      if (g.value(affine.outputs[0]).shape != g.value(x).shape) continue;

      std::vector<float> k = PerChannel(g, c, channels);
      std::vector<float> bias(channels, 0.0f);
      ir::Op& prod = ops[pi];
      if (prod.inputs.size() > 2 && prod.inputs[2] != ir::kNoValue) {
        auto b = g.value(prod.inputs[2]).constant->as<float>();
        bias.assign(b.begin(), b.end());
      }
      if (is_mul) {
        // One copy of the weights, scaled in place: the channel axis splits
        // them into [outer, channels, inner] blocks.
        auto src = w.constant->bytes();
        auto buf = std::make_shared<std::vector<uint8_t>>(src.begin(), src.end());
        float* nw = reinterpret_cast<float*>(buf->data());
        int64_t inner = 1;
        for (size_t d = p.channel_axis + 1; d < w.shape.size(); ++d) {
          inner *= w.shape[d];
        }
        int64_t outer = static_cast<int64_t>(buf->size() / sizeof(float)) /
                        (inner * channels);
        for (int64_t o = 0; o < outer; ++o) {
          for (int64_t ch = 0; ch < channels; ++ch) {
            float* block = nw + (o * channels + ch) * inner;
            for (int64_t i = 0; i < inner; ++i) block[i] *= k[ch];
          }
        }
        for (int64_t ch = 0; ch < channels; ++ch) bias[ch] *= k[ch];
        ir::Shape ws = w.shape;
        std::string wname = w.name;
        prod.inputs[p.weights_input] = g.AddConstant(
            ir::TensorData(ir::DType::kFloat32, ws, std::move(buf)), wname);
      } else {
        for (int64_t ch = 0; ch < channels; ++ch) bias[ch] += k[ch];
      }
      ir::ValueId nb = g.AddConstant(
          ir::TensorData::FromVector(ir::DType::kFloat32, {channels}, bias),
          g.FreshName(prod.origin + "/bias"));
      if (prod.inputs.size() < 3) prod.inputs.resize(3, ir::kNoValue);
      prod.inputs[2] = nb;
      // The producer now yields the affine op's result directly.
      prod.outputs[0] = affine.outputs[0];
      std::vector<bool> dead(ops.size(), false);
      dead[i] = true;
      EraseOps(g, dead);
      changed = true;
      break;
    }
  }
  return Status::Ok();
}

}  // namespace k2l::passes
