// Evaluates ops whose inputs are all constants and replaces their outputs
// with constants: shape-only ops (RESHAPE, EXPAND_DIMS, SQUEEZE), TRANSPOSE,
// and float32 elementwise math. Other ops are left for the runtime.
#include <cmath>
#include <cstring>
#include <optional>

#include "ir/infer/infer_util.h"
#include "passes/pass.h"

namespace k2l::passes {

namespace {

bool IsStatic(const ir::Shape& s) {
  for (int64_t d : s) {
    if (d < 0) return false;
  }
  return true;
}

std::vector<int64_t> Strides(const ir::Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
  return st;
}

// Index into a broadcast operand of shape `in` for the flat output index.
int64_t BroadcastIndex(int64_t flat, const ir::Shape& out,
                       const std::vector<int64_t>& out_strides,
                       const ir::Shape& in) {
  int64_t idx = 0, stride = 1;
  size_t offset = out.size() - in.size();
  std::vector<int64_t> coords(out.size());
  for (size_t d = 0; d < out.size(); ++d) {
    coords[d] = flat / out_strides[d];
    flat %= out_strides[d];
  }
  for (size_t d = in.size(); d-- > 0;) {
    int64_t c = in[d] == 1 ? 0 : coords[d + offset];
    idx += c * stride;
    stride *= in[d];
  }
  return idx;
}

std::optional<float> ApplyBinary(ir::OpKind k, float a, float b) {
  switch (k) {
    case ir::OpKind::kAdd:
      return a + b;
    case ir::OpKind::kSub:
      return a - b;
    case ir::OpKind::kMul:
      return a * b;
    case ir::OpKind::kDiv:
      return a / b;
    case ir::OpKind::kMaximum:
      return std::max(a, b);
    case ir::OpKind::kMinimum:
      return std::min(a, b);
    case ir::OpKind::kSquaredDifference:
      return (a - b) * (a - b);
    case ir::OpKind::kPow:
      return std::pow(a, b);
    default:
      return std::nullopt;
  }
}

std::optional<float> ApplyUnary(ir::OpKind k, float x) {
  switch (k) {
    case ir::OpKind::kNeg:
      return -x;
    case ir::OpKind::kAbs:
      return std::fabs(x);
    case ir::OpKind::kSqrt:
      return std::sqrt(x);
    case ir::OpKind::kRsqrt:
      return 1.0f / std::sqrt(x);
    case ir::OpKind::kExp:
      return std::exp(x);
    case ir::OpKind::kLog:
      return std::log(x);
    case ir::OpKind::kSquare:
      return x * x;
    case ir::OpKind::kRelu:
      return std::max(x, 0.0f);
    case ir::OpKind::kRelu6:
      return std::min(std::max(x, 0.0f), 6.0f);
    default:
      return std::nullopt;
  }
}

// Returns the folded output, or nullopt when the op is not foldable here.
std::optional<ir::TensorData> Evaluate(const ir::Graph& g, const ir::Op& op) {
  if (op.outputs.size() != 1) return std::nullopt;
  const ir::Value& out = g.value(op.outputs[0]);
  if (!IsStatic(out.shape)) return std::nullopt;
  const ir::TensorData& x = *g.value(op.inputs[0]).constant;
  switch (op.kind) {
    case ir::OpKind::kReshape:
    case ir::OpKind::kExpandDims:
    case ir::OpKind::kSqueeze: {
      auto bytes = x.bytes();
      auto buf =
          std::make_shared<std::vector<uint8_t>>(bytes.begin(), bytes.end());
      return ir::TensorData(x.dtype(), out.shape, buf);
    }
    case ir::OpKind::kTranspose: {
      auto perm = ir::infer::ConstInts(g, op.inputs[1]);
      if (!perm) return std::nullopt;
      size_t es = ir::ElementSize(x.dtype());
      auto src = x.bytes();
      auto buf = std::make_shared<std::vector<uint8_t>>(src.size());
      auto in_st = Strides(x.shape());
      auto out_st = Strides(out.shape);
      int64_t n = x.num_elements();
      for (int64_t flat = 0; flat < n; ++flat) {
        int64_t rem = flat, src_idx = 0;
        for (size_t d = 0; d < out.shape.size(); ++d) {
          int64_t c = rem / out_st[d];
          rem %= out_st[d];
          src_idx += c * in_st[(*perm)[d]];
        }
        std::memcpy(buf->data() + flat * es, src.data() + src_idx * es, es);
      }
      return ir::TensorData(x.dtype(), out.shape, buf);
    }
    default:
      break;
  }
  if (out.dtype != ir::DType::kFloat32) return std::nullopt;
  for (ir::ValueId in : op.inputs) {
    if (g.value(in).dtype != ir::DType::kFloat32) return std::nullopt;
  }
  int64_t n = 1;
  for (int64_t d : out.shape) n *= d;
  std::vector<float> result(n);
  if (op.inputs.size() == 1) {
    auto xs = x.as<float>();
    for (int64_t i = 0; i < n; ++i) {
      auto v = ApplyUnary(op.kind, xs[i]);
      if (!v) return std::nullopt;
      result[i] = *v;
    }
  } else if (op.inputs.size() == 2) {
    const ir::TensorData& y = *g.value(op.inputs[1]).constant;
    auto xs = x.as<float>();
    auto ys = y.as<float>();
    auto st = Strides(out.shape);
    for (int64_t i = 0; i < n; ++i) {
      float a = xs[BroadcastIndex(i, out.shape, st, x.shape())];
      float b = ys[BroadcastIndex(i, out.shape, st, y.shape())];
      auto v = ApplyBinary(op.kind, a, b);
      if (!v) return std::nullopt;
      result[i] = *v;
    }
    if (op.kind == ir::OpKind::kAdd || op.kind == ir::OpKind::kSub ||
        op.kind == ir::OpKind::kMul || op.kind == ir::OpKind::kDiv) {
      ir::Activation act = std::get<ir::BinaryAttrs>(op.attrs).activation;
      if (act != ir::Activation::kNone) return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  return ir::TensorData::FromVector(ir::DType::kFloat32, out.shape, result);
}

}  // namespace

Status FoldConstants(ir::Graph& g) {
  std::vector<bool> is_output(g.num_values(), false);
  for (const ir::Port& p : g.outputs()) is_output[p.value] = true;
  auto& ops = g.mutable_ops();
  std::vector<bool> dead(ops.size(), false);
  for (size_t i = 0; i < ops.size(); ++i) {
    const ir::Op& op = ops[i];
    bool all_const = !op.inputs.empty();
    for (ir::ValueId in : op.inputs) {
      all_const &= in != ir::kNoValue && g.value(in).is_constant();
    }
    // A graph output stays computed: LiteRT outputs cannot be constants.
    if (!all_const || is_output[op.outputs[0]]) continue;
    auto folded = Evaluate(g, op);
    if (!folded) continue;
    g.mutable_value(op.outputs[0]).constant = std::move(*folded);
    dead[i] = true;
  }
  EraseOps(g, dead);
  return Status::Ok();
}

}  // namespace k2l::passes
