// Recurrent layers: SimpleRNN, LSTM, GRU, the generic RNN over one of their
// cells, and Bidirectional.
//
// Each layer is lowered as its cell's math, one step at a time, in plain
// builtins. We do not use the builtin sequence ops (UNIDIRECTIONAL_SEQUENCE_
// LSTM/RNN): they keep their state in variable tensors that persist from one
// invocation to the next, so a second call would start from the first
// call's final state, which is wrong for a layer that is not stateful.
//
// The input projection of every step is one FULLY_CONNECTED over the whole
// sequence. A known sequence length of at most kMaxUnroll steps is unrolled;
// a dynamic or longer one runs in a WHILE loop whose body is one step, so
// any length works at run time. The summary says which was chosen and why.
#include <optional>

#include "frontend/keras/activations.h"
#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"
#include "frontend/keras/weight_layout.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

constexpr int64_t kMaxUnroll = 64;

enum class CellKind { kSimple, kLstm, kGru };

// One cell's configuration and weights, in Keras layout.
struct Cell {
  CellKind kind = CellKind::kSimple;
  int64_t units = 0;
  json activation;
  json recurrent_activation;
  bool reset_after = false;
  ir::TensorData kernel;                         // (input_dim, gates*units)
  ir::TensorData recurrent_kernel;               // (units, gates*units)
  std::optional<ir::TensorData> input_bias;      // (gates*units)
  std::optional<ir::TensorData> recurrent_bias;  // GRU reset_after only

  int gates() const {
    return kind == CellKind::kLstm ? 4 : kind == CellKind::kGru ? 3 : 1;
  }
  size_t num_states() const { return kind == CellKind::kLstm ? 2 : 1; }
};

struct RnnOptions {
  bool return_sequences = false;
  bool go_backwards = false;
  // Keras' own `unroll` flag: it changes what a masked step outputs.
  bool keras_unroll = false;
  bool zero_output_for_mask = false;
  // Bidirectional's backward layer: its sequence output is reversed back
  // into input order. Writing each step at its input position does that.
  bool outputs_in_input_order = false;
};

struct RnnResult {
  ValueId output;
  std::vector<ValueId> states;
};

CellKind KindOf(const std::string& cls) {
  if (cls == "LSTM" || cls == "LSTMCell") return CellKind::kLstm;
  if (cls == "GRU" || cls == "GRUCell") return CellKind::kGru;
  return CellKind::kSimple;
}

// Reads a cell's config from `cfg_ctx` and its weights from `weights_ctx`
// under `attrs` (legacy files: from variable `legacy_offset` on).
Result<Cell> ReadCell(LayerContext& ctx, CellKind kind,
                      const std::vector<std::string>& attrs,
                      size_t legacy_offset) {
  Cell c;
  c.kind = kind;
  K2L_ASSIGN_OR_RETURN(c.units, ctx.Int("units"));
  if (c.units <= 0) {
    return {ctx.Invalid("its units is " + std::to_string(c.units),
                        "Use a positive number of units")};
  }
  c.activation = ctx.config().value("activation", json("tanh"));
  c.recurrent_activation =
      ctx.config().value("recurrent_activation", json("sigmoid"));
  K2L_ASSIGN_OR_RETURN(bool use_bias, ctx.BoolOr("use_bias", true));
  if (kind == CellKind::kGru) {
    K2L_ASSIGN_OR_RETURN(c.reset_after, ctx.BoolOr("reset_after", true));
  }
  std::vector<std::string> names = {"kernel", "recurrent_kernel"};
  if (use_bias) names.push_back("bias");
  K2L_ASSIGN_OR_RETURN(auto w, ctx.SubWeights(attrs, names, legacy_offset));
  const int64_t gu = c.gates() * c.units;
  if (w[0].shape().size() != 2 || w[0].shape()[1] != gu) {
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[0], "kernel", {-1, gu}));
  }
  K2L_RETURN_IF_ERROR(
      ctx.ExpectWeightShape(w[1], "recurrent_kernel", {c.units, gu}));
  c.kernel = std::move(w[0]);
  c.recurrent_kernel = std::move(w[1]);
  if (use_bias) {
    if (kind == CellKind::kGru && c.reset_after) {
      K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[2], "bias", {2, gu}));
      c.input_bias = Row(w[2], 0);
      c.recurrent_bias = Row(w[2], 1);
    } else {
      K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[2], "bias", {gu}));
      c.input_bias = std::move(w[2]);
    }
  }
  return c;
}

