// UNIDIRECTIONAL_SEQUENCE_LSTM, BIDIRECTIONAL_SEQUENCE_LSTM and LSTM (the
// full kernel), float32. Input positions follow LiteRT's lstm_shared.h and
// bidirectional_sequence_lstm.cc. The states are variable tensors: they carry
// over from one invocation to the next and go back to zero when the
// interpreter re-allocates, exactly as in LiteRT.
#include <string>
#include <vector>

#include "runtime/kernels/lstm_cell.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"
#include "runtime/reference/lstm.h"

namespace k2l::runtime::kernels {

namespace {

using namespace lstm_cell;  // NOLINT: the cell helpers of these three ops
using reference::LstmCell;

struct UniParams {
  fb::ActivationFunctionType act = fb::ActivationFunctionType::NONE;
  float cell_clip = 0, proj_clip = 0;
  bool time_major = false;
};

// LSTM runs one time-major step; the sequence op reads its options (none
// at all leaves LiteRT's parameters zeroed: batch-major).
UniParams ReadUni(const OpContext& ctx, bool sequence) {
  UniParams p;
  if (!sequence) {
    p.time_major = true;
    if (const auto* o = ctx.options<fb::LSTMOptions>())
      p = {o->fused_activation_function(), o->cell_clip(), o->proj_clip(),
           true};
  } else if (const auto* o =
                 ctx.options<fb::UnidirectionalSequenceLSTMOptions>()) {
    p = {o->fused_activation_function(), o->cell_clip(), o->proj_clip(),
         o->time_major()};
  }
  return p;
}

// UNIDIRECTIONAL_SEQUENCE_LSTM ([batch, time, input] or time-major) and
// LSTM (one step of [batch, input]).
Status UniPrepare(OpContext& ctx, bool sequence) {
  if (!sequence) {
    const auto* o = ctx.options<fb::LSTMOptions>();
    if (o != nullptr && o->kernel_type() != fb::LSTMKernelType::FULL) {
      return ctx.Error(
          "kernel_type BASIC (the 5-input LSTM of version 2) is "
          "not supported; only the full 20/24-input kernel is");
    }
  }
  if (ctx.num_inputs() != 20 && ctx.num_inputs() != 24) {
    return ctx.Error("has " + std::to_string(ctx.num_inputs()) +
                     " inputs; the LSTM takes 20 or 24 (corrupt model?)");
  }
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 24, 1));
  K2L_RETURN_IF_ERROR(CheckInput(ctx, sequence ? 3 : 2));
  const UniParams p = ReadUni(ctx, sequence);
  K2L_RETURN_IF_ERROR(SetParams(ctx, p.act, p.cell_clip, p.proj_clip, nullptr));
  const Shape& in = ctx.input(0).shape;
  const int batch = sequence && p.time_major ? in[1] : in[0];
  auto& data = ctx.data<LstmData>();
  K2L_ASSIGN_OR_RETURN(data.fw, CheckCell(ctx, kLayout, "", in.back(), 0, batch,
                                          /*allow_diagonal=*/sequence));
  Shape out = in;
  out.back() = data.fw.n_output;
  return ctx.ResizeOutput(0, out);
}

Status UniEval(OpContext& ctx, bool sequence) {
  auto& data = ctx.data<LstmData>();
  const UniParams p = ReadUni(ctx, sequence);
  const Tensor& x = ctx.input(0);
  const int time = sequence ? x.dim(p.time_major ? 0 : 1) : 1;
  const int batch = sequence && p.time_major ? x.dim(1) : x.dim(0);
  LstmCell c = MakeCell(ctx, kLayout, data.fw, x.shape.back(), 0);
  K2L_RETURN_IF_ERROR(SetParams(ctx, p.act, p.cell_clip, p.proj_clip, &c));
  data.scratch.resize(reference::LstmScratchSize(c, p.time_major ? batch : 1));
  reference::LstmSequence(
      c, x.data<float>(), nullptr, time, batch, p.time_major,
      /*forward=*/true, ctx.mutable_input(kLayout.h).mutable_data<float>(),
      ctx.mutable_input(kLayout.c).mutable_data<float>(),
      ctx.output(0).mutable_data<float>(), c.n_output, 0, data.scratch.data());
  return Status::Ok();
}

Status SequencePrepare(OpContext& ctx) { return UniPrepare(ctx, true); }
Status SequenceEval(OpContext& ctx) { return UniEval(ctx, true); }
Status StepPrepare(OpContext& ctx) { return UniPrepare(ctx, false); }
Status StepEval(OpContext& ctx) { return UniEval(ctx, false); }

struct BidiParams {
  fb::ActivationFunctionType act = fb::ActivationFunctionType::NONE;
  float cell_clip = 0, proj_clip = 0;
  bool merge = false, time_major = false;
};

BidiParams ReadBidi(const OpContext& ctx) {
  // No options table leaves LiteRT's parameters zeroed (batch-major); a
  // table without time_major takes the schema default (time-major).
  BidiParams p;
  if (const auto* o = ctx.options<fb::BidirectionalSequenceLSTMOptions>()) {
    p = {o->fused_activation_function(), o->cell_clip(), o->proj_clip(),
         o->merge_outputs(), o->time_major()};
  }
  return p;
}

// Whether the auxiliary weights are present: then the aux input feeds both
// cells. Without them a present aux input is the backward cell's input.
bool HasAuxWeights(const OpContext& ctx) {
  return Has(ctx, kFwLayout.aux_weights[1]);
}

