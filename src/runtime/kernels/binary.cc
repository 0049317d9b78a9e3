// Element-wise binary arithmetic with numpy broadcasting: ADD, SUB, MUL, DIV
// (with their fused activations), MAXIMUM, MINIMUM, POW,
// SQUARED_DIFFERENCE, FLOOR_DIV and FLOOR_MOD, on float and integer types.
// Quantized int8/uint8 ADD, SUB and MUL are in binary_quantized.cc.
#include "runtime/reference/binary.h"

#include <limits>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

using TT = TensorType;
namespace ref = reference;

struct AddOp {
  template <typename T>
  T operator()(T a, T b) const {
    return ref::WrapAdd(a, b);
  }
};
struct SubOp {
  template <typename T>
  T operator()(T a, T b) const {
    return ref::WrapSub(a, b);
  }
};
struct MulOp {
  template <typename T>
  T operator()(T a, T b) const {
    return ref::WrapMul(a, b);
  }
};
struct DivOp {
  template <typename T>
  T operator()(T a, T b) const {
    return ref::TruncDiv(a, b);
  }
};
struct MaxOp {
  template <typename T>
  T operator()(T a, T b) const {
    return a > b ? a : b;
  }
};
struct MinOp {
  template <typename T>
  T operator()(T a, T b) const {
    return a < b ? a : b;
  }
};
struct PowOp {
  template <typename T>
  T operator()(T a, T b) const {
    return ref::Pow(a, b);
  }
};
struct SquaredDifferenceOp {
  template <typename T>
  T operator()(T a, T b) const {
    return ref::SquaredDifference(a, b);
  }
};
struct FloorDivOp {
  template <typename T>
  T operator()(T a, T b) const {
    return ref::FloorDiv(a, b);
  }
};
struct FloorModOp {
  template <typename T>
  T operator()(T a, T b) const {
    return ref::FloorMod(a, b);
  }
};

// Runs op over the planned broadcast, clamped to the fused activation's
// range (LiteRT applies only RELU, RELU6 and RELU_N1_TO_1 here; TANH and
// SIGN_BIT are ignored, as its CalculateActivationRange does).
template <typename T, typename Op>
Status Run(OpContext& ctx, const Op& op, fb::ActivationFunctionType act) {
  const auto& data = ctx.data<BinaryData>();
  const T* a = ctx.input(0).data<T>();
  const T* b = ctx.input(1).data<T>();
  T* out = ctx.output(0).mutable_data<T>();
  auto run = [&](const auto& f) {
    ctx.ParallelFor(data.plan.size, kBinaryChunk, [&](int64_t s, int64_t e) {
      ref::BroadcastBinary(data.plan, a, b, out, s, e, f);
    });
  };
  T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
  switch (act) {
    case fb::ActivationFunctionType::RELU:
      lo = 0;
      break;
    case fb::ActivationFunctionType::RELU6:
      lo = 0;
      hi = 6;
      break;
    case fb::ActivationFunctionType::RELU_N1_TO_1:
      // Unsigned types clamp at 0 from below, as -1 does not exist.
      lo = std::is_signed_v<T> ? static_cast<T>(-1) : 0;
      hi = 1;
      break;
    default:
      run(op);
      return Status::Ok();
  }
  run(ref::Clamped<T, Op>{op, lo, hi});
  return Status::Ok();
}

template <typename Op>
Status Dispatch(
    OpContext& ctx, const Op& op,
    fb::ActivationFunctionType act = fb::ActivationFunctionType::NONE) {
  switch (ctx.input(0).type) {
    case TT::FLOAT32:
      return Run<float>(ctx, op, act);
    case TT::INT8:
      return Run<int8_t>(ctx, op, act);
    case TT::UINT8:
      return Run<uint8_t>(ctx, op, act);
    case TT::INT16:
      return Run<int16_t>(ctx, op, act);
    case TT::INT32:
      return Run<int32_t>(ctx, op, act);
    case TT::UINT32:
      return Run<uint32_t>(ctx, op, act);
    case TT::INT64:
      return Run<int64_t>(ctx, op, act);
    default:
      return ctx.Error(std::string("internal: no kernel for type ") +
                       TypeName(ctx.input(0).type));
  }
}