// Builds one step of a cell in the graph of `c`.
class StepBuilder {
 public:
  StepBuilder(LayerContext& c, const Cell& cell) : c_(c), cell_(cell) {
    const int64_t u = cell.units;
    if (cell.kind == CellKind::kGru && !cell.reset_after) {
      // h is projected for z and r at once, and r*h for the candidate.
      ir::TensorData rk = cell.recurrent_kernel;
      rec_ = c.Const(Permute(ColumnRange(rk, 0, 2 * u), {1, 0}),
                     "recurrent_kernel_zr");
      rec_h_ = c.Const(Permute(ColumnRange(rk, 2 * u, 3 * u), {1, 0}),
                       "recurrent_kernel_h");
    } else {
      rec_ =
          c.Const(Permute(cell.recurrent_kernel, {1, 0}), "recurrent_kernel");
    }
    if (cell.recurrent_bias) {
      rec_bias_ = c.Const(*cell.recurrent_bias, "recurrent_bias");
    }
  }

  // Returns the new states; the step's output is the new h (states[0]).
  Result<std::vector<ValueId>> Step(ValueId xp, const std::vector<ValueId>& s) {
    const ValueId h = s[0];
    switch (cell_.kind) {
      case CellKind::kSimple: {
        K2L_ASSIGN_OR_RETURN(ValueId r, Fc(h, rec_));
        K2L_ASSIGN_OR_RETURN(ValueId z, Bin(OpKind::kAdd, xp, r));
        K2L_ASSIGN_OR_RETURN(ValueId h2, Act(z, cell_.activation));
        return std::vector<ValueId>{h2};
      }
      case CellKind::kLstm: {
        K2L_ASSIGN_OR_RETURN(ValueId r, Fc(h, rec_));
        K2L_ASSIGN_OR_RETURN(ValueId z, Bin(OpKind::kAdd, xp, r));
        K2L_ASSIGN_OR_RETURN(auto g, SplitGates(z, 4));
        K2L_ASSIGN_OR_RETURN(ValueId i, Act(g[0], cell_.recurrent_activation));
        K2L_ASSIGN_OR_RETURN(ValueId f, Act(g[1], cell_.recurrent_activation));
        K2L_ASSIGN_OR_RETURN(ValueId cc, Act(g[2], cell_.activation));
        K2L_ASSIGN_OR_RETURN(ValueId o, Act(g[3], cell_.recurrent_activation));
        K2L_ASSIGN_OR_RETURN(ValueId fc, Bin(OpKind::kMul, f, s[1]));
        K2L_ASSIGN_OR_RETURN(ValueId ic, Bin(OpKind::kMul, i, cc));
        K2L_ASSIGN_OR_RETURN(ValueId c2, Bin(OpKind::kAdd, fc, ic));
        K2L_ASSIGN_OR_RETURN(ValueId ac, Act(c2, cell_.activation));
        K2L_ASSIGN_OR_RETURN(ValueId h2, Bin(OpKind::kMul, o, ac));
        return std::vector<ValueId>{h2, c2};
      }
      case CellKind::kGru: {
        K2L_ASSIGN_OR_RETURN(auto xg, SplitGates(xp, 3));
        ValueId z, r, hh;
        if (cell_.reset_after) {
          K2L_ASSIGN_OR_RETURN(ValueId m, Fc(h, rec_, rec_bias_));
          K2L_ASSIGN_OR_RETURN(auto mg, SplitGates(m, 3));
          K2L_ASSIGN_OR_RETURN(z, Gate(xg[0], mg[0]));
          K2L_ASSIGN_OR_RETURN(r, Gate(xg[1], mg[1]));
          K2L_ASSIGN_OR_RETURN(ValueId rh, Bin(OpKind::kMul, r, mg[2]));
          K2L_ASSIGN_OR_RETURN(ValueId a, Bin(OpKind::kAdd, xg[2], rh));
          K2L_ASSIGN_OR_RETURN(hh, Act(a, cell_.activation));
        } else {
          K2L_ASSIGN_OR_RETURN(ValueId m, Fc(h, rec_));
          K2L_ASSIGN_OR_RETURN(auto mg, SplitGates(m, 2));
          K2L_ASSIGN_OR_RETURN(z, Gate(xg[0], mg[0]));
          K2L_ASSIGN_OR_RETURN(r, Gate(xg[1], mg[1]));
          K2L_ASSIGN_OR_RETURN(ValueId rh, Bin(OpKind::kMul, r, h));
          K2L_ASSIGN_OR_RETURN(ValueId p, Fc(rh, rec_h_));
          K2L_ASSIGN_OR_RETURN(ValueId a, Bin(OpKind::kAdd, xg[2], p));
          K2L_ASSIGN_OR_RETURN(hh, Act(a, cell_.activation));
        }
        // h = z * h_prev + (1 - z) * hh, as Keras writes it.
        K2L_ASSIGN_OR_RETURN(ValueId zh, Bin(OpKind::kMul, z, h));
        K2L_ASSIGN_OR_RETURN(ValueId omz,
                             Bin(OpKind::kSub, c_.ConstFloat(1.0f), z));
        K2L_ASSIGN_OR_RETURN(ValueId b, Bin(OpKind::kMul, omz, hh));
        K2L_ASSIGN_OR_RETURN(ValueId h2, Bin(OpKind::kAdd, zh, b));
        return std::vector<ValueId>{h2};
      }
    }
    return Status::Internal("unknown cell kind");
  }

