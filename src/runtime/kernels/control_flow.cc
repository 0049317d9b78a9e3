// WHILE and IF: run other subgraphs of the model, copying tensors in and
// out as LiteRT's while.cc and if.cc do. Prepare sizes the called subgraphs
// from this op's input shapes (so their kernels are checked at load); when a
// loop variable changes shape from one iteration to the next, or the two
// branches of an IF disagree, the outputs are sized only after running.
// CALL_ONCE is left out: its init subgraphs need resource variables
// (VAR_HANDLE, ASSIGN_VARIABLE), which the runtime does not have.
#include <cstring>
#include <string>
#include <vector>

#include "runtime/interpreter.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

// The subgraphs an operator calls, read from its options.
std::vector<int> Callees(const fb::Model& m, const fb::Operator& op) {
  const fb::OperatorCode* oc = m.operator_codes()->Get(op.opcode_index());
  switch (ModelFile::Code(*oc)) {
    case fb::BuiltinOperator::WHILE:
      if (const auto* o = op.builtin_options_as_WhileOptions())
        return {o->cond_subgraph_index(), o->body_subgraph_index()};
      return {0, 0};
    case fb::BuiltinOperator::IF:
      if (const auto* o = op.builtin_options_as_IfOptions())
        return {o->then_subgraph_index(), o->else_subgraph_index()};
      return {0, 0};
    case fb::BuiltinOperator::CALL_ONCE:
      if (const auto* o = op.builtin_options_as_CallOnceOptions())
        return {o->init_subgraph_index()};
      return {0};
    default:
      return {};
  }
}

// A chain of calls from subgraph `from` to `target` ("2 -> 3 -> 0"), or
// empty when `from` never reaches it.
std::string CallChain(const fb::Model& m, int from, int target,
                      std::vector<bool>& seen) {
  if (from == target) return std::to_string(from);
  if (seen[from]) return "";
  seen[from] = true;
  const fb::SubGraph* sg = m.subgraphs()->Get(from);
  if (sg->operators() == nullptr) return "";
  for (const fb::Operator* op : *sg->operators()) {
    for (int callee : Callees(m, *op)) {
      if (callee < 0 || callee >= static_cast<int>(seen.size())) continue;
      std::string rest = CallChain(m, callee, target, seen);
      if (!rest.empty()) return std::to_string(from) + " -> " + rest;
    }
  }
  return "";
}

// Checks that subgraph `index` exists and never calls back into the
// subgraph running this op (directly or through others).
Result<Subgraph*> Callee(OpContext& ctx, int index, const std::string& role) {
  Interpreter& interp = ctx.interpreter();
  if (index < 0 || index >= interp.num_subgraphs()) {
    return ctx.Error("its " + role + " subgraph index " +
                     std::to_string(index) +
                     " is out of range: the model has " +
                     std::to_string(interp.num_subgraphs()) + " subgraphs");
  }
  const fb::Model& m = interp.file().model();
  const int self = ctx.subgraph().index();
  std::vector<bool> seen(interp.num_subgraphs(), false);
  std::string chain = CallChain(m, index, self, seen);
  if (!chain.empty()) {
    return ctx.Error("its " + role + " subgraph " + std::to_string(index) +
                     " calls back into subgraph " + std::to_string(self) +
                     " (" + std::to_string(self) + " -> " + chain +
                     "): recursive subgraph calls are not supported");
  }
  return &interp.subgraph(index);
}

std::string Describe(const Subgraph& sg, const std::string& role) {
  return role + " subgraph " + std::to_string(sg.index());
}

