#include "frontend/keras/einsum_lowering.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "frontend/keras/weight_layout.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;

constexpr char kForms[] =
    "'ab,bc->ac', '...b,bc->...c' or 'ab...,bc->ac...' (each letter once "
    "per operand, the input's first axis first in the output)";

// An equation whose ellipsis axes each got their own label ('0', '1', ...),
// so that every axis of x, the kernel and the output has exactly one label.
struct Labels {
  std::string x, kernel, out;
  // The output's letters as Keras spells them (without the ellipsis), and
  // how many elided axes follow them: Keras' bias shape pads with ones.
  std::string out_letters;
  size_t trailing_elided = 0;
};

bool AllLetters(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0;
  });
}

bool Has(const std::string& s, char c) {
  return s.find(c) != std::string::npos;
}

Result<Labels> Parse(LayerContext& ctx, const std::string& eq, size_t x_rank) {
  auto refuse = [&](const std::string& why) {
    return ctx.Invalid("its einsum equation '" + eq + "' " + why,
                       "Use an equation of the form " + std::string(kForms));
  };
  const size_t arrow = eq.find("->");
  const size_t comma = eq.find(',');
  if (arrow == std::string::npos || comma == std::string::npos ||
      comma > arrow || eq.find(',', comma + 1) != std::string::npos ||
      eq.find("->", arrow + 2) != std::string::npos) {
    return refuse("is not of the form 'input,kernel->output'");
  }
  const std::string x = eq.substr(0, comma);
  const std::string k = eq.substr(comma + 1, arrow - comma - 1);
  const std::string out = eq.substr(arrow + 2);
  const std::string dots = "...";
  const bool left = x.starts_with(dots) && out.starts_with(dots);
  const bool right = !left && x.ends_with(dots) && out.ends_with(dots);
  std::string xl = x, ol = out;
  if (left) {
    xl = x.substr(3);
    ol = out.substr(3);
  } else if (right) {
    xl = x.substr(0, x.size() - 3);
    ol = out.substr(0, out.size() - 3);
  }
  if (!AllLetters(xl) || !AllLetters(k) || !AllLetters(ol)) {
    return refuse("is not of a form EinsumDense accepts");
  }
  if (xl.size() > x_rank || (!left && !right && xl.size() != x_rank)) {
    return ctx.Invalid(
        "its einsum equation '" + eq + "' names " + std::to_string(xl.size()) +
            " input axes but its input has rank " + std::to_string(x_rank),
        "The config does not match the model's graph; "
        "re-save the model with Keras 3");
  }
  const size_t elided = x_rank - xl.size();
  if (elided > 10) return refuse("elides more than 10 axes");
  std::string ell;
  for (size_t i = 0; i < elided; ++i) ell += static_cast<char>('0' + i);
  Labels l;
  l.x = left ? ell + xl : xl + ell;
  l.out = left ? ell + ol : ol + ell;
  l.kernel = k;
  l.out_letters = ol;
  l.trailing_elided = right ? elided : 0;

  for (const std::string* s : {&l.x, &l.kernel, &l.out}) {
    for (size_t i = 0; i < s->size(); ++i) {
      if (s->find((*s)[i], i + 1) != std::string::npos) {
        return refuse("repeats the letter '" + std::string(1, (*s)[i]) +
                      "' within one operand (a diagonal or trace), which no "
                      "LiteRT builtin op computes");
      }
    }
  }
  for (char c : l.kernel) {
    if (!Has(l.x, c) && !Has(l.out, c)) {
      return refuse("has kernel letter '" + std::string(1, c) +
                    "' in neither the input nor the output");
    }
  }
  for (char c : l.out) {
    if (!Has(l.x, c) && !Has(l.kernel, c)) {
      return refuse("has output letter '" + std::string(1, c) +
                    "' in neither the input nor the kernel");
    }
  }
  if (l.out[0] != l.x[0] || Has(l.kernel, l.x[0])) {
    return refuse(
        "does not keep the batch axis (the input's first axis) as the "
        "output's first axis; a LiteRT model's outputs must stay batch-major");
  }
  return l;
}