 private:
  Result<ValueId> Fc(ValueId x, ValueId w, ValueId b = ir::kNoValue) {
    return c_.Op(OpKind::kFullyConnected, {x, w, b}, ir::FullyConnectedAttrs{});
  }
  Result<ValueId> Bin(OpKind k, ValueId a, ValueId b) {
    return c_.Op(k, {a, b}, ir::BinaryAttrs{});
  }
  Result<ValueId> Act(ValueId x, const json& spec) {
    return ApplyActivation(c_, x, spec);
  }
  Result<ValueId> Gate(ValueId a, ValueId b) {
    K2L_ASSIGN_OR_RETURN(ValueId s, Bin(OpKind::kAdd, a, b));
    return Act(s, cell_.recurrent_activation);
  }
  Result<std::vector<ValueId>> SplitGates(ValueId x, int n) {
    return c_.MultiOp(OpKind::kSplit, {c_.ConstInts({1}), x},
                      ir::SplitAttrs{n});
  }

  LayerContext& c_;
  const Cell& cell_;
  ValueId rec_ = ir::kNoValue;
  ValueId rec_h_ = ir::kNoValue;
  ValueId rec_bias_ = ir::kNoValue;
};

// Applies a step's mask: masked rows keep their states, and output either
// the previous output or zeros.
struct MaskedStep {
  std::vector<ValueId> states;
  ValueId output;
};

Result<MaskedStep> ApplyMask(LayerContext& c, ValueId mask_t,
                             const std::vector<ValueId>& old_states,
                             const std::vector<ValueId>& new_states,
                             ValueId prev_output, bool zero_output) {
  MaskedStep r;
  if (mask_t == ir::kNoValue) {
    r.states = new_states;
    r.output = new_states[0];
    return r;
  }
  for (size_t k = 0; k < new_states.size(); ++k) {
    K2L_ASSIGN_OR_RETURN(
        ValueId s,
        c.Op(OpKind::kSelectV2, {mask_t, new_states[k], old_states[k]}));
    r.states.push_back(s);
  }
  ValueId other = zero_output ? c.ConstFloat(0.0f) : prev_output;
  K2L_ASSIGN_OR_RETURN(r.output,
                       c.Op(OpKind::kSelectV2, {mask_t, new_states[0], other}));
  return r;
}

// The mask of step `t` as [batch, 1] bool, from a [batch, time] mask.
Result<ValueId> MaskAt(LayerContext& c, ValueId mask, ValueId t) {
  K2L_ASSIGN_OR_RETURN(ValueId m,
                       c.Op(OpKind::kGather, {mask, t}, ir::GatherAttrs{1}));
  return c.Op(OpKind::kReshape, {m, c.ConstInts({-1, 1})});
}

