#include "frontend/keras/einsum.h"

#include <algorithm>

#include "frontend/keras/weight_layout.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;

bool Has(const std::string& s, char c) {
  return s.find(c) != std::string::npos;
}

// Reshapes x to its first `keep` dims followed by `tail`. The target is a
// constant when at most one kept dim is dynamic, else read from x's shape.
Result<ValueId> ReshapeKeepingLead(LayerContext& ctx, ValueId x, size_t keep,
                                   const std::vector<int64_t>& tail) {
  const ir::Shape xs = ctx.shape(x);
  std::vector<int32_t> target;
  int dynamic = 0;
  for (size_t i = 0; i < keep; ++i) {
    dynamic += xs[i] == ir::kDynamic;
    target.push_back(static_cast<int32_t>(xs[i]));  // -1 when dynamic
  }
  std::vector<int32_t> t32;
  for (int64_t d : tail) t32.push_back(static_cast<int32_t>(d));
  if (dynamic <= 1) {
    target.insert(target.end(), t32.begin(), t32.end());
    return ctx.Op(OpKind::kReshape, {x, ctx.ConstInts(target)});
  }
  K2L_ASSIGN_OR_RETURN(ValueId shape, ctx.Op(OpKind::kShape, {x}));
  K2L_ASSIGN_OR_RETURN(
      ValueId lead,
      ctx.Op(OpKind::kSlice, {shape, ctx.ConstInts({0}),
                              ctx.ConstInts({static_cast<int32_t>(keep)})}));
  K2L_ASSIGN_OR_RETURN(
      ValueId full, ctx.Op(OpKind::kConcatenation, {lead, ctx.ConstInts(t32)},
                           ir::ConcatAttrs{0}));
  return ctx.Op(OpKind::kReshape, {x, full});
}

}  // namespace