// Integer division by zero is an error at run time, as in LiteRT (FLOOR_DIV
// checks float divisors too).
Status CheckNoZeroDivisor(OpContext& ctx, bool check_float) {
  const Tensor& d = ctx.input(1);
  bool zero = false;
  int64_t n = d.num_elements();
  switch (d.type) {
    case TT::FLOAT32:
      if (!check_float) return Status::Ok();
      for (int64_t i = 0; i < n && !zero; ++i) zero = d.data<float>()[i] == 0;
      break;
    case TT::INT8:
      for (int64_t i = 0; i < n && !zero; ++i) zero = d.data<int8_t>()[i] == 0;
      break;
    case TT::INT16:
      for (int64_t i = 0; i < n && !zero; ++i) zero = d.data<int16_t>()[i] == 0;
      break;
    case TT::INT32:
      for (int64_t i = 0; i < n && !zero; ++i) zero = d.data<int32_t>()[i] == 0;
      break;
    case TT::INT64:
      for (int64_t i = 0; i < n && !zero; ++i) zero = d.data<int64_t>()[i] == 0;
      break;
    default:
      break;
  }
  if (zero) {
    return ctx.Error("divisor '" + d.name +
                     "' holds a zero; integer division by zero is undefined");
  }
  return Status::Ok();
}

// The fused activation of ADD, SUB, MUL and DIV (NONE without options).
template <typename Options>
fb::ActivationFunctionType Activation(const OpContext& ctx) {
  const Options* o = ctx.options<Options>();
  return o ? o->fused_activation_function() : fb::ActivationFunctionType::NONE;
}

// int8 and uint8 inputs of ADD, SUB and MUL are quantized values.
bool Quantized8(const OpContext& ctx) {
  TensorType t = ctx.input(0).type;
  return t == TT::INT8 || t == TT::UINT8;
}

Status AddEval(OpContext& ctx) {
  if (Quantized8(ctx)) return QuantizedBinaryEval(ctx, QuantizedBinaryOp::kAdd);
  return Dispatch(ctx, AddOp{}, Activation<fb::AddOptions>(ctx));
}
Status SubEval(OpContext& ctx) {
  if (Quantized8(ctx)) return QuantizedBinaryEval(ctx, QuantizedBinaryOp::kSub);
  return Dispatch(ctx, SubOp{}, Activation<fb::SubOptions>(ctx));
}
Status MulEval(OpContext& ctx) {
  if (Quantized8(ctx)) return QuantizedBinaryEval(ctx, QuantizedBinaryOp::kMul);
  return Dispatch(ctx, MulOp{}, Activation<fb::MulOptions>(ctx));
}
Status MaximumEval(OpContext& ctx) { return Dispatch(ctx, MaxOp{}); }
Status MinimumEval(OpContext& ctx) { return Dispatch(ctx, MinOp{}); }
Status SquaredDifferenceEval(OpContext& ctx) {
  return Dispatch(ctx, SquaredDifferenceOp{});
}
Status DivEval(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckNoZeroDivisor(ctx, false));
  return Dispatch(ctx, DivOp{}, Activation<fb::DivOptions>(ctx));
}
Status FloorDivEval(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckNoZeroDivisor(ctx, true));
  return Dispatch(ctx, FloorDivOp{});
}
Status FloorModEval(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckNoZeroDivisor(ctx, false));
  return Dispatch(ctx, FloorModOp{});
}
Status PowEval(OpContext& ctx) {
  const Tensor& e = ctx.input(1);
  if (e.type == TT::INT32) {
    for (int64_t i = 0; i < e.num_elements(); ++i) {
      if (e.data<int32_t>()[i] < 0) {
        return ctx.Error("exponent '" + e.name +
                         "' holds a negative value, which int32 POW does not "
                         "support (cast to float32 first)");
      }
    }
  }
  return Dispatch(ctx, PowOp{});
}

// MAXIMUM, MINIMUM, FLOOR_DIV and FLOOR_MOD work on the stored integers
// even when they are quantized, as LiteRT's do.
template <TT... kTypes>
Status Prepare(OpContext& ctx) {
  return BinaryPrepare(ctx, {kTypes...});
}

// Arithmetic on quantized values needs rescaling, which only the quantized
// ADD, SUB and MUL kernels do.
template <TT... kTypes>
Status ArithmeticPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(BinaryPrepare(ctx, {kTypes...}));
  return RejectQuantized(ctx, ctx.input(0), "input");
}