// Zeros of shape [batch, units], the batch read from `x` at run time.
Result<ValueId> ZeroState(LayerContext& c, ValueId x, int64_t units,
                          int leading_dims) {
  K2L_ASSIGN_OR_RETURN(ValueId lead, RuntimeDims(c, x, 0, leading_dims));
  K2L_ASSIGN_OR_RETURN(ValueId dims,
                       c.Op(OpKind::kConcatenation,
                            {lead, c.ConstInts({static_cast<int32_t>(units)})},
                            ir::ConcatAttrs{0}));
  return c.Op(OpKind::kFill, {dims, c.ConstFloat(0.0f)});
}

Result<RnnResult> Unrolled(LayerContext& ctx, const Cell& cell,
                           const RnnOptions& o, ValueId xp, int64_t steps,
                           std::vector<ValueId> states, ValueId mask) {
  StepBuilder sb(ctx, cell);
  std::vector<ValueId> outs;
  ValueId prev = states[0];
  if (mask != ir::kNoValue && o.keras_unroll) {
    // Keras' unrolled loop carries the previous output, zeros at first.
    K2L_ASSIGN_OR_RETURN(prev,
                         ctx.Op(OpKind::kMul, {states[0], ctx.ConstFloat(0.0f)},
                                ir::BinaryAttrs{}));
  }
  for (int64_t k = 0; k < steps; ++k) {
    int64_t t = o.go_backwards ? steps - 1 - k : k;
    ValueId ti = ctx.ConstInts({static_cast<int32_t>(t)}, {});
    K2L_ASSIGN_OR_RETURN(ValueId x_t,
                         ctx.Op(OpKind::kGather, {xp, ti}, ir::GatherAttrs{1}));
    ValueId m_t = ir::kNoValue;
    if (mask != ir::kNoValue) {
      K2L_ASSIGN_OR_RETURN(m_t, MaskAt(ctx, mask, ti));
    }
    K2L_ASSIGN_OR_RETURN(auto next, sb.Step(x_t, states));
    ValueId prev_out = o.keras_unroll ? prev : states[0];
    K2L_ASSIGN_OR_RETURN(auto m, ApplyMask(ctx, m_t, states, next, prev_out,
                                           o.zero_output_for_mask));
    states = m.states;
    prev = m.output;
    outs.push_back(m.output);
  }
  RnnResult r{prev, states};
  if (o.return_sequences) {
    if (o.go_backwards && o.outputs_in_input_order) {
      std::reverse(outs.begin(), outs.end());
    }
    std::vector<ValueId> expanded;
    for (ValueId v : outs) {
      K2L_ASSIGN_OR_RETURN(
          ValueId e, ctx.Op(OpKind::kExpandDims, {v, ctx.ConstInts({1})}));
      expanded.push_back(e);
    }
    K2L_ASSIGN_OR_RETURN(
        r.output, ctx.Op(OpKind::kConcatenation, expanded, ir::ConcatAttrs{1}));
  }
  return r;
}