std::vector<int32_t> Perm(const std::string& from, const std::string& to) {
  std::vector<int32_t> p;
  for (char c : to) p.push_back(static_cast<int32_t>(from.find(c)));
  return p;
}

int64_t Product(const ir::Shape& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d == ir::kDynamic) return ir::kDynamic;
    n *= d;
  }
  return n;
}

// Keras' bias shape: the output letters from the first biased one on, with 1
// for unbiased letters, then one 1 per trailing elided axis.
Result<ir::Shape> KerasBiasShape(LayerContext& ctx, const Labels& l,
                                 const std::string& equation,
                                 const std::string& bias_axes,
                                 const std::map<char, int64_t>& size) {
  size_t first = std::string::npos;
  for (char c : bias_axes) {
    size_t at = l.out_letters.find(c);
    if (at == std::string::npos) {
      return ctx.Invalid("its bias_axes '" + bias_axes + "' name letter '" +
                             std::string(1, c) +
                             "', which is not in the output of '" + equation +
                             "'",
                         "Re-save the model with Keras 3");
    }
    first = std::min(first, at);
  }
  if (first == std::string::npos) {
    return ctx.Invalid("it has a bias but its bias_axes are empty",
                       "Re-save the model with Keras 3");
  }
  ir::Shape shape;
  for (char c : l.out_letters.substr(first)) {
    shape.push_back(Has(bias_axes, c) ? size.at(c) : 1);
  }
  for (size_t i = 0; i < l.trailing_elided; ++i) shape.push_back(1);
  return shape;
}