Result<ValueId> LowerEinsum(LayerContext& ctx, ValueId x,
                            const std::string& equation,
                            const ir::TensorData& kernel,
                            const std::optional<ir::TensorData>& bias) {
  auto refuse = [&](const std::string& why) -> Status {
    return ctx.Invalid(
        "its einsum equation '" + equation + "' cannot be lowered: " + why,
        "Use an equation that contracts input dims with kernel dims and "
        "keeps the other dims (as Dense, EinsumDense projections and "
        "MultiHeadAttention do)");
  };
  std::string eq;
  for (char c : equation) {
    if (c != ' ') eq += c;
  }
  size_t comma = eq.find(','), arrow = eq.find("->");
  if (comma == std::string::npos || arrow == std::string::npos ||
      arrow < comma) {
    return refuse("it is not of the form 'x,kernel->output'");
  }
  std::string in = eq.substr(0, comma);
  std::string w = eq.substr(comma + 1, arrow - comma - 1);
  std::string out = eq.substr(arrow + 2);
  bool elided = false;
  if (in.rfind("...", 0) == 0 && out.rfind("...", 0) == 0) {
    elided = true;
    in = in.substr(3);
    out = out.substr(3);
  }
  for (const std::string* term : {&in, &w, &out}) {
    std::string seen;
    for (char c : *term) {
      if (c < 'a' || c > 'z') {
        return refuse(
            "only a leading '...' on the input and the output, "
            "and lowercase letters, are supported");
      }
      if (Has(seen, c)) return refuse("a letter repeats within a term");
      seen += c;
    }
  }
  const ir::Shape xs = ctx.shape(x);
  if (xs.size() < in.size() || (!elided && xs.size() != in.size())) {
    return refuse("the input has rank " + std::to_string(xs.size()));
  }
  const size_t lead = xs.size() - in.size();  // dims under "..."
  if (kernel.shape().size() != w.size()) {
    return refuse("the kernel has rank " +
                  std::to_string(kernel.shape().size()));
  }
  std::string contract, xfree, kfree;
  for (char c : in) {
    bool in_w = Has(w, c), in_out = Has(out, c);
    if (in_w && in_out) {
      return refuse("letter '" + std::string(1, c) +
                    "' is in the input, the kernel and the output");
    }
    if (!in_w && !in_out) {
      return refuse("letter '" + std::string(1, c) +
                    "' is summed over the input alone");
    }
    (in_w ? contract : xfree) += c;
  }
  for (char c : w) {
    if (!Has(in, c) && !Has(out, c)) {
      return refuse("kernel letter '" + std::string(1, c) +
                    "' is in neither the input nor the output");
    }
    if (!Has(in, c)) kfree += c;
  }
  if (out.size() != xfree.size() + kfree.size()) {
    return refuse("an output letter is in neither the input nor the kernel");
  }
  // Sizes of the contracted and kernel-only dims, from the kernel.
  auto wdim = [&](char c) { return kernel.shape()[w.find(c)]; };
  for (char c : contract) {
    int64_t xd = xs[lead + in.find(c)];
    if (xd != ir::kDynamic && xd != wdim(c)) {
      return ctx.Invalid("its input dim '" + std::string(1, c) + "' is " +
                             std::to_string(xd) + " but its kernel's is " +
                             std::to_string(wdim(c)),
                         "Re-save the model so weights and config agree");
    }
    if (xd == ir::kDynamic) {
      return ctx.Invalid(
          "its contracted input dim '" + std::string(1, c) + "' is dynamic",
          "Give the input a fixed size in that dim");
    }
  }
  // x -> [lead..., xfree..., contract...], then the contraction flattened.
  std::vector<int> perm;
  for (size_t i = 0; i < lead; ++i) perm.push_back(static_cast<int>(i));
  for (char c : xfree) perm.push_back(static_cast<int>(lead + in.find(c)));
  for (char c : contract) perm.push_back(static_cast<int>(lead + in.find(c)));
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) {
    identity &= perm[i] == static_cast<int>(i);
  }
  if (!identity) {
    std::vector<int32_t> p32(perm.begin(), perm.end());
    K2L_ASSIGN_OR_RETURN(x,
                         ctx.Op(OpKind::kTranspose, {x, ctx.ConstInts(p32)}));
  }
  int64_t c_size = 1, k_size = 1;
  for (char c : contract) c_size *= wdim(c);
  for (char c : kfree) k_size *= wdim(c);
  const size_t keep = lead + xfree.size();
  if (contract.size() != 1) {
    K2L_ASSIGN_OR_RETURN(x, ReshapeKeepingLead(ctx, x, keep, {c_size}));
  }
  // Kernel -> (kfree..., contract...) -> (k_size, c_size).
  std::vector<int> wperm;
  for (char c : kfree) wperm.push_back(static_cast<int>(w.find(c)));
  for (char c : contract) wperm.push_back(static_cast<int>(w.find(c)));
  ir::TensorData wt = Reshaped(Permute(kernel, wperm), {k_size, c_size});
  ir::FullyConnectedAttrs fa;
  fa.keep_num_dims = keep != 1;
  ValueId wv = ctx.Const(std::move(wt), "kernel");
  K2L_ASSIGN_OR_RETURN(
      ValueId y, ctx.Op(OpKind::kFullyConnected, {x, wv, ir::kNoValue}, fa));
  if (kfree.size() != 1) {
    std::vector<int64_t> tail;
    for (char c : kfree) tail.push_back(wdim(c));
    K2L_ASSIGN_OR_RETURN(y, ReshapeKeepingLead(ctx, y, keep, tail));
  }
  // Natural order [lead, xfree, kfree] -> the output's order.
  const std::string natural = xfree + kfree;
  if (natural != out) {
    std::vector<int32_t> operm;
    for (size_t i = 0; i < lead; ++i) operm.push_back(static_cast<int32_t>(i));
    for (char c : out) {
      operm.push_back(static_cast<int32_t>(lead + natural.find(c)));
    }
    K2L_ASSIGN_OR_RETURN(y,
                         ctx.Op(OpKind::kTranspose, {y, ctx.ConstInts(operm)}));
  }
  if (bias) {
    K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kAdd, {y, ctx.Const(*bias, "bias")},
                                   ir::BinaryAttrs{}));
  }
  return y;
}

}  // namespace k2l::keras