Result<RnnResult> Looped(LayerContext& ctx, const Cell& cell,
                         const RnnOptions& o, ValueId x, ValueId xp,
                         std::vector<ValueId> states, ValueId mask) {
  // Loop variables: i, steps, xp, [mask], states..., [last output], [acc].
  K2L_ASSIGN_OR_RETURN(ValueId steps, RuntimeDim(ctx, x, 1));
  std::vector<ValueId> init = {ctx.ConstInts({0}, {}), steps, xp};
  if (mask != ir::kNoValue) init.push_back(mask);
  const size_t first_state = init.size();
  for (ValueId s : states) init.push_back(s);
  size_t last_out = 0, acc = 0;
  if (mask != ir::kNoValue) {
    last_out = init.size();
    init.push_back(states[0]);
  }
  if (o.return_sequences) {
    acc = init.size();
    K2L_ASSIGN_OR_RETURN(ValueId zeros, ZeroState(ctx, x, cell.units, 2));
    init.push_back(zeros);
  }

  // The loop variables after i and steps: xp, [mask], states..., [last
  // output], [acc]; body_in below holds them at their places in `init`.
  auto body = [&](LayerContext& c, ValueId i, ValueId count,
                  const std::vector<ValueId>& vars)
      -> Result<std::vector<ValueId>> {
    std::vector<ValueId> body_in = {i, count};
    body_in.insert(body_in.end(), vars.begin(), vars.end());
    ValueId t = i;
    if (o.go_backwards) {
      K2L_ASSIGN_OR_RETURN(
          ValueId last, c.Op(OpKind::kSub, {body_in[1], c.ConstInts({1}, {})},
                             ir::BinaryAttrs{}));
      K2L_ASSIGN_OR_RETURN(t, c.Op(OpKind::kSub, {last, i}, ir::BinaryAttrs{}));
    }
    K2L_ASSIGN_OR_RETURN(ValueId x_t, c.Op(OpKind::kGather, {body_in[2], t},
                                           ir::GatherAttrs{1}));
    ValueId m_t = ir::kNoValue;
    if (mask != ir::kNoValue) {
      K2L_ASSIGN_OR_RETURN(m_t, MaskAt(c, body_in[3], t));
    }
    std::vector<ValueId> st(
        body_in.begin() + static_cast<long>(first_state),
        body_in.begin() + static_cast<long>(first_state + states.size()));
    StepBuilder sb(c, cell);
    K2L_ASSIGN_OR_RETURN(auto next, sb.Step(x_t, st));
    K2L_ASSIGN_OR_RETURN(
        auto m, ApplyMask(c, m_t, st, next, st[0], o.zero_output_for_mask));
    std::vector<ValueId> out = body_in;
    for (size_t k = 0; k < states.size(); ++k)
      out[first_state + k] = m.states[k];
    if (last_out) out[last_out] = m.output;
    if (acc) {
      ValueId pos = o.go_backwards && o.outputs_in_input_order ? t : i;
      K2L_ASSIGN_OR_RETURN(ValueId p1,
                           c.Op(OpKind::kReshape, {pos, c.ConstInts({1})}));
      K2L_ASSIGN_OR_RETURN(
          ValueId start,
          c.Op(OpKind::kConcatenation, {c.ConstInts({0}), p1, c.ConstInts({0})},
               ir::ConcatAttrs{0}));
      K2L_ASSIGN_OR_RETURN(
          ValueId row, c.Op(OpKind::kExpandDims, {m.output, c.ConstInts({1})}));
      K2L_ASSIGN_OR_RETURN(out[acc], c.Op(OpKind::kDynamicUpdateSlice,
                                          {body_in[acc], row, start}));
    }
    return std::vector<ValueId>(out.begin() + 2, out.end());
  };
  K2L_ASSIGN_OR_RETURN(
      auto loop_out,
      CountedLoop(ctx, ctx.name(), steps,
                  std::vector<ValueId>(init.begin() + 2, init.end()), body));
  std::vector<ValueId> res = {init[0], init[1]};
  res.insert(res.end(), loop_out.begin(), loop_out.end());
  RnnResult r;
  r.states.assign(res.begin() + static_cast<long>(first_state),
                  res.begin() + static_cast<long>(first_state + states.size()));
  r.output = o.return_sequences ? res[acc]
             : last_out         ? res[last_out]
                                : r.states[0];
  return r;
}

