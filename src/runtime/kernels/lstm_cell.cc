#include "runtime/kernels/lstm_cell.h"

#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels::lstm_cell {

using reference::LstmCell;
using reference::RnnActivation;

namespace {
constexpr const char* kGate[4] = {"input", "forget", "cell", "output"};
}  // namespace

bool Has(const OpContext& ctx, int i) { return i >= 0 && ctx.has_input(i); }

std::string Name(const OpContext& ctx, int i, const std::string& what) {
  return what + " (input " + std::to_string(i) + ", '" + ctx.input(i).name +
         "')";
}

Status ExpectFloat(const OpContext& ctx, int i, const std::string& what) {
  if (ctx.input(i).type == TensorType::FLOAT32) return Status::Ok();
  return ctx.Error(Name(ctx, i, what) + " has type " +
                   TypeName(ctx.input(i).type) +
                   "; only float32 LSTMs are supported (hybrid and integer "
                   "LSTMs are not yet)");
}

Status Expect(const OpContext& ctx, int i, const std::string& what,
              const Shape& want) {
  if (!Has(ctx, i))
    return ctx.Error(what + " (input " + std::to_string(i) + ") is missing");
  K2L_RETURN_IF_ERROR(ExpectFloat(ctx, i, what));
  if (ctx.input(i).shape != want) {
    return ctx.Error(Name(ctx, i, what) + " has shape " +
                     ShapeString(ctx.input(i).shape) + " but " +
                     ShapeString(want) + " is expected");
  }
  return Status::Ok();
}

Status ExpectState(OpContext& ctx, int i, const std::string& what,
                   int64_t elements) {
  if (!Has(ctx, i))
    return ctx.Error(what + " (input " + std::to_string(i) + ") is missing");
  K2L_RETURN_IF_ERROR(ExpectFloat(ctx, i, what));
  const Tensor& t = ctx.input(i);
  if (!t.is_variable) {
    return ctx.Error(Name(ctx, i, what) +
                     " is not a variable tensor; the LSTM keeps its state in "
                     "variable tensors (mark it is_variable)");
  }
  if (t.num_elements() != elements) {
    return ctx.Error(Name(ctx, i, what) + " has shape " + ShapeString(t.shape) +
                     " but must hold " + std::to_string(elements) +
                     " values (batch x units)");
  }
  return Status::Ok();
}

// Checks one cell's tensors against each other and the input (n_aux = 0
// when there are no auxiliary weights) and returns its sizes.
Result<CellDims> CheckCell(OpContext& ctx, const CellLayout& l,
                           const std::string& p, int n_input, int n_aux,
                           int n_batch, bool allow_diagonal) {
  CellDims d;
  const int io = l.input_weights[3], ro = l.recurrent_weights[3];
  if (!Has(ctx, io) || ctx.input(io).rank() != 2) {
    return ctx.Error(p + "input_to_output_weights (input " +
                     std::to_string(io) + ") must be present and 2-D");
  }
  d.n_cell = ctx.input(io).dim(0);
  if (!Has(ctx, ro) || ctx.input(ro).rank() < 1 || ctx.input(ro).rank() > 2) {
    return ctx.Error(p + "recurrent_to_output_weights (input " +
                     std::to_string(ro) + ") must be present and 2-D");
  }
  d.n_output = ctx.input(ro).rank() == 2 ? ctx.input(ro).dim(1) : d.n_cell;
  d.cifg = !Has(ctx, l.input_weights[0]);
  if (Has(ctx, l.recurrent_weights[0]) == d.cifg ||
      Has(ctx, l.bias[0]) == d.cifg) {
    return ctx.Error(p +
                     "input_to_input_weights, recurrent_to_input_weights and "
                     "input_gate_bias must all be present (LSTM) or all be "
                     "absent (CIFG)");
  }
  d.layer_norm = Has(ctx, l.layer_norm[1]);
  const bool peephole = Has(ctx, l.peephole[0]) || Has(ctx, l.peephole[1]) ||
                        Has(ctx, l.peephole[3]);
  for (int g = d.cifg ? 1 : 0; g < 4; ++g) {
    const std::string gate = kGate[g];
    K2L_RETURN_IF_ERROR(Expect(ctx, l.input_weights[g],
                               p + "input_to_" + gate + "_weights",
                               {d.n_cell, n_input}));
    const int r = l.recurrent_weights[g];
    d.diagonal[g] = Has(ctx, r) && ctx.input(r).rank() == 1;
    if (d.diagonal[g] && (!allow_diagonal || d.n_output != d.n_cell)) {
      return ctx.Error(Name(ctx, r, p + "recurrent_to_" + gate + "_weights") +
                       " is 1-D (diagonal), which only "
                       "UNIDIRECTIONAL_SEQUENCE_LSTM takes, and only with as "
                       "many outputs as cells");
    }
    K2L_RETURN_IF_ERROR(
        Expect(ctx, r, p + "recurrent_to_" + gate + "_weights",
               d.diagonal[g] ? Shape{d.n_cell} : Shape{d.n_cell, d.n_output}));
    K2L_RETURN_IF_ERROR(
        Expect(ctx, l.bias[g], p + gate + "_gate_bias", {d.n_cell}));
    if (g != 2 && peephole) {
      K2L_RETURN_IF_ERROR(Expect(ctx, l.peephole[g],
                                 p + "cell_to_" + gate + "_weights (peephole)",
                                 {d.n_cell}));
    }
    if (d.layer_norm) {
      K2L_RETURN_IF_ERROR(Expect(ctx, l.layer_norm[g],
                                 p + gate + "_layer_norm_coefficients",
                                 {d.n_cell}));
    }
    if (n_aux > 0) {
      K2L_RETURN_IF_ERROR(Expect(ctx, l.aux_weights[g],
                                 p + "aux_input_to_" + gate + "_weights",
                                 {d.n_cell, n_aux}));
    }
  }
  if (d.cifg && (Has(ctx, l.peephole[0]) ||
                 (d.layer_norm && Has(ctx, l.layer_norm[0])))) {
    return ctx.Error(p +
                     "a CIFG LSTM (no input gate) has an input-gate peephole "
                     "or layer norm coefficients");
  }
  if (Has(ctx, l.projection)) {
    K2L_RETURN_IF_ERROR(Expect(ctx, l.projection, p + "projection_weights",
                               {d.n_output, d.n_cell}));
    if (Has(ctx, l.projection_bias)) {
      K2L_RETURN_IF_ERROR(
          Expect(ctx, l.projection_bias, p + "projection_bias", {d.n_output}));
    }
  } else if (Has(ctx, l.projection_bias)) {
    return ctx.Error(p + "projection_bias is given without projection_weights");
  } else if (d.n_output != d.n_cell) {
    return ctx.Error(p + "recurrent weights give " +
                     std::to_string(d.n_output) + " outputs for " +
                     std::to_string(d.n_cell) +
                     " cells, which needs projection_weights");
  }
  K2L_RETURN_IF_ERROR(
      ExpectState(ctx, l.h, p + "output_state", int64_t{n_batch} * d.n_output));
  K2L_RETURN_IF_ERROR(
      ExpectState(ctx, l.c, p + "cell_state", int64_t{n_batch} * d.n_cell));
  return d;
}