// Checks a subgraph's input and output counts and that its inputs take
// `types`; `outputs` < 0 skips the output count.
Status CheckSignature(const OpContext& ctx, const Subgraph& sg,
                      const std::string& role,
                      const std::vector<const Tensor*>& srcs, int outputs) {
  if (sg.inputs().size() != srcs.size()) {
    return ctx.Error("the " + Describe(sg, role) + " takes " +
                     std::to_string(sg.inputs().size()) + " inputs but " +
                     std::to_string(srcs.size()) + " are passed to it");
  }
  if (outputs >= 0 && static_cast<int>(sg.outputs().size()) != outputs) {
    return ctx.Error("the " + Describe(sg, role) + " has " +
                     std::to_string(sg.outputs().size()) + " outputs but " +
                     std::to_string(outputs) + " are expected");
  }
  for (size_t i = 0; i < srcs.size(); ++i) {
    const Tensor& dst = sg.tensors()[sg.inputs()[i]];
    if (dst.type != srcs[i]->type) {
      return ctx.Error("input " + std::to_string(i) + " of the " +
                       Describe(sg, role) + " ('" + dst.name + "') is " +
                       TypeName(dst.type) + " but '" + srcs[i]->name +
                       "' passed to it is " + TypeName(srcs[i]->type));
    }
    if (ElementSize(dst.type) == 0 || dst.is_constant()) {
      return ctx.Error("input " + std::to_string(i) + " of the " +
                       Describe(sg, role) + " ('" + dst.name + "', " +
                       TypeName(dst.type) +
                       ") cannot be passed in: it is a constant or of a type "
                       "the runtime does not hold");
    }
  }
  return Status::Ok();
}

// Gives the subgraph's inputs the shapes of `srcs`, re-preparing it when one
// changed (or it was never prepared).
Status Reshape(const OpContext& ctx, Subgraph& sg, const std::string& role,
               const std::vector<const Tensor*>& srcs) {
  bool changed = !sg.allocated();
  for (size_t i = 0; i < srcs.size(); ++i) {
    Tensor& dst = sg.tensor(sg.inputs()[i]);
    if (dst.shape != srcs[i]->shape) {
      dst.shape = srcs[i]->shape;
      changed = true;
    }
  }
  if (!changed) return Status::Ok();
  Status s = sg.AllocateTensors();
  return s.ok() ? s : s.WithContext(ctx.Describe() + ", " + Describe(sg, role));
}

Status CopyData(const OpContext& ctx, const Tensor& src, Tensor& dst) {
  if (src.raw() == dst.raw()) return Status::Ok();
  if (src.raw() == nullptr && src.bytes() > 0) {
    return ctx.Error("'" + src.name +
                     "' has no value to pass on: nothing computes it");
  }
  if (src.bytes() != dst.bytes()) {
    return ctx.Error("cannot copy '" + src.name + "' " +
                     ShapeString(src.shape) + " into '" + dst.name + "' " +
                     ShapeString(dst.shape));
  }
  if (src.bytes() > 0) std::memcpy(dst.mutable_raw(), src.raw(), src.bytes());
  return Status::Ok();
}

// Passes `srcs` to the subgraph's inputs: shapes, then values.
Status PassIn(const OpContext& ctx, Subgraph& sg, const std::string& role,
              const std::vector<const Tensor*>& srcs) {
  K2L_RETURN_IF_ERROR(Reshape(ctx, sg, role, srcs));
  for (size_t i = 0; i < srcs.size(); ++i)
    K2L_RETURN_IF_ERROR(CopyData(ctx, *srcs[i], sg.tensor(sg.inputs()[i])));
  return Status::Ok();
}

// Writes `srcs` into this op's outputs from position `first` on, resizing
// those whose shape differs.
Status PassOut(OpContext& ctx, const std::vector<const Tensor*>& srcs,
               int first = 0) {
  for (size_t k = 0; k < srcs.size(); ++k) {
    const int i = first + static_cast<int>(k);
    if (&ctx.output(i) == srcs[k]) continue;
    // Outputs sized only at run time have no storage yet.
    if (ctx.output(i).shape != srcs[k]->shape ||
        ctx.output(i).mutable_raw() == nullptr)
      K2L_RETURN_IF_ERROR(ctx.ResizeOutput(i, srcs[k]->shape));
    K2L_RETURN_IF_ERROR(CopyData(ctx, *srcs[k], ctx.output(i)));
  }
  return Status::Ok();
}