// Runs `cell` over x [batch, time, features].
Result<RnnResult> LowerRnn(LayerContext& ctx, const Cell& cell,
                           const RnnOptions& o, ValueId x,
                           std::vector<ValueId> init, ValueId mask) {
  const ir::Shape xs = ctx.shape(x);
  if (xs.size() != 3) {
    return {ctx.Invalid("its input has shape " + ir::ShapeToString(xs) +
                            "; recurrent layers take [batch, time, features]",
                        "Reshape the input to rank 3")};
  }
  const int64_t in_dim = cell.kernel.shape()[0];
  if (xs[2] != in_dim) {
    return {ctx.Invalid("its input has " + std::to_string(xs[2]) +
                            " features but its kernel expects " +
                            std::to_string(in_dim),
                        "Re-save the model so weights and config agree")};
  }
  if (!init.empty() && init.size() != cell.num_states()) {
    return {ctx.Invalid("it is given " + std::to_string(init.size()) +
                            " initial states but its cell has " +
                            std::to_string(cell.num_states()),
                        "Pass one initial state per cell state")};
  }
  for (ValueId s : init) {
    const ir::Shape ss = ctx.shape(s);
    if (ss.size() != 2 || (ss[1] != cell.units && ss[1] != ir::kDynamic)) {
      return {ctx.Invalid("an initial state has shape " +
                              ir::ShapeToString(ss) + ", expected [batch, " +
                              std::to_string(cell.units) + "]",
                          "Pass states of shape [batch, units]")};
    }
  }
  if (mask != ir::kNoValue && ctx.value(mask).dtype != ir::DType::kBool) {
    K2L_ASSIGN_OR_RETURN(
        mask, ctx.Op(OpKind::kCast, {mask}, ir::NoAttrs{}, ir::DType::kBool));
  }
  ValueId kernel = ctx.Const(Permute(cell.kernel, {1, 0}), "kernel");
  ValueId bias =
      cell.input_bias ? ctx.Const(*cell.input_bias, "bias") : ir::kNoValue;
  ir::FullyConnectedAttrs fa;
  fa.keep_num_dims = true;
  K2L_ASSIGN_OR_RETURN(ValueId xp,
                       ctx.Op(OpKind::kFullyConnected, {x, kernel, bias}, fa));
  if (init.empty()) {
    K2L_ASSIGN_OR_RETURN(ValueId z, ZeroState(ctx, x, cell.units, 1));
    init.assign(cell.num_states(), z);
  }
  const int64_t steps = xs[1];
  if (steps != ir::kDynamic && steps <= kMaxUnroll) {
    ctx.graph().notes().push_back(
        ctx.Describe() + ": unrolled over its " + std::to_string(steps) +
        " steps (the sequence length is fixed and at most " +
        std::to_string(kMaxUnroll) + ")");
    return Unrolled(ctx, cell, o, xp, steps, std::move(init), mask);
  }
  ctx.graph().notes().push_back(
      ctx.Describe() + ": a WHILE loop over the steps (" +
      (steps == ir::kDynamic ? std::string("the sequence length is dynamic")
                             : "the sequence length " + std::to_string(steps) +
                                   " is over the unrolling limit of " +
                                   std::to_string(kMaxUnroll)) +
      ")");
  return Looped(ctx, cell, o, x, xp, std::move(init), mask);
}

Status RequireSupported(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(bool stateful, ctx.BoolOr("stateful", false));
  if (stateful) {
    return ctx.Invalid(
        "it is stateful (stateful=True): its state would have to persist "
        "between invocations, and LiteRT builtins keep such state only in "
        "variable tensors of the sequence ops, which cannot express every "
        "cell and cannot be reset from a signature",
        "Export the layer with stateful=False and carry the state yourself: "
        "pass the previous call's states as initial_state inputs and return "
        "them with return_state=True");
  }
  K2L_ASSIGN_OR_RETURN(bool time_major, ctx.BoolOr("time_major", false));
  if (time_major) {
    return ctx.Invalid(
        "it is time-major (time_major=True), and the recurrent lowering "
        "reads inputs as [batch, time, features]",
        "Save the layer with time_major=False and batch-major inputs");
  }
  return Status::Ok();
}

Result<RnnOptions> ReadOptions(LayerContext& ctx) {
  RnnOptions o;
  K2L_ASSIGN_OR_RETURN(o.return_sequences,
                       ctx.BoolOr("return_sequences", false));
  K2L_ASSIGN_OR_RETURN(o.go_backwards, ctx.BoolOr("go_backwards", false));
  K2L_ASSIGN_OR_RETURN(o.keras_unroll, ctx.BoolOr("unroll", false));
  K2L_ASSIGN_OR_RETURN(o.zero_output_for_mask,
                       ctx.BoolOr("zero_output_for_mask", false));
  return o;
}

// Initial states: keyword `initial_state`, or positional after the input.
Result<std::vector<ValueId>> InitialStates(LayerContext& ctx) {
  std::vector<ValueId> init;
  if (auto kw = ctx.KwargInputs("initial_state")) init = *kw;
  for (size_t i = 1; i < ctx.num_inputs(); ++i) init.push_back(ctx.input(i));
  return init;
}

// The cell class of a layer config: LSTM, GRU, SimpleRNN, or RNN(cell).
Result<CellKind> CellKindOf(LayerContext& ctx) {
  const std::string& cls = ctx.class_name();
  if (cls != "RNN") return KindOf(cls);
  const json& cell = ctx.config().value("cell", json());
  std::string cell_cls = cell.is_object() ? cell.value("class_name", "") : "";
  if (cell_cls == "LSTMCell" || cell_cls == "GRUCell" ||
      cell_cls == "SimpleRNNCell") {
    return KindOf(cell_cls);
  }
  return {ctx.Invalid(
      "its cell is " +
          (cell_cls.empty() ? std::string("not a known cell")
                            : "'" + cell_cls + "'") +
          "; only LSTMCell, GRUCell and SimpleRNNCell cells can be lowered "
          "(a custom or stacked cell's step is Python code the file does not "
          "hold)",
      "Use keras.layers.LSTM, GRU or SimpleRNN (or RNN over one of their "
      "cells); stack cells as separate layers")};
}