LstmCell MakeCell(OpContext& ctx, const CellLayout& l, const CellDims& d,
                  int n_input, int n_aux) {
  auto ptr = [&](int i) {
    return Has(ctx, i) ? ctx.input(i).data<float>() : nullptr;
  };
  LstmCell c;
  for (int g = 0; g < 4; ++g) {
    c.input_weights[g] = ptr(l.input_weights[g]);
    c.recurrent_weights[g] = ptr(l.recurrent_weights[g]);
    c.recurrent_diagonal[g] = d.diagonal[g];
    c.peephole[g] = g == 2 ? nullptr : ptr(l.peephole[g]);
    c.layer_norm[g] = d.layer_norm ? ptr(l.layer_norm[g]) : nullptr;
    c.bias[g] = ptr(l.bias[g]);
    c.aux_weights[g] = n_aux > 0 ? ptr(l.aux_weights[g]) : nullptr;
  }
  if (d.cifg) {
    c.input_weights[0] = c.recurrent_weights[0] = c.bias[0] = nullptr;
    c.peephole[0] = c.layer_norm[0] = c.aux_weights[0] = nullptr;
  }
  c.projection = ptr(l.projection);
  c.projection_bias = c.projection ? ptr(l.projection_bias) : nullptr;
  c.n_input = n_input;
  c.n_aux_input = n_aux;
  c.n_cell = d.n_cell;
  c.n_output = d.n_output;
  return c;
}

// The fused activation, cell_clip and proj_clip shared by the three ops.
Status SetParams(const OpContext& ctx, fb::ActivationFunctionType act,
                 float cell_clip, float proj_clip, LstmCell* c) {
  int a = static_cast<int>(act);
  if (a < 0 || a > static_cast<int>(fb::ActivationFunctionType::SIGN_BIT))
    return ctx.Error("unknown fused activation " + std::to_string(a));
  if (!(cell_clip >= 0.f) || !(proj_clip >= 0.f)) {
    return ctx.Error("cell_clip " + std::to_string(cell_clip) +
                     " and proj_clip " + std::to_string(proj_clip) +
                     " must be 0 (no clipping) or positive");
  }
  if (c != nullptr) {
    c->activation = static_cast<RnnActivation>(a);
    c->cell_clip = cell_clip;
    c->proj_clip = proj_clip;
  }
  return Status::Ok();
}

Status CheckInput(OpContext& ctx, int rank) {
  K2L_RETURN_IF_ERROR(ExpectFloat(ctx, 0, "input"));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, ctx.input(0), "input", rank, rank));
  for (int o = 0; o < ctx.num_outputs(); ++o) {
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, ctx.output(o), "output", {TensorType::FLOAT32}));
  }
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels::lstm_cell
