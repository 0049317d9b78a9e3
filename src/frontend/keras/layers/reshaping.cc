// Reshaping layers: Flatten, Reshape, Permute, RepeatVector,
// ZeroPadding1D/2D/3D, Cropping1D/2D/3D and UpSampling1D/2D/3D.
#include <cstdint>
#include <limits>

#include "frontend/keras/registry.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;

Result<int64_t> StaticProduct(LayerContext& ctx, const ir::Shape& s,
                              size_t from) {
  int64_t p = 1;
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] == ir::kDynamic) {
      return ctx.Invalid(
          "its input " + ir::ShapeToString(s) + " has a dynamic non-batch dim",
          "Give the model's Input fixed non-batch dimensions");
    }
    p *= s[i];
  }
  return p;
}

Result<bool> ChannelsFirst(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(
      std::string fmt,
      ctx.Choice("data_format", {"channels_last", "channels_first"},
                 "channels_last"));
  return fmt == "channels_first";
}

// A size from the config (a repeat count, an upsampling factor) that
// multiplies a dim of `dim` elements: at least 1, and the product must fit
// LiteRT's int32 shapes.
Status CheckFactor(LayerContext& ctx, const std::string& key, int64_t factor,
                   int64_t dim = 1) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  if (factor < 1 || factor > kMax || (dim > 0 && factor > kMax / dim)) {
    return ctx.Invalid(key + " " + ctx.config()[key].dump() +
                           " is not a positive factor that keeps the "
                           "output within int32 dims",
                       "Use a " + key + " of 1 or more");
  }
  return Status::Ok();
}

Result<std::vector<ValueId>> ConvertFlatten(LayerContext& ctx) {
  ValueId x = ctx.input();
  ir::Shape xs = ctx.shape(x);
  K2L_ASSIGN_OR_RETURN(bool cf, ChannelsFirst(ctx));
  if (cf && xs.size() > 2) {
    // Keras moves channels_first data to channels_last before flattening.
    std::vector<int32_t> perm = {0};
    for (size_t i = 2; i < xs.size(); ++i)
      perm.push_back(static_cast<int32_t>(i));
    perm.push_back(1);
    K2L_ASSIGN_OR_RETURN(x,
                         ctx.Op(OpKind::kTranspose, {x, ctx.ConstInts(perm)}));
  }
  K2L_ASSIGN_OR_RETURN(int64_t n, StaticProduct(ctx, xs, 1));
  K2L_ASSIGN_OR_RETURN(
      ValueId y, ctx.Op(OpKind::kReshape,
                        {x, ctx.ConstInts({-1, static_cast<int32_t>(n)})}));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertReshape(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(auto target, ctx.IntList("target_shape"));
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  int unknown = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] != -1 &&
        (target[i] < 1 || target[i] > std::numeric_limits<int32_t>::max() ||
         known > std::numeric_limits<int32_t>::max())) {
      return {ctx.Invalid("target_shape " +
                              ctx.config()["target_shape"].dump() +
                              " holds a dim that is not a positive int32",
                          "Use positive dims and at most one -1")};
    }
    if (target[i] == -1) {
      if (unknown >= 0) {
        return {ctx.Invalid("target_shape " +
                                ctx.config()["target_shape"].dump() +
                                " has more than one unknown dim",
                            "Use at most one -1")};
      }
      unknown = static_cast<int>(i);
    } else {
      known *= target[i];
    }
  }
  if (unknown >= 0) {
    // The batch already takes RESHAPE's one -1, so resolve this one now.
    K2L_ASSIGN_OR_RETURN(int64_t total, StaticProduct(ctx, xs, 1));
    if (known == 0 || total % known) {
      return {ctx.Invalid(
          "cannot reshape " + ir::ShapeToString(xs) + " to target_shape " +
              ctx.config()["target_shape"].dump(),
          "Use a target shape with the same number of elements")};
    }
    target[unknown] = total / known;
  } else if (auto total = StaticProduct(ctx, xs, 1);
             total.ok() && *total != known) {
    // With dynamic non-batch dims the sizes can only be checked at run time.
    return {ctx.Invalid("cannot reshape " + ir::ShapeToString(xs) +
                            " to target_shape " +
                            ctx.config()["target_shape"].dump(),
                        "Use a target shape with the same number of elements")};
  }
  std::vector<int32_t> shape = {-1};
  for (int64_t d : target) shape.push_back(static_cast<int32_t>(d));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kReshape, {x, ctx.ConstInts(shape)}));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertPermute(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(auto dims, ctx.IntList("dims"));
  const size_t rank = ctx.rank(ctx.input());
  std::vector<bool> seen(rank, false);
  std::vector<int32_t> perm = {0};
  for (int64_t d : dims) {
    if (dims.size() + 1 != rank || d < 1 || d >= static_cast<int64_t>(rank) ||
        seen[d]) {
      return {
          ctx.Invalid("dims " + ctx.config()["dims"].dump() +
                          " is not a permutation of the non-batch axes 1.." +
                          std::to_string(rank - 1) + " of its input",
                      "List each non-batch axis once, 1-based")};
    }
    seen[d] = true;
    perm.push_back(static_cast<int32_t>(d));
  }
  K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(OpKind::kTranspose,
                                         {ctx.input(), ctx.ConstInts(perm)}));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertRepeatVector(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(int64_t n, ctx.Int("n"));
  K2L_RETURN_IF_ERROR(CheckFactor(ctx, "n", n));
  ValueId x = ctx.input();
  if (ctx.rank(x) != 2) {
    return {ctx.Invalid("its input has shape " +
                            ir::ShapeToString(ctx.shape(x)) +
                            "; RepeatVector takes [batch, features]",
                        "Flatten the input first")};
  }
  K2L_ASSIGN_OR_RETURN(ValueId e,
                       ctx.Op(OpKind::kExpandDims, {x, ctx.ConstInts({1})}));
  K2L_ASSIGN_OR_RETURN(
      ValueId y, ctx.Op(OpKind::kTile,
                        {e, ctx.ConstInts({1, static_cast<int32_t>(n), 1})}));
  return std::vector<ValueId>{y};
}