Result<std::vector<ValueId>> ConvertRecurrent(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(RequireSupported(ctx));
  K2L_ASSIGN_OR_RETURN(CellKind kind, CellKindOf(ctx));
  K2L_ASSIGN_OR_RETURN(RnnOptions o, ReadOptions(ctx));
  K2L_ASSIGN_OR_RETURN(bool return_state, ctx.BoolOr("return_state", false));
  K2L_ASSIGN_OR_RETURN(auto init, InitialStates(ctx));
  // The cell's fields: the layer's own config, or RNN's `cell` config (kept
  // alive here, as the sublayer context refers to it).
  const json cell_cfg = ctx.class_name() == "RNN"
                            ? ctx.config()["cell"].value("config", json())
                            : json();
  std::optional<LayerContext> cell_ctx;
  if (ctx.class_name() == "RNN") {
    cell_ctx.emplace(ctx.Sublayer(cell_cfg,
                                  ctx.config()["cell"].value("class_name", ""),
                                  ctx.name(), {}, {}));
  }
  K2L_ASSIGN_OR_RETURN(Cell cell,
                       ReadCell(cell_ctx ? *cell_ctx : ctx, kind, {"cell"}, 0));
  const ValueId mask = ctx.InputMask(0);
  K2L_ASSIGN_OR_RETURN(RnnResult r,
                       LowerRnn(ctx, cell, o, ctx.input(0), init, mask));
  ctx.MarkMaskUsed();
  // The sequence output keeps the mask; the last output and states do not.
  ctx.SetOutputMask(0, o.return_sequences ? mask : ir::kNoValue);
  std::vector<ValueId> outs = {r.output};
  if (return_state) outs.insert(outs.end(), r.states.begin(), r.states.end());
  return outs;
}