std::vector<const Tensor*> Inputs(const OpContext& ctx, int first) {
  std::vector<const Tensor*> v;
  for (int i = first; i < ctx.num_inputs(); ++i) v.push_back(&ctx.input(i));
  return v;
}

std::vector<const Tensor*> Outputs(const Subgraph& sg) {
  std::vector<const Tensor*> v;
  for (int o : sg.outputs()) v.push_back(&sg.tensors()[o]);
  return v;
}

// Checks the subgraph's output types against this op's outputs.
Status CheckOutputTypes(OpContext& ctx, const Subgraph& sg,
                        const std::string& role) {
  for (int i = 0; i < ctx.num_outputs(); ++i) {
    const Tensor& t = sg.tensors()[sg.outputs()[i]];
    if (t.type != ctx.output(i).type) {
      return ctx.Error("output " + std::to_string(i) + " of the " +
                       Describe(sg, role) + " ('" + t.name + "') is " +
                       TypeName(t.type) + " but this op's output " +
                       std::to_string(i) + " is " +
                       TypeName(ctx.output(i).type));
    }
  }
  return Status::Ok();
}

Status Run(const OpContext& ctx, Subgraph& sg, const std::string& role) {
  Status s = sg.Invoke();
  return s.ok() ? s : s.WithContext(ctx.Describe() + ", " + Describe(sg, role));
}

struct CallData : OpData {
  int first = 0, second = 0;  // cond and body, or then and else
  // Some body output is the body's input at another position.
  bool alias = false;
};

// Sizes this op's outputs like the subgraphs' outputs, or defers them to run
// time when they are not known now or differ between `a` and `b` (or from
// `b_inputs`, the loop variables).
Status SizeOutputs(OpContext& ctx, const Subgraph& a, const Subgraph& b,
                   const std::vector<const Tensor*>& b_inputs) {
  for (int i = 0; i < ctx.num_outputs(); ++i) {
    const Tensor& x = a.tensors()[a.outputs()[i]];
    const Tensor& y = b.tensors()[b.outputs()[i]];
    const Shape& want = b_inputs.empty() ? x.shape : b_inputs[i]->shape;
    if (x.dynamic || y.dynamic || x.shape != y.shape || y.shape != want) {
      if (!ctx.running()) ctx.Defer();
      return Status::Ok();
    }
  }
  for (int i = 0; i < ctx.num_outputs(); ++i)
    K2L_RETURN_IF_ERROR(ctx.ResizeOutput(i, a.tensors()[a.outputs()[i]].shape));
  return Status::Ok();
}

Result<bool> CondValue(const OpContext& ctx, const Subgraph& cond) {
  const Tensor& c = cond.tensors()[cond.outputs()[0]];
  bool scalar = c.rank() == 0 || (c.rank() == 1 && c.dim(0) == 1);
  if (c.type != TensorType::BOOL || !scalar) {
    return ctx.Error("the " + Describe(cond, "cond") + " returns '" + c.name +
                     "' of type " + TypeName(c.type) + " and shape " +
                     ShapeString(c.shape) +
                     "; a bool scalar (or shape [1]) is needed");
  }
  if (c.raw() == nullptr)
    return ctx.Error("the " + Describe(cond, "cond") + " computes no value");
  return c.data<bool>()[0];
}