// Fused activations LiteRT's kernels cannot apply are refused up front.
template <typename Options>
Status CheckActivation(OpContext& ctx) {
  return ActivationRange(ctx, Activation<Options>(ctx)).status();
}
template <typename Options>
Status QuantizedPrepare(OpContext& ctx, QuantizedBinaryOp op) {
  K2L_RETURN_IF_ERROR(BinaryPrepare(ctx, {TT::INT8, TT::UINT8}));
  return QuantizedBinaryPrepare(ctx, op, Activation<Options>(ctx));
}
Status AddPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckActivation<fb::AddOptions>(ctx));
  if (ctx.num_inputs() > 0 && Quantized8(ctx))
    return QuantizedPrepare<fb::AddOptions>(ctx, QuantizedBinaryOp::kAdd);
  return ArithmeticPrepare<TT::FLOAT32, TT::INT32, TT::INT64>(ctx);
}
Status SubPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckActivation<fb::SubOptions>(ctx));
  if (ctx.num_inputs() > 0 && Quantized8(ctx))
    return QuantizedPrepare<fb::SubOptions>(ctx, QuantizedBinaryOp::kSub);
  return ArithmeticPrepare<TT::FLOAT32, TT::INT32, TT::INT64>(ctx);
}
Status MulPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckActivation<fb::MulOptions>(ctx));
  if (ctx.num_inputs() > 0 && Quantized8(ctx))
    return QuantizedPrepare<fb::MulOptions>(ctx, QuantizedBinaryOp::kMul);
  return ArithmeticPrepare<TT::FLOAT32, TT::INT16, TT::INT32, TT::UINT32,
                           TT::INT64>(ctx);
}
Status DivPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckActivation<fb::DivOptions>(ctx));
  return ArithmeticPrepare<TT::FLOAT32, TT::INT32>(ctx);
}

}  // namespace

Status RegisterBinaryKernels(OpResolver& r) {
  using Op = fb::BuiltinOperator;
  struct Entry {
    Op code;
    int max_version;
    Status (*prepare)(OpContext&);
    Status (*eval)(OpContext&);
  };
  const Entry kEntries[] = {
      {Op::ADD, 6, AddPrepare, AddEval},
      {Op::SUB, 5, SubPrepare, SubEval},
      {Op::MUL, 8, MulPrepare, MulEval},
      {Op::DIV, 2, DivPrepare, DivEval},
      {Op::MAXIMUM, 4,
       Prepare<TT::FLOAT32, TT::INT8, TT::UINT8, TT::INT16, TT::INT32,
               TT::INT64>,
       MaximumEval},
      {Op::MINIMUM, 4,
       Prepare<TT::FLOAT32, TT::INT8, TT::UINT8, TT::INT16, TT::INT32,
               TT::INT64>,
       MinimumEval},
      {Op::POW, 1, ArithmeticPrepare<TT::FLOAT32, TT::INT32>, PowEval},
      {Op::SQUARED_DIFFERENCE, 2, ArithmeticPrepare<TT::FLOAT32, TT::INT32>,
       SquaredDifferenceEval},
      {Op::FLOOR_DIV, 3, Prepare<TT::FLOAT32, TT::INT8, TT::INT16, TT::INT32>,
       FloorDivEval},
      {Op::FLOOR_MOD, 2,
       Prepare<TT::FLOAT32, TT::INT8, TT::INT16, TT::INT32, TT::INT64>,
       FloorModEval},
  };
  for (const Entry& e : kEntries)
    K2L_RETURN_IF_ERROR(r.Add({e.code, 1, e.max_version, e.prepare, e.eval}));
  return Status::Ok();
}

Status RegisterElementwiseKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(RegisterActivationKernels(r));
  K2L_RETURN_IF_ERROR(RegisterUnaryKernels(r));
  K2L_RETURN_IF_ERROR(RegisterBinaryKernels(r));
  K2L_RETURN_IF_ERROR(RegisterComparisonKernels(r));
  K2L_RETURN_IF_ERROR(RegisterSoftmaxKernels(r));
  K2L_RETURN_IF_ERROR(RegisterReduceKernels(r));
  K2L_RETURN_IF_ERROR(RegisterQuantizeKernels(r));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