// The Keras bias broadcast over the kernel-only output axes `w` (in that
// order) and flattened, as FULLY_CONNECTED's bias operand.
std::vector<float> FlatBias(const ir::TensorData& bias, const ir::Shape& bshape,
                            const std::string& bspec,
                            const std::string& bias_axes, const std::string& w,
                            const std::map<char, int64_t>& size) {
  ir::Shape wdims;
  for (char c : w) wdims.push_back(size.at(c));
  std::vector<int64_t> bstride(bshape.size(), 1);
  for (size_t i = bshape.size(); i-- > 1;) {
    bstride[i - 1] = bstride[i] * bshape[i];
  }
  auto src = bias.as<float>();
  std::vector<float> out(static_cast<size_t>(Product(wdims)));
  std::vector<int64_t> idx(w.size(), 0);
  for (size_t flat = 0; flat < out.size(); ++flat) {
    int64_t at = 0;
    for (size_t j = 0; j < bspec.size(); ++j) {
      if (Has(bias_axes, bspec[j])) at += idx[w.find(bspec[j])] * bstride[j];
    }
    out[flat] = src[static_cast<size_t>(at)];
    for (size_t d = w.size(); d-- > 0;) {
      if (++idx[d] < wdims[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace

Result<ValueId> ReshapeTo(LayerContext& ctx, ValueId v, const ir::Shape& dims,
                          const std::string& what) {
  if (ctx.shape(v) == dims) return v;
  std::vector<int32_t> target;
  int dynamic = 0;
  for (int64_t d : dims) {
    dynamic += d == ir::kDynamic;
    target.push_back(static_cast<int32_t>(d));
  }
  if (dynamic <= 1) {
    return ctx.Op(OpKind::kReshape, {v, ctx.ConstInts(target)});
  }
  // Several unknown dims: each must be one of v's unknown dims carried
  // through unchanged, in order (as batch and sequence axes are here). Then
  // the target is read from v's shape at run time. Equal products of the
  // known dims on both sides rule out an unknown dim merged with others.
  const ir::Shape vs = ctx.shape(v);
  std::vector<int32_t> from;
  int64_t known_v = 1, known_t = 1;
  for (size_t i = 0; i < vs.size(); ++i) {
    if (vs[i] == ir::kDynamic) {
      from.push_back(static_cast<int32_t>(i));
    } else {
      known_v *= vs[i];
    }
  }
  for (int64_t d : dims) {
    if (d != ir::kDynamic) known_t *= d;
  }
  if (static_cast<int>(from.size()) != dynamic || known_v != known_t) {
    return ctx.Invalid(what + " needs a tensor of shape " +
                           ir::ShapeToString(vs) + " reshaped to " +
                           ir::ShapeToString(dims) +
                           ", which merges unknown dimensions",
                       "Give the model's Inputs a fixed size on every axis "
                       "except the batch");
  }
  K2L_ASSIGN_OR_RETURN(ValueId shape, ctx.Op(OpKind::kShape, {v}));
  std::vector<ValueId> parts;
  size_t k = 0;
  for (int64_t d : dims) {
    if (d == ir::kDynamic) {
      K2L_ASSIGN_OR_RETURN(
          ValueId p, ctx.Op(OpKind::kSlice, {shape, ctx.ConstInts({from[k++]}),
                                             ctx.ConstInts({1})}));
      parts.push_back(p);
    } else {
      parts.push_back(ctx.ConstInts({static_cast<int32_t>(d)}));
    }
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId full, ctx.Op(OpKind::kConcatenation, parts, ir::ConcatAttrs{0}));
  return ctx.Op(OpKind::kReshape, {v, full});
}

Result<ValueId> TransposeBy(LayerContext& ctx, ValueId v,
                            const std::vector<int32_t>& perm) {
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) {
    identity &= perm[i] == static_cast<int32_t>(i);
  }
  if (identity) return v;
  return ctx.Op(OpKind::kTranspose, {v, ctx.ConstInts(perm)});
}

Result<ValueId> LowerEinsumDense(LayerContext& ctx, ValueId x,
                                 const std::string& equation,
                                 const ir::TensorData& kernel,
                                 const ir::TensorData* bias,
                                 const std::string& bias_axes,
                                 const std::string& weights_name) {
  const std::string prefix = weights_name.empty() ? "" : weights_name + "/";
  const ir::Shape xs = ctx.shape(x);
  K2L_ASSIGN_OR_RETURN(Labels l, Parse(ctx, equation, xs.size()));
  const ir::Shape& ks = kernel.shape();
  if (ks.size() != l.kernel.size()) {
    return ctx.Invalid("its kernel has shape " + ir::ShapeToString(ks) +
                           " but the equation '" + equation + "' implies " +
                           std::to_string(l.kernel.size()) + " axes",
                       "The weights file does not match the config; re-save "
                       "the model so both come from the same model");
  }
  std::map<char, int64_t> size;
  for (size_t i = 0; i < l.x.size(); ++i) size[l.x[i]] = xs[i];
  for (size_t i = 0; i < l.kernel.size(); ++i) {
    char c = l.kernel[i];
    auto it = size.find(c);
    if (it != size.end() && it->second != ir::kDynamic && it->second != ks[i]) {
      return ctx.Invalid("its input has shape " + ir::ShapeToString(xs) +
                             " but its kernel of shape " +
                             ir::ShapeToString(ks) + " expects size " +
                             std::to_string(ks[i]) + " for axis '" +
                             std::string(1, c) + "' of '" + equation + "'",
                         "The weights file does not match the model's "
                         "inputs; re-save the model");
    }
    size[c] = ks[i];
  }
  auto dims_of = [&](const std::string& labels) {
    ir::Shape d;
    for (char c : labels) d.push_back(size.at(c));
    return d;
  };
  const std::string what = "its einsum '" + equation + "'";

  // Shared (in x, kernel and output), free input, contracted, summed-out and
  // free kernel axes; each in the order of its operand.
  std::string shared, free_x, contracted, summed, free_k;
  for (char c : l.x) {
    bool in_k = Has(l.kernel, c), in_out = Has(l.out, c);
    if (in_k && in_out) {
      shared += c;
    } else if (in_out) {
      free_x += c;
    } else if (in_k) {
      contracted += c;
    } else {
      summed += c;
    }
  }
  for (char c : l.out) {
    if (!Has(l.x, c)) free_k += c;
  }

  std::string cur = l.x;
  if (!summed.empty()) {
    std::vector<int32_t> axes;
    std::string kept;
    for (size_t i = 0; i < cur.size(); ++i) {
      if (Has(summed, cur[i])) {
        axes.push_back(static_cast<int32_t>(i));
      } else {
        kept += cur[i];
      }
    }
    K2L_ASSIGN_OR_RETURN(x, ctx.Op(OpKind::kSum, {x, ctx.ConstInts(axes)},
                                   ir::ReduceAttrs{false}));
    cur = kept;
  }

  std::optional<ir::Shape> bshape;
  bool fuse_bias = false;
  if (bias != nullptr) {
    K2L_ASSIGN_OR_RETURN(bshape,
                         KerasBiasShape(ctx, l, equation, bias_axes, size));
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(*bias, "bias", *bshape));
    fuse_bias =
        shared.empty() && std::all_of(bias_axes.begin(), bias_axes.end(),
                                      [&](char c) { return Has(free_k, c); });
  }

  const int64_t pc = Product(dims_of(contracted));
  const int64_t pw = Product(dims_of(free_k));
  std::string layout;  // the labels of y's axes
  ValueId y;
  if (shared.empty()) {
    // FULLY_CONNECTED contracts the last axis: x as [free..., contracted],
    // the kernel as (free kernel axes, contracted).
    const std::string xt = free_x + contracted;
    K2L_ASSIGN_OR_RETURN(x, TransposeBy(ctx, x, Perm(cur, xt)));
    ir::Shape fx = dims_of(free_x);
    if (contracted.size() != 1) {
      ir::Shape d = fx;
      d.push_back(pc);
      K2L_ASSIGN_OR_RETURN(x, ReshapeTo(ctx, x, d, what));
    }
    std::vector<int> kp;
    for (int32_t p : Perm(l.kernel, free_k + contracted)) kp.push_back(p);
    ValueId w =
        ctx.Const(Reshaped(Permute(kernel, kp), {pw, pc}), prefix + "kernel");
    ValueId b = ir::kNoValue;
    if (fuse_bias) {
      std::string bspec = l.out_letters.substr(
          l.out_letters.size() - (bshape->size() - l.trailing_elided));
      b = ctx.Const(
          ir::TensorData::FromVector(
              ir::DType::kFloat32, {pw},
              FlatBias(*bias, *bshape, bspec, bias_axes, free_k, size)),
          prefix + "bias");
    }
    ir::FullyConnectedAttrs attrs;
    attrs.keep_num_dims = ctx.rank(x) > 2;
    K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kFullyConnected, {x, w, b}, attrs));
    if (free_k.size() != 1) {
      ir::Shape d = fx;
      for (int64_t v : dims_of(free_k)) d.push_back(v);
      K2L_ASSIGN_OR_RETURN(y, ReshapeTo(ctx, y, d, what));
    }
    layout = free_x + free_k;
  } else {
    // BATCH_MATMUL over the shared axes: x as [shared, free, contracted],
    // the kernel as [shared, contracted, free kernel axes].
    const std::string xt = shared + free_x + contracted;
    K2L_ASSIGN_OR_RETURN(x, TransposeBy(ctx, x, Perm(cur, xt)));
    const int64_t ps = Product(dims_of(shared));
    K2L_ASSIGN_OR_RETURN(
        x, ReshapeTo(ctx, x, {ps, Product(dims_of(free_x)), pc}, what));
    std::vector<int> kp;
    for (int32_t p : Perm(l.kernel, shared + contracted + free_k)) {
      kp.push_back(p);
    }
    ValueId w = ctx.Const(Reshaped(Permute(kernel, kp), {ps, pc, pw}),
                          prefix + "kernel");
    K2L_ASSIGN_OR_RETURN(
        y, ctx.Op(OpKind::kBatchMatMul, {x, w}, ir::BatchMatMulAttrs{}));
    layout = shared + free_x + free_k;
    K2L_ASSIGN_OR_RETURN(y, ReshapeTo(ctx, y, dims_of(layout), what));
  }
  K2L_ASSIGN_OR_RETURN(y, TransposeBy(ctx, y, Perm(layout, l.out)));
  if (bias != nullptr && !fuse_bias) {
    K2L_ASSIGN_OR_RETURN(
        y, ctx.Op(OpKind::kAdd, {y, ctx.Const(*bias, prefix + "bias")},
                  ir::BinaryAttrs{}));
  }
  return y;
}

}  // namespace k2l::keras