// WHILE(vars...): while cond(vars) { vars = body(vars) }.
Status WhilePrepare(OpContext& ctx) {
  const auto* o = ctx.options<fb::WhileOptions>();
  const int ci = o ? o->cond_subgraph_index() : 0;
  const int bi = o ? o->body_subgraph_index() : 0;
  const int n = ctx.num_inputs();
  if (ctx.num_outputs() != n) {
    return ctx.Error("has " + std::to_string(n) + " inputs but " +
                     std::to_string(ctx.num_outputs()) +
                     " outputs; every loop variable is both");
  }
  for (int i = 0; i < n; ++i) {
    if (!ctx.has_input(i))
      return ctx.Error("loop variable " + std::to_string(i) + " is omitted");
    if (ctx.input(i).type != ctx.output(i).type) {
      return ctx.Error("loop variable " + std::to_string(i) + " comes in as " +
                       TypeName(ctx.input(i).type) + " but goes out as " +
                       TypeName(ctx.output(i).type));
    }
  }
  if (ci == bi) {
    return ctx.Error("cond and body are the same subgraph (" +
                     std::to_string(ci) + ")");
  }
  K2L_ASSIGN_OR_RETURN(Subgraph * cond, Callee(ctx, ci, "cond"));
  K2L_ASSIGN_OR_RETURN(Subgraph * body, Callee(ctx, bi, "body"));
  const auto vars = Inputs(ctx, 0);
  K2L_RETURN_IF_ERROR(CheckSignature(ctx, *cond, "cond", vars, 1));
  K2L_RETURN_IF_ERROR(CheckSignature(ctx, *body, "body", vars, n));
  K2L_RETURN_IF_ERROR(CheckOutputTypes(ctx, *body, "body"));
  K2L_RETURN_IF_ERROR(Reshape(ctx, *cond, "cond", vars));
  K2L_RETURN_IF_ERROR(Reshape(ctx, *body, "body", vars));
  if (!cond->tensors()[cond->outputs()[0]].dynamic)
    K2L_RETURN_IF_ERROR(CondValue(ctx, *cond).status());
  auto& data = ctx.data<CallData>();
  data.first = ci;
  data.second = bi;
  data.alias = false;
  for (int k = 0; k < n; ++k)
    for (int j = 0; j < n; ++j)
      data.alias |= j != k && body->outputs()[k] == body->inputs()[j];
  // The outputs are known now only if each loop variable keeps its shape.
  return SizeOutputs(ctx, *body, *body, vars);
}

// Copies the body's outputs into this op's outputs in order, as LiteRT does
// when the body's inputs share memory with them: an output that is the
// body's input j reads this op's output j, which an earlier position may
// already have overwritten (a body returning (b, a) for (a, b) leaves b in
// both).
Status StageAliased(OpContext& ctx, const Subgraph& body) {
  for (int k = 0; k < ctx.num_outputs(); ++k) {
    const int t = body.outputs()[k];
    const Tensor* src = &body.tensors()[t];
    for (size_t j = 0; j < body.inputs().size(); ++j)
      if (body.inputs()[j] == t) src = &ctx.output(static_cast<int>(j));
    K2L_RETURN_IF_ERROR(PassOut(ctx, {src}, k));
  }
  return Status::Ok();
}

