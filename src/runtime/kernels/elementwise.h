// What the element-wise kernel files (activations, unary, binary,
// comparison, softmax, reduce, quantize) share: their registration, and the
// Prepare of broadcasting binary ops.
#pragma once

#include <initializer_list>
#include <string>

#include "runtime/kernels/util.h"
#include "runtime/reference/binary.h"
#include "runtime/reference/quantize.h"

namespace k2l::runtime::kernels {

// One per file; RegisterElementwiseKernels (register.h) calls them all.
Status RegisterActivationKernels(OpResolver& r);
Status RegisterUnaryKernels(OpResolver& r);
Status RegisterBinaryKernels(OpResolver& r);
Status RegisterComparisonKernels(OpResolver& r);
Status RegisterSoftmaxKernels(OpResolver& r);
Status RegisterReduceKernels(OpResolver& r);
Status RegisterQuantizeKernels(OpResolver& r);

// Quantized (int8/uint8) ADD, SUB and MUL: Prepare after BinaryPrepare,
// with the op's fused activation; Eval runs LiteRT's integer arithmetic.
enum class QuantizedBinaryOp { kAdd, kSub, kMul };
Status QuantizedBinaryPrepare(OpContext& ctx, QuantizedBinaryOp op,
                              fb::ActivationFunctionType act);
Status QuantizedBinaryEval(OpContext& ctx, QuantizedBinaryOp op);

// Below this many output elements a binary op runs on one thread.
constexpr int64_t kBinaryChunk = 1 << 14;

struct BinaryData : OpData {
  reference::Broadcast<2> plan;
  // Quantized ADD/SUB and MUL (binary_quantized.cc).
  reference::QuantizedAddParams add{};
  reference::QuantizedMulParams mul{};
  // Quantized comparisons (comparison.cc).
  reference::CompareRescale cmp_a{}, cmp_b{};
};

// Checks two inputs of one type among `types`, broadcasts their shapes,
// plans the broadcast into BinaryData and sizes output 0, whose type must be
// the inputs' (or bool for comparisons).
inline Status BinaryPrepare(OpContext& ctx,
                            std::initializer_list<TensorType> types,
                            bool output_bool = false) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckType(ctx, a, "input", types));
  if (b.type != a.type) {
    return ctx.Error("inputs '" + a.name + "' (" + TypeName(a.type) +
                     ") and '" + b.name + "' (" + TypeName(b.type) +
                     ") differ in type; this op takes one type for both");
  }
  TensorType want = output_bool ? TensorType::BOOL : a.type;
  if (ctx.output(0).type != want) {
    return ctx.Error(std::string("output '") + ctx.output(0).name +
                     "' has type " + TypeName(ctx.output(0).type) +
                     " but should be " + TypeName(want) + " (corrupt model?)");
  }
  K2L_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(ctx, a.shape, b.shape));
  ctx.data<BinaryData>().plan =
      reference::MakeBroadcast<2>({&a.shape, &b.shape}, out);
  return ctx.ResizeOutput(0, out);
}

// The scale and zero point of a per-tensor quantized tensor.
struct TensorQuant {
  float scale;
  int32_t zero_point;
};
inline Result<TensorQuant> PerTensorQuant(const OpContext& ctx, const Tensor& t,
                                          const char* what) {
  if (t.quant.scale.empty()) {
    return ctx.Error(std::string(what) + " '" + t.name + "' of type " +
                     TypeName(t.type) +
                     " has no quantization parameters, which this op needs");
  }
  if (t.quant.scale.size() != 1) {
    return ctx.Error(std::string(what) + " '" + t.name +
                     "' is quantized per "
                     "channel; this op takes one scale and zero point");
  }
  return TensorQuant{t.quant.scale[0],
                     t.quant.zero_point.empty()
                         ? 0
                         : static_cast<int32_t>(t.quant.zero_point[0])};
}

// Fails when a tensor of an 8/16-bit integer type carries quantization
// parameters, which this kernel does not implement for that op.
inline Status RejectQuantized(const OpContext& ctx, const Tensor& t,
                              const char* what) {
  bool small_int = t.type == TensorType::INT8 || t.type == TensorType::UINT8 ||
                   t.type == TensorType::INT16;
  if (small_int && !t.quant.empty()) {
    return ctx.Error(std::string(what) + " '" + t.name + "' is quantized " +
                     TypeName(t.type) +
                     ", which this runtime does not implement for this op");
  }
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
