// RNN, UNIDIRECTIONAL_SEQUENCE_RNN and BIDIRECTIONAL_SEQUENCE_RNN, float32:
// h = act(W x + R h + b) per step. The hidden states are variable tensors
// that carry over between invocations, as in LiteRT.
#include <string>

#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"
#include "runtime/reference/rnn.h"

namespace k2l::runtime::kernels {

namespace {

using reference::RnnActivation;

// Inputs of one cell: weights, recurrent weights, bias, hidden state.
struct RnnLayout {
  int weights, recurrent, bias, hidden;
};
constexpr RnnLayout kCell = {1, 2, 3, 4};
constexpr RnnLayout kFwCell = {1, 2, 3, 4};
constexpr RnnLayout kBwCell = {5, 6, 7, 8};
constexpr int kAuxInput = 9, kFwAuxWeights = 10, kBwAuxWeights = 11;

Status ExpectFloat(const OpContext& ctx, int i, const std::string& what) {
  const Tensor& t = ctx.input(i);
  if (t.type == TensorType::FLOAT32) return Status::Ok();
  return ctx.Error(what + " (input " + std::to_string(i) + ", '" + t.name +
                   "') has type " + TypeName(t.type) +
                   "; only float32 RNNs are supported (hybrid RNNs with int8 "
                   "weights are not yet)");
}

Status ExpectShape(const OpContext& ctx, int i, const std::string& what,
                   const Shape& want) {
  K2L_RETURN_IF_ERROR(ExpectFloat(ctx, i, what));
  if (ctx.input(i).shape == want) return Status::Ok();
  return ctx.Error(what + " (input " + std::to_string(i) + ", '" +
                   ctx.input(i).name + "') has shape " +
                   ShapeString(ctx.input(i).shape) + " but " +
                   ShapeString(want) + " is expected");
}

// Checks one cell against an input of `input_size` features and `batch`
// rows; returns its number of units.
Result<int> CheckCell(const OpContext& ctx, const RnnLayout& l,
                      const std::string& p, int input_size, int batch) {
  for (int i : {l.weights, l.recurrent, l.bias, l.hidden}) {
    if (!ctx.has_input(i))
      return ctx.Error("input " + std::to_string(i) + " is missing");
  }
  K2L_RETURN_IF_ERROR(ExpectFloat(ctx, l.weights, p + "weights"));
  const Tensor& w = ctx.input(l.weights);
  if (w.rank() != 2) {
    return ctx.Error(p + "weights '" + w.name + "' has shape " +
                     ShapeString(w.shape) + "; [units, input] is expected");
  }
  const int units = w.dim(0);
  K2L_RETURN_IF_ERROR(
      ExpectShape(ctx, l.weights, p + "weights", {units, input_size}));
  K2L_RETURN_IF_ERROR(
      ExpectShape(ctx, l.recurrent, p + "recurrent_weights", {units, units}));
  K2L_RETURN_IF_ERROR(ExpectShape(ctx, l.bias, p + "bias", {units}));
  K2L_RETURN_IF_ERROR(
      ExpectShape(ctx, l.hidden, p + "hidden_state", {batch, units}));
  if (!ctx.input(l.hidden).is_variable) {
    return ctx.Error(p + "hidden_state '" + ctx.input(l.hidden).name +
                     "' is not a variable tensor; the RNN keeps its state in "
                     "a variable tensor (mark it is_variable)");
  }
  return units;
}

Result<RnnActivation> Activation(const OpContext& ctx,
                                 fb::ActivationFunctionType act) {
  int a = static_cast<int>(act);
  if (a < 0 || a > static_cast<int>(fb::ActivationFunctionType::SIGN_BIT))
    return ctx.Error("unknown fused activation " + std::to_string(a));
  return static_cast<RnnActivation>(a);
}

// The op has `inputs` inputs, the first `required` of them present.
Status CheckInputs(OpContext& ctx, int required, int inputs, int outputs,
                   int rank) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, required, inputs, outputs));
  if (ctx.num_inputs() != inputs) {
    return ctx.Error("has " + std::to_string(ctx.num_inputs()) +
                     " inputs but takes " + std::to_string(inputs) +
                     " (corrupt model?)");
  }
  K2L_RETURN_IF_ERROR(ExpectFloat(ctx, 0, "input"));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, ctx.input(0), "input", rank, rank));
  for (int o = 0; o < outputs; ++o) {
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, ctx.output(o), "output", {TensorType::FLOAT32}));
  }
  return Status::Ok();
}

const float* In(const OpContext& ctx, int i) {
  return ctx.input(i).data<float>();
}
float* State(OpContext& ctx, int i) {
  return ctx.mutable_input(i).mutable_data<float>();
}

// RNN: one step over [batch, input].
Status RnnPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckInputs(ctx, 5, 5, 1, 2));
  const Shape& in = ctx.input(0).shape;
  K2L_ASSIGN_OR_RETURN(int units, CheckCell(ctx, kCell, "", in[1], in[0]));
  return ctx.ResizeOutput(0, {in[0], units});
}

