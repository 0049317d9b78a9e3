#include "runtime/kernels/util.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace k2l::runtime::kernels {

Status CheckArity(const OpContext& ctx, int min_inputs, int max_inputs,
                  int outputs) {
  if (ctx.num_inputs() < min_inputs || ctx.num_inputs() > max_inputs) {
    std::string want =
        min_inputs == max_inputs
            ? std::to_string(min_inputs)
            : std::to_string(min_inputs) + " to " + std::to_string(max_inputs);
    return ctx.Error("has " + std::to_string(ctx.num_inputs()) +
                     " inputs but takes " + want + " (corrupt model?)");
  }
  if (outputs >= 0 && ctx.num_outputs() != outputs) {
    return ctx.Error("has " + std::to_string(ctx.num_outputs()) +
                     " outputs but produces " + std::to_string(outputs) +
                     " (corrupt model?)");
  }
  for (int i = 0; i < min_inputs; ++i) {
    if (!ctx.has_input(i)) {
      return ctx.Error("input " + std::to_string(i) +
                       " is omitted (-1) but required (corrupt model?)");
    }
  }
  return Status::Ok();
}

Status CheckType(const OpContext& ctx, const Tensor& t, const char* what,
                 std::initializer_list<TensorType> types) {
  for (TensorType ty : types)
    if (t.type == ty) return Status::Ok();
  std::string list;
  for (TensorType ty : types)
    list += std::string(list.empty() ? "" : ", ") + TypeName(ty);
  return ctx.Error(std::string(what) + " '" + t.name + "' has type " +
                   TypeName(t.type) + " but this kernel takes " + list);
}

Status CheckRank(const OpContext& ctx, const Tensor& t, const char* what,
                 int min_rank, int max_rank) {
  if (t.rank() >= min_rank && t.rank() <= max_rank) return Status::Ok();
  return ctx.Error(
      std::string(what) + " '" + t.name + "' has rank " +
      std::to_string(t.rank()) + " (shape " + ShapeString(t.shape) +
      ") but this kernel takes rank " + std::to_string(min_rank) +
      (max_rank != min_rank ? " to " + std::to_string(max_rank) : ""));
}

Result<Shape> BroadcastShapes(const OpContext& ctx, const Shape& a,
                              const Shape& b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int32_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int32_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      return ctx.Error("shapes " + ShapeString(a) + " and " + ShapeString(b) +
                       " do not broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int64_t> ReadInts(const Tensor& t) {
  int64_t n = t.num_elements();
  std::vector<int64_t> v(n);
  if (t.type == TensorType::INT64) {
    for (int64_t i = 0; i < n; ++i) v[i] = t.data<int64_t>()[i];
  } else {
    for (int64_t i = 0; i < n; ++i) v[i] = t.data<int32_t>()[i];
  }
  return v;
}

Result<int> NormalizeAxis(const OpContext& ctx, int64_t axis, int rank) {
  if (axis < -rank || axis >= std::max(rank, 1)) {
    return ctx.Error("axis " + std::to_string(axis) +
                     " is out of range for rank " + std::to_string(rank));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

Result<FloatRange> ActivationRange(const OpContext& ctx,
                                   fb::ActivationFunctionType act) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  switch (act) {
    case fb::ActivationFunctionType::NONE:
    case fb::ActivationFunctionType::TANH:
    case fb::ActivationFunctionType::SIGN_BIT:
      return FloatRange{-kInf, kInf};
    case fb::ActivationFunctionType::RELU:
      return FloatRange{0.f, kInf};
    case fb::ActivationFunctionType::RELU_N1_TO_1:
      return FloatRange{-1.f, 1.f};
    case fb::ActivationFunctionType::RELU6:
      return FloatRange{0.f, 6.f};
  }
  return ctx.Error("unknown fused activation " +
                   std::to_string(static_cast<int>(act)));
}

void ApplyActivation(fb::ActivationFunctionType act, float* x, int64_t n) {
  switch (act) {
    case fb::ActivationFunctionType::NONE:
      return;
    case fb::ActivationFunctionType::RELU:
      for (int64_t i = 0; i < n; ++i) x[i] = std::max(x[i], 0.f);
      return;
    case fb::ActivationFunctionType::RELU_N1_TO_1:
      for (int64_t i = 0; i < n; ++i) x[i] = std::clamp(x[i], -1.f, 1.f);
      return;
    case fb::ActivationFunctionType::RELU6:
      for (int64_t i = 0; i < n; ++i) x[i] = std::clamp(x[i], 0.f, 6.f);
      return;
    case fb::ActivationFunctionType::TANH:
      for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
      return;
    case fb::ActivationFunctionType::SIGN_BIT:
      for (int64_t i = 0; i < n; ++i) x[i] = std::signbit(x[i]) ? 1.f : 0.f;
      return;
  }
}

}  // namespace k2l::runtime::kernels
