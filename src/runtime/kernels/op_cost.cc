#include "runtime/kernels/op_cost.h"

#include <algorithm>

namespace k2l::runtime {

namespace {

// Product of dims [begin, end) of `s` (missing dims count as 1).
int64_t Prod(const Shape& s, int begin, int end) {
  int64_t n = 1;
  for (int i = std::max(begin, 0); i < end && i < static_cast<int>(s.size());
       ++i)
    n *= s[i];
  return n;
}

// Flops of the ops modelled (2 per multiply-add), or -1.
int64_t Flops(const Node& node, const Subgraph& sg) {
  auto in = [&](int i) -> const Tensor* {
    if (i >= static_cast<int>(node.inputs.size()) || node.inputs[i] < 0)
      return nullptr;
    return &sg.tensors()[node.inputs[i]];
  };
  if (node.outputs.empty()) return -1;
  const Tensor& out = sg.tensors()[node.outputs[0]];
  const int64_t out_n = out.num_elements();
  using Op = fb::BuiltinOperator;
  switch (node.kernel->code) {
    case Op::FULLY_CONNECTED: {
      const Tensor* w = in(1);
      if (w == nullptr || w->rank() != 2) return -1;
      return 2 * out_n * w->dim(1);
    }
    case Op::BATCH_MATMUL: {
      const Tensor* lhs = in(0);
      if (lhs == nullptr || lhs->rank() < 2) return -1;
      const auto* o = node.op->builtin_options_as<fb::BatchMatMulOptions>();
      const bool adj_x = o != nullptr && o->adj_x();
      return 2 * out_n * lhs->dim(lhs->rank() - (adj_x ? 2 : 1));
    }
    case Op::CONV_2D:
    case Op::CONV_3D: {
      // CONV_2D's filter is [O, H, W, I]; CONV_3D's [D, H, W, I, O].
      const Tensor* f = in(1);
      if (f == nullptr || f->rank() < 4) return -1;
      return 2 * out_n *
             (node.kernel->code == Op::CONV_2D
                  ? Prod(f->shape, 1, 4)
                  : Prod(f->shape, 0, f->rank() - 1));
    }
    case Op::DEPTHWISE_CONV_2D: {
      const Tensor* f = in(1);
      if (f == nullptr || f->rank() != 4) return -1;
      return 2 * out_n * f->dim(1) * f->dim(2);
    }
    case Op::TRANSPOSE_CONV:
    case Op::CONV_3D_TRANSPOSE: {
      // Every input value meets every tap of every output channel.
      const Tensor* f = in(1);
      const Tensor* x = in(2);
      if (f == nullptr || x == nullptr || f->rank() < 4) return -1;
      return 2 * x->num_elements() * Prod(f->shape, 0, f->rank() - 1);
    }
    case Op::AVERAGE_POOL_2D:
    case Op::MAX_POOL_2D:
    case Op::L2_POOL_2D: {
      const auto* o = node.op->builtin_options_as<fb::Pool2DOptions>();
      if (o == nullptr) return -1;
      // One add (or compare) per tap; L2 also squares each value.
      const int64_t taps =
          static_cast<int64_t>(o->filter_height()) * o->filter_width();
      return (node.kernel->code == Op::L2_POOL_2D ? 2 : 1) * out_n * taps;
    }
    default:
      return -1;
  }
}

}  // namespace

OpCost EstimateCost(const Node& node, const Subgraph& sg) {
  OpCost c;
  for (int i : node.inputs)
    if (i >= 0) c.bytes_read += sg.tensors()[i].bytes();
  int64_t out_elements = 0;
  for (int o : node.outputs) {
    c.bytes_written += sg.tensors()[o].bytes();
    out_elements += sg.tensors()[o].num_elements();
  }
  const int64_t flops = node.kernel != nullptr ? Flops(node, sg) : -1;
  c.flops = flops >= 0 ? flops : out_elements;
  return c;
}

}  // namespace k2l::runtime
