// Shape inference for elementwise ops: binary ops broadcast, unary ops keep
// their input's type, comparisons produce bool.
#include "ir/infer/infer_util.h"

namespace k2l::ir::infer {

Result<std::vector<OutputType>> InferElementwise(const Graph& g, OpKind kind,
                                                 const std::vector<ValueId>& in,
                                                 const Attrs& attrs) {
  switch (kind) {
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kDiv:
    case OpKind::kMaximum:
    case OpKind::kMinimum:
    case OpKind::kPow:
    case OpKind::kSquaredDifference:
    case OpKind::kGreater:
    case OpKind::kGreaterEqual:
    case OpKind::kLess:
    case OpKind::kNotEqual:
    case OpKind::kLogicalAnd: {
      K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
      const Value& a = g.value(in[0]);
      const Value& b = g.value(in[1]);
      if (a.dtype != b.dtype) {
        return Status::Invalid(
            "operand dtypes differ: " + std::string(DTypeName(a.dtype)) +
            " and " + std::string(DTypeName(b.dtype)));
      }
      K2L_ASSIGN_OR_RETURN(Shape s, Broadcast(a.shape, b.shape));
      bool compare = kind == OpKind::kGreater ||
                     kind == OpKind::kGreaterEqual || kind == OpKind::kLess ||
                     kind == OpKind::kNotEqual;
      if (kind == OpKind::kLogicalAnd && a.dtype != DType::kBool) {
        return Status::Invalid("logical ops take bool operands");
      }
      return std::vector<OutputType>{
          {compare ? DType::kBool : a.dtype, std::move(s)}};
    }
    case OpKind::kSelectV2: {
      K2L_RETURN_IF_ERROR(ExpectInputs(in, 3, 3));
      if (g.value(in[0]).dtype != DType::kBool) {
        return Status::Invalid("the condition must be bool");
      }
      const Value& x = g.value(in[1]);
      const Value& y = g.value(in[2]);
      if (x.dtype != y.dtype) {
        return Status::Invalid("the two branches have different dtypes");
      }
      K2L_ASSIGN_OR_RETURN(Shape s, Broadcast(g.value(in[0]).shape, x.shape));
      K2L_ASSIGN_OR_RETURN(s, Broadcast(s, y.shape));
      return std::vector<OutputType>{{x.dtype, std::move(s)}};
    }
    case OpKind::kPrelu: {
      K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
      const Value& x = g.value(in[0]);
      K2L_ASSIGN_OR_RETURN(Shape s, Broadcast(x.shape, g.value(in[1]).shape));
      if (s.size() != x.shape.size()) {
        return Status::Invalid("alpha has a higher rank than the input");
      }
      return std::vector<OutputType>{{x.dtype, x.shape}};
    }
    case OpKind::kSoftmax:
    case OpKind::kLogSoftmax:
      K2L_RETURN_IF_ERROR(ExpectInputs(in, 1, 1));
      if (g.value(in[0]).shape.empty()) {
        return Status::Invalid("softmax needs at least rank 1");
      }
      return std::vector<OutputType>{
          {g.value(in[0]).dtype, g.value(in[0]).shape}};
    default:
      // Unary elementwise ops (activations, math, Cast).
      K2L_RETURN_IF_ERROR(ExpectInputs(in, 1, 1));
      return std::vector<OutputType>{
          {g.value(in[0]).dtype, g.value(in[0]).shape}};
  }
}

}  // namespace k2l::ir::infer