Status RnnEval(OpContext& ctx) {
  const auto* o = ctx.options<fb::RNNOptions>();
  K2L_ASSIGN_OR_RETURN(RnnActivation act,
                       Activation(ctx, o ? o->fused_activation_function()
                                         : fb::ActivationFunctionType::NONE));
  const Shape& in = ctx.input(0).shape;
  const int units = ctx.output(0).shape[1];
  reference::RnnStep(In(ctx, 0), In(ctx, 1), nullptr, nullptr, In(ctx, 2),
                     In(ctx, 3), in[1], 0, units, in[0], units, act,
                     State(ctx, 4), ctx.output(0).mutable_data<float>());
  return Status::Ok();
}

// Runs one direction over a [time, batch, ...] or [batch, time, ...] input;
// output rows are `stride` floats and start `offset` in.
struct Pass {
  const float *x, *w, *aux, *w_aux, *r, *bias;
  int input_size, aux_size, units;
  float* h;
  float* out;
  int stride, offset;
};

void RunPass(const Pass& p, int time, int batch, bool time_major, bool forward,
             RnnActivation act) {
  for (int s = 0; s < time; ++s) {
    const int t = forward ? s : time - 1 - s;
    if (time_major) {
      const int64_t row = int64_t{t} * batch;
      reference::RnnStep(p.x + row * p.input_size, p.w,
                         p.aux ? p.aux + row * p.aux_size : nullptr, p.w_aux,
                         p.r, p.bias, p.input_size, p.aux_size, p.units, batch,
                         p.stride, act, p.h, p.out + row * p.stride + p.offset);
      continue;
    }
    for (int b = 0; b < batch; ++b) {
      const int64_t row = int64_t{b} * time + t;
      reference::RnnStep(p.x + row * p.input_size, p.w,
                         p.aux ? p.aux + row * p.aux_size : nullptr, p.w_aux,
                         p.r, p.bias, p.input_size, p.aux_size, p.units, 1,
                         p.stride, act, p.h + int64_t{b} * p.units,
                         p.out + row * p.stride + p.offset);
    }
  }
}

void SequenceParams(const OpContext& ctx, bool* time_major,
                    fb::ActivationFunctionType* act) {
  const auto* o = ctx.options<fb::SequenceRNNOptions>();
  *time_major = o && o->time_major();
  *act = o ? o->fused_activation_function() : fb::ActivationFunctionType::NONE;
}

Status SequencePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckInputs(ctx, 5, 5, 1, 3));
  bool time_major;
  fb::ActivationFunctionType act;
  SequenceParams(ctx, &time_major, &act);
  K2L_RETURN_IF_ERROR(Activation(ctx, act).status());
  const Shape& in = ctx.input(0).shape;
  K2L_ASSIGN_OR_RETURN(
      int units, CheckCell(ctx, kCell, "", in[2], in[time_major ? 1 : 0]));
  return ctx.ResizeOutput(0, {in[0], in[1], units});
}

Status SequenceEval(OpContext& ctx) {
  bool time_major;
  fb::ActivationFunctionType a;
  SequenceParams(ctx, &time_major, &a);
  K2L_ASSIGN_OR_RETURN(RnnActivation act, Activation(ctx, a));
  const Shape& in = ctx.input(0).shape;
  const int units = ctx.output(0).shape[2];
  Pass p{In(ctx, 0),
         In(ctx, 1),
         nullptr,
         nullptr,
         In(ctx, 2),
         In(ctx, 3),
         in[2],
         0,
         units,
         State(ctx, 4),
         ctx.output(0).mutable_data<float>(),
         units,
         0};
  RunPass(p, in[time_major ? 0 : 1], in[time_major ? 1 : 0], time_major, true,
          act);
  return Status::Ok();
}

struct BidiParams {
  bool time_major = false, merge = false;
  fb::ActivationFunctionType act = fb::ActivationFunctionType::NONE;
};

BidiParams ReadBidi(const OpContext& ctx) {
  BidiParams p;
  if (const auto* o = ctx.options<fb::BidirectionalSequenceRNNOptions>())
    p = {o->time_major(), o->merge_outputs(), o->fused_activation_function()};
  return p;
}