Status BidiPrepare(OpContext& ctx) {
  const BidiParams p = ReadBidi(ctx);
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 48, p.merge ? 1 : 2));
  if (ctx.num_inputs() != 48) {
    return ctx.Error("has " + std::to_string(ctx.num_inputs()) +
                     " inputs; BIDIRECTIONAL_SEQUENCE_LSTM takes 48");
  }
  K2L_RETURN_IF_ERROR(CheckInput(ctx, 3));
  K2L_RETURN_IF_ERROR(SetParams(ctx, p.act, p.cell_clip, p.proj_clip, nullptr));
  const Shape& in = ctx.input(0).shape;
  const int batch = p.time_major ? in[1] : in[0];
  const bool aux_weights = HasAuxWeights(ctx);
  for (int g = 1; g < 4; ++g) {
    if (Has(ctx, kFwLayout.aux_weights[g]) != aux_weights ||
        Has(ctx, kBwLayout.aux_weights[g]) != aux_weights) {
      return ctx.Error(
          "the forget, cell and output aux_input weights of both cells must "
          "all be present or all be absent");
    }
  }
  int n_aux = 0;
  if (Has(ctx, kBidiAuxInput)) {
    const Tensor& aux = ctx.input(kBidiAuxInput);
    K2L_RETURN_IF_ERROR(ExpectFloat(ctx, kBidiAuxInput, "aux_input"));
    bool fits = aux.rank() == 3 && aux.dim(0) == in[0] && aux.dim(1) == in[1];
    if (!aux_weights) fits = fits && aux.shape == in;
    if (!fits) {
      return ctx.Error(Name(ctx, kBidiAuxInput, "aux_input") + " has shape " +
                       ShapeString(aux.shape) + " but the input has " +
                       ShapeString(in) +
                       (aux_weights ? "; they must agree but in the last dim"
                                    : "; without aux weights it feeds the "
                                      "backward cell and must match"));
    }
    if (aux_weights) n_aux = aux.dim(2);
  } else if (aux_weights) {
    return ctx.Error("aux_input weights are given without an aux_input");
  }
  auto& data = ctx.data<LstmData>();
  K2L_ASSIGN_OR_RETURN(
      data.fw, CheckCell(ctx, kFwLayout, "fw_", in[2], n_aux, batch, false));
  K2L_ASSIGN_OR_RETURN(
      data.bw, CheckCell(ctx, kBwLayout, "bw_", in[2], n_aux, batch, false));
  if (data.fw.n_cell != data.bw.n_cell ||
      data.fw.n_output != data.bw.n_output) {
    return ctx.Error("the forward cell has " + std::to_string(data.fw.n_cell) +
                     " cells and " + std::to_string(data.fw.n_output) +
                     " outputs, the backward one " +
                     std::to_string(data.bw.n_cell) + " and " +
                     std::to_string(data.bw.n_output) +
                     "; LiteRT checks both against the forward sizes, so "
                     "they must be equal");
  }
  const int n = data.fw.n_output;
  K2L_RETURN_IF_ERROR(ctx.ResizeOutput(0, {in[0], in[1], p.merge ? 2 * n : n}));
  if (!p.merge) K2L_RETURN_IF_ERROR(ctx.ResizeOutput(1, {in[0], in[1], n}));
  return Status::Ok();
}

// With merge_outputs and batch-major input, LiteRT offsets each batch row's
// state by the merged width (2 x units), past its state tensors when the
// batch is over 1; we keep each row's own state, which equals LiteRT at
// batch 1.
Status BidiEval(OpContext& ctx) {
  auto& data = ctx.data<LstmData>();
  const BidiParams p = ReadBidi(ctx);
  const Tensor& x = ctx.input(0);
  const int time = x.dim(p.time_major ? 0 : 1);
  const int batch = x.dim(p.time_major ? 1 : 0);
  const bool aux_weights = HasAuxWeights(ctx);
  const Tensor* aux =
      Has(ctx, kBidiAuxInput) ? &ctx.input(kBidiAuxInput) : nullptr;
  const float* bw_input =
      !aux_weights && aux ? aux->data<float>() : x.data<float>();
  const float* real_aux = aux_weights ? aux->data<float>() : nullptr;
  const int n_aux = aux_weights ? aux->dim(2) : 0;
  Tensor& fw_out = ctx.output(0);
  Tensor& bw_out = p.merge ? fw_out : ctx.output(1);
  for (int dir = 0; dir < 2; ++dir) {
    const CellLayout& l = dir == 0 ? kFwLayout : kBwLayout;
    LstmCell c =
        MakeCell(ctx, l, dir == 0 ? data.fw : data.bw, x.dim(2), n_aux);
    K2L_RETURN_IF_ERROR(SetParams(ctx, p.act, p.cell_clip, p.proj_clip, &c));
    data.scratch.resize(
        reference::LstmScratchSize(c, p.time_major ? batch : 1));
    Tensor& out = dir == 0 ? fw_out : bw_out;
    reference::LstmSequence(c, dir == 0 ? x.data<float>() : bw_input, real_aux,
                            time, batch, p.time_major, /*forward=*/dir == 0,
                            ctx.mutable_input(l.h).mutable_data<float>(),
                            ctx.mutable_input(l.c).mutable_data<float>(),
                            out.mutable_data<float>(), out.shape.back(),
                            dir == 1 && p.merge ? data.fw.n_output : 0,
                            data.scratch.data());
  }
  return Status::Ok();
}

}  // namespace

Status RegisterSequenceLstmKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(r.Add({fb::BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM,
                             1, 4, SequencePrepare, SequenceEval}));
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::LSTM, 1, 4, StepPrepare, StepEval}));
  K2L_RETURN_IF_ERROR(r.Add({fb::BuiltinOperator::BIDIRECTIONAL_SEQUENCE_LSTM,
                             1, 3, BidiPrepare, BidiEval}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