// A padding/cropping config: an int, (a, b), or per spatial dim (a, b)
// pairs; returns one (before, after) pair per spatial dim.
Result<std::vector<std::pair<int64_t, int64_t>>> ParsePairs(
    LayerContext& ctx, const std::string& key, size_t rank) {
  const auto& j =
      ctx.config().contains(key) ? ctx.config()[key] : nlohmann::json();
  std::vector<std::pair<int64_t, int64_t>> out;
  auto bad = [&]() {
    return ctx.Invalid("its " + key + " " + j.dump() + " is not understood",
                       "Re-save the model with Keras 3");
  };
  if (j.is_number_integer()) {
    for (size_t i = 0; i < rank; ++i)
      out.push_back({j.get<int64_t>(), j.get<int64_t>()});
    return out;
  }
  if (!j.is_array()) return bad();
  if (rank == 1 && j.size() == 2 && j[0].is_number_integer() &&
      j[1].is_number_integer()) {
    out.push_back({j[0].get<int64_t>(), j[1].get<int64_t>()});
    return out;
  }
  if (j.size() != rank) return bad();
  for (const auto& e : j) {
    if (e.is_number_integer()) {
      out.push_back({e.get<int64_t>(), e.get<int64_t>()});
    } else if (e.is_array() && e.size() == 2 && e[0].is_number_integer() &&
               e[1].is_number_integer()) {
      out.push_back({e[0].get<int64_t>(), e[1].get<int64_t>()});
    } else {
      return bad();
    }
  }
  return out;
}

// ParsePairs, with every amount in [0, int32 max].
Result<std::vector<std::pair<int64_t, int64_t>>> Pairs(LayerContext& ctx,
                                                       const std::string& key,
                                                       size_t rank) {
  K2L_ASSIGN_OR_RETURN(auto pairs, ParsePairs(ctx, key, rank));
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  for (const auto& [before, after] : pairs) {
    if (before < 0 || after < 0 || before > kMax || after > kMax) {
      return ctx.Invalid("its " + key + " " + ctx.config()[key].dump() +
                             " holds an amount that is negative or beyond "
                             "int32",
                         "Use non-negative " + key + " amounts");
    }
  }
  return pairs;
}

// The spatial axes of a rank-`spatial` layer's input.
Result<std::vector<int>> SpatialAxes(LayerContext& ctx, size_t spatial,
                                     size_t rank) {
  if (rank != spatial + 2) {
    return ctx.Invalid("its input has rank " + std::to_string(rank) +
                           ", expected " + std::to_string(spatial + 2),
                       "Check the model's input shape");
  }
  K2L_ASSIGN_OR_RETURN(bool cf, ChannelsFirst(ctx));
  std::vector<int> axes;
  for (size_t i = 0; i < spatial; ++i)
    axes.push_back(static_cast<int>(i) + (cf ? 2 : 1));
  return axes;
}