Result<std::vector<ValueId>> ConvertBidirectional(LayerContext& ctx) {
  // merge_mode None is saved as null.
  std::string merge = "none";
  if (ctx.Has("merge_mode")) {
    K2L_ASSIGN_OR_RETURN(
        merge,
        ctx.Choice("merge_mode", {"concat", "sum", "mul", "ave"}, "concat"));
  }
  const json& fw_json = ctx.config().value("layer", json());
  if (!fw_json.is_object() || !fw_json.contains("config")) {
    return {ctx.Invalid("its config has no 'layer'",
                        "Re-save the model with Keras 3")};
  }
  json bw_json = ctx.config().value("backward_layer", json());
  if (!bw_json.is_object()) {
    // Keras builds the backward layer from the forward config, reversed.
    bw_json = fw_json;
    bw_json["config"]["go_backwards"] =
        !fw_json["config"].value("go_backwards", false);
  }
  const std::string fw_cls = fw_json.value("class_name", "");
  const std::string bw_cls = bw_json.value("class_name", "");
  for (const std::string& c : {fw_cls, bw_cls}) {
    if (c != "LSTM" && c != "GRU" && c != "SimpleRNN") {
      return {ctx.Invalid("it wraps a '" + c + "' layer",
                          "Wrap an LSTM, GRU or SimpleRNN layer")};
    }
  }
  LayerContext fw =
      ctx.Sublayer(fw_json["config"], fw_cls, ctx.name() + "/forward", {},
                   {"forward_layer"});
  LayerContext bw =
      ctx.Sublayer(bw_json["config"], bw_cls, ctx.name() + "/backward", {},
                   {"backward_layer"});
  K2L_RETURN_IF_ERROR(RequireSupported(fw));
  K2L_RETURN_IF_ERROR(RequireSupported(bw));
  K2L_ASSIGN_OR_RETURN(Cell fcell, ReadCell(fw, KindOf(fw_cls), {"cell"}, 0));
  const size_t fw_vars = fcell.input_bias ? 3 : 2;
  K2L_ASSIGN_OR_RETURN(Cell bcell,
                       ReadCell(bw, KindOf(bw_cls), {"cell"}, fw_vars));
  K2L_ASSIGN_OR_RETURN(RnnOptions fo, ReadOptions(fw));
  K2L_ASSIGN_OR_RETURN(RnnOptions bo, ReadOptions(bw));
  K2L_ASSIGN_OR_RETURN(bool return_state, fw.BoolOr("return_state", false));
  // Keras forces zero outputs at masked steps when returning sequences.
  fo.zero_output_for_mask = fo.return_sequences;
  bo.zero_output_for_mask = bo.return_sequences;
  bo.outputs_in_input_order = true;
  if (fo.return_sequences != bo.return_sequences) {
    return {
        ctx.Invalid("its forward and backward layers disagree on "
                    "return_sequences",
                    "Give both the same return_sequences")};
  }
  K2L_ASSIGN_OR_RETURN(auto init, InitialStates(ctx));
  std::vector<ValueId> fw_init, bw_init;
  if (!init.empty()) {
    if (init.size() != fcell.num_states() + bcell.num_states()) {
      return {ctx.Invalid(
          "it is given " + std::to_string(init.size()) +
              " initial states, expected " +
              std::to_string(fcell.num_states() + bcell.num_states()),
          "Pass the forward states, then the backward ones")};
    }
    fw_init.assign(init.begin(),
                   init.begin() + static_cast<long>(fcell.num_states()));
    bw_init.assign(init.begin() + static_cast<long>(fcell.num_states()),
                   init.end());
  }
  ValueId mask = ctx.InputMask(0);
  ctx.MarkMaskUsed();
  K2L_ASSIGN_OR_RETURN(RnnResult f,
                       LowerRnn(fw, fcell, fo, ctx.input(0), fw_init, mask));
  K2L_ASSIGN_OR_RETURN(RnnResult b,
                       LowerRnn(bw, bcell, bo, ctx.input(0), bw_init, mask));
  std::vector<ValueId> outs;
  if (merge == "none") {
    outs = {f.output, b.output};
  } else if (merge == "concat") {
    K2L_ASSIGN_OR_RETURN(ValueId y,
                         ctx.Op(OpKind::kConcatenation, {f.output, b.output},
                                ir::ConcatAttrs{-1}));
    outs = {y};
  } else {
    OpKind k = merge == "mul" ? OpKind::kMul : OpKind::kAdd;
    K2L_ASSIGN_OR_RETURN(ValueId y,
                         ctx.Op(k, {f.output, b.output}, ir::BinaryAttrs{}));
    if (merge == "ave") {
      K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kMul, {y, ctx.ConstFloat(0.5f)},
                                     ir::BinaryAttrs{}));
    }
    outs = {y};
  }
  ctx.SetOutputMask(0, fo.return_sequences ? mask : ir::kNoValue);
  if (merge == "none") {
    ctx.SetOutputMask(1, fo.return_sequences ? mask : ir::kNoValue);
  }
  if (return_state) {
    outs.insert(outs.end(), f.states.begin(), f.states.end());
    outs.insert(outs.end(), b.states.begin(), b.states.end());
  }
  return outs;
}

}  // namespace

Status RegisterRecurrentLayers(Registry& r) {
  constexpr const char* kOps =
      "FULLY_CONNECTED, SPLIT, LOGISTIC, TANH, MUL, ADD; unrolled when the "
      "length is fixed, else WHILE with GATHER, DYNAMIC_UPDATE_SLICE, FILL";
  constexpr const char* kLimits =
      "stateful=True and time_major=True are refused";
  for (const char* cls : {"SimpleRNN", "LSTM", "GRU"}) {
    K2L_RETURN_IF_ERROR(r.Register(cls, ConvertRecurrent, kOps, kLimits));
  }
  K2L_RETURN_IF_ERROR(r.Register(
      "RNN", ConvertRecurrent, kOps,
      "its cell must be LSTMCell, GRUCell or SimpleRNNCell (custom and "
      "stacked cells are refused); stateful=True is refused"));
  K2L_RETURN_IF_ERROR(r.Register(
      "Bidirectional", ConvertBidirectional,
      "two recurrent lowerings, then CONCATENATION, ADD or MUL",
      "it must wrap LSTM, GRU or SimpleRNN; stateful=True is refused"));
  return Status::Ok();
}

}  // namespace k2l::keras