// The subgraphs' variable tensors start at zero on every run of the op:
// LiteRT releases the subgraphs after each run and re-allocates them (which
// zeroes variables) before the next. Within a run they carry over, except
// that a change of a loop variable's shape re-allocates (and so zeroes) the
// subgraph it is passed to, here as in LiteRT.
Status WhileEval(OpContext& ctx) {
  auto& data = ctx.data<CallData>();
  Subgraph& cond = ctx.interpreter().subgraph(data.first);
  Subgraph& body = ctx.interpreter().subgraph(data.second);
  cond.ResetVariableTensors();
  body.ResetVariableTensors();
  const auto body_out = Outputs(body);
  std::vector<const Tensor*> staged;
  for (int i = 0; i < ctx.num_outputs(); ++i) staged.push_back(&ctx.output(i));
  // The loop variables' current values: this op's inputs, then the body's
  // outputs (or copies of them in this op's outputs).
  std::vector<const Tensor*> vars = Inputs(ctx, 0);
  K2L_RETURN_IF_ERROR(PassIn(ctx, cond, "cond", vars));
  if (data.alias) {
    K2L_RETURN_IF_ERROR(PassOut(ctx, vars));
    vars = staged;
  }
  for (;;) {
    K2L_RETURN_IF_ERROR(Run(ctx, cond, "cond"));
    K2L_ASSIGN_OR_RETURN(bool go_on, CondValue(ctx, cond));
    if (!go_on) break;
    K2L_RETURN_IF_ERROR(PassIn(ctx, body, "body", vars));
    K2L_RETURN_IF_ERROR(Run(ctx, body, "body"));
    K2L_RETURN_IF_ERROR(PassIn(ctx, cond, "cond", body_out));
    // Feeding the body its own outputs is safe unless it must re-prepare
    // (new shapes) or an output is another position's input.
    bool direct = !data.alias;
    for (size_t i = 0; direct && i < body_out.size(); ++i)
      direct = body_out[i]->shape == body.tensor(body.inputs()[i]).shape;
    if (data.alias) {
      K2L_RETURN_IF_ERROR(StageAliased(ctx, body));
      vars = staged;
    } else if (direct) {
      vars = body_out;
    } else {
      K2L_RETURN_IF_ERROR(PassOut(ctx, body_out));
      vars = staged;
    }
  }
  return PassOut(ctx, vars);
}

// IF(cond, args...): then(args) if cond else else(args).
Status IfPrepare(OpContext& ctx) {
  const auto* o = ctx.options<fb::IfOptions>();
  const int ti = o ? o->then_subgraph_index() : 0;
  const int ei = o ? o->else_subgraph_index() : 0;
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, ctx.num_inputs(), -1));
  K2L_RETURN_IF_ERROR(CheckType(ctx, ctx.input(0), "cond", {TensorType::BOOL}));
  if (ctx.input(0).num_elements() != 1) {
    return ctx.Error("cond '" + ctx.input(0).name + "' has shape " +
                     ShapeString(ctx.input(0).shape) +
                     "; it must hold one value");
  }
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i))
      return ctx.Error("input " + std::to_string(i) + " is omitted");
  }
  K2L_ASSIGN_OR_RETURN(Subgraph * then_sg, Callee(ctx, ti, "then"));
  K2L_ASSIGN_OR_RETURN(Subgraph * else_sg, Callee(ctx, ei, "else"));
  const auto args = Inputs(ctx, 1);
  for (auto [sg, role] : {std::pair{then_sg, "then"}, {else_sg, "else"}}) {
    K2L_RETURN_IF_ERROR(
        CheckSignature(ctx, *sg, role, args, ctx.num_outputs()));
    K2L_RETURN_IF_ERROR(CheckOutputTypes(ctx, *sg, role));
    K2L_RETURN_IF_ERROR(Reshape(ctx, *sg, role, args));
  }
  auto& data = ctx.data<CallData>();
  data.first = ti;
  data.second = ei;
  return SizeOutputs(ctx, *then_sg, *else_sg, {});
}

Status IfEval(OpContext& ctx) {
  auto& data = ctx.data<CallData>();
  const bool c = ctx.input(0).data<bool>()[0];
  Subgraph& branch = ctx.interpreter().subgraph(c ? data.first : data.second);
  const char* role = c ? "then" : "else";
  K2L_RETURN_IF_ERROR(PassIn(ctx, branch, role, Inputs(ctx, 1)));
  // LiteRT re-allocates the branch on every run, zeroing its variables.
  branch.ResetVariableTensors();
  K2L_RETURN_IF_ERROR(Run(ctx, branch, role));
  return PassOut(ctx, Outputs(branch));
}

}  // namespace

Status RegisterControlFlowKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::WHILE, 1, 1, WhilePrepare, WhileEval}));
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::IF, 1, 1, IfPrepare, IfEval}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
