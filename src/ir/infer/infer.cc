// Dispatch of shape inference to the op families, plus the shared helpers.
#include <algorithm>

#include "ir/infer/infer_util.h"

namespace k2l::ir {

namespace infer {

Result<Shape> Broadcast(const Shape& a, const Shape& b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else if (db == 1) {
      out[i] = da;
    } else if (da == kDynamic) {
      out[i] = db;
    } else if (db == kDynamic) {
      out[i] = da;
    } else {
      return Status::Invalid("shapes " + ShapeToString(a) + " and " +
                             ShapeToString(b) + " cannot be broadcast");
    }
  }
  return out;
}

std::optional<std::vector<int64_t>> ConstInts(const Graph& g, ValueId id) {
  if (id == kNoValue) return std::nullopt;
  const Value& v = g.value(id);
  if (!v.is_constant()) return std::nullopt;
  std::vector<int64_t> out;
  if (v.dtype == DType::kInt32) {
    for (int32_t x : v.constant->as<int32_t>()) out.push_back(x);
  } else if (v.dtype == DType::kInt64) {
    for (int64_t x : v.constant->as<int64_t>()) out.push_back(x);
  } else {
    return std::nullopt;
  }
  return out;
}

Status ExpectInputs(const std::vector<ValueId>& inputs, size_t min_count,
                    size_t max_count) {
  if (inputs.size() < min_count || inputs.size() > max_count) {
    return Status::Internal("expects " + std::to_string(min_count) + ".." +
                            std::to_string(max_count) + " inputs, got " +
                            std::to_string(inputs.size()));
  }
  for (size_t i = 0; i < min_count; ++i) {
    if (inputs[i] == kNoValue) {
      return Status::Internal("required input " + std::to_string(i) +
                              " is missing");
    }
  }
  return Status::Ok();
}

Status ExpectRank(const Graph& g, ValueId id, size_t rank, const char* what) {
  const Shape& s = g.value(id).shape;
  if (s.size() != rank) {
    return Status::Invalid(std::string(what) + " must have rank " +
                           std::to_string(rank) + ", got shape " +
                           ShapeToString(s));
  }
  return Status::Ok();
}

Result<int> NormalizeAxis(int64_t axis, size_t rank) {
  int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) {
    return Status::Invalid("axis " + std::to_string(axis) +
                           " is out of range for rank " + std::to_string(r));
  }
  return static_cast<int>(axis < 0 ? axis + r : axis);
}

Result<int64_t> WindowOutput(int64_t in, int64_t kernel, int stride,
                             int dilation, Padding padding) {
  if (stride < 1 || dilation < 1) {
    return Status::Invalid("strides and dilations must be >= 1");
  }
  if (in == kDynamic) return kDynamic;
  if (padding == Padding::kSame) return (in + stride - 1) / stride;
  int64_t effective = (kernel - 1) * dilation + 1;
  if (in < effective) {
    return Status::Invalid("a window of " + std::to_string(effective) +
                           " does not fit in an extent of " +
                           std::to_string(in) + " with 'valid' padding");
  }
  return (in - effective) / stride + 1;
}

int64_t ProductOrDynamic(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) {
    if (s[i] == kDynamic) return kDynamic;
    p *= s[i];
  }
  return p;
}

}  // namespace infer

Result<std::vector<OutputType>> InferOutputs(const Graph& g, OpKind kind,
                                             const std::vector<ValueId>& inputs,
                                             const Attrs& attrs) {
  switch (kind) {
    case OpKind::kFullyConnected:
    case OpKind::kConv2D:
    case OpKind::kDepthwiseConv2D:
    case OpKind::kTransposeConv:
    case OpKind::kConv3D:
    case OpKind::kConv3DTranspose:
    case OpKind::kAveragePool2D:
    case OpKind::kMaxPool2D:
    case OpKind::kBatchMatMul:
      return infer::InferNn(g, kind, inputs, attrs);
    case OpKind::kMean:
    case OpKind::kSum:
    case OpKind::kReduceMax:
    case OpKind::kReduceAny:
    case OpKind::kReduceMin:
    case OpKind::kReshape:
    case OpKind::kTranspose:
    case OpKind::kConcatenation:
    case OpKind::kPad:
    case OpKind::kPadV2:
    case OpKind::kSlice:
    case OpKind::kStridedSlice:
    case OpKind::kGather:
    case OpKind::kTile:
    case OpKind::kExpandDims:
    case OpKind::kSqueeze:
    case OpKind::kSplit:
    case OpKind::kShape:
    case OpKind::kResizeNearestNeighbor:
    case OpKind::kResizeBilinear:
      return infer::InferShapeOps(g, kind, inputs, attrs);
    case OpKind::kFill:
    case OpKind::kRange:
    case OpKind::kDynamicUpdateSlice:
    case OpKind::kBroadcastTo:
    case OpKind::kWhile:
    case OpKind::kNonMaxSuppressionV5:
      return infer::InferControlFlow(g, kind, inputs, attrs);
    default:
      return infer::InferElementwise(g, kind, inputs, attrs);
  }
}

}  // namespace k2l::ir