Status BidiPrepare(OpContext& ctx) {
  const BidiParams p = ReadBidi(ctx);
  K2L_RETURN_IF_ERROR(CheckInputs(ctx, 9, 12, p.merge ? 1 : 2, 3));
  K2L_RETURN_IF_ERROR(Activation(ctx, p.act).status());
  const Shape& in = ctx.input(0).shape;
  const int batch = in[p.time_major ? 1 : 0];
  const bool aux_weights = ctx.has_input(kFwAuxWeights);
  if (ctx.has_input(kBwAuxWeights) != aux_weights) {
    return ctx.Error(
        "fw_aux_weights and bw_aux_weights must both be present "
        "or both be absent");
  }
  int aux_size = 0;
  if (ctx.has_input(kAuxInput)) {
    const Tensor& aux = ctx.input(kAuxInput);
    K2L_RETURN_IF_ERROR(ExpectFloat(ctx, kAuxInput, "aux_input"));
    bool fits = aux.rank() == 3 && aux.dim(0) == in[0] && aux.dim(1) == in[1];
    // LiteRT steps through a time-major aux input with the input's width
    // and feeds an aux input without weights to the backward cell.
    if (!aux_weights || p.time_major) fits = fits && aux.shape == in;
    if (!fits) {
      return ctx.Error("aux_input '" + aux.name + "' has shape " +
                       ShapeString(aux.shape) + " but the input has " +
                       ShapeString(in) +
                       "; they must match (in all dims but the last only "
                       "when batch-major with aux weights)");
    }
    if (aux_weights) aux_size = aux.dim(2);
  } else if (aux_weights) {
    return ctx.Error("aux weights are given without an aux_input");
  }
  K2L_ASSIGN_OR_RETURN(int fw_units,
                       CheckCell(ctx, kFwCell, "fw_", in[2], batch));
  K2L_ASSIGN_OR_RETURN(int bw_units,
                       CheckCell(ctx, kBwCell, "bw_", in[2], batch));
  if (aux_weights) {
    K2L_RETURN_IF_ERROR(ExpectShape(ctx, kFwAuxWeights, "fw_aux_weights",
                                    {fw_units, aux_size}));
    K2L_RETURN_IF_ERROR(ExpectShape(ctx, kBwAuxWeights, "bw_aux_weights",
                                    {bw_units, aux_size}));
  }
  if (p.merge) return ctx.ResizeOutput(0, {in[0], in[1], fw_units + bw_units});
  K2L_RETURN_IF_ERROR(ctx.ResizeOutput(0, {in[0], in[1], fw_units}));
  return ctx.ResizeOutput(1, {in[0], in[1], bw_units});
}

// Batch-major, LiteRT's backward cell reads the input even when an aux input
// without weights is given (time-major it reads the aux input); we do the
// same.
Status BidiEval(OpContext& ctx) {
  const BidiParams p = ReadBidi(ctx);
  K2L_ASSIGN_OR_RETURN(RnnActivation act, Activation(ctx, p.act));
  const Shape& in = ctx.input(0).shape;
  const int time = in[p.time_major ? 0 : 1];
  const int batch = in[p.time_major ? 1 : 0];
  const bool aux_weights = ctx.has_input(kFwAuxWeights);
  const float* aux = ctx.has_input(kAuxInput) ? In(ctx, kAuxInput) : nullptr;
  const int aux_size = aux_weights ? ctx.input(kAuxInput).dim(2) : 0;
  const float* bw_x = !aux_weights && aux && p.time_major ? aux : In(ctx, 0);
  const int fw_units = ctx.input(kFwCell.bias).dim(0);
  const int bw_units = ctx.input(kBwCell.bias).dim(0);
  Tensor& fw_out = ctx.output(0);
  Tensor& bw_out = p.merge ? fw_out : ctx.output(1);
  const int fw_stride = fw_out.shape[2], bw_stride = bw_out.shape[2];
  Pass fw{In(ctx, 0),
          In(ctx, kFwCell.weights),
          aux_weights ? aux : nullptr,
          aux_weights ? In(ctx, kFwAuxWeights) : nullptr,
          In(ctx, kFwCell.recurrent),
          In(ctx, kFwCell.bias),
          in[2],
          aux_size,
          fw_units,
          State(ctx, kFwCell.hidden),
          fw_out.mutable_data<float>(),
          fw_stride,
          0};
  Pass bw{bw_x,
          In(ctx, kBwCell.weights),
          aux_weights ? aux : nullptr,
          aux_weights ? In(ctx, kBwAuxWeights) : nullptr,
          In(ctx, kBwCell.recurrent),
          In(ctx, kBwCell.bias),
          in[2],
          aux_size,
          bw_units,
          State(ctx, kBwCell.hidden),
          bw_out.mutable_data<float>(),
          bw_stride,
          p.merge ? fw_units : 0};
  if (p.time_major) {
    RunPass(fw, time, batch, true, true, act);
    RunPass(bw, time, batch, true, false, act);
    return Status::Ok();
  }
  // Batch-major, LiteRT runs both directions for one batch row before the
  // next; the rows are independent, so the order does not change results.
  RunPass(fw, time, batch, false, true, act);
  RunPass(bw, time, batch, false, false, act);
  return Status::Ok();
}

}  // namespace

Status RegisterSequenceRnnKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::RNN, 1, 3, RnnPrepare, RnnEval}));
  K2L_RETURN_IF_ERROR(r.Add({fb::BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_RNN,
                             1, 3, SequencePrepare, SequenceEval}));
  K2L_RETURN_IF_ERROR(r.Add({fb::BuiltinOperator::BIDIRECTIONAL_SEQUENCE_RNN, 1,
                             3, BidiPrepare, BidiEval}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