Result<std::vector<ValueId>> ConvertZeroPadding(LayerContext& ctx,
                                                size_t spatial) {
  ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(auto axes, SpatialAxes(ctx, spatial, ctx.rank(x)));
  K2L_ASSIGN_OR_RETURN(auto pads, Pairs(ctx, "padding", spatial));
  std::vector<int32_t> p(2 * ctx.rank(x), 0);
  for (size_t i = 0; i < spatial; ++i) {
    p[2 * axes[i]] = static_cast<int32_t>(pads[i].first);
    p[2 * axes[i] + 1] = static_cast<int32_t>(pads[i].second);
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId y,
      ctx.Op(OpKind::kPad,
             {x, ctx.ConstInts(p, {static_cast<int64_t>(ctx.rank(x)), 2})}));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertCropping(LayerContext& ctx,
                                             size_t spatial) {
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  K2L_ASSIGN_OR_RETURN(auto axes, SpatialAxes(ctx, spatial, xs.size()));
  K2L_ASSIGN_OR_RETURN(auto crops, Pairs(ctx, "cropping", spatial));
  std::vector<int32_t> begin(xs.size(), 0), size(xs.size(), -1);
  for (size_t i = 0; i < spatial; ++i) {
    int64_t n = xs[axes[i]];
    if (n == ir::kDynamic) {
      return {
          ctx.Invalid("it crops a dynamic dim", "Give the input a fixed size")};
    }
    int64_t keep = n - crops[i].first - crops[i].second;
    if (crops[i].first < 0 || crops[i].second < 0 || keep <= 0) {
      return {ctx.Invalid("cropping " + ctx.config()["cropping"].dump() +
                              " leaves nothing of a dim of " +
                              std::to_string(n),
                          "Crop less")};
    }
    begin[axes[i]] = static_cast<int32_t>(crops[i].first);
    size[axes[i]] = static_cast<int32_t>(keep);
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId y,
      ctx.Op(OpKind::kSlice, {x, ctx.ConstInts(begin), ctx.ConstInts(size)}));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertUpSampling1D(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(int64_t size, ctx.Int("size"));
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  if (xs.size() != 3 || xs[1] == ir::kDynamic || xs[2] == ir::kDynamic) {
    return {ctx.Invalid("its input " + ir::ShapeToString(xs) +
                            " is not [batch, steps, features] with fixed sizes",
                        "Give the model's Input fixed steps and features")};
  }
  K2L_RETURN_IF_ERROR(CheckFactor(ctx, "size", size, xs[1]));
  // repeat along axis 1: [N, W, C] -> [N, W, 1, C] -> tile -> [N, W*s, C]
  K2L_ASSIGN_OR_RETURN(ValueId e,
                       ctx.Op(OpKind::kExpandDims, {x, ctx.ConstInts({2})}));
  K2L_ASSIGN_OR_RETURN(
      ValueId t,
      ctx.Op(OpKind::kTile,
             {e, ctx.ConstInts({1, 1, static_cast<int32_t>(size), 1})}));
  K2L_ASSIGN_OR_RETURN(
      ValueId y,
      ctx.Op(OpKind::kReshape,
             {t, ctx.ConstInts({-1, static_cast<int32_t>(xs[1] * size),
                                static_cast<int32_t>(xs[2])})}));
  return std::vector<ValueId>{y};
}

// ops.repeat(x, times, axis) for a fixed-shape x: view it as
// [-1, d, 1, inner], tile the unit axis, and fold it back into d * times.
Result<ValueId> RepeatAxis(LayerContext& ctx, ValueId x, size_t axis,
                           int64_t times) {
  const ir::Shape xs = ctx.shape(x);
  K2L_ASSIGN_OR_RETURN(int64_t inner, StaticProduct(ctx, xs, axis + 1));
  std::vector<int32_t> view = {-1, static_cast<int32_t>(xs[axis]), 1,
                               static_cast<int32_t>(inner)};
  K2L_ASSIGN_OR_RETURN(ValueId v,
                       ctx.Op(OpKind::kReshape, {x, ctx.ConstInts(view)}));
  K2L_ASSIGN_OR_RETURN(
      v, ctx.Op(OpKind::kTile,
                {v, ctx.ConstInts({1, 1, static_cast<int32_t>(times), 1})}));
  std::vector<int32_t> back = {-1};
  for (size_t i = 1; i < xs.size(); ++i) {
    back.push_back(static_cast<int32_t>(i == axis ? xs[i] * times : xs[i]));
  }
  return ctx.Op(OpKind::kReshape, {v, ctx.ConstInts(back)});
}

// Keras repeats each voxel along depth, height and width (no interpolation).
Result<std::vector<ValueId>> ConvertUpSampling3D(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(auto size, ctx.Ints("size", 3));
  ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(auto axes, SpatialAxes(ctx, 3, ctx.rank(x)));
  K2L_RETURN_IF_ERROR(StaticProduct(ctx, ctx.shape(x), 1).status());
  for (size_t i = 0; i < 3; ++i) {
    K2L_RETURN_IF_ERROR(
        CheckFactor(ctx, "size", size[i], ctx.shape(x)[axes[i]]));
    if (size[i] == 1) continue;
    K2L_ASSIGN_OR_RETURN(x, RepeatAxis(ctx, x, axes[i], size[i]));
  }
  return std::vector<ValueId>{x};
}

Result<std::vector<ValueId>> ConvertUpSampling2D(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(auto size, ctx.Ints("size", 2));
  K2L_ASSIGN_OR_RETURN(std::string interp,
                       ctx.StringOr("interpolation", "nearest"));
  if (interp != "nearest" && interp != "bilinear") {
    return {ctx.Invalid("interpolation='" + interp +
                            "' has no LiteRT builtin: LiteRT resizes only "
                            "with nearest-neighbour or bilinear sampling",
                        "Use interpolation='nearest' or 'bilinear'")};
  }
  K2L_RETURN_IF_ERROR(ctx.RequireChannelsLast("resizes"));
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  if (xs.size() != 4 || xs[1] == ir::kDynamic || xs[2] == ir::kDynamic) {
    return {
        ctx.Invalid("its input " + ir::ShapeToString(xs) +
                        " is not an image batch with fixed height and width",
                    "Give the model's Input fixed spatial dimensions")};
  }
  K2L_RETURN_IF_ERROR(CheckFactor(ctx, "size", size[0], xs[1]));
  K2L_RETURN_IF_ERROR(CheckFactor(ctx, "size", size[1], xs[2]));
  ValueId out_size = ctx.ConstInts({static_cast<int32_t>(xs[1] * size[0]),
                                    static_cast<int32_t>(xs[2] * size[1])});
  ir::ResizeAttrs a;
  // Keras repeats pixels for 'nearest' (no half-pixel offset) and resizes
  // with half-pixel centers for 'bilinear', as jax.image.resize does.
  a.half_pixel_centers = interp == "bilinear";
  OpKind kind = interp == "bilinear" ? OpKind::kResizeBilinear
                                     : OpKind::kResizeNearestNeighbor;
  K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(kind, {x, out_size}, a));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ZeroPadding1D(LayerContext& c) {
  return ConvertZeroPadding(c, 1);
}
Result<std::vector<ValueId>> ZeroPadding2D(LayerContext& c) {
  return ConvertZeroPadding(c, 2);
}
Result<std::vector<ValueId>> Cropping1D(LayerContext& c) {
  return ConvertCropping(c, 1);
}
Result<std::vector<ValueId>> Cropping2D(LayerContext& c) {
  return ConvertCropping(c, 2);
}
Result<std::vector<ValueId>> ZeroPadding3D(LayerContext& c) {
  return ConvertZeroPadding(c, 3);
}
Result<std::vector<ValueId>> Cropping3D(LayerContext& c) {
  return ConvertCropping(c, 3);
}

}  // namespace

Status RegisterReshapingLayers(Registry& r) {
  K2L_RETURN_IF_ERROR(r.Register("Flatten", ConvertFlatten, "RESHAPE"));
  K2L_RETURN_IF_ERROR(r.Register("Reshape", ConvertReshape, "RESHAPE"));
  K2L_RETURN_IF_ERROR(r.Register("Permute", ConvertPermute, "TRANSPOSE"));
  K2L_RETURN_IF_ERROR(
      r.Register("RepeatVector", ConvertRepeatVector, "EXPAND_DIMS, TILE"));
  K2L_RETURN_IF_ERROR(r.Register("ZeroPadding1D", ZeroPadding1D, "PAD"));
  K2L_RETURN_IF_ERROR(r.Register("ZeroPadding2D", ZeroPadding2D, "PAD"));
  K2L_RETURN_IF_ERROR(r.Register("Cropping1D", Cropping1D, "SLICE",
                                 "cropping a dynamic dim is refused"));
  K2L_RETURN_IF_ERROR(r.Register("Cropping2D", Cropping2D, "SLICE",
                                 "cropping a dynamic dim is refused"));
  K2L_RETURN_IF_ERROR(r.Register("ZeroPadding3D", ZeroPadding3D, "PAD"));
  K2L_RETURN_IF_ERROR(r.Register("Cropping3D", Cropping3D, "SLICE",
                                 "cropping a dynamic dim is refused"));
  K2L_RETURN_IF_ERROR(
      r.Register("UpSampling3D", ConvertUpSampling3D, "RESHAPE, TILE"));
  K2L_RETURN_IF_ERROR(r.Register("UpSampling1D", ConvertUpSampling1D,
                                 "EXPAND_DIMS, TILE, RESHAPE"));
  K2L_RETURN_IF_ERROR(
      r.Register("UpSampling2D", ConvertUpSampling2D,
                 "RESIZE_NEAREST_NEIGHBOR or RESIZE_BILINEAR",
                 "interpolations other than nearest and bilinear, and "
                 "data_format='channels_first', are refused"));
  return Status::Ok();
}

}  // namespace k2l::keras
